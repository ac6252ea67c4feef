//! The crate's error type.

use std::sync::Arc;

use http::StatusCode;

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in atombot, grouped by concern.
///
/// No variant ever carries a secret: keys, tokens and webhook secrets are never part of an
/// error's `Display` or `Debug` output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or invalid. `setting` names it (for example `ATOMGIT_APP_ID`).
    #[error("configuration error in {setting}: {reason}")]
    Config {
        /// The setting's name, as an environment variable.
        setting: &'static str,
        /// What is wrong with it (never its value when the value is a secret).
        reason: String,
    },

    /// Signing the app's JWT failed (the signing library's error is the source).
    #[error("could not sign the app JWT: {source}")]
    Jwt {
        /// Why signing failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The platform answered with a non-success status.
    #[error("{method} {path} failed with {status}: {message}")]
    Api {
        /// HTTP status of the answer.
        status: StatusCode,
        /// The platform's message (the `message`/`error_message` field or the raw body).
        message: String,
        /// Request method.
        method: http::Method,
        /// Request path (no query string, no host).
        path: String,
    },

    /// The platform refused the request for its rate limit: a 429, or a 403 with
    /// `x-ratelimit-remaining: 0`. A handler or job that fails with it is run again after
    /// `retry_after` without using up an attempt (see [`crate::Retry`]).
    #[error("{method} {path} was rate limited ({status}): {message}")]
    RateLimited {
        /// HTTP status of the answer (429 or 403).
        status: StatusCode,
        /// The platform's message.
        message: String,
        /// Request method.
        method: http::Method,
        /// Request path (no query string, no host).
        path: String,
        /// When to try again, from `Retry-After` or `x-ratelimit-reset`, if the platform said.
        retry_after: Option<std::time::Duration>,
    },

    /// The request never got an answer (connection refused, reset, TLS, ...).
    #[error("{method} {path}: transport error: {source}")]
    Transport {
        /// Request method.
        method: http::Method,
        /// Request path.
        path: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A request attempt took longer than the configured timeout.
    #[error("{method} {path}: timed out")]
    Timeout {
        /// Request method.
        method: http::Method,
        /// Request path.
        path: String,
    },

    /// The answer was not the JSON the caller expected; `json_path` names the bad field.
    #[error("{path}: could not decode the answer at `{json_path}`: {source}")]
    Decode {
        /// Request path.
        path: String,
        /// JSON path of the field that failed (`.` for the document itself).
        json_path: String,
        /// The underlying serde error.
        #[source]
        source: serde_json::Error,
    },

    /// Minting an installation access token failed. Every caller that was waiting for the
    /// same mint receives this error; nothing is cached.
    #[error("minting an access token for installation {installation} failed: {source}")]
    InstallationToken {
        /// The installation id.
        installation: u64,
        /// Why the mint failed.
        #[source]
        source: Arc<Error>,
    },

    /// The installation was deleted or suspended (an `installation.deleted` or
    /// `installation.suspend` delivery said so): its calls fail at once, without a request
    /// or a token mint, and work queued for it fails instead of being retried. An
    /// `installation.created` or `installation.unsuspend` delivery makes it usable again.
    #[error("installation removed: installation {installation} was deleted or suspended")]
    InstallationRemoved {
        /// The installation id.
        installation: u64,
    },

    /// Listing the app's installations (to find a delivery's installation) failed. Every
    /// caller that was waiting for the same listing receives this error.
    #[error("listing the app's installations failed: {source}")]
    Installations {
        /// Why the listing failed.
        #[source]
        source: Arc<Error>,
    },

    /// The job queue could not take or give a job. The source is the queue's own error;
    /// reach it with [`Error::find_source`].
    #[error("job queue: {source}")]
    Queue {
        /// The queue's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A webhook payload did not fit the requested type; `json_path` names the bad field.
    #[error("could not decode the webhook payload at `{json_path}`: {source}")]
    Payload {
        /// JSON path of the field that failed (`.` for the document itself).
        json_path: String,
        /// The underlying serde error.
        #[source]
        source: serde_json::Error,
    },

    /// An invalid argument was passed to a call (for example a path with no owner).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A handler or job asked to be failed now (see [`crate::Abort`]).
    #[error(transparent)]
    Abort(#[from] crate::steer::Abort),

    /// A handler or job asked to be run again later (see [`crate::Retry`]).
    #[error(transparent)]
    Retry(#[from] crate::steer::Retry),

    /// The bot's definition is invalid, found at start-up: a handler or job name registered
    /// twice, or a name that cannot be stored.
    #[error("invalid bot definition: {0}")]
    Definition(String),

    /// User authorization (OAuth) failed. `sign_in_again` says that the user must sign in
    /// again (see [`Error::is_sign_in_again`]); the source is the OAuth module's own error,
    /// reached with [`Error::find_source`].
    #[error("{source}")]
    OAuth {
        /// Whether the user has no usable authorization and must sign in again.
        sign_in_again: bool,
        /// The OAuth module's error (never a code, token or client secret).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The platform does not offer this capability here (it answered 404 on an optional
    /// endpoint such as commit statuses or check runs, which the `/api/v5` directory lacks),
    /// so a bot can degrade gracefully.
    #[error(
        "{method} {path}: {capability} is not supported by this platform (404); set {setting} if it lives at another path"
    )]
    Unsupported {
        /// The endpoint's name (`statuses.create`).
        capability: &'static str,
        /// Request method.
        method: http::Method,
        /// Request path (no query string, no host).
        path: String,
        /// The setting that overrides the path.
        setting: String,
    },

    /// A repository configuration file is invalid (see
    /// [`repo_config`](crate::repo_config)); retrying will not fix it.
    #[error(transparent)]
    ConfigFile(#[from] crate::repo_config::ConfigFileError),

    /// A repository configuration file could not be read. Every caller that was waiting
    /// for the same read receives this error; it steers retries as its cause does.
    #[error("reading {file} failed: {source}")]
    ConfigRead {
        /// `owner/repo:path` of the file.
        file: String,
        /// Why the read failed.
        #[source]
        source: Arc<Error>,
    },
}

impl Error {
    /// Whether this error means "the user must sign in again": they never signed in,
    /// signed out, or their refresh token expired or was revoked ([`Error::OAuth`] with
    /// `sign_in_again`).
    pub fn is_sign_in_again(&self) -> bool {
        matches!(
            self,
            Error::OAuth {
                sign_in_again: true,
                ..
            }
        )
    }

    /// The first error of type `E` in this error's [`source`](std::error::Error::source)
    /// chain (this error itself included, and the causes behind
    /// [`Error::InstallationToken`] and [`Error::Installations`]): the way to tell apart the
    /// module errors that [`Error::OAuth`], [`Error::Queue`] or [`Error::Jwt`] carry.
    ///
    /// # Example
    /// ```
    /// use atombot::Error;
    ///
    /// let err = Error::InvalidRequest("no owner".into());
    /// assert!(err.find_source::<std::io::Error>().is_none());
    /// assert!(err.find_source::<Error>().is_some());
    /// ```
    pub fn find_source<E: std::error::Error + 'static>(&self) -> Option<&E> {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = current {
            if let Some(found) = e.downcast_ref::<E>() {
                return Some(found);
            }
            // A shared cause (`Arc<Error>`) would hide the error inside it from downcasts.
            current = match e.downcast_ref::<Arc<Error>>() {
                Some(shared) => Some(&**shared),
                None => e.source(),
            };
        }
        None
    }

    /// Whether the platform lacks the capability ([`Error::Unsupported`]).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported { .. })
    }

    /// The HTTP status if the platform answered, including through a failed token mint.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } | Error::RateLimited { status, .. } => Some(*status),
            Error::Unsupported { .. } => Some(StatusCode::NOT_FOUND),
            Error::InstallationToken { source, .. }
            | Error::Installations { source }
            | Error::ConfigRead { source, .. } => source.status(),
            _ => None,
        }
    }

    pub(crate) fn config(setting: &'static str, reason: impl Into<String>) -> Self {
        Error::Config {
            setting,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_source_sees_through_shared_causes() {
        let io = std::io::Error::other("connection reset");
        let transport = Error::Transport {
            method: http::Method::POST,
            path: "/app/installations/7/access_tokens".into(),
            source: Box::new(io),
        };
        let minted = Error::InstallationToken {
            installation: 7,
            source: Arc::new(transport),
        };
        assert!(matches!(
            minted.find_source::<Error>(),
            Some(Error::InstallationToken { .. })
        ));
        let io = minted
            .find_source::<std::io::Error>()
            .map(ToString::to_string);
        assert_eq!(io.as_deref(), Some("connection reset"));
        assert!(!minted.is_sign_in_again());
    }
}
