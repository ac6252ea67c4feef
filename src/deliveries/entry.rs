//! A delivery as the receiver hands it to the log: one string (the headers worth keeping,
//! then id, event, action and repository) beside the body, so logging costs the
//! acknowledgement's path one allocation. The stores turn it into a [`Record`]; the
//! in-memory store keeps it as it is.

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::{HandlerOutcome, Record, Summary};
use crate::webhook::Delivery;

/// Parts of header names that mark a credential; such headers are never kept.
const SECRET_PARTS: [&str; 5] = ["token", "signature", "secret", "authorization", "cookie"];

/// Whether the header `name` (lowercase) is worth keeping to replay a delivery: event,
/// delivery id, user agent, content type and other `X-*` that are not credentials or
/// proxies'.
fn keeps(name: &str) -> bool {
    match name {
        "user-agent" | "content-type" => true,
        "x-real-ip" => false,
        _ => {
            name.starts_with("x-")
                && !name.starts_with("x-forwarded")
                && !SECRET_PARTS.iter().any(|part| name.contains(part))
        }
    }
}

/// The headers of a request worth keeping, as `name:value\n` lines (names hold no `:`,
/// values no newline; values that are not visible ASCII are left out).
#[derive(Debug, Default)]
pub(crate) struct KeptHeaders(String);

impl KeptHeaders {
    /// Those of `headers`.
    pub(crate) fn of(headers: &http::HeaderMap) -> Self {
        let mut text = String::with_capacity(256);
        for (name, value) in headers {
            if let (true, Ok(value)) = (keeps(name.as_str()), value.to_str()) {
                text.push_str(name.as_str());
                text.push(':');
                text.push_str(value);
                text.push('\n');
            }
        }
        Self(text)
    }

    /// The kept headers, in the order received.
    #[cfg(test)]
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        header_pairs(&self.0)
    }

    fn of_pairs(pairs: &[(String, String)]) -> Self {
        let mut text = String::new();
        for (name, value) in pairs {
            // A pair the line format cannot hold (a stored record may come from anywhere)
            // is left out.
            if !name.contains([':', '\n']) && !value.contains('\n') {
                text.push_str(name);
                text.push(':');
                text.push_str(value);
                text.push('\n');
            }
        }
        Self(text)
    }
}

/// The headers of `text` (as [`KeptHeaders`] writes them).
fn header_pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| line.split_once(':'))
}

/// The fields of `delivery` an entry keeps in its string: id, event, action, repository.
fn fields_of(delivery: &Delivery) -> [Option<&str>; 4] {
    [
        Some(delivery.id()),
        Some(delivery.event()),
        delivery.action(),
        delivery.repository_full_name(),
    ]
}

/// An accepted delivery, waiting to be stored (or kept, in memory).
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    /// The kept headers, then id, event, action and repository.
    text: String,
    /// Where the headers, id, event, action and repository end in `text`.
    ends: [usize; 5],
    has_action: bool,
    has_repository: bool,
    installation: Option<u64>,
    received_at: DateTime<Utc>,
    replay_of: Option<String>,
    body: Bytes,
    /// The queue keeps the body under the delivery id (`Job::with_kept_body`): the log
    /// stores none of its own.
    body_in_queue: bool,
}

impl Entry {
    /// `delivery`, received now with `headers`.
    pub(crate) fn new(delivery: &Delivery, headers: KeptHeaders) -> Self {
        Self::build(
            headers,
            fields_of(delivery),
            delivery.installation_id().map(|i| i.0),
            Utc::now(),
            None,
            delivery.body().clone(),
        )
    }

    /// `record` (without its outcomes).
    pub(crate) fn from_record(record: &Record) -> Self {
        Self::build(
            KeptHeaders::of_pairs(&record.headers),
            [
                Some(&record.id),
                Some(&record.event),
                record.action.as_deref(),
                record.repository.as_deref(),
            ],
            record.installation,
            record.received_at,
            record.replay_of.clone(),
            record.body.clone(),
        )
    }

    fn build(
        headers: KeptHeaders,
        fields: [Option<&str>; 4],
        installation: Option<u64>,
        received_at: DateTime<Utc>,
        replay_of: Option<String>,
        body: Bytes,
    ) -> Self {
        let mut entry = Self {
            text: headers.0,
            ends: [0; 5],
            has_action: false,
            has_repository: false,
            installation,
            received_at,
            replay_of,
            body,
            body_in_queue: false,
        };
        entry.set_fields(fields);
        entry
    }

    /// Writes `fields` (id, event, action, repository) after the headers in `text`.
    fn set_fields(&mut self, fields: [Option<&str>; 4]) {
        let headers_end = self.text.len();
        self.text
            .reserve(fields.iter().flatten().map(|f| f.len()).sum());
        self.ends = [headers_end; 5];
        for (i, field) in fields.iter().enumerate() {
            self.text.push_str(field.unwrap_or_default());
            self.ends[i + 1] = self.text.len();
        }
        self.has_action = fields[2].is_some();
        self.has_repository = fields[3].is_some();
    }

    /// Makes this entry `delivery`, received now with `headers`, reusing its memory: the
    /// in-memory log's slots are refilled without allocating once warm.
    pub(crate) fn refill(&mut self, delivery: &Delivery, headers: &KeptHeaders) {
        self.text.clear();
        self.text.push_str(&headers.0);
        self.set_fields(fields_of(delivery));
        self.installation = delivery.installation_id().map(|i| i.0);
        self.received_at = Utc::now();
        self.replay_of = None;
        let body = std::mem::take(&mut self.body);
        self.body = match body.try_into_mut() {
            Ok(mut buffer) => {
                buffer.clear();
                buffer.extend_from_slice(delivery.body());
                buffer.freeze()
            }
            Err(_) => Bytes::copy_from_slice(delivery.body()),
        };
    }

    fn field(&self, i: usize) -> &str {
        &self.text[self.ends[i]..self.ends[i + 1]]
    }

    /// The delivery id.
    pub(crate) fn id(&self) -> &str {
        self.field(0)
    }

    pub(crate) fn event(&self) -> &str {
        self.field(1)
    }

    pub(crate) fn action(&self) -> Option<&str> {
        self.has_action.then(|| self.field(2))
    }

    pub(crate) fn repository(&self) -> Option<&str> {
        self.has_repository.then(|| self.field(3))
    }

    pub(crate) fn installation(&self) -> Option<u64> {
        self.installation
    }

    pub(crate) fn received_at(&self) -> DateTime<Utc> {
        self.received_at
    }

    pub(crate) fn replay_of(&self) -> Option<&str> {
        self.replay_of.as_deref()
    }

    pub(crate) fn body(&self) -> &Bytes {
        &self.body
    }

    /// The kept headers, in the order received.
    pub(crate) fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        header_pairs(&self.text[..self.ends[0]])
    }

    /// This entry, its body kept by the queue under the delivery id (and not held here).
    pub(crate) fn body_in_queue(mut self) -> Self {
        self.body = Bytes::new();
        self.body_in_queue = true;
        self
    }

    /// Whether the queue keeps the body (see [`body_in_queue`](Self::body_in_queue)).
    pub(crate) fn is_body_in_queue(&self) -> bool {
        self.body_in_queue
    }

    /// Holds the body in memory of its own size rather than a share of the request's
    /// buffer, which may be larger (for entries kept in memory a long time).
    pub(crate) fn own_body(&mut self) {
        self.body = Bytes::copy_from_slice(&self.body);
    }

    /// The summary of this entry with `outcomes`.
    pub(crate) fn summary(&self, outcomes: &[HandlerOutcome]) -> Summary {
        Summary {
            id: self.id().to_owned(),
            event: self.event().to_owned(),
            action: self.action().map(str::to_owned),
            repository: self.repository().map(str::to_owned),
            received_at: self.received_at,
            replay_of: self.replay_of.clone(),
            outcomes: outcomes.to_vec(),
        }
    }

    /// The record of this entry with `outcomes`.
    pub(crate) fn to_record(&self, outcomes: &[HandlerOutcome]) -> Record {
        Record {
            id: self.id().to_owned(),
            event: self.event().to_owned(),
            action: self.action().map(str::to_owned),
            installation: self.installation,
            repository: self.repository().map(str::to_owned),
            received_at: self.received_at,
            headers: self
                .headers()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            replay_of: self.replay_of.clone(),
            outcomes: outcomes.to_vec(),
            body: self.body.clone(),
        }
    }
}
