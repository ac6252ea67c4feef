//! The SQLite store's thread: group commits, savepoints, done jobs deleted and counted,
//! jobs stored already claimed, panics, shutdown.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::job::{JobId, Payload};

/// A config on a fresh file, and the file.
fn config(test: &str) -> (QueueConfig, PathBuf) {
    let dir = std::env::temp_dir().join(format!("atombot-sqlite-{test}-{}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("q.db");
    let config = QueueConfig::new(format!("sqlite://{}", file.display()))
        .backend_timeout(Duration::from_secs(5));
    (config, file)
}

fn job() -> NewJob {
    NewJob {
        id: JobId::generate(),
        kind: "k".into(),
        key: None,
        payload: Payload::from(serde_json::json!({})),
        body: None,
        body_kept_as: None,
        meta: "{}".into(),
        enqueued_at: now_ms(),
        run_at: now_ms(),
        max_attempts: 3,
        unique: false,
        dedupe_expires_at: now_ms() + 60_000,
        lease_to: None,
    }
}

fn keyed(key: &str) -> NewJob {
    NewJob {
        key: Some(key.into()),
        unique: true,
        ..job()
    }
}

async fn push_one(store: &SqliteStore, job: NewJob) -> Result<Pushed, Error> {
    store.push_owned(vec![job]).await?.pop().unwrap()
}

/// Rows in `table` of the file, read on a connection of the test's own.
fn count(file: &PathBuf, table: &str) -> i64 {
    let conn = Connection::open(file).unwrap();
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Makes the thread wait until the returned sender is dropped, so the requests sent
/// meanwhile are served as one batch.
async fn hold(store: &SqliteStore) -> (mpsc::Sender<()>, oneshot::Receiver<Result<(), Error>>) {
    let (release, held) = mpsc::channel();
    let (running, holding) = oneshot::channel();
    let (reply, done) = oneshot::channel();
    store
        .requests
        .send(Request::Hold(running, held, reply))
        .unwrap();
    holding.await.unwrap();
    (release, done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_share_commits() {
    let (config, _) = config("commits");
    let store = SqliteStore::connect(&config).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let store = store.clone();
        tasks.spawn(async move { push_one(&store, job()).await.unwrap() });
    }
    let pushed = tasks.join_all().await;
    assert_eq!(pushed.len(), 200);
    assert!(pushed.iter().all(|p| !p.is_duplicate()));
    assert_eq!(store.stats().await.unwrap().pending, 200);
    let commits = store.commits();
    assert!(
        commits > 0 && commits < 50,
        "{commits} commits for 200 pushes"
    );
}

#[tokio::test]
async fn a_failing_request_rolls_back_alone() {
    let (config, file) = config("savepoint");
    let store = SqliteStore::connect(&config).await.unwrap();
    let first = job();
    let taken = first.id.clone();
    push_one(&store, first).await.unwrap();
    let before = store.commits();

    // One batch: a push whose job id is taken (its key's claim must roll back with it), and
    // two good pushes.
    let (release, held) = hold(&store).await;
    let bad = NewJob {
        id: taken,
        ..keyed("k")
    };
    let (a, b, c) = (store.clone(), store.clone(), store.clone());
    let bad = tokio::spawn(async move { push_one(&a, bad).await });
    let good = tokio::spawn(async move { push_one(&b, keyed("other")).await });
    let batch = tokio::spawn(async move { c.push_owned(vec![job(), job()]).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(release);
    held.await.unwrap().unwrap();
    let bad = bad.await.unwrap();
    assert!(matches!(bad, Err(Error::Backend(_))), "{bad:?}");
    assert!(!good.await.unwrap().unwrap().is_duplicate());
    let batch = batch.await.unwrap().unwrap();
    assert!(batch.iter().all(Result::is_ok), "{batch:?}");
    assert_eq!(store.commits(), before + 1, "one commit for the batch");
    assert_eq!(store.stats().await.unwrap().pending, 4);
    assert_eq!(
        count(&file, "atombot_dedupe"),
        1,
        "the bad push's key rolled back"
    );
    // The key is free.
    assert!(!push_one(&store, keyed("k")).await.unwrap().is_duplicate());
    // And taken now: the duplicate names the earlier job.
    let again = push_one(&store, keyed("k")).await.unwrap();
    assert!(again.is_duplicate());
}

#[tokio::test]
async fn done_jobs_are_deleted_and_counted() {
    let (config, file) = config("done");
    let store = SqliteStore::connect(&config).await.unwrap();
    let with_body = NewJob {
        body: Some(bytes::Bytes::from_static(b"\x00raw body\xff")),
        ..job()
    };
    store
        .push_owned(vec![with_body, job(), job()])
        .await
        .unwrap();
    assert_eq!(count(&file, "atombot_bodies"), 1);
    let claimed = store.fetch("w", 10).await.unwrap();
    assert_eq!(claimed.len(), 3);
    assert!(
        claimed.windows(2).all(|w| w[0].id < w[1].id),
        "sorted by id"
    );
    let bodies: Vec<_> = claimed.iter().filter_map(|l| l.job.body.clone()).collect();
    assert_eq!(bodies, [bytes::Bytes::from_static(b"\x00raw body\xff")]);
    assert!(
        claimed
            .iter()
            .all(|l| l.attempts == 1 && l.max_attempts == 3)
    );

    // Two outcomes in one batch, one alone; another worker's outcome is refused.
    assert!(
        !store
            .ack(&claimed[0].id, "intruder", &Ack::Done)
            .await
            .unwrap()
    );
    let (release, held) = hold(&store).await;
    let (a, b) = (store.clone(), store.clone());
    let (id0, id1) = (claimed[0].id.clone(), claimed[1].id.clone());
    let first = tokio::spawn(async move { a.ack(&id0, "w", &Ack::Done).await });
    let second = tokio::spawn(async move { b.ack(&id1, "w", &Ack::Done).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(release);
    held.await.unwrap().unwrap();
    assert!(first.await.unwrap().unwrap() && second.await.unwrap().unwrap());
    let acks = [(claimed[2].id.clone(), Arc::<str>::from("w"), Ack::Done)];
    assert!(store.ack_batch(&acks).await.unwrap()[0].as_ref().unwrap());
    // Done twice is refused: the job is gone.
    assert!(!store.ack(&claimed[2].id, "w", &Ack::Done).await.unwrap());

    let stats = store.stats().await.unwrap();
    assert_eq!((stats.pending, stats.running, stats.done), (0, 0, 3));
    assert_eq!(count(&file, "atombot_jobs"), 0);
    assert_eq!(count(&file, "atombot_bodies"), 0);

    // Done rows of earlier versions still count, and go at retention.
    let conn = Connection::open(&file).unwrap();
    conn.execute(
        "INSERT INTO atombot_jobs (id, queue, kind, payload, meta, enqueued_at, status,
           attempts, max_attempts, run_at, done_at)
         VALUES ('old', ?1, 'k', '{}', '{}', 0, 'done', 1, 5, 0, 0)",
        (config.queue.as_str(),),
    )
    .unwrap();
    assert_eq!(store.stats().await.unwrap().done, 4);
    store.heartbeat("w", &config).await.unwrap();
    // Housekeeping runs after the heartbeat's answer: wait for it.
    assert_eq!(store.stats().await.unwrap().done, 3);
    assert_eq!(count(&file, "atombot_jobs"), 0);
}

#[tokio::test]
async fn a_job_can_be_stored_already_claimed() {
    let (config, file) = config("lease-to");
    let store = SqliteStore::connect(&config).await.unwrap();
    let leased = NewJob {
        lease_to: Some("local".into()),
        ..job()
    };
    let id = leased.id.clone();
    push_one(&store, leased).await.unwrap();
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.pending, stats.running), (0, 1));
    assert!(store.fetch("other", 10).await.unwrap().is_empty());
    let conn = Connection::open(&file).unwrap();
    let (lock_by, attempts, lock_at): (String, i64, Option<i64>) = conn
        .query_row(
            "SELECT lock_by, attempts, lock_at FROM atombot_jobs WHERE id = ?1",
            (id.0.as_str(),),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((lock_by.as_str(), attempts), ("local", 1));
    assert!(lock_at.is_some());
    let held = store
        .still_leased("local", std::slice::from_ref(&id))
        .await
        .unwrap();
    assert_eq!(held, std::slice::from_ref(&id));
    // A released job gives its attempt back and is claimed like any other.
    assert!(store.ack(&id, "local", &Ack::give_back(0)).await.unwrap());
    let claimed = store.fetch("other", 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
}

#[tokio::test]
async fn a_panic_fails_its_batch_and_the_thread_goes_on() {
    let (config, _) = config("panic");
    let store = SqliteStore::connect(&config).await.unwrap();
    push_one(&store, job()).await.unwrap();
    let panicked = store.call(Request::Panic).await;
    assert!(panicked.is_err(), "{panicked:?}");
    store.ping().await.unwrap();
    push_one(&store, job()).await.unwrap();
    assert_eq!(store.stats().await.unwrap().pending, 2);
}

#[tokio::test]
async fn abandoned_claims_are_not_made() {
    let (config, _) = config("abandoned");
    let store = SqliteStore::connect(&config).await.unwrap();
    push_one(&store, job()).await.unwrap();
    let (release, held) = hold(&store).await;
    let claim = store.clone();
    let gone = tokio::spawn(async move { claim.fetch("w", 10).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    gone.abort();
    let _ = gone.await;
    drop(release);
    held.await.unwrap().unwrap();
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.pending, stats.running), (1, 0));
}

#[tokio::test]
async fn the_thread_ends_with_the_last_handle() {
    let (config, file) = config("ends");
    let store = SqliteStore::connect(&config).await.unwrap();
    push_one(&store, job()).await.unwrap();
    let wal = file.with_extension("db-wal");
    assert!(wal.exists());
    let other = store.clone();
    drop(store);
    other.ping().await.unwrap();
    drop(other);
    // Closing the last connection checkpoints and removes the WAL.
    let start = std::time::Instant::now();
    while wal.exists() && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!wal.exists(), "the thread still holds the database");
}

#[tokio::test]
async fn urls() {
    use ops::Target;
    let file = |p: &str, create| Target::File {
        path: p.into(),
        create,
    };
    assert_eq!(Target::parse("sqlite://a.db").unwrap(), file("a.db", true));
    assert_eq!(
        Target::parse("sqlite:///t/a.db").unwrap(),
        file("/t/a.db", true)
    );
    assert_eq!(
        Target::parse("sqlite:a.db?mode=rw").unwrap(),
        file("a.db", false)
    );
    assert_eq!(Target::parse("sqlite::memory:").unwrap(), Target::Memory);
    assert!(Target::parse("sqlite://").is_err());
    assert!(Target::parse("sqlite://a.db?mode=ro").is_err());
    // An in-memory database works too: the thread holds its one connection.
    let store = SqliteStore::connect(&QueueConfig::new("sqlite::memory:"))
        .await
        .unwrap();
    push_one(&store, job()).await.unwrap();
    assert_eq!(store.stats().await.unwrap().pending, 1);
}

#[tokio::test]
async fn payload_text_comes_back_as_stored_and_a_corrupt_one_as_null() {
    let (config, file) = config("payload-text");
    let store = SqliteStore::connect(&config).await.unwrap();
    // Key order and an integer beyond f64's precision survive: the text is kept, not
    // rebuilt from a value.
    let text = r#"{"z":1,"a":123456789012345678901234567890}"#;
    let stored = NewJob {
        payload: Payload::from_json(text).unwrap(),
        ..job()
    };
    push_one(&store, stored).await.unwrap();
    let leased = store.fetch("w", 10).await.unwrap();
    assert_eq!(leased[0].job.payload.json(), text);

    // A row whose payload is not JSON (written by hand, or damaged) is handed out with a
    // `null` payload; nothing panics and the other columns are intact.
    let conn = Connection::open(&file).unwrap();
    conn.execute(
        "INSERT INTO atombot_jobs (id, queue, kind, payload, meta, enqueued_at, status,
           attempts, max_attempts, run_at)
         VALUES ('bad', ?1, 'broken', '{not json', '{}', 0, 'pending', 0, 5, 0)",
        (config.queue.as_str(),),
    )
    .unwrap();
    let leased = store.fetch("w", 10).await.unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].job.kind, "broken");
    assert!(leased[0].job.payload.is_null());
    assert!(leased[0].job.args::<u32>().is_err());
}

/// Several processes starting at once on a new file (a worker and a pusher, two replicas)
/// all open it: none fails with "database is locked" while another sets it up.
#[test]
fn connections_opening_a_new_file_at_once_all_succeed() {
    for round in 0..30 {
        let (_, file) = config(&format!("open-race-{round}"));
        let target = ops::Target::File {
            path: file.clone(),
            create: true,
        };
        let start = std::sync::Arc::new(std::sync::Barrier::new(6));
        let opened: Vec<_> = (0..6)
            .map(|_| {
                let (target, start) = (target.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    ops::open(&target, Duration::from_secs(5)).map(drop)
                })
            })
            .collect();
        for thread in opened {
            let result = thread.join().unwrap();
            assert!(result.is_ok(), "round {round}: {result:?}");
        }
        assert_eq!(count(&file, "atombot_jobs"), 0);
    }
}

#[tokio::test]
async fn bodies_are_stored_packed_and_raw_ones_of_earlier_versions_still_read() {
    let (config, file) = config("packed");
    // A file as an earlier version left it: bodies raw, no `packed` column, one job waiting.
    {
        let conn = Connection::open(&file).unwrap();
        conn.execute_batch(SCHEMA_BEFORE_PACKING).unwrap();
        conn.execute(
            "INSERT INTO atombot_jobs (id, queue, kind, payload, meta, enqueued_at, status,
               attempts, max_attempts, run_at)
             VALUES ('old', ?1, 'k', '{}', '{}', 0, 'pending', 0, 5, 0)",
            [config.queue.as_str()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO atombot_bodies (job_id, body) VALUES ('old', x'00726177ff')",
            [],
        )
        .unwrap();
    }
    let store = SqliteStore::connect(&config).await.unwrap();
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bench/payloads/push.json"
    ))
    .unwrap();
    let new = NewJob {
        body: Some(body.clone().into()),
        ..job()
    };
    let new_id = new.id.clone();
    push_one(&store, new).await.unwrap();

    let stored: i64 = Connection::open(&file)
        .unwrap()
        .query_row(
            "SELECT length(body) FROM atombot_bodies WHERE job_id = ?1",
            [&new_id.0],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        (stored as usize) * 3 < body.len(),
        "{stored} bytes stored for a {}-byte body",
        body.len()
    );

    let claimed = store.fetch("w", 10).await.unwrap();
    let body_of = |id: &str| {
        claimed
            .iter()
            .find(|l| l.id.0 == id)
            .and_then(|l| l.job.body.clone())
    };
    assert_eq!(body_of("old").as_deref(), Some(&b"\x00raw\xff"[..]));
    assert_eq!(body_of(&new_id.0).as_deref(), Some(&body[..]));
}

/// `atombot_bodies` as versions before packed bodies made it.
const SCHEMA_BEFORE_PACKING: &str = concat!(
    include_str!("schema.sql"),
    "CREATE TABLE atombot_bodies (job_id TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;
     CREATE TABLE atombot_counters (queue TEXT PRIMARY KEY, done BIGINT NOT NULL DEFAULT 0);"
);

#[tokio::test]
async fn kept_bodies_are_stored_once_outlive_their_jobs_and_go_at_retention() {
    let (config, file) = config("kept");
    let store = SqliteStore::connect(&config).await.unwrap();
    let kept = |key: &str, body: &'static [u8]| NewJob {
        body: Some(bytes::Bytes::from_static(body)),
        body_kept_as: Some(key.into()),
        ..job()
    };
    // Two jobs of one delivery share its body; the second's copy is not stored.
    store
        .push_owned(vec![
            kept("d1", b"first body"),
            kept("d1", b"not stored"),
            kept("d2", b"second body"),
        ])
        .await
        .unwrap();
    assert_eq!(count(&file, "atombot_kept_bodies"), 2);
    assert_eq!(count(&file, "atombot_bodies"), 0);
    let mut claimed = store.fetch("w", 10).await.unwrap();
    claimed.sort_by_key(|l| l.job.body.clone());
    let bodies: Vec<_> = claimed
        .iter()
        .map(|l| l.job.body.clone().unwrap())
        .collect();
    assert_eq!(bodies, ["first body", "first body", "second body"]);

    // Done, the jobs go and the bodies stay, readable from another connection.
    for l in &claimed[..2] {
        assert!(store.ack(&l.id, "w", &Ack::Done).await.unwrap());
    }
    let reader = Connection::open(&file).unwrap();
    let read = |key| crate::sqlite_file::kept_body(&reader, &config.queue, key).unwrap();
    assert_eq!(read("d1").as_deref(), Some(&b"first body"[..]));
    assert_eq!(read("nope"), None);

    // Past the retention, a body goes unless a job still needs it (d2's is running).
    let expired = config.clone().keep_bodies(Duration::ZERO, 100);
    tokio::time::sleep(Duration::from_millis(5)).await;
    store.heartbeat("w", &expired).await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(read("d1"), None);
    assert_eq!(read("d2").as_deref(), Some(&b"second body"[..]));

    // Beyond the count, the oldest go first.
    store.ack(&claimed[2].id, "w", &Ack::Done).await.unwrap();
    store
        .push_owned(vec![kept("d3", b"3"), kept("d4", b"4")])
        .await
        .unwrap();
    let claimed = store.fetch("w", 10).await.unwrap();
    for l in &claimed {
        store.ack(&l.id, "w", &Ack::Done).await.unwrap();
    }
    let two = config.clone().keep_bodies(Duration::from_secs(3600), 2);
    store.heartbeat("w", &two).await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(read("d2"), None);
    assert_eq!(read("d3").as_deref(), Some(&b"3"[..]));
    assert_eq!(read("d4").as_deref(), Some(&b"4"[..]));
}

#[tokio::test]
async fn kept_bodies_stay_within_their_count_as_they_come_without_a_heartbeat() {
    let (config, file) = config("kept-bound");
    let config = config.keep_bodies(Duration::from_secs(3600), 100);
    let store = SqliteStore::connect(&config).await.unwrap();
    let kept = |key: String| NewJob {
        body: Some(bytes::Bytes::from(format!("body of {key}"))),
        body_kept_as: Some(key),
        ..job()
    };
    // The oldest body, still needed by a running job.
    store.push_owned(vec![kept("held".into())]).await.unwrap();
    let held = store.fetch("w", 1).await.unwrap();
    assert_eq!(held.len(), 1);
    // A thousand deliveries' bodies, their jobs done, and never a heartbeat.
    for round in 0..10 {
        let jobs = (0..100).map(|i| kept(format!("d{}", round * 100 + i)));
        store.push_owned(jobs.collect()).await.unwrap();
        let claimed = store.fetch("w", 100).await.unwrap();
        let acks: Vec<_> = claimed
            .iter()
            .map(|l| (l.id.clone(), Arc::<str>::from("w"), Ack::Done))
            .collect();
        store.ack_batch(&acks).await.unwrap();
    }
    let stored = count(&file, "atombot_kept_bodies");
    assert!(
        (100..=100 + super::PRUNE_AFTER_KEPT as i64).contains(&stored),
        "{stored} kept bodies for a bound of 100"
    );
    let reader = Connection::open(&file).unwrap();
    let read = |key: &str| crate::sqlite_file::kept_body(&reader, &config.queue, key).unwrap();
    assert_eq!(read("held").as_deref(), Some(&b"body of held"[..]));
    assert_eq!(read("d999").as_deref(), Some(&b"body of d999"[..]));
    assert_eq!(read("d0"), None);
}
