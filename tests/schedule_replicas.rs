//! Issue 15, acceptance 1: a schedule ticking every 2 s with two bot processes on one Redis
//! (then Postgres) runs exactly once per tick for 20 ticks; one process is SIGKILLed midway
//! (orphan timeout 2 s) and no tick is skipped; a tick runs twice only if it was running in
//! the killed process at the kill.
//!
//! The bots are this test binary re-run as children (`child_bot`); the scheduled handler
//! records `start`/`end` lines with the tick's time and the process's name in a file. Needs
//! `ATOMBOT_TEST_REDIS_URL` / `ATOMBOT_TEST_POSTGRES_URL` and the `redis` / `postgres`
//! features (`jobs/ci-services.sh` starts both servers); otherwise it prints `skipped: …`.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use atombot::schedule::Tick;

const PERIOD_MS: i64 = 2_000;
const TICKS: i64 = 20;

/// Entry point of the bot processes; ignored in a normal run.
#[test]
#[ignore = "a bot process started by the other tests"]
fn child_bot() {
    let out = PathBuf::from(std::env::var("CHILD_OUT").expect("CHILD_OUT"));
    let me = std::env::var("CHILD_NAME").expect("CHILD_NAME");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let beat = move |tick: Tick| {
            let (out, me) = (out.clone(), me.clone());
            async move {
                let at = tick.time().timestamp_millis();
                record(&out, &format!("start {at} {me} {}", tick.attempt()))?;
                // Long enough for a kill to land while a tick runs.
                tokio::time::sleep(Duration::from_millis(500)).await;
                record(&out, &format!("end {at} {me}"))
            }
        };
        atombot::Bot::from_env()
            .expect("settings")
            .every_named("beat", Duration::from_millis(PERIOD_MS as u64), beat)
            .serve_until(std::future::pending())
            .await
            .expect("serve");
    });
}

fn record(out: &Path, line: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)?;
    // One write per line: `writeln!` writes a formatted line in pieces, and two ticks
    // running at once in one process (an orphan run again beside a due tick) then
    // interleave their pieces into lines that parse as neither.
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_all()
}

struct Bot {
    child: Child,
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_bot(queue_url: &str, queue_name: &str, name: &str, out: &Path) -> Bot {
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
        .env("CHILD_NAME", name)
        .env("ATOMGIT_APP_ID", "75")
        .env("ATOMGIT_PRIVATE_KEY_PATH", key)
        .env("ATOMGIT_API_URL", "http://127.0.0.1:9/")
        .env("ATOMGIT_WEBHOOK_SECRET", common::SECRET)
        .env("ATOMBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("ATOMBOT_QUEUE", queue_url)
        .env("ATOMBOT_QUEUE_NAME", queue_name)
        .env("ATOMBOT_ORPHAN_TIMEOUT", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let bot = Bot { child };
    let url = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..400 {
        if reqwest::get(&url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return bot;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the bot {name} did not come up");
}

/// What the file says happened to each tick.
#[derive(Debug, Default, Clone)]
struct Runs {
    /// Processes that started it.
    started: Vec<String>,
    /// Processes that finished it.
    ended: Vec<String>,
}

fn runs(out: &Path) -> BTreeMap<i64, Runs> {
    let mut ticks: BTreeMap<i64, Runs> = BTreeMap::new();
    for line in std::fs::read_to_string(out).unwrap_or_default().lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        let (Some(at), Some(who)) = (parts.get(1).and_then(|a| a.parse().ok()), parts.get(2))
        else {
            continue;
        };
        let runs = ticks.entry(at).or_default();
        match parts[0] {
            "start" => runs.started.push((*who).to_owned()),
            "end" => runs.ended.push((*who).to_owned()),
            _ => {}
        }
    }
    ticks
}

async fn wait_until(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

async fn once_per_tick(queue_url: &str) {
    let dir = common::temp_dir("schedule-replicas");
    let out = dir.join("ticks.txt");
    let queue_name = format!("schedule{}", fastrand::u32(..));
    let mut a = start_bot(queue_url, &queue_name, "a", &out).await;
    let _b = start_bot(queue_url, &queue_name, "b", &out).await;

    // The first tick due once both run; 20 ticks from it are checked.
    let both_up = chrono::Utc::now().timestamp_millis();
    let first = (both_up / PERIOD_MS + 1) * PERIOD_MS;
    let last = first + (TICKS - 1) * PERIOD_MS;

    // After 6 ticks, kill `a`, preferably while it runs a tick.
    assert!(wait_until(60, || runs(&out).range(first..).count() >= 6).await);
    let running_in_a = || {
        runs(&out)
            .values()
            .any(|r| r.started.contains(&"a".to_owned()) && !r.ended.contains(&"a".to_owned()))
    };
    let caught_running = wait_until(20, running_in_a).await;
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    let killed_at = chrono::Utc::now().timestamp_millis();

    // The survivor finishes the rest, and reruns what `a` had running after 2 s.
    assert!(
        wait_until(90, || runs(&out)
            .get(&last)
            .is_some_and(|r| !r.ended.is_empty()))
        .await,
        "the last tick never finished: {:?}",
        runs(&out)
    );
    tokio::time::sleep(Duration::from_millis(4_000)).await;
    let ticks = runs(&out);
    let mut reruns = 0;
    for at in (first..=last).step_by(PERIOD_MS as usize) {
        let Some(r) = ticks.get(&at) else {
            panic!("tick {at} was skipped: {ticks:?}");
        };
        assert_eq!(r.ended.len(), 1, "tick {at} finished once: {r:?}");
        if r.started.len() > 1 {
            // Only a run cut short by the kill is run again.
            assert_eq!(r.started.len(), 2, "tick {at}: {r:?}");
            assert!(
                r.started[0] == "a" && r.ended == ["b"] && at <= killed_at,
                "tick {at} ran twice without being cut short: {r:?}"
            );
            reruns += 1;
        }
    }
    assert!(reruns <= 1, "{reruns} ticks ran twice: {ticks:?}");
    eprintln!(
        "{} ticks, {reruns} rerun after the kill (a was running one: {caught_running})",
        TICKS
    );
    assert!(
        ticks.range(first..=last).all(|(_, r)| !r.ended.is_empty()),
        "every tick ran"
    );
    // Both processes did take ticks before the kill: the claim was shared, not one-sided.
    let runners: std::collections::HashSet<_> = ticks
        .range(first..=last)
        .flat_map(|(_, r)| r.started.iter().cloned())
        .collect();
    assert!(runners.contains("b"), "{ticks:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_runs_once_per_tick_across_two_processes_on_redis() {
    if let Some(url) =
        common::server_url("ATOMBOT_TEST_REDIS_URL", cfg!(feature = "redis"), "redis")
    {
        once_per_tick(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_runs_once_per_tick_across_two_processes_on_postgres() {
    if let Some(url) = common::server_url(
        "ATOMBOT_TEST_POSTGRES_URL",
        cfg!(feature = "postgres"),
        "postgres",
    ) {
        once_per_tick(&url).await;
    }
}

/// A tick missed while every process was down runs once when one starts again (SQLite:
/// the queue outlives the process).
#[tokio::test(flavor = "multi_thread")]
async fn a_tick_missed_while_down_runs_once_on_start() {
    let dir = common::temp_dir("schedule-missed");
    let out = dir.join("ticks.txt");
    let queue = format!("sqlite://{}", dir.join("queue.db").display());
    let mut a = start_bot(&queue, "atombot", "a", &out).await;
    assert!(wait_until(30, || !runs(&out).is_empty()).await);
    // Its next tick was queued when this one came due.
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let down_at = chrono::Utc::now().timestamp_millis();
    // Down for three periods: three ticks pass, one of them was already queued.
    tokio::time::sleep(Duration::from_millis(3 * PERIOD_MS as u64)).await;
    let up_at = chrono::Utc::now().timestamp_millis();
    let _b = start_bot(&queue, "atombot", "b", &out).await;
    assert!(wait_until(30, || runs(&out).range(up_at..).count() >= 2).await);
    let ticks = runs(&out);
    let while_down: Vec<_> = ticks
        .range(down_at + 1..up_at)
        .filter(|(_, r)| r.started.contains(&"b".to_owned()))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(
        while_down.len(),
        1,
        "exactly one missed tick caught up: {ticks:?}"
    );
}
