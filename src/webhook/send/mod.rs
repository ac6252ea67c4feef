//! Sending signed webhook deliveries over HTTP, the way the platform does.
//!
//! [`WebhookSender`] posts one body to a bot's webhook URL with the headers of a
//! [`HeaderDialect`], signed with [`sign`] (or, in password mode, with the secret in a
//! token header). [`deliver`] is the one-call version.
//!
//! Not part of the test kit, so a production tool (`atombot send`) can use it without the
//! simulator; `atombot::testing` re-exports all of it under the same names.

mod body;
mod error;
mod options;

use std::fmt;
use std::time::Instant;

use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

#[doc(inline)]
pub use body::{DeliveryResponse, WebhookBody};
#[doc(inline)]
pub use error::DeliveryError;
#[doc(inline)]
pub use options::{DeliveryOptions, HeaderDialect};

use crate::webhook::sign;

/// Sends webhook deliveries to one URL with one secret.
///
/// Cheap to clone (the HTTP client is shared). Redirects are not followed, like the
/// platform. `Debug` never shows the secret.
///
/// # Example
/// ```no_run
/// # async fn run() -> Result<(), atombot::webhook::send::DeliveryError> {
/// use atombot::webhook::send::{DeliveryOptions, WebhookSender};
///
/// let sender = WebhookSender::new("http://127.0.0.1:3000/webhook", "s3cret");
/// let push = r#"{"ref":"refs/heads/main","repository":{"full_name":"acme/app"}}"#;
/// let answer = sender.send("push", push).await?;
/// assert!(answer.is_success());
///
/// let note = r#"{"object_kind":"note","object_attributes":{"note":"/label bug"}}"#;
/// let options = DeliveryOptions::gitcode().delivery_id("fixed-id");
/// sender.send_with("Note Hook", note, &options).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    url: String,
    secret: SecretString,
    options: DeliveryOptions,
}

impl fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSender")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("options", &self.options)
            .finish()
    }
}

impl WebhookSender {
    /// A sender posting to `url`, signing with `secret`, with the default options.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            client,
            url: url.into(),
            secret: SecretString::from(secret.into()),
            options: DeliveryOptions::default(),
        }
    }

    /// Sets the options [`send`](Self::send) uses.
    pub fn options(mut self, options: DeliveryOptions) -> Self {
        self.options = options;
        self
    }

    /// The target URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends one delivery of `event` with this sender's options.
    ///
    /// # Errors
    /// [`DeliveryError`] if the request cannot be built or sent, or no answer arrives in
    /// time. Any HTTP answer, 4xx and 5xx included, is a [`DeliveryResponse`].
    pub async fn send(
        &self,
        event: &str,
        body: impl Into<WebhookBody>,
    ) -> Result<DeliveryResponse, DeliveryError> {
        self.send_with(event, body, &self.options).await
    }

    /// Sends one delivery of `event` with the given options.
    ///
    /// `event` goes into the dialect's event header as given: `push` for AtomGit,
    /// `Push Hook` for GitCode.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn send_with(
        &self,
        event: &str,
        body: impl Into<WebhookBody>,
        options: &DeliveryOptions,
    ) -> Result<DeliveryResponse, DeliveryError> {
        let body = body.into().into_bytes();
        let url = reqwest::Url::parse(&self.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| DeliveryError::InvalidUrl(self.url.clone()))?;
        let delivery_id = options
            .delivery_id
            .clone()
            .unwrap_or_else(random_delivery_id);
        let headers = headers(
            Some(self.secret.expose_secret()),
            event,
            &delivery_id,
            &body,
            options,
        )?;

        tracing::debug!(%url, event, delivery_id, "sending webhook delivery");
        let started = Instant::now();
        let response = self
            .client
            .post(url)
            .headers(headers)
            .body(body)
            .timeout(options.timeout)
            .send()
            .await
            .map_err(DeliveryError::Transport)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(DeliveryError::Transport)?;
        let elapsed = started.elapsed();
        tracing::debug!(event, delivery_id, status, "webhook delivery answered");
        Ok(DeliveryResponse {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            delivery_id,
            elapsed,
        })
    }

    #[cfg(test)]
    fn headers(
        &self,
        event: &str,
        delivery_id: &str,
        body: &[u8],
        options: &DeliveryOptions,
    ) -> Result<HeaderMap, DeliveryError> {
        headers(
            Some(self.secret.expose_secret()),
            event,
            delivery_id,
            body,
            options,
        )
    }
}

/// The dialect's headers, the credential made with `secret` (none without one), then the
/// extra headers (which replace).
pub(crate) fn headers(
    secret: Option<&str>,
    event: &str,
    delivery_id: &str,
    body: &[u8],
    options: &DeliveryOptions,
) -> Result<HeaderMap, DeliveryError> {
    let dialect = options.dialect;
    let value = |header: &str, text: &str| {
        HeaderValue::from_str(text).map_err(|_| DeliveryError::InvalidHeader(header.to_owned()))
    };
    let user_agent = options
        .user_agent
        .as_deref()
        .unwrap_or(dialect.user_agent());

    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, value("User-Agent", user_agent)?);
    let event_header = dialect.event_header();
    headers.insert(event_header, value(event_header, event)?);
    let delivery_header = dialect.delivery_header();
    headers.insert(delivery_header, value(delivery_header, delivery_id)?);

    if let Some(secret) = secret {
        let (name, mut credential) = if options.password_mode {
            let name = dialect.token_header();
            (name, value(name, secret)?)
        } else {
            let name = dialect.signature_header();
            (name, value(name, &sign(secret.as_bytes(), body))?)
        };
        credential.set_sensitive(true);
        headers.insert(name, credential);
    }

    let extra = options
        .parsed_extra_headers()
        .map_err(DeliveryError::InvalidHeader)?;
    let mut replaced: Vec<HeaderName> = Vec::new();
    for (name, value) in &extra {
        if !replaced.contains(name) {
            headers.remove(name);
            replaced.push(name.clone());
        }
        headers.append(name.clone(), value.clone());
    }
    Ok(headers)
}

/// Sends one signed delivery of `event` to `url` with the default options (AtomGit headers).
///
/// # Errors
/// As for [`WebhookSender::send`].
///
/// # Example
/// ```no_run
/// # async fn run() -> Result<(), atombot::webhook::send::DeliveryError> {
/// let body = br#"{"ref":"refs/heads/main","repository":{"full_name":"acme/app"}}"#;
/// let answer = atombot::webhook::send::deliver("http://127.0.0.1:3000/webhook", "s3cret", "push", &body[..]).await?;
/// println!("{} {}", answer.status, answer.body);
/// # Ok(()) }
/// ```
pub async fn deliver(
    url: &str,
    secret: &str,
    event: &str,
    body: impl Into<WebhookBody>,
) -> Result<DeliveryResponse, DeliveryError> {
    WebhookSender::new(url, secret).send(event, body).await
}

/// Sends one delivery of `event` to `url` with the given options.
///
/// # Errors
/// As for [`WebhookSender::send`].
pub async fn deliver_with(
    url: &str,
    secret: &str,
    event: &str,
    body: impl Into<WebhookBody>,
    options: &DeliveryOptions,
) -> Result<DeliveryResponse, DeliveryError> {
    WebhookSender::new(url, secret)
        .send_with(event, body, options)
        .await
}

/// A random id in the UUID v4 text form, like the platform's delivery ids.
pub fn random_delivery_id() -> String {
    let mut bytes: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_look_like_uuids() {
        let id = random_delivery_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_ne!(id, random_delivery_id());
    }

    #[test]
    fn headers_per_dialect_and_mode() {
        let sender = WebhookSender::new("http://127.0.0.1:1/", "s3cret");
        let h = sender
            .headers("push", "id-1", b"{}", &DeliveryOptions::new())
            .unwrap();
        assert_eq!(h["x-atomgit-event"], "push");
        assert_eq!(h["x-atomgit-delivery"], "id-1");
        assert_eq!(h["x-hub-signature-256"], sign(b"s3cret", b"{}").as_str());
        assert!(
            h["user-agent"]
                .to_str()
                .unwrap()
                .starts_with("AtomGit-Hookshot/")
        );

        let options = DeliveryOptions::gitcode()
            .password_mode(true)
            .header("X-GitCode-Event", "Note Hook")
            .header("X-Extra", "1");
        let h = sender
            .headers("Push Hook", "id-2", b"{}", &options)
            .unwrap();
        assert_eq!(h["x-gitcode-token"], "s3cret");
        assert!(h["x-gitcode-token"].is_sensitive());
        assert_eq!(h.get_all("x-gitcode-event").iter().count(), 1);
        assert_eq!(h["x-gitcode-event"], "Note Hook");
        assert_eq!(h["user-agent"], "git-gitcode-hook");
        assert!(h.get("x-hub-signature-256").is_none());
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let sender = WebhookSender::new("http://127.0.0.1:1/", "s3cret\n");
        let password = DeliveryOptions::new().password_mode(true);
        let err = sender.headers("push", "id", b"", &password).unwrap_err();
        assert!(!err.to_string().contains("s3cret"));
        let bad = DeliveryOptions::new().header("bad name", "v");
        assert!(sender.headers("push", "id", b"", &bad).is_err());
        assert!(
            sender
                .headers("a\nb", "id", b"", &DeliveryOptions::new())
                .is_err()
        );
        assert!(format!("{sender:?}").contains("redacted"));
        assert!(!format!("{sender:?}").contains("s3cret"));
    }

    #[tokio::test]
    async fn invalid_url_is_reported() {
        let err = deliver("not a url", "s", "push", "{}").await.unwrap_err();
        assert!(matches!(err, DeliveryError::InvalidUrl(_)));
        let err = deliver("ftp://x/", "s", "push", "{}").await.unwrap_err();
        assert!(matches!(err, DeliveryError::InvalidUrl(_)));
    }
}
