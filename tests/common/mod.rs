//! Shared helpers for the runtime tests: a simulator, a bot on 127.0.0.1, signed deliveries.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};

use atombot::runtime::{RunningBot, RuntimeSettings};
use atombot::testing::Simulator;
use atombot::{AppConfig, Bot};

pub const SECRET: &str = "test-webhook-secret";

/// App settings for `sim` with the test webhook secret.
pub fn config(sim: &Simulator) -> AppConfig {
    AppConfig::builder()
        .app_id(sim.app_id())
        .private_key_pem(Simulator::dev_private_key_pem())
        .api_url(sim.url())
        .web_url(sim.web_url())
        .webhook_secret(SECRET)
        .build()
        .unwrap()
}

/// Runtime settings listening on a free loopback port, with an in-memory job queue.
pub fn settings() -> RuntimeSettings {
    settings_with_queue("memory")
}

/// Runtime settings listening on a free loopback port, with the job queue at `url`.
pub fn settings_with_queue(url: &str) -> RuntimeSettings {
    let mut settings = RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some("127.0.0.1:0".to_owned()),
        "ATOMBOT_QUEUE" => Some(url.to_owned()),
        _ => None,
    })
    .unwrap();
    settings.queue = settings
        .queue
        .poll_interval(std::time::Duration::from_millis(20));
    settings
}

/// A bot for `sim` listening on a free port.
pub fn bot(sim: &Simulator) -> Bot {
    Bot::new(config(sim)).settings(settings())
}

/// A log handlers write to.
#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }
    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    /// Waits until `pred` holds for the entries, at most `secs` seconds.
    pub async fn wait_for(&self, secs: u64, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let entries = self.entries();
            if pred(&entries) || std::time::Instant::now() > deadline {
                return entries;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// Sends `body` to the bot with the given headers; returns (status, body).
pub async fn post(bot: &RunningBot, headers: &[(&str, String)], body: &[u8]) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .post(bot.url("/webhook"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// GitHub-style headers for `event`, signed with `secret`.
pub fn signed(event: &str, id: &str, secret: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("x-atomgit-event", event.to_owned()),
        ("x-atomgit-delivery", id.to_owned()),
        (
            "x-hub-signature-256",
            atombot::webhook::sign(secret.as_bytes(), body),
        ),
        ("user-agent", "AtomGit-Hookshot/test".to_owned()),
    ]
}

/// Sends a GitHub-style delivery signed with the test secret.
pub async fn deliver(
    bot: &RunningBot,
    event: &str,
    id: &str,
    body: &serde_json::Value,
) -> (u16, String) {
    let bytes = serde_json::to_vec(body).unwrap();
    post(bot, &signed(event, id, SECRET, &bytes), &bytes).await
}

/// The bot's metrics text.
pub async fn metrics(bot: &RunningBot) -> String {
    reqwest::get(bot.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The path of an example binary (`cargo test` builds examples next to the test binaries).
pub fn example(name: &str) -> std::path::PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples").join(name)
}

/// Runs example `name` offline (`ATOMGIT_APP_ID` and `ATOMBOT_QUEUE` removed, then `envs`
/// set), asserts it exits 0 (showing its output if not) and returns its standard output.
pub fn run_example(name: &str, envs: &[(&str, String)]) -> String {
    let out = std::process::Command::new(example(name))
        .env_remove("ATOMGIT_APP_ID")
        .env_remove("ATOMBOT_QUEUE")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap_or_else(|e| panic!("the {name} example is built by `cargo test`: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "atombot-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether Debian's chromium can be run. Without it a browser test skips (saying so), except
/// in CI (`CI` set), where `.ci/run` installs it and its absence fails the test.
pub fn chromium_or_skip() -> bool {
    let present = std::process::Command::new("chromium")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (.ci/oauth-deps.sh installs it)"
        );
        eprintln!("skipped: chromium not installed (apt-get install chromium)");
    }
    present
}

/// Loads `url` in headless Chromium with a fresh profile and the flags this closed network
/// needs; its stdout is the rendered DOM.
pub fn dump_dom(url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .output()
        .unwrap()
}

/// The URL in `var` for a test against a real server, or `None` (saying why) when it is not
/// set or the feature for that backend is off.
pub fn server_url(var: &str, feature_on: bool, feature: &str) -> Option<String> {
    let Ok(url) = std::env::var(var) else {
        eprintln!("skipped: {var} not set (run jobs/ci-services.sh to start Redis and Postgres)");
        return None;
    };
    if !feature_on {
        eprintln!("skipped: atombot built without the `{feature}` feature (use --all-features)");
        return None;
    }
    Some(url)
}
