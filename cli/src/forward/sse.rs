//! A server-sent events parser fed with the chunks of a response body.
//!
//! Follows the `text/event-stream` rules that matter for the relay: `event`, `data` (lines
//! joined with `\n`), `id`, comments (`:`), one optional space after the colon, an empty line
//! dispatches. Lines end with `\n` or `\r\n` (as every server this talks to writes them).

/// Longest line accepted: a 25 MiB body in base64 with its headers fits well below.
const MAX_LINE: usize = 128 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SseEvent {
    /// `event:` (empty for the default, `message`).
    pub(crate) event: String,
    /// The `data:` lines joined with `\n`.
    pub(crate) data: String,
    /// `id:` if the event set one.
    pub(crate) id: Option<String>,
}

/// A line was longer than the parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineTooLong;

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an event line is longer than {MAX_LINE} bytes")
    }
}

impl std::error::Error for LineTooLong {}

/// Incremental parser: [`feed`](Self::feed) it chunks, get complete events back.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    /// Bytes of `buf` already known to hold no `\n`.
    scanned: usize,
    current: SseEvent,
    has_data: bool,
}

impl SseParser {
    /// Adds `chunk`; returns the events it completes.
    ///
    /// # Errors
    /// [`LineTooLong`] if a line grows past the limit (the stream should be dropped).
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, LineTooLong> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        let mut from = self.scanned;
        while let Some(pos) = self.buf[from..].iter().position(|&b| b == b'\n') {
            let end = from + pos;
            let mut line = &self.buf[start..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            let line = String::from_utf8_lossy(line).into_owned();
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
            start = end + 1;
            from = start;
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        if self.buf.len() > MAX_LINE {
            return Err(LineTooLong);
        }
        Ok(events)
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.current);
            return std::mem::take(&mut self.has_data).then_some(event);
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.current.event),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.current.id = Some(value.to_owned()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event: &str, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            id: id.map(Into::into),
        }
    }

    #[test]
    fn events_split_across_chunks() {
        let stream = b": keep-alive\n\nevent: delivery\nid: 7\ndata: {\"a\":1}\n\nevent:ready\r\nid:0\r\ndata:x\r\ndata: y\r\n\r\n";
        for size in [1, 2, 5, stream.len()] {
            let mut parser = SseParser::default();
            let mut events = Vec::new();
            for chunk in stream.chunks(size) {
                events.extend(parser.feed(chunk).unwrap());
            }
            assert_eq!(
                events,
                vec![
                    event("delivery", "{\"a\":1}", Some("7")),
                    event("ready", "x\ny", Some("0")),
                ],
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn an_event_without_data_is_not_dispatched() {
        let mut parser = SseParser::default();
        assert_eq!(parser.feed(b"event: x\nid: 3\n\n").unwrap(), vec![]);
        assert_eq!(
            parser.feed(b"data: d\n\n").unwrap(),
            vec![event("", "d", None)]
        );
    }
}
