//! The job envelope and the small types queues hand back.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};
use serde_json::Value;

/// A job's arguments, kept as the JSON text they are stored as: serialized once when the
/// job is made, decoded only by whoever reads them ([`Payload::args`], or as a
/// [`Value`] through `Deref`, parsed on first use), and shared, not copied, between the
/// queue and a worker of the same process.
///
/// ```
/// use atombot_jobs::Payload;
/// let payload = Payload::new(&serde_json::json!({ "issue": 7 })).unwrap();
/// assert_eq!(payload.json(), r#"{"issue":7}"#);
/// assert_eq!(payload["issue"], 7);
/// ```
#[derive(Clone)]
pub struct Payload(Arc<Stored>);

/// Always JSON text: written by serde_json or checked.
struct Stored {
    text: String,
    value: OnceLock<Value>,
}

impl Payload {
    /// `text` must be JSON.
    fn from_checked(text: String) -> Self {
        Payload(Arc::new(Stored {
            text,
            value: OnceLock::new(),
        }))
    }

    /// `args` serialized to JSON; fails when they do not serialize (a map with non-string
    /// keys, say).
    pub fn new(args: &impl Serialize) -> Result<Self, serde_json::Error> {
        // Sized for a typical job (a stored delivery is ~400 bytes): one allocation, no
        // growing; a small payload gives most of it back.
        let mut text = Vec::with_capacity(512);
        serde_json::to_writer(&mut text, args)?;
        if text.len() < 128 {
            text.shrink_to_fit();
        }
        String::from_utf8(text)
            .map(Payload::from_checked)
            .map_err(serde::ser::Error::custom)
    }

    /// A payload from JSON text, checked to be JSON.
    pub fn from_json(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        let text = text.into();
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(Payload::from_checked(text))
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        &self.0.text
    }

    /// Decodes the payload into `T`.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.json())
    }

    /// A payload read back from a store: `null` when the stored text is not JSON (a corrupt
    /// column), so that the job fails in its handler rather than in the queue.
    pub(crate) fn stored(text: String) -> Self {
        Payload::from_json(text).unwrap_or_default()
    }
}

impl std::ops::Deref for Payload {
    type Target = Value;

    /// The payload as a JSON value, parsed on first use.
    fn deref(&self) -> &Value {
        self.0
            .value
            .get_or_init(|| serde_json::from_str(self.json()).unwrap_or(Value::Null))
    }
}

impl Default for Payload {
    /// `null`.
    fn default() -> Self {
        Payload::from_checked("null".to_owned())
    }
}

impl From<Value> for Payload {
    fn from(value: Value) -> Self {
        // A `Value` always serializes (its map keys are strings); keep it parsed.
        let payload = Payload::new(&value).unwrap_or_default();
        let _ = payload.0.value.set(value);
        payload
    }
}

impl PartialEq for Payload {
    /// Equal JSON values (`{"a":1,"b":2}` equals `{"b":2,"a":1}`).
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json() || **self == **other
    }
}

impl PartialEq<Value> for Payload {
    fn eq(&self, other: &Value) -> bool {
        **self == *other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

/// As its JSON value, so that a [`Job`] serializes into any serde format, not only JSON.
impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Value::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Payload::from)
    }
}

/// A generic envelope job: one named queue carries jobs of many kinds.
///
/// Payloads and metadata are stored as given: put ids in them, never tokens or other secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// What the job is, for example `"delivery"` or `"sync-repo"`; workers route on it.
    pub kind: String,
    /// The job's arguments.
    pub payload: Payload,
    /// Raw bytes kept with the job exactly as given and never parsed by the queue (a BLOB in
    /// SQL, a hash field in Redis, shared in memory): for a large opaque input such as a
    /// webhook body, which would cost an escape and an unescape as a JSON string. Not part
    /// of the job's serde form.
    #[serde(skip)]
    pub body: Option<Bytes>,
    /// The key the body is kept under after the job is gone, when pushed with
    /// [`with_kept_body`](Self::with_kept_body). Not part of the job's serde form.
    #[serde(skip)]
    pub body_kept_as: Option<String>,
    /// Dedupe and idempotency key, used by [`Queue::push_unique`](crate::Queue::push_unique).
    #[serde(default)]
    pub key: Option<String>,
    /// Extra context such as an installation id. Never secrets.
    #[serde(default)]
    pub meta: BTreeMap<String, Value>,
    /// When the job was pushed (set by the queue on push).
    pub enqueued_at: SystemTime,
}

impl Job {
    /// A job of `kind` with a JSON payload.
    pub fn new(kind: impl Into<String>, payload: impl Into<Payload>) -> Self {
        Job {
            kind: kind.into(),
            payload: payload.into(),
            body: None,
            body_kept_as: None,
            key: None,
            meta: BTreeMap::new(),
            enqueued_at: SystemTime::now(),
        }
    }

    /// A job of `kind` whose payload is `args` serialized to JSON.
    ///
    /// Fails with [`Error::InvalidJob`](crate::Error::InvalidJob) if `args` does not serialize.
    pub fn from_args(kind: impl Into<String>, args: &impl Serialize) -> Result<Self, crate::Error> {
        let payload = Payload::new(args).map_err(|e| crate::Error::InvalidJob(e.to_string()))?;
        Ok(Job::new(kind, payload))
    }

    /// Attaches raw bytes to the job (see [`Job::body`]).
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Attaches raw bytes to the job (as [`with_body`](Self::with_body)) that the queue
    /// keeps under `key` once the job is gone, for
    /// [`QueueConfig::keep_bodies`](crate::QueueConfig::keep_bodies) (the bot's delivery log
    /// reads them back with [`sqlite_file::kept_body`](crate::sqlite_file::kept_body)). Jobs
    /// pushed with the same key share one stored copy: the first one's.
    ///
    /// The SQLite store keeps them; the other stores hold the body with the job only, as
    /// `with_body` does.
    #[must_use]
    pub fn with_kept_body(mut self, key: impl Into<String>, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self.body_kept_as = Some(key.into());
        self
    }

    /// Sets the dedupe / idempotency key.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds a metadata entry (never a secret).
    #[must_use]
    pub fn with_meta(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.meta.insert(name.into(), value.into());
        self
    }

    /// Decodes the payload; a mismatch converts into [`JobError::Abort`](crate::JobError::Abort).
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.payload.args()
    }
}

/// A job's id, unique within its backend.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub String);

impl JobId {
    pub(crate) fn generate() -> Self {
        // Sortable by time: millisecond timestamp, then 64 random bits.
        JobId(format!("{:012x}{:016x}", now_ms(), fastrand::u64(..)))
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The job is durably stored under this id.
    Enqueued(JobId),
    /// A live job with the same key exists (this id); nothing was stored.
    Duplicate(JobId),
}

impl Pushed {
    /// The id of the new job, or of the existing job for a duplicate.
    pub fn id(&self) -> &JobId {
        match self {
            Pushed::Enqueued(id) | Pushed::Duplicate(id) => id,
        }
    }

    /// Whether this push was dropped as a duplicate.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Pushed::Duplicate(_))
    }
}

/// A job that ran out of attempts or was aborted, as listed by [`Queue::failed`](crate::Queue::failed).
#[derive(Debug, Clone, PartialEq)]
pub struct FailedJob {
    /// The job's id, for [`Queue::retry`](crate::Queue::retry).
    pub id: JobId,
    /// The job's kind.
    pub kind: String,
    /// The job's key, if any.
    pub key: Option<String>,
    /// How many times it ran.
    pub attempts: u32,
    /// The last error message.
    pub last_error: Option<String>,
    /// The stored payload.
    pub payload: Value,
    /// When the job was pushed.
    pub enqueued_at: SystemTime,
    /// When the job was marked failed.
    pub failed_at: Option<SystemTime>,
}

/// Job counts of one queue, for metrics and readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Waiting jobs, including delayed, retrying and unknown ones.
    pub pending: u64,
    /// Of the pending jobs, those last handed back because their worker did not know their
    /// kind (a rolling deploy, or a kind no version handles any more).
    pub unknown: u64,
    /// Jobs a worker holds now.
    pub running: u64,
    /// Finished jobs: every job finished on this queue (their rows are deleted at once and
    /// counted).
    pub done: u64,
    /// Jobs kept as failed.
    pub failed: u64,
}

impl Stats {
    /// Adds `n` jobs stored with SQL status `status` (unknown statuses are not counted).
    pub(crate) fn count_status(&mut self, status: &str, n: u64) {
        match status {
            "pending" => self.pending += n,
            "unknown" => {
                self.pending += n;
                self.unknown = n;
            }
            "running" => self.running = n,
            "done" => self.done += n,
            "failed" => self.failed = n,
            _ => {}
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn ms_to_time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

pub(crate) fn time_to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// What the queue recorded for one run of a job; see [`JobBackend::on_recorded`].
///
/// [`JobBackend::on_recorded`]: crate::JobBackend::on_recorded
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recorded {
    /// The job.
    pub id: JobId,
    /// Its kind.
    pub kind: String,
    /// Its key, if it has one.
    pub key: Option<String>,
    /// The attempt that ran, from 1.
    pub attempt: u32,
    /// What comes next.
    pub outcome: RecordedOutcome,
}

/// What the queue does with a job after a run (stored before it is reported).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordedOutcome {
    /// Done; it never runs again.
    Done,
    /// Failed this attempt; it runs again after backoff.
    Retry {
        /// The run's error.
        error: String,
    },
    /// Handed back without using the attempt (postponed, unknown kind, or shutdown).
    Released {
        /// Why, if the run failed.
        error: Option<String>,
    },
    /// Failed for good; kept as failed.
    Failed {
        /// The last error.
        error: String,
    },
}

impl RecordedOutcome {
    /// Whether the job will not run again (done, or failed for good).
    pub fn is_final(&self) -> bool {
        matches!(self, RecordedOutcome::Done | RecordedOutcome::Failed { .. })
    }
}

/// A callback told of every recorded outcome.
pub(crate) type OnRecorded = std::sync::Arc<dyn Fn(&Recorded) + Send + Sync>;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_payload_keeps_its_text_and_reads_as_a_value() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Args {
            issue: u64,
            title: String,
        }
        let args = Args {
            issue: 7,
            title: "a \"quoted\" title".into(),
        };
        let payload = Payload::new(&args).unwrap();
        assert_eq!(
            payload.json(),
            r#"{"issue":7,"title":"a \"quoted\" title"}"#
        );
        assert_eq!(payload.args::<Args>().unwrap(), args);
        assert_eq!(payload["issue"], 7);
        assert_eq!(
            payload,
            json!({ "title": "a \"quoted\" title", "issue": 7 })
        );
        // Equal values with keys in another order are equal payloads.
        assert_eq!(
            payload,
            Payload::from_json(r#"{"title":"a \"quoted\" title","issue":7}"#).unwrap()
        );
        assert!(Payload::from_json("{not json").is_err());
        assert!(Payload::default().is_null());
        // A clone shares the text.
        assert!(std::ptr::eq(payload.json(), payload.clone().json()));
    }

    #[test]
    fn a_job_serializes_with_its_payload_inline() {
        let job = Job::new("greet", json!({ "issue": 7 })).with_key("greet-7");
        let text = serde_json::to_string(&job).unwrap();
        assert!(text.contains(r#""payload":{"issue":7}"#), "{text}");
        let back: Job = serde_json::from_str(&text).unwrap();
        assert_eq!(back, job);
        // Not only JSON: a self-describing format of another kind round-trips too.
        let value = serde_json::to_value(&job).unwrap();
        let back: Job = serde_json::from_value(value).unwrap();
        assert_eq!(back.payload["issue"], 7);
    }
}
