//! [`Payload`]: a JSON body plus the event it belongs to, with small editing helpers.

use serde_json::{Map, Value, json};

use crate::testing::WebhookBody;

/// A webhook body and the event header value it is sent with.
///
/// Built by the functions in [`events`](super); edit it with [`installation`](Self::installation)
/// and [`set`](Self::set), then send it (it converts into a
/// [`WebhookBody`]) or take the JSON out with [`into_value`](Self::into_value).
///
/// # Example
/// ```
/// use atombot::testing::events;
///
/// let payload = events::issue_opened("acme/app", 7, "Crash on start")
///     .installation(14)
///     .set("/issue/body", "Steps to reproduce: …");
/// assert_eq!(payload.event(), "issues");
/// assert_eq!(payload.as_value()["installation"]["id"], 14);
/// assert_eq!(payload.as_value()["issue"]["body"], "Steps to reproduce: …");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    event: String,
    value: Value,
}

impl Payload {
    /// A payload of `event` (the header value, e.g. `push` or `Push Hook`) with body `value`.
    pub fn new(event: impl Into<String>, value: Value) -> Self {
        Self {
            event: event.into(),
            value,
        }
    }

    /// Parses `json` (e.g. a payload file) as the body of `event`.
    ///
    /// # Errors
    /// The JSON error, if `json` is not one JSON value.
    pub fn from_slice(event: impl Into<String>, json: &[u8]) -> Result<Self, serde_json::Error> {
        Ok(Self::new(event, serde_json::from_slice(json)?))
    }

    /// The event header value this body belongs to.
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The same body sent with another event header value, e.g. the lowercase
    /// `merge_request` some AtomGit deliveries use instead of `Merge Request Hook`.
    ///
    /// # Example
    /// ```
    /// use atombot::testing::events::gitlab;
    ///
    /// let note = gitlab::note_on_issue("acme/app", 3, "/label bug").with_event("note");
    /// assert_eq!(note.event(), "note");
    /// ```
    pub fn with_event(mut self, event: impl Into<String>) -> Self {
        self.event = event.into();
        self
    }

    /// The body.
    pub fn as_value(&self) -> &Value {
        &self.value
    }

    /// The body, by value.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// Sets `installation.id` (keeping other `installation` fields already there).
    pub fn installation(self, id: u64) -> Self {
        self.set("/installation/id", id)
    }

    /// Removes the `installation` object, as in most platform deliveries.
    pub fn without_installation(mut self) -> Self {
        if let Some(object) = self.value.as_object_mut() {
            object.remove("installation");
        }
        self
    }

    /// Sets a field: a top-level key (`"action"`) or a JSON pointer (`"/issue/body"`).
    ///
    /// Missing objects along a pointer are created; a non-object in the way is replaced by
    /// an object. A pointer segment may escape `/` as `~1` and `~` as `~0`.
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        let segments: Vec<String> = match field.strip_prefix('/') {
            Some(pointer) => pointer
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect(),
            None => vec![field.to_owned()],
        };
        let Some((last, parents)) = segments.split_last() else {
            return self;
        };
        let mut node = &mut self.value;
        for segment in parents {
            node = object(node)
                .entry(segment.clone())
                .or_insert_with(|| json!({}));
        }
        object(node).insert(last.clone(), value.into());
        self
    }
}

/// `value` as an object, replacing it with an empty one if it is anything else.
fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("replaced by an object above"),
    }
}

impl From<Payload> for Value {
    fn from(payload: Payload) -> Self {
        payload.value
    }
}

impl From<Payload> for WebhookBody {
    fn from(payload: Payload) -> Self {
        Self::from(&payload.value)
    }
}

impl From<&Payload> for WebhookBody {
    fn from(payload: &Payload) -> Self {
        Self::from(&payload.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_creates_and_replaces() {
        let p = Payload::new("x", json!({"a": 1}))
            .set("/a/b", true)
            .set("top", "t")
            .set("/c~1d", 2)
            .set("", 3);
        assert_eq!(p.as_value()["a"]["b"], true);
        assert_eq!(p.as_value()["top"], "t");
        assert_eq!(p.as_value()["c/d"], 2);
        assert_eq!(p.as_value()[""], 3);
        let p = Payload::new("x", json!([1])).installation(9);
        assert_eq!(p.as_value()["installation"]["id"], 9);
    }

    #[test]
    fn installation_keeps_other_fields_and_can_go() {
        let p = Payload::new(
            "installation",
            json!({"installation": {"id": 1, "app_id": 75}}),
        )
        .installation(2);
        assert_eq!(p.as_value()["installation"], json!({"id": 2, "app_id": 75}));
        let p = p.without_installation();
        assert!(p.as_value().get("installation").is_none());
    }
}
