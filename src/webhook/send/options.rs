//! [`DeliveryOptions`]: which headers a delivery carries and how it proves its origin.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

/// Which header set a delivery is sent with (the body is sent as given either way).
///
/// See `shared/platform/webhooks.md`: the platform family sends GitHub-style headers from
/// `AtomGit-Hookshot` and GitLab-style headers from the GitCode stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderDialect {
    /// `User-Agent: AtomGit-Hookshot/…`, `X-AtomGit-Event`, `X-AtomGit-Delivery`,
    /// `X-Hub-Signature-256` (password mode: `X-AtomGit-Token`).
    #[default]
    AtomGit,
    /// `User-Agent: git-gitcode-hook`, `X-GitCode-Event` (e.g. `Push Hook`),
    /// `X-GitCode-Delivery`, `X-GitCode-Signature-256` (password mode: `X-GitCode-Token`).
    GitCode,
}

impl HeaderDialect {
    /// The default `User-Agent` of this dialect.
    pub fn user_agent(self) -> &'static str {
        match self {
            Self::AtomGit => "AtomGit-Hookshot/atombot-sim",
            Self::GitCode => "git-gitcode-hook",
        }
    }

    /// The header naming the event.
    pub fn event_header(self) -> &'static str {
        match self {
            Self::AtomGit => "X-AtomGit-Event",
            Self::GitCode => "X-GitCode-Event",
        }
    }

    /// The header carrying the delivery id.
    pub fn delivery_header(self) -> &'static str {
        match self {
            Self::AtomGit => "X-AtomGit-Delivery",
            Self::GitCode => "X-GitCode-Delivery",
        }
    }

    /// The header carrying `sha256=<hex HMAC>` in signature mode.
    pub fn signature_header(self) -> &'static str {
        match self {
            Self::AtomGit => "X-Hub-Signature-256",
            Self::GitCode => "X-GitCode-Signature-256",
        }
    }

    /// The header carrying the secret itself in password mode.
    pub fn token_header(self) -> &'static str {
        match self {
            Self::AtomGit => "X-AtomGit-Token",
            Self::GitCode => "X-GitCode-Token",
        }
    }
}

/// How one delivery is sent: dialect, password mode, delivery id, extra headers, timeout.
///
/// The default is the AtomGit dialect, HMAC signature, a fresh random delivery id and a
/// 10-second timeout.
///
/// # Example
/// ```
/// use atombot::webhook::send::{DeliveryOptions, HeaderDialect};
///
/// let options = DeliveryOptions::gitcode()
///     .password_mode(true)
///     .delivery_id("redelivery-1")
///     .header("X-Trace", "abc");
/// let atomgit = DeliveryOptions::new().dialect(HeaderDialect::AtomGit);
/// # let _ = (options, atomgit);
/// ```
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    pub(crate) dialect: HeaderDialect,
    pub(crate) password_mode: bool,
    pub(crate) delivery_id: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) extra_headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            dialect: HeaderDialect::AtomGit,
            password_mode: false,
            delivery_id: None,
            user_agent: None,
            extra_headers: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl DeliveryOptions {
    /// The defaults: AtomGit headers, signed.
    pub fn new() -> Self {
        Self::default()
    }

    /// GitCode headers, signed (`X-GitCode-Signature-256`).
    pub fn gitcode() -> Self {
        Self::default().dialect(HeaderDialect::GitCode)
    }

    /// Sets the header dialect.
    pub fn dialect(mut self, dialect: HeaderDialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Sends the secret itself in the dialect's token header instead of an HMAC signature.
    pub fn password_mode(mut self, on: bool) -> Self {
        self.password_mode = on;
        self
    }

    /// Uses this delivery id instead of a fresh random one (to test redelivery and dedupe).
    pub fn delivery_id(mut self, id: impl Into<String>) -> Self {
        self.delivery_id = Some(id.into());
        self
    }

    /// Overrides the dialect's `User-Agent`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Adds a header, sent after (and so able to replace) the dialect's headers.
    ///
    /// An invalid name or value makes the send fail with
    /// [`DeliveryError::InvalidHeader`](super::DeliveryError::InvalidHeader).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// How long to wait for the receiver's answer (default 10 seconds).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The headers these options add after the dialect's, parsed.
    pub(crate) fn parsed_extra_headers(&self) -> Result<HeaderMap, String> {
        let mut map = HeaderMap::new();
        for (name, value) in &self.extra_headers {
            let name = HeaderName::try_from(name.as_str()).map_err(|_| name.clone())?;
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| name.to_string())?;
            map.append(name, value);
        }
        Ok(map)
    }
}
