//! `AppConfig`, `.settings(..)` and `.webhook_settings(..)` compose: whatever the order of
//! the calls, the webhook secret and body limit the user gave are the ones in force.

use atombot::runtime::RuntimeSettings;
use atombot::testing::{TestBot, events};
use atombot::webhook::WebhookSettings;
use atombot::{AppConfig, Bot, Context};
use axum::body::Body;
use http::Request;

const CONFIG_SECRET: &str = "secret-from-app-config";
const WEBHOOK_SECRET: &str = "secret-from-webhook-settings";

fn config() -> AppConfig {
    AppConfig::builder()
        .app_id(1)
        .private_key_pem(atombot::testing::Simulator::dev_private_key_pem())
        .webhook_secret(CONFIG_SECRET)
        .build()
        .unwrap()
}

/// One call a user may make on the bot.
#[derive(Clone, Copy, Debug)]
enum Call {
    /// `.settings(..)` with this body limit (others default).
    Settings(usize),
    /// `.settings(..)` with every field default.
    DefaultSettings,
    /// `.webhook_settings(..)` with this secret, if any, and this body limit, if any.
    Webhook(Option<&'static str>, Option<usize>),
}

fn apply(bot: Bot, call: Call) -> Bot {
    match call {
        Call::Settings(limit) => {
            let mut settings = RuntimeSettings::default();
            settings.max_body_bytes = limit;
            bot.settings(settings)
        }
        Call::DefaultSettings => bot.settings(RuntimeSettings::default()),
        Call::Webhook(secret, limit) => {
            let mut webhook = WebhookSettings::default();
            if let Some(secret) = secret {
                webhook = webhook.with_secret(secret);
            }
            if let Some(limit) = limit {
                webhook = webhook.with_max_body_bytes(limit);
            }
            bot.webhook_settings(webhook)
        }
    }
}

/// A signed `push` of exactly `size` bytes.
fn push_of(size: usize, secret: &str) -> Request<Body> {
    let mut body = serde_json::to_vec(events::push("atomgit-demo/hello-world").as_value()).unwrap();
    assert!(body.len() + 16 < size, "{} bytes already", body.len());
    body.pop(); // the closing brace
    body.extend_from_slice(br#","pad":""#);
    let pad = size - body.len() - 2;
    body.extend(std::iter::repeat_n(b'x', pad));
    body.extend_from_slice(br#""}"#);
    assert_eq!(body.len(), size);
    Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-atomgit-event", "push")
        .header("x-atomgit-delivery", atombot::testing::random_delivery_id())
        .header(
            "x-hub-signature-256",
            atombot::webhook::sign(secret.as_bytes(), &body),
        )
        .body(Body::from(body))
        .unwrap()
}

async fn status(bot: &TestBot, size: usize, secret: &str) -> u16 {
    bot.request(push_of(size, secret)).await.status().as_u16()
}

#[tokio::test]
async fn every_order_keeps_what_the_user_gave() {
    use Call::*;
    // (calls in one order, the secret that must be in force, the body limit in force)
    let table: &[(&[Call], &str, usize)] = &[
        (&[Settings(4000)], CONFIG_SECRET, 4000),
        (&[Webhook(None, Some(5000))], CONFIG_SECRET, 5000),
        (
            &[Webhook(Some(WEBHOOK_SECRET), None)],
            WEBHOOK_SECRET,
            1 << 20,
        ),
        (
            &[Settings(4000), Webhook(Some(WEBHOOK_SECRET), None)],
            WEBHOOK_SECRET,
            4000,
        ),
        (
            &[Webhook(Some(WEBHOOK_SECRET), None), Settings(4000)],
            WEBHOOK_SECRET,
            4000,
        ),
        (&[Settings(4000), Webhook(None, None)], CONFIG_SECRET, 4000),
        (&[Webhook(None, None), Settings(4000)], CONFIG_SECRET, 4000),
        (
            &[Webhook(Some(WEBHOOK_SECRET), Some(5000)), DefaultSettings],
            WEBHOOK_SECRET,
            5000,
        ),
        (
            &[DefaultSettings, Webhook(Some(WEBHOOK_SECRET), Some(5000))],
            WEBHOOK_SECRET,
            5000,
        ),
        (
            &[Webhook(None, Some(5000)), DefaultSettings],
            CONFIG_SECRET,
            5000,
        ),
        // Both set the limit: the last explicit value wins.
        (
            &[Settings(4000), Webhook(None, Some(5000))],
            CONFIG_SECRET,
            5000,
        ),
        (
            &[Webhook(None, Some(5000)), Settings(4000)],
            CONFIG_SECRET,
            4000,
        ),
    ];
    for (calls, secret, limit) in table {
        let mut bot = Bot::new(config()).on("push", |_ctx: Context| async {
            Ok::<(), atombot::Error>(())
        });
        for call in *calls {
            bot = apply(bot, *call);
        }
        let bot = TestBot::start(bot).await.unwrap();
        let other = if *secret == CONFIG_SECRET {
            WEBHOOK_SECRET
        } else {
            CONFIG_SECRET
        };
        // Within the limit: the expected secret verifies, the other does not.
        let small = 2500;
        assert_eq!(
            status(&bot, small, secret).await,
            202,
            "{calls:?}: {secret} must verify"
        );
        assert_eq!(
            status(&bot, small, other).await,
            401,
            "{calls:?}: {other} must not"
        );
        // At the limit accepted, one byte over refused.
        if *limit < 10_000 {
            assert_eq!(
                status(&bot, *limit, secret).await,
                202,
                "{calls:?}: {limit} bytes"
            );
            assert_eq!(
                status(&bot, limit + 1, secret).await,
                413,
                "{calls:?}: {limit}+1 bytes"
            );
        }
        bot.shutdown().await;
    }
}
