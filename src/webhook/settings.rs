//! What the webhook layer accepts: header names, size limit and secrets.

use std::fmt;

use secrecy::SecretString;

/// Default body limit: 25 MiB, the largest delivery the platform sends.
pub const DEFAULT_MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// Default number of signature (and of token) header values considered per delivery.
pub const DEFAULT_MAX_CREDENTIAL_VALUES: usize = 8;

/// How deliveries are recognised and authenticated.
///
/// Header names are lists because the platform family uses three dialects (see
/// [`events`](super::events)); the first header present wins. Several secrets may be active at
/// once so a secret can be rotated without dropping deliveries.
///
/// `Debug` never shows the secrets, only how many there are.
///
/// # Example
/// ```
/// use atombot::webhook::WebhookSettings;
///
/// let settings = WebhookSettings::default()
///     .with_secret("old-secret")
///     .with_secret("new-secret");
/// assert_eq!(settings.secrets.len(), 2);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct WebhookSettings {
    /// Headers naming the event, tried in order.
    pub event_headers: Vec<String>,
    /// Headers carrying the delivery id, tried in order.
    pub delivery_headers: Vec<String>,
    /// Headers carrying `sha256=<hex HMAC-SHA256 of the body>`.
    pub signature_headers: Vec<String>,
    /// Headers carrying a plain shared token (GitCode "password mode").
    pub token_headers: Vec<String>,
    /// Bodies longer than this are refused with 413.
    pub max_body_bytes: usize,
    /// Accept deliveries that carry neither a signature nor a token.
    pub allow_unsigned: bool,
    /// Signature values (and, separately, token values) considered per delivery; values
    /// past this many are ignored (default [`DEFAULT_MAX_CREDENTIAL_VALUES`]).
    pub max_credential_values: usize,
    /// Webhook secrets; a delivery is authentic if it matches any of them.
    pub secrets: Vec<SecretString>,
}

impl WebhookSettings {
    /// Adds a secret to the accepted set (for rotation, keep the old one until it is unused).
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.secrets.push(SecretString::from(secret.into()));
        self
    }

    /// Sets the body size limit in bytes.
    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Accepts (or refuses) deliveries without a signature or token. Off by default.
    pub fn with_allow_unsigned(mut self, allow: bool) -> Self {
        self.allow_unsigned = allow;
        self
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            event_headers: names(&["X-AtomGit-Event", "X-GitCode-Event", "X-GitHub-Event"]),
            delivery_headers: names(&[
                "X-AtomGit-Delivery",
                "X-GitCode-Delivery",
                "X-GitHub-Delivery",
            ]),
            signature_headers: names(&[
                "X-Hub-Signature-256",
                "X-GitCode-Signature-256",
                "X-AtomGit-Signature-256",
            ]),
            token_headers: names(&["X-GitCode-Token", "X-AtomGit-Token"]),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            allow_unsigned: false,
            max_credential_values: DEFAULT_MAX_CREDENTIAL_VALUES,
            secrets: Vec::new(),
        }
    }
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("event_headers", &self.event_headers)
            .field("delivery_headers", &self.delivery_headers)
            .field("signature_headers", &self.signature_headers)
            .field("token_headers", &self.token_headers)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("allow_unsigned", &self.allow_unsigned)
            .field("max_credential_values", &self.max_credential_values)
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let s = WebhookSettings::default().with_secret("hunter2-very-secret");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"));
        assert!(dbg.contains("1 redacted"));
    }
}
