//! The install page, `GET /` on a served bot: the app's name and install link
//! (`{web_url}/apps/{slug}/installations/new`), health, version and counts; the
//! per-installation table only with the admin token. Over real HTTP against the simulator,
//! and once through headless Chromium (Debian's `chromium`; required when `CI` is set).

mod common;

use std::time::Duration;

use atombot::runtime::{RunningBot, RuntimeSettings};
use atombot::testing::{DEFAULT_WEBHOOK_SECRET, Simulator, deliver, events};
use atombot::{Abort, AppConfig, Bot, Context};

const SLUG: &str = "lint-bot";
const ADMIN: &str = "admin-token-for-tests";

fn config(sim: &Simulator, admin: bool) -> AppConfig {
    let mut env = sim.env();
    env.push(("ATOMGIT_APP_SLUG", SLUG.to_owned()));
    if admin {
        env.push(("ATOMBOT_ADMIN_TOKEN", ADMIN.to_owned()));
    }
    AppConfig::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap()
}

fn settings() -> RuntimeSettings {
    RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some("127.0.0.1:0".into()),
        "ATOMBOT_QUEUE" => Some("memory".into()),
        "ATOMBOT_DELIVERY_LOG" => Some("true".into()),
        _ => None,
    })
    .unwrap()
}

async fn fails(_ctx: Context) -> atombot::Result<()> {
    Err(Abort::new("this handler always fails").into())
}

async fn start(sim: &Simulator, admin: bool) -> RunningBot {
    Bot::new(config(sim, admin))
        .settings(settings())
        .on("issues.opened", fails)
        .start()
        .await
        .unwrap()
}

fn expected_link(sim: &Simulator) -> String {
    // `web_url()` ends in `/`.
    format!("{}apps/{SLUG}/installations/new", sim.web_url())
}

async fn page(bot: &RunningBot, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(bot.url("/"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(kind, "text/html; charset=utf-8");
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    (status, response.text().await.unwrap())
}

/// The text of the element with `id` (`<dd id="…">text</dd>`).
fn field<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let rest = &html[start..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    &rest[..rest.find('<').unwrap()]
}

/// Asks for the admin page until `done` holds for it (the worker runs in the background).
async fn admin_page_until(bot: &RunningBot, done: impl Fn(&str) -> bool) -> String {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let (status, html) = page(bot, Some(ADMIN)).await;
            assert_eq!(status, 200);
            if done(&html) {
                return html;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await
    .expect("the page showed the expected state within 20 s")
}

#[tokio::test]
async fn the_page_shows_the_link_and_counts_and_installations_only_to_the_admin() {
    let sim = Simulator::start().await.unwrap();
    let bot = start(&sim, true).await;

    let (status, html) = page(&bot, None).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&format!("<h1>{SLUG}</h1>")), "{html}");
    assert!(
        html.contains(&format!("href=\"{}\"", expected_link(&sim))),
        "{html}"
    );
    assert_eq!(field(&html, "health"), "ok");
    assert_eq!(field(&html, "version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(field(&html, "installations"), "2");
    assert_eq!(field(&html, "deliveries"), "0");
    for private in [
        "atomgit-demo",
        "octo-user",
        "<table",
        ADMIN,
        DEFAULT_WEBHOOK_SECRET,
    ] {
        assert!(
            !html.contains(private),
            "{private:?} shown without the token: {html}"
        );
    }

    // A wrong token is refused, and shows nothing either.
    let (status, html) = page(&bot, Some("not-the-admin-token")).await;
    assert_eq!(status, 401);
    assert!(!html.contains("atomgit-demo"), "{html}");

    // One accepted delivery, whose handler fails, for installation 14.
    let issue = events::issue_opened("atomgit-demo/hello-world", 1, "Crash");
    let answer = deliver(
        &bot.url("/webhook"),
        DEFAULT_WEBHOOK_SECRET,
        issue.event(),
        issue.as_value(),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    let html = admin_page_until(&bot, |html| html.contains("<td>1</td></tr>")).await;
    assert_eq!(field(&html, "deliveries"), "1");
    let row = html
        .lines()
        .find(|l| l.contains("<td>atomgit-demo</td>"))
        .unwrap_or_else(|| panic!("no row for atomgit-demo: {html}"));
    assert!(row.starts_with("<tr><td>14</td>"), "{row}");
    assert!(!row.contains("never"), "a last delivery time: {row}");
    assert!(row.ends_with("<td>1</td></tr>"), "one failure: {row}");
    let other = html
        .lines()
        .find(|l| l.contains("<td>octo-user</td>"))
        .unwrap();
    assert_eq!(
        other,
        "<tr><td>15</td><td>octo-user</td><td>never</td><td>0</td></tr>"
    );
    // The delivery log's newest deliveries, with each handler's outcome.
    let html = admin_page_until(&bot, |html| html.contains("issues.opened#1 failed")).await;
    let logged = html
        .lines()
        .find(|l| l.contains("issues.opened#1 failed"))
        .unwrap_or_else(|| panic!("no delivery-log row: {html}"));
    assert!(
        logged.contains("<td>issues.opened</td><td>atomgit-demo/hello-world</td>"),
        "{logged}"
    );
    assert!(html.contains("<table id=\"deliveries-log\">"), "{html}");

    // Uninstalled from atomgit-demo: counted no more.
    let deleted = events::installation(14, "atomgit-demo", "deleted");
    deliver(
        &bot.url("/webhook"),
        DEFAULT_WEBHOOK_SECRET,
        deleted.event(),
        deleted.as_value(),
    )
    .await
    .unwrap();
    let (_, html) = page(&bot, None).await;
    assert_eq!(field(&html, "installations"), "1");
    let html = admin_page_until(&bot, |_| true).await;
    assert!(!html.contains("<td>atomgit-demo</td>"), "{html}");
    bot.shutdown().await;
}

#[tokio::test]
async fn without_an_admin_token_no_bearer_shows_installations() {
    let sim = Simulator::start().await.unwrap();
    let bot = start(&sim, false).await;
    let (status, html) = page(&bot, Some(ADMIN)).await;
    assert_eq!(status, 200);
    assert!(!html.contains("atomgit-demo"), "{html}");
    assert!(!html.contains("<table"), "{html}");
    bot.shutdown().await;
}

#[tokio::test]
async fn text_is_escaped_and_the_authors_own_root_route_wins() {
    let sim = Simulator::start().await.unwrap();
    sim.add_installation(atombot::testing::SimInstallation::org(
        30,
        "<script>alert(1)</script>",
    ));
    let bot = start(&sim, true).await;
    let (_, html) = page(&bot, Some(ADMIN)).await;
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    bot.shutdown().await;

    let bot = Bot::new(config(&sim, true))
        .settings(settings())
        .merge(axum::Router::new().route("/", axum::routing::get(|| async { "my home" })))
        .start()
        .await
        .unwrap();
    let body = reqwest::get(bot.url("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "my home");
    let missing = reqwest::get(bot.url("/nothing-here")).await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_failed_listing_shows_unavailable_not_an_error_page() {
    let sim = Simulator::start().await.unwrap();
    sim.fail_next(
        atombot::testing::Route::get("/app/installations"),
        100,
        atombot::testing::Fault::Status(403),
    );
    let bot = start(&sim, true).await;
    let (status, html) = page(&bot, Some(ADMIN)).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(field(&html, "installations"), "unavailable");
    // The simulator's address (in the install link) may itself contain "403".
    let text = html.replace(&sim.addr().to_string(), "");
    assert!(
        !text.contains("403"),
        "no platform error on the page: {html}"
    );
    sim.clear_faults();
    bot.shutdown().await;
}

#[test]
fn a_bad_slug_or_empty_admin_token_is_a_config_error() {
    let base = |name: &str, value: &str| {
        let (name, value) = (name.to_owned(), value.to_owned());
        AppConfig::from_lookup(move |k| match k {
            "ATOMGIT_APP_ID" => Some("1".into()),
            "ATOMGIT_PRIVATE_KEY" => Some(Simulator::dev_private_key_pem().into()),
            k if k == name => Some(value.clone()),
            _ => None,
        })
    };
    let error = base("ATOMGIT_APP_SLUG", "a/b\"><x").unwrap_err();
    assert!(error.to_string().contains("ATOMGIT_APP_SLUG"), "{error}");
    let error = AppConfig::builder()
        .app_id(1)
        .private_key_pem(Simulator::dev_private_key_pem())
        .admin_token(" ")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("ATOMBOT_ADMIN_TOKEN"), "{error}");
    assert!(!error.to_string().contains(ADMIN));
    let config = base("ATOMBOT_ADMIN_TOKEN", ADMIN).unwrap();
    assert!(
        !format!("{config:?}").contains(ADMIN),
        "the token is redacted"
    );
    let config = base("ATOMGIT_APP_SLUG", SLUG).unwrap();
    assert_eq!(
        config.install_url().as_deref(),
        Some("https://atomgit.com/apps/lint-bot/installations/new"),
        "the default web URL"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_renders_the_install_link() {
    if !common::chromium_or_skip() {
        return;
    }
    let sim = Simulator::start().await.unwrap();
    let bot = start(&sim, true).await;
    let url = bot.url("/");
    let output = tokio::task::spawn_blocking(move || common::dump_dom(&url))
        .await
        .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    let anchor = dom
        .find("<a id=\"install\"")
        .map(|at| &dom[at..])
        .unwrap_or_else(|| {
            panic!(
                "no install link in the rendered DOM:\n{dom}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let href = anchor
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert_eq!(href, expected_link(&sim));
    assert!(dom.contains(&format!("Install {SLUG}")), "{dom}");
    assert!(
        !dom.contains("atomgit-demo"),
        "no names without the token: {dom}"
    );
    bot.shutdown().await;
}
