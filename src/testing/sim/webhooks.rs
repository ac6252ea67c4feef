//! Webhook deliveries from the simulator to a bot: secret, target URL, sending, the log.

use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::Simulator;
use crate::testing::{
    DeliveryError, DeliveryOptions, DeliveryResponse, HeaderDialect, WebhookBody, WebhookSender,
};

/// The webhook secret a simulator signs with unless told otherwise.
pub const DEFAULT_WEBHOOK_SECRET: &str = "atombot-sim-webhook-secret";

/// One delivery the simulator sent (or tried to send).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentDelivery {
    /// The event header value.
    pub event: String,
    /// The delivery id sent.
    pub delivery_id: String,
    /// The header dialect used.
    pub dialect: HeaderDialect,
    /// The receiver's status, or `None` if no answer came (see the returned error).
    pub status: Option<u16>,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
}

/// The simulator's webhook settings and log; `Debug` hides the secret.
#[derive(Debug)]
pub(crate) struct Hooks {
    secret: SecretString,
    url: Mutex<Option<String>>,
    sent: Mutex<Vec<SentDelivery>>,
}

impl Hooks {
    pub(crate) fn new(secret: SecretString, url: Option<String>) -> Self {
        Self {
            secret,
            url: Mutex::new(url),
            sent: Mutex::new(Vec::new()),
        }
    }

    fn url(&self) -> MutexGuard<'_, Option<String>> {
        self.url.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sent(&self) -> MutexGuard<'_, Vec<SentDelivery>> {
        self.sent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Simulator {
    /// The secret deliveries are signed with (default [`DEFAULT_WEBHOOK_SECRET`]); give the
    /// bot the same one (it is in [`env`](Self::env) as `ATOMGIT_WEBHOOK_SECRET`).
    pub fn webhook_secret(&self) -> &str {
        self.hooks.secret.expose_secret()
    }

    /// The URL deliveries are sent to, if set.
    pub fn webhook_url(&self) -> Option<String> {
        self.hooks.url().clone()
    }

    /// Sets the URL deliveries are sent to, e.g. `http://127.0.0.1:3000/webhook`.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        *self.hooks.url() = Some(url.into());
    }

    /// Signs `body` with the [webhook secret](Self::webhook_secret) and posts it as `event`
    /// to the [webhook URL](Self::set_webhook_url) with AtomGit headers; records it in
    /// [`deliveries`](Self::deliveries).
    ///
    /// # Errors
    /// [`DeliveryError::NoUrl`] when no URL is set, else as for [`WebhookSender::send`].
    /// A 4xx/5xx answer is not an error.
    ///
    /// # Example
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use atombot::testing::{events, DeliveryOptions, Simulator};
    ///
    /// let sim = Simulator::builder()
    ///     .webhook_url("http://127.0.0.1:3000/webhook")
    ///     .start()
    ///     .await?;
    /// let answer = sim.deliver("push", events::push("atomgit-demo/docs")).await?;
    /// assert!(answer.is_success());
    ///
    /// let mr = events::gitlab_merge_request_open();
    /// sim.deliver_with(mr.event(), &mr, &DeliveryOptions::gitcode()).await?;
    /// assert_eq!(sim.deliveries().len(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn deliver(
        &self,
        event: &str,
        body: impl Into<WebhookBody>,
    ) -> Result<DeliveryResponse, DeliveryError> {
        self.deliver_with(event, body, &DeliveryOptions::default())
            .await
    }

    /// Like [`deliver`](Self::deliver), with a dialect, password mode, delivery id or extra
    /// headers.
    ///
    /// # Errors
    /// As for [`deliver`](Self::deliver).
    pub async fn deliver_with(
        &self,
        event: &str,
        body: impl Into<WebhookBody>,
        options: &DeliveryOptions,
    ) -> Result<DeliveryResponse, DeliveryError> {
        let url = self.webhook_url().ok_or(DeliveryError::NoUrl)?;
        let delivery_id = options
            .delivery_id
            .clone()
            .unwrap_or_else(crate::testing::random_delivery_id);
        let options = options.clone().delivery_id(delivery_id.clone());
        let sent_at = Utc::now();
        let result = WebhookSender::new(url, self.webhook_secret())
            .send_with(event, body, &options)
            .await;
        if !matches!(
            result,
            Err(DeliveryError::InvalidUrl(_) | DeliveryError::InvalidHeader(_))
        ) {
            self.hooks.sent().push(SentDelivery {
                event: event.to_owned(),
                delivery_id,
                dialect: options.dialect,
                status: result.as_ref().ok().map(|r| r.status),
                sent_at,
            });
        }
        result
    }

    /// Every delivery sent so far (including ones that got no answer), oldest first.
    pub fn deliveries(&self) -> Vec<SentDelivery> {
        self.hooks.sent().clone()
    }
}
