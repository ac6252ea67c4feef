//! Issue 9, acceptance 1 with a real process kill: a bot SIGKILLed between the failing
//! handler's first and second run; after a restart on the same SQLite file the failing
//! handler runs twice more (3 in all, attempts 1, 2, 3) and its sibling never again.
//!
//! The bots are this test binary re-run as children (`child_bot`); handlers record each run
//! in a file outside the bot.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use atombot::Context;

/// Entry point of the bot processes; ignored in a normal run.
#[test]
#[ignore = "a bot process started by the other tests"]
fn child_bot() {
    let out = PathBuf::from(std::env::var("CHILD_OUT").expect("CHILD_OUT"));
    let record = move |ctx: &Context| -> std::io::Result<usize> {
        let name = ctx.handler_name().unwrap_or("?");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&out)?;
        // One write per line (`writeln!` writes in pieces that concurrent handlers interleave).
        let line = format!("{name} {} {}\n", ctx.attempt(), ctx.idempotency_key());
        file.write_all(line.as_bytes())?;
        file.sync_all()?;
        Ok(runs_of(&std::fs::read_to_string(&out)?, name).len())
    };
    let (flaky, greet) = (record.clone(), record);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let bot = atombot::Bot::from_env()
            .expect("settings")
            .on_named("flaky", "issues.opened", move |ctx: Context| {
                let runs = flaky(&ctx);
                async move {
                    if runs? < 3 {
                        return Err(std::io::Error::other("not yet"));
                    }
                    Ok(())
                }
            })
            .on_named("greet", "issues.opened", move |ctx: Context| {
                let runs = greet(&ctx);
                async move { runs.map(|_| ()) }
            });
        bot.serve_until(std::future::pending())
            .await
            .expect("serve");
    });
}

/// The `attempt key` of each recorded run of `handler`.
fn runs_of(text: &str, handler: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(handler)?.strip_prefix(' '))
        .map(str::to_owned)
        .collect()
}

fn runs(out: &Path, handler: &str) -> Vec<String> {
    runs_of(&std::fs::read_to_string(out).unwrap_or_default(), handler)
}

struct Bot {
    child: Child,
    url: String,
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_bot(queue_url: &str, out: &Path) -> Bot {
    let port = common::free_port();
    let key =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/testing/keys/dev-app-private-key.pem");
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_bot",
            "--exact",
            "--ignored",
            "--nocapture",
            "--quiet",
        ])
        .env("CHILD_OUT", out)
        .env("ATOMGIT_APP_ID", "75")
        .env("ATOMGIT_PRIVATE_KEY_PATH", key)
        .env("ATOMGIT_API_URL", "http://127.0.0.1:9/")
        .env("ATOMGIT_WEBHOOK_SECRET", common::SECRET)
        .env("ATOMBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("ATOMBOT_QUEUE", queue_url)
        .env("ATOMBOT_ORPHAN_TIMEOUT", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let bot = Bot {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if reqwest::get(format!("{}/healthz", bot.url))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return bot;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the bot on {} did not come up", bot.url);
}

async fn wait_until(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_killed_between_retries_runs_only_the_failing_handler_again() {
    let dir = common::temp_dir("units-crash");
    let out = dir.join("runs.txt");
    let queue = format!("sqlite://{}", dir.join("queue.db").display());
    let mut bot = start_bot(&queue, &out).await;
    let body = serde_json::to_vec(&serde_json::json!({
        "action": "opened",
        "issue": {"number": 1, "title": "It breaks"},
        "repository": {"full_name": "atomgit-demo/hello-world"},
        "installation": {"id": 14}
    }))
    .unwrap();
    let mut req = reqwest::Client::new()
        .post(format!("{}/webhook", bot.url))
        .body(body.clone());
    for (k, v) in common::signed("issues", "crash-units-1", common::SECRET, &body) {
        req = req.header(k, v);
    }
    assert_eq!(req.send().await.unwrap().status(), 202);

    // The first run of each handler; the failing one's retry is ~1 s away (default backoff).
    assert!(
        wait_until(10, || !runs(&out, "flaky").is_empty()
            && !runs(&out, "greet").is_empty())
        .await
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(runs(&out, "flaky").len(), 1, "killed before the second run");
    bot.child.kill().unwrap(); // SIGKILL
    bot.child.wait().unwrap();

    let restarted = start_bot(&queue, &out).await;
    assert!(wait_until(30, || runs(&out, "flaky").len() >= 3).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let flaky = runs(&out, "flaky");
    assert_eq!(
        flaky,
        [
            "1 crash-units-1:flaky",
            "2 crash-units-1:flaky",
            "3 crash-units-1:flaky"
        ]
    );
    assert_eq!(runs(&out, "greet"), ["1 crash-units-1:greet"]);
    drop(restarted);
}
