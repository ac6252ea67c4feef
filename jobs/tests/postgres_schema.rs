//! Issue 13: the Postgres schema's hot table keeps only the indexes a delivery needs
//! (partial indexes), and a database made by an older version is brought up to date when a
//! queue connects.
#![cfg(feature = "postgres")]

mod common;

use std::sync::atomic::Ordering;

use atombot_jobs::{Job, Queue, QueueConfig};
use common::*;
use serde_json::json;
use sqlx::Row;

async fn indexes(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query("SELECT indexname FROM pg_indexes WHERE tablename = 'atombot_jobs' ORDER BY 1")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_schema_is_brought_up_to_date() {
    let Some(url) = postgres_url() else { return };
    // Make sure the tables exist, then turn the schema back into the older version's.
    drop(Queue::connect(QueueConfig::new(url.clone())).await.unwrap());
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "DROP INDEX IF EXISTS atombot_jobs_running;
         DROP INDEX IF EXISTS atombot_jobs_waiting;
         DROP INDEX IF EXISTS atombot_jobs_ended;
         CREATE INDEX IF NOT EXISTS atombot_jobs_ready ON atombot_jobs (queue, status, run_at);
         CREATE INDEX IF NOT EXISTS atombot_jobs_lock ON atombot_jobs (lock_by);
         CREATE INDEX IF NOT EXISTS atombot_jobs_finished ON atombot_jobs (queue, status, done_at);
         ALTER TABLE atombot_bodies ALTER COLUMN body SET COMPRESSION default;",
    )
    .execute(&pool)
    .await
    .unwrap();

    let queue = Queue::connect(fast(QueueConfig::new(url)).queue_name(unique("schema")))
        .await
        .unwrap();
    assert_eq!(
        indexes(&pool).await,
        [
            "atombot_jobs_ended",
            "atombot_jobs_pkey",
            "atombot_jobs_running",
            "atombot_jobs_waiting"
        ]
    );
    let compression: String = sqlx::query(
        "SELECT attcompression::text FROM pg_attribute
         WHERE attrelid = 'atombot_bodies'::regclass AND attname = 'body'",
    )
    .fetch_one(&pool)
    .await
    .unwrap()
    .get(0);
    assert_eq!(compression, "l", "bodies are compressed with lz4");

    // And the queue works on it: a job with a body is stored, run and counted done.
    let (runs, _stop) = counting_worker(&queue, |job| {
        assert_eq!(job.body.as_ref().map(|b| b.len()), Some(9000));
    });
    queue
        .push(Job::new("big", json!({})).with_body(vec![b'x'; 9000]))
        .await
        .unwrap();
    assert!(
        done_eventually(&queue, 1).await,
        "{:?}",
        queue.stats().await
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
