//! Queue errors ([`Error`]) and handler outcomes ([`JobError`]).

/// An error from the queue layer (connecting, pushing, inspecting).
///
/// Messages never contain the backend URL (it may hold a password).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The queue URL is not one of `sqlite://…`, `redis://…`, `postgres://…` or `memory`.
    #[error("invalid queue url: {0}")]
    InvalidUrl(String),
    /// The URL names a backend whose cargo feature is not enabled.
    #[error("queue backend `{0}` is not compiled in (enable the `{0}` feature of atombot-jobs)")]
    FeatureDisabled(&'static str),
    /// The backend could not be reached or did not answer in time.
    #[error("queue backend unavailable: {0}")]
    Unavailable(String),
    /// The backend answered with an error.
    #[error("queue backend error: {0}")]
    Backend(String),
    /// [`Queue::push_unique`](crate::Queue::push_unique) was given a job without a key.
    #[error("push_unique needs a non-empty job key")]
    MissingKey,
    /// The job could not be stored (for example its payload does not serialize).
    #[error("invalid job: {0}")]
    InvalidJob(String),
    /// The queue's writer task has stopped (the runtime is shutting down).
    #[error("queue writer stopped")]
    Closed,
}

impl Error {
    /// Whether the backend was unreachable (answer 503 and try again later).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Closed)
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => Error::Unavailable(e.to_string()),
            sqlx::Error::Database(ref db)
                if db.message().contains("locked") || db.message().contains("busy") =>
            {
                Error::Unavailable(e.to_string())
            }
            other => Error::Backend(other.to_string()),
        }
    }
}

/// A busy or locked database, or one that cannot be read or written (I/O, full disk), is
/// unavailable (try again later); anything else is the backend's error.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{
            CannotOpen, DatabaseBusy, DatabaseLocked, DiskFull, SystemIoFailure,
        };
        match e.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked | SystemIoFailure | DiskFull | CannotOpen) => {
                Error::Unavailable(e.to_string())
            }
            _ => Error::Backend(e.to_string()),
        }
    }
}

#[cfg(feature = "redis")]
impl From<redis::RedisError> for Error {
    fn from(e: redis::RedisError) -> Self {
        if e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_timeout()
        {
            Error::Unavailable(e.to_string())
        } else {
            Error::Backend(e.to_string())
        }
    }
}

/// Why a handler did not finish a job; steers what the worker does next.
///
/// | variant | what happens | uses an attempt |
/// |---|---|---|
/// | [`Retry`](Self::Retry) | run again after exponential backoff; failed after the last attempt | yes |
/// | [`RetryAfter`](Self::RetryAfter) | run again after the given delay; failed after the last attempt | yes |
/// | [`Postpone`](Self::Postpone) | run again after the given delay (a rate limit, say); failed once the job would run later than [`QueueConfig::max_postpone`](crate::QueueConfig::max_postpone) after it was pushed | no |
/// | [`Abort`](Self::Abort) | failed now, message kept | — |
/// | [`Unknown`](Self::Unknown) | back to the queue for a worker that knows the kind; failed with "no worker knows …" once the job is older than [`QueueConfig::unknown_timeout`](crate::QueueConfig::unknown_timeout) | no |
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// Try again later with exponential backoff; after the last attempt the job is kept as failed.
    #[error("retry: {0}")]
    Retry(String),
    /// Try again after this delay; after the last attempt the job is kept as failed.
    #[error("retry after {0:?}: {1}")]
    RetryAfter(std::time::Duration, String),
    /// Try again after this delay without using up an attempt (for example when the platform
    /// said it is rate limited); bounded in total by `QueueConfig::max_postpone`.
    #[error("postponed by {0:?}: {1}")]
    Postpone(std::time::Duration, String),
    /// Give up now: the job is kept as failed with this message.
    #[error("abort: {0}")]
    Abort(String),
    /// This worker does not know the job's kind: return it to the queue for another worker,
    /// without using up an attempt (bounded in time by `QueueConfig::unknown_timeout`).
    #[error("unknown job kind")]
    Unknown,
}

impl JobError {
    /// A [`JobError::Retry`] from any displayable error.
    pub fn retry(e: impl std::fmt::Display) -> Self {
        JobError::Retry(e.to_string())
    }

    /// A [`JobError::Abort`] from any displayable error.
    pub fn abort(e: impl std::fmt::Display) -> Self {
        JobError::Abort(e.to_string())
    }
}

/// Bad payloads will not get better by retrying.
impl From<serde_json::Error> for JobError {
    fn from(e: serde_json::Error) -> Self {
        JobError::Abort(format!("bad payload: {e}"))
    }
}

/// The message of a panic's payload (a `&str` or `String` given to `panic!`), for logs and
/// stored errors.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}
