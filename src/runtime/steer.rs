//! Applies the table of `steer.md` (shown on [`Retry`](crate::Retry)): what the queue does
//! with a unit or job whose handler failed with an error.

use std::time::Duration;

use atombot_jobs::JobError;
use http::StatusCode;

use crate::error::Error;
use crate::steer::{Abort, Retry, When};

/// When the platform refused for its rate limit without saying until when.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// What the queue should do with a unit whose handler failed with `error`; see the module
/// docs for the table.
pub(crate) fn steer(error: &(dyn std::error::Error + 'static)) -> JobError {
    let message = chain_message(error);
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(decided) = decide(e, &message) {
            return decided;
        }
        current = e.source();
    }
    JobError::Retry(message)
}

/// The error's message followed by those of its sources that it does not already show.
fn chain_message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        let text = e.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        current = e.source();
    }
    message
}

/// The rule for one error of the chain, if one applies to it.
fn decide(e: &(dyn std::error::Error + 'static), message: &str) -> Option<JobError> {
    if e.downcast_ref::<Abort>().is_some() {
        return Some(JobError::Abort(message.to_owned()));
    }
    if let Some(retry) = e.downcast_ref::<Retry>() {
        return Some(retry_error(retry, message));
    }
    e.downcast_ref::<Error>().map(|e| from_error(e, message))
}

fn retry_error(retry: &Retry, message: &str) -> JobError {
    let message = message.to_owned();
    match retry.when {
        When::Backoff => JobError::Retry(message),
        When::After(d) => JobError::RetryAfter(d, message),
        When::Postpone(d) => JobError::Postpone(d, message),
    }
}

fn from_error(error: &Error, message: &str) -> JobError {
    let abort = || JobError::Abort(message.to_owned());
    let retry = || JobError::Retry(message.to_owned());
    match error {
        Error::Abort(_) => abort(),
        Error::Retry(r) => retry_error(r, message),
        Error::RateLimited { retry_after, .. } => JobError::Postpone(
            retry_after.unwrap_or(DEFAULT_RATE_LIMIT_WAIT),
            message.to_owned(),
        ),
        Error::Api { status, .. } => {
            if status.is_client_error()
                && *status != StatusCode::REQUEST_TIMEOUT
                && *status != StatusCode::CONFLICT
            {
                abort()
            } else {
                retry()
            }
        }
        // A failed mint fails the way its cause does (an installation that is gone: abort).
        Error::InstallationToken { source, .. } => match from_error(source, message) {
            JobError::Retry(_) => retry(),
            other => other,
        },
        Error::ConfigRead { source, .. } => match from_error(source, message) {
            JobError::Retry(_) => retry(),
            other => other,
        },
        // A module the platform lacks (statuses, check runs) will not appear by retrying.
        Error::Payload { .. }
        | Error::InvalidRequest(_)
        | Error::Config { .. }
        | Error::Definition(_)
        | Error::Jwt { .. }
        | Error::InstallationRemoved { .. }
        | Error::Unsupported { .. }
        | Error::ConfigFile(_) => abort(),
        e if e.is_sign_in_again() => abort(),
        _ => retry(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steer::ResultExt;

    fn api(status: u16) -> Error {
        Error::Api {
            status: StatusCode::from_u16(status).unwrap(),
            message: "Not Found".into(),
            method: http::Method::GET,
            path: "/repos/a/b".into(),
        }
    }

    fn steer_boxed(e: impl Into<crate::webhook::BoxError>) -> JobError {
        let boxed: crate::webhook::BoxError = e.into();
        steer(&*boxed)
    }

    #[test]
    fn the_table() {
        assert!(matches!(steer_boxed(api(404)), JobError::Abort(m) if m.contains("Not Found")));
        assert!(matches!(steer_boxed(api(422)), JobError::Abort(_)));
        assert!(matches!(steer_boxed(api(408)), JobError::Retry(_)));
        assert!(matches!(steer_boxed(api(409)), JobError::Retry(_)));
        assert!(matches!(steer_boxed(api(503)), JobError::Retry(_)));
        let limited = Error::RateLimited {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: "slow down".into(),
            method: http::Method::GET,
            path: "/x".into(),
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            steer_boxed(limited),
            JobError::Postpone(
                Duration::from_secs(2),
                "GET /x was rate limited (429 Too Many Requests): slow down".into()
            )
        );
        assert_eq!(steer_boxed(Abort::new("no")), JobError::Abort("no".into()));
        assert_eq!(
            steer_boxed(Error::from(Abort::new("no"))),
            JobError::Abort("no".into())
        );
        assert_eq!(
            steer_boxed(Retry::after(Duration::from_secs(3)).because("later")),
            JobError::RetryAfter(Duration::from_secs(3), "later".into())
        );
        assert_eq!(
            steer_boxed(Retry::postpone(Duration::from_secs(3)).because("later")),
            JobError::Postpone(Duration::from_secs(3), "later".into())
        );
        assert!(matches!(steer_boxed("plain"), JobError::Retry(m) if m == "plain"));
        let minted = Error::InstallationToken {
            installation: 14,
            source: std::sync::Arc::new(api(404)),
        };
        assert!(matches!(steer_boxed(minted), JobError::Abort(_)));
        let removed = Error::InstallationRemoved { installation: 14 };
        assert!(
            matches!(steer_boxed(removed), JobError::Abort(m) if m.starts_with("installation removed"))
        );
        let signed_out = crate::oauth::OAuthError::SignInAgain {
            user: "ada".into(),
            reason: "signed out".into(),
        };
        assert!(matches!(
            steer_boxed(Error::from(signed_out)),
            JobError::Abort(_)
        ));
        let payload = Error::Payload {
            json_path: "pusher".into(),
            source: serde_json::from_str::<u8>("x").unwrap_err(),
        };
        assert!(matches!(steer_boxed(payload), JobError::Abort(_)));
        let queue = Error::from(crate::jobs::QueueError::Closed);
        assert!(matches!(steer_boxed(queue), JobError::Retry(m) if m.starts_with("job queue")));
    }

    #[test]
    fn configuration_errors_abort_and_failed_reads_steer_as_their_cause() {
        let file = crate::repo_config::ConfigFileError::new("a/b:.atomgit/x.yml", "bad");
        assert!(
            matches!(steer_boxed(Error::from(file)), JobError::Abort(m) if m.contains("a/b:.atomgit/x.yml"))
        );
        let read = |status| Error::ConfigRead {
            file: "a/b:.atomgit/x.yml".into(),
            source: std::sync::Arc::new(api(status)),
        };
        assert!(matches!(steer_boxed(read(403)), JobError::Abort(_)));
        assert!(matches!(steer_boxed(read(502)), JobError::Retry(_)));
        assert_eq!(read(502).status(), Some(StatusCode::BAD_GATEWAY));
    }

    #[test]
    fn the_source_chain_is_searched() {
        #[derive(Debug, thiserror::Error)]
        #[error("syncing labels")]
        struct Wrapper(#[source] Error);
        assert!(matches!(
            steer_boxed(Wrapper(api(404))),
            JobError::Abort(m) if m == "syncing labels: GET /repos/a/b failed with 404 Not Found: Not Found"
        ));
        assert!(matches!(steer_boxed(Wrapper(api(500))), JobError::Retry(_)));
    }

    #[test]
    fn results_convert_with_question_mark() {
        fn read() -> Result<(), Abort> {
            "x".parse::<u32>().or_abort()?;
            Ok(())
        }
        assert!(read().unwrap_err().message().contains("invalid digit"));
        let r: Result<(), Retry> = Err::<(), _>("busy").or_retry_after(Duration::from_secs(1));
        let r = r.unwrap_err();
        assert_eq!(
            (r.delay(), r.keeps_attempt()),
            (Some(Duration::from_secs(1)), false)
        );
        assert_eq!(r.to_string(), "busy");
    }
}
