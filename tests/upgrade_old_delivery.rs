//! Issue 9, acceptance 5: a delivery queued by atombot 0.1 (its stored row, checked in as
//! `tests/fixtures/queue/v0_1-delivery.sql`) runs its handlers after the upgrade, each once.

mod common;

use atombot::jobs::{Queue, QueueConfig};
use atombot::models::webhook::IssuesEvent;
use atombot::{Bot, Context};
use common::Log;

const FIXTURE: &str = include_str!("fixtures/queue/v0_1-delivery.sql");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_queued_by_the_old_format_runs_each_handler_once() {
    let dir = common::temp_dir("upgrade");
    let url = format!("sqlite://{}", dir.join("queue.db").display());
    // The tables as this version creates them, then the old row, as the old code wrote it.
    drop(Queue::connect(QueueConfig::new(&url)).await.unwrap());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(FIXTURE))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let sim = atombot::testing::Simulator::start().await.unwrap();
    let log = Log::default();
    let (a, b) = (log.clone(), log.clone());
    let bot = Bot::new(common::config(&sim))
        .settings(common::settings_with_queue(&url))
        .on_named("greet", "issues.opened", move |ctx: Context| {
            let log = a.clone();
            async move {
                let event: IssuesEvent = ctx.payload()?;
                log.push(format!(
                    "greet {} #{} installation={:?} key={}",
                    ctx.delivery_id(),
                    event.issue.number,
                    ctx.installation_id().map(|i| i.0),
                    ctx.idempotency_key()
                ));
                Ok::<_, atombot::Error>(())
            }
        })
        .on_named("audit", "*", move |ctx: Context| {
            let log = b.clone();
            async move {
                log.push(format!(
                    "audit {} {}",
                    ctx.event(),
                    ctx.action().unwrap_or("-")
                ));
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let mut entries = log.wait_for(10, |e| e.len() >= 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    entries.extend(log.entries().into_iter().skip(entries.len()));
    entries.sort();
    assert_eq!(
        entries,
        [
            "audit issues opened",
            "greet old-format-delivery-1 #7 installation=Some(14) key=old-format-delivery-1:greet",
        ]
    );
    let stats = bot.queue().stats().await.unwrap();
    assert_eq!(
        (stats.pending, stats.failed, stats.done),
        (0, 0, 3),
        "{stats:?}"
    );
    bot.shutdown().await;
}
