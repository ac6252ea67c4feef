//! Jobs acceptance 1 and 3, with real processes: a bot SIGKILLed mid-load and restarted
//! loses no acknowledged delivery (SQLite, then Redis); two replicas sharing one Redis (then
//! one Postgres) handle each delivery once, and the survivor finishes a killed replica's work.
//!
//! The bots are this test binary re-run as children (`child_bot`), recording each handled
//! delivery id in a file outside the bot.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 4;

/// Entry point of the bot processes; ignored in a normal run.
#[test]
#[ignore = "a bot process started by the other tests"]
fn child_bot() {
    let out = PathBuf::from(std::env::var("CHILD_OUT").expect("CHILD_OUT"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let bot =
            atombot::Bot::from_env()
                .expect("settings")
                .on("push", move |ctx: atombot::Context| {
                    let out = out.clone();
                    async move {
                        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..5))).await;
                        let mut file = std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(&out)?;
                        file.write_all(format!("{}\n", ctx.delivery_id()).as_bytes())?;
                        Ok::<_, std::io::Error>(())
                    }
                });
        bot.serve_until(std::future::pending())
            .await
            .expect("serve");
    });
}

struct Bot {
    child: Child,
    url: String,
}

async fn start_bot(queue_url: &str, queue_name: &str, out: &Path) -> Bot {
    let port = common::free_port();
    let key =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/testing/keys/dev-app-private-key.pem");
    let mut child = Command::new(std::env::current_exe().unwrap())
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
        .env("ATOMBOT_QUEUE_NAME", queue_name)
        .env("ATOMBOT_CONCURRENCY", CONCURRENCY.to_string())
        .env("ATOMBOT_ORPHAN_TIMEOUT", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{url}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Bot { child, url };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the bot on {url} did not come up");
}

/// Sends deliveries `0..n` over `lanes` concurrent lanes to whichever bot URL is current
/// for the delivery, redelivering (as the platform does) until each gets a 2xx.
async fn send_all(
    n: usize,
    lanes: usize,
    urls: Arc<Mutex<Vec<String>>>,
    acked: Arc<Mutex<HashSet<String>>>,
) {
    let client = reqwest::Client::new();
    let tasks = (0..lanes).map(|lane| {
        let (client, urls, acked) = (client.clone(), urls.clone(), acked.clone());
        async move {
            for i in (lane..n).step_by(lanes) {
                let id = format!("d-{i}");
                let body = serde_json::to_vec(&serde_json::json!({
                    "ref": "refs/heads/main",
                    "repository": {"full_name": "atomgit-demo/hello-world"},
                    "installation": {"id": 14}
                }))
                .unwrap();
                loop {
                    let url = {
                        let urls = urls.lock().unwrap();
                        urls[i % urls.len()].clone()
                    };
                    let mut req = client.post(format!("{url}/webhook")).body(body.clone());
                    for (k, v) in common::signed("push", &id, common::SECRET, &body) {
                        req = req.header(k, v);
                    }
                    match req.timeout(Duration::from_secs(5)).send().await {
                        Ok(resp) if resp.status().is_success() => {
                            acked.lock().unwrap().insert(id.clone());
                            break;
                        }
                        _ => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                }
            }
        }
    });
    futures::future::join_all(tasks).await;
}

fn handled(out: &Path) -> HashMap<String, usize> {
    let mut runs = HashMap::new();
    for line in std::fs::read_to_string(out).unwrap_or_default().lines() {
        *runs.entry(line.to_owned()).or_default() += 1;
    }
    runs
}

/// Waits until every acknowledged delivery has been handled, then checks duplicates.
async fn check_all_handled(out: &Path, acked: &HashSet<String>) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut runs = handled(out);
    while acked.iter().any(|id| !runs.contains_key(id)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        runs = handled(out);
    }
    let missing: Vec<_> = acked.iter().filter(|id| !runs.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged deliveries never ran, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let twice: Vec<_> = runs.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.len() <= CONCURRENCY && twice.iter().all(|(_, n)| **n == 2),
        "ran more than once: {twice:?}"
    );
}

async fn crash_and_restart(queue_url: &str) {
    let dir = common::temp_dir("crash");
    let out = dir.join("handled.txt");
    let name = format!("crash{}", fastrand::u32(..));
    let mut bot = start_bot(queue_url, &name, &out).await;
    let urls = Arc::new(Mutex::new(vec![bot.url.clone()]));
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let sender = tokio::spawn(send_all(2000, 16, urls.clone(), acked.clone()));

    while acked.lock().unwrap().len() < 600 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    bot.child.kill().unwrap(); // SIGKILL
    bot.child.wait().unwrap();
    let at_kill = acked.lock().unwrap().len();
    let restarted = start_bot(queue_url, &name, &out).await;
    *urls.lock().unwrap() = vec![restarted.url.clone()];
    sender.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), 2000);
    assert!(at_kill < 2000, "the kill happened mid-load");
    check_all_handled(&out, &acked).await;
    let mut restarted = restarted;
    restarted.child.kill().unwrap();
    let _ = restarted.child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_bot_loses_no_acknowledged_delivery_sqlite() {
    let dir = common::temp_dir("crash-sqlite");
    crash_and_restart(&format!("sqlite://{}", dir.join("queue.db").display())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_bot_loses_no_acknowledged_delivery_redis() {
    if let Some(url) =
        common::server_url("ATOMBOT_TEST_REDIS_URL", cfg!(feature = "redis"), "redis")
    {
        crash_and_restart(&url).await;
    }
}

async fn two_replicas(queue_url: &str) {
    let dir = common::temp_dir("replicas");
    let out = dir.join("handled.txt");
    let name = format!("replicas{}", fastrand::u32(..));
    let mut a = start_bot(queue_url, &name, &out).await;
    let b = start_bot(queue_url, &name, &out).await;
    let urls = Arc::new(Mutex::new(vec![a.url.clone(), b.url.clone()]));
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let sender = tokio::spawn(send_all(1000, 16, urls.clone(), acked.clone()));
    while acked.lock().unwrap().len() < 400 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    *urls.lock().unwrap() = vec![b.url.clone()];
    sender.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), 1000);
    check_all_handled(&out, &acked).await;
    let mut b = b;
    b.child.kill().unwrap();
    let _ = b.child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_one_redis() {
    if let Some(url) =
        common::server_url("ATOMBOT_TEST_REDIS_URL", cfg!(feature = "redis"), "redis")
    {
        two_replicas(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_one_postgres() {
    if let Some(url) = common::server_url(
        "ATOMBOT_TEST_POSTGRES_URL",
        cfg!(feature = "postgres"),
        "postgres",
    ) {
        two_replicas(&url).await;
    }
}
