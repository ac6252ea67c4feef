//! Several replicas of one bot sharing one queue: each delivery runs once whichever replica
//! received it (a redelivery to the other replica is dropped), and a schedule ticks once
//! per tick across them.
//!
//! Run with: cargo run --example multi-replica
//! Tested by: tests/example_multi_replica.rs
//!
//! Offline it starts the local AtomGit simulator and two replicas in this process on one
//! SQLite file (two processes on one file work alike). Deployed replicas share Redis or
//! Postgres: `ATOMBOT_QUEUE=redis://127.0.0.1/ cargo run --example multi-replica --features redis`
//! (or `postgres://…` with `--features postgres`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atombot::models::webhook::IssuesEvent;
use atombot::runtime::{RunningBot, RuntimeSettings};
use atombot::schedule::Tick;
use atombot::testing::{DeliveryOptions, Simulator, events};
use atombot::{Bot, Context, State};

/// Which replica this is, and where both record what they ran.
struct Replica {
    name: &'static str,
    ran: Arc<Mutex<Vec<String>>>,
}

async fn on_issue(ctx: Context, replica: State<Replica>) -> atombot::Result<()> {
    let event: IssuesEvent = ctx.payload()?;
    println!("[{}] issue #{} opened", replica.name, event.issue.number);
    let entry = format!("issue {} {}", event.issue.number, replica.name);
    replica.ran.lock().expect("not poisoned").push(entry);
    Ok(())
}

async fn on_tick(tick: Tick) -> atombot::Result<()> {
    let replica = tick.state::<Replica>()?;
    let at = tick.time().timestamp();
    println!(
        "[{}] tick at {}",
        replica.name,
        tick.time().format("%H:%M:%S")
    );
    let entry = format!("tick {at} {}", replica.name);
    replica.ran.lock().expect("not poisoned").push(entry);
    Ok(())
}

/// The bot's handlers on `base` (its settings): one handler and one schedule.
pub(crate) fn bot(base: Bot) -> Bot {
    base.on("issues.opened", on_issue)
        .every_named("heartbeat", Duration::from_secs(2), on_tick)
}

async fn replica(
    sim: &Simulator,
    queue: &str,
    name: &'static str,
    ran: &Arc<Mutex<Vec<String>>>,
) -> anyhow::Result<RunningBot> {
    let mut settings = RuntimeSettings::from_env()?;
    settings.listen = "127.0.0.1:0".parse()?;
    settings.queue = atombot::jobs::QueueConfig::new(queue);
    let replica = Replica {
        name,
        ran: ran.clone(),
    };
    let bot = bot(Bot::new(sim.app_config()).settings(settings)).with_state(replica);
    Ok(bot.start().await?)
}

/// `kind number` → the replicas that ran it.
fn runs(ran: &Mutex<Vec<String>>, kind: &str) -> BTreeMap<String, Vec<String>> {
    let mut runs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in ran.lock().expect("not poisoned").iter() {
        let parts: Vec<&str> = entry.split(' ').collect();
        if parts[0] == kind {
            runs.entry(parts[1].to_owned())
                .or_default()
                .push(parts[2].to_owned());
        }
    }
    runs
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sim = Simulator::start().await?;
    let dir = std::env::temp_dir().join(format!("atombot-multi-replica-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let queue = std::env::var("ATOMBOT_QUEUE")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("queue.db").display()));
    println!(
        "[sim] local AtomGit at {}; both replicas on {}",
        sim.url(),
        queue.split('@').next_back().unwrap_or("")
    );
    let ran = Arc::new(Mutex::new(Vec::new()));
    let a = replica(&sim, &queue, "a", &ran).await?;
    let b = replica(&sim, &queue, "b", &ran).await?;

    // Ten issues, sent to the replicas in turn; then issue 1's delivery again, to the
    // replica that did not receive it (a platform retry behind a load balancer).
    for n in 1..=10u64 {
        let to = if n % 2 == 1 { &a } else { &b };
        sim.set_webhook_url(to.url("/webhook"));
        let options = DeliveryOptions::default().delivery_id(format!("issue-{n}"));
        let issue = events::issue_opened("atomgit-demo/hello-world", n, "Hello").installation(14);
        sim.deliver_with("issues", issue, &options).await?;
    }
    sim.set_webhook_url(b.url("/webhook"));
    let again = DeliveryOptions::default().delivery_id("issue-1");
    let issue = events::issue_opened("atomgit-demo/hello-world", 1, "Hello").installation(14);
    let answer = sim.deliver_with("issues", issue, &again).await?;
    println!(
        "[sim] issue 1 redelivered to b → {} {}",
        answer.status, answer.body
    );

    // Wait for the ten issues and three ticks (at most 20 s).
    let deadline = Instant::now() + Duration::from_secs(20);
    while (runs(&ran, "issue").len() < 10 || runs(&ran, "tick").len() < 3)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.shutdown().await;
    b.shutdown().await;

    let issues = runs(&ran, "issue");
    let ticks = runs(&ran, "tick");
    let by = |runs: &BTreeMap<String, Vec<String>>, name: &str| {
        runs.values().flatten().filter(|r| *r == name).count()
    };
    let once = |runs: &BTreeMap<String, Vec<String>>| runs.values().all(|r| r.len() == 1);
    println!(
        "{} issues, each handled once: {} (a ran {}, b ran {})",
        issues.len(),
        once(&issues),
        by(&issues, "a"),
        by(&issues, "b")
    );
    println!(
        "{} ticks, each run once: {} (a ran {}, b ran {})",
        ticks.len(),
        once(&ticks),
        by(&ticks, "a"),
        by(&ticks, "b")
    );
    anyhow::ensure!(issues.len() == 10 && once(&issues), "issues: {issues:?}");
    anyhow::ensure!(ticks.len() >= 3 && once(&ticks), "ticks: {ticks:?}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
