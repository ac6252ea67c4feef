//! Re-posting one delivery to the local bot: original headers, exact body, retried while the
//! bot is down or answers 5xx.

use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};

use crate::relay::wire::WireDelivery;

/// Time the bot has to answer one post.
const POST_TIMEOUT: Duration = Duration::from_secs(30);
/// First and largest pause between attempts.
const RETRY: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(15));

/// The local bot's webhook endpoint.
#[derive(Debug)]
pub(super) struct Bot {
    client: reqwest::Client,
    url: Url,
    max_attempts: u32,
}

/// How one attempt went.
enum Attempt {
    Done(StatusCode),
    Refused(StatusCode, String),
    Retry(String),
}

impl Bot {
    /// A client for `url` that tries each delivery up to `max_attempts` times.
    pub(super) fn new(url: Url, max_attempts: u32) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(POST_TIMEOUT)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            client,
            url,
            max_attempts: max_attempts.max(1),
        })
    }

    /// Posts `delivery` and prints one line saying how it went. Returns once it is answered
    /// with 2xx, refused with another non-5xx status, or after the last attempt.
    pub(super) async fn deliver(&self, delivery: &WireDelivery) {
        let what = format!(
            "#{} {} (delivery {})",
            delivery.seq,
            delivery.event(),
            delivery.delivery_id()
        );
        let body = match delivery.body_bytes() {
            Ok(body) => Bytes::from(body),
            Err(e) => {
                println!("skipped {what}: the relay sent a body that is not base64 ({e})");
                return;
            }
        };
        let headers = headers(delivery);
        let mut pause = RETRY.0;
        for attempt in 1..=self.max_attempts {
            match self.attempt(&headers, &body).await {
                Attempt::Done(status) => {
                    println!("forwarded {what} → {status}");
                    return;
                }
                Attempt::Refused(status, text) => {
                    println!("refused {what} → {status}: {text}");
                    return;
                }
                Attempt::Retry(why) if attempt == self.max_attempts => {
                    println!("gave up on {what} after {attempt} attempts: {why}");
                    return;
                }
                Attempt::Retry(why) => {
                    eprintln!(
                        "{what}: {why}; attempt {} of {} in {} ms",
                        attempt + 1,
                        self.max_attempts,
                        pause.as_millis()
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RETRY.1);
                }
            }
        }
    }

    async fn attempt(&self, headers: &HeaderMap, body: &Bytes) -> Attempt {
        let sent = self
            .client
            .post(self.url.clone())
            .headers(headers.clone())
            .body(body.clone())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Attempt::Retry(format!("{:#}", anyhow::Error::new(e.without_url()))),
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Done(status);
        }
        if status.is_server_error() {
            return Attempt::Retry(format!("the bot answered {status}"));
        }
        let text = response.text().await.unwrap_or_default();
        let text: String = text.trim().chars().take(200).collect();
        Attempt::Refused(status, text)
    }
}

/// The delivery's headers as a map; a pair that is not a valid header is left out.
fn headers(delivery: &WireDelivery) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in &delivery.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(mut value)) => {
                if name.as_str().contains("token") || name.as_str().contains("signature") {
                    value.set_sensitive(true);
                }
                map.append(name, value);
            }
            _ => eprintln!(
                "#{}: header `{name}` is not a valid header; not sent",
                delivery.seq
            ),
        }
    }
    map
}
