//! [`OAuthError`]: what can go wrong while signing a user in or acting as them.

use http::StatusCode;

use crate::error::Error;

/// A user-authorization failure. Converts into [`Error::OAuth`](crate::Error::OAuth), from
/// which [`Error::find_source`] gives it back.
///
/// No variant carries a code, token, refresh token or client secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The user has no usable authorization: never signed in, signed out, or their refresh
    /// token expired or was revoked (the stored record has been removed). Send them through
    /// `GET /login` again.
    #[error("user {user:?} must sign in again: {reason}")]
    SignInAgain {
        /// The user's login.
        user: String,
        /// Why (for logs; never a token).
        reason: String,
    },

    /// The platform refused to exchange the authorization code (unknown, used or expired
    /// code, wrong client credentials).
    #[error("the platform refused the code exchange ({status}): {message}")]
    Exchange {
        /// Status of the token endpoint's answer.
        status: StatusCode,
        /// The platform's message.
        message: String,
    },

    /// The token endpoint answered 2xx with something that is not a usable token.
    #[error("unexpected token response: {0}")]
    TokenResponse(String),

    /// Reading or writing the user-token store failed.
    #[error("user-token store: could not {operation}: {source}")]
    Store {
        /// What was being done (`read`, `write`, `delete`, `open`).
        operation: &'static str,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A stored token could not be decrypted: `ATOMBOT_TOKEN_KEY` differs from the key it was
    /// written with, or the row was tampered with.
    #[error("a stored user token could not be decrypted (was ATOMBOT_TOKEN_KEY changed?)")]
    Decrypt,
}

impl OAuthError {
    pub(crate) fn sign_in_again(user: &str, reason: impl Into<String>) -> Self {
        Self::SignInAgain {
            user: user.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn store(
        operation: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Store {
            operation,
            source: source.into(),
        }
    }
}

impl From<OAuthError> for Error {
    /// [`Error::OAuth`], whose `sign_in_again` is set for [`OAuthError::SignInAgain`].
    fn from(error: OAuthError) -> Self {
        Error::OAuth {
            sign_in_again: matches!(error, OAuthError::SignInAgain { .. }),
            source: Box::new(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_into_the_crate_error_and_back() {
        let err = Error::from(OAuthError::sign_in_again("ada", "signed out"));
        assert!(err.is_sign_in_again());
        assert_eq!(
            err.to_string(),
            "user \"ada\" must sign in again: signed out"
        );
        assert!(matches!(
            err.find_source::<OAuthError>(),
            Some(OAuthError::SignInAgain { user, .. }) if user == "ada"
        ));
        let err = Error::from(OAuthError::Decrypt);
        assert!(!err.is_sign_in_again());
        assert!(matches!(
            err.find_source::<OAuthError>(),
            Some(OAuthError::Decrypt)
        ));
    }
}
