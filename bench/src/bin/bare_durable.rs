//! `bare-durable`: `bare-axum` plus durability — after verifying and parsing, each body
//! is committed to SQLite (WAL, `synchronous=FULL`) before the 200. One writer thread
//! owns the connection and group-commits: it takes what is queued on its channel and
//! writes it in one transaction, then answers every request in the batch.
//!
//! This is the floor for a receiver that must not lose an acknowledged delivery on a
//! single host. The database is `BENCH_DB` (default `bench-durable.db` in the temp dir).
//! Listens on `BENCH_LISTEN` and prints `listening on ADDR`; stops on SIGTERM.

use std::sync::Arc;
use std::sync::mpsc;

use atombot_bench::{SECRET, serve, signature_ok};
use axum::extract::State;
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use tokio::sync::oneshot;

/// A body to store and where to say whether its transaction committed.
type Write = (Bytes, oneshot::Sender<bool>);

/// What the handler needs: the secret and the writer's inbox.
#[derive(Clone, Debug)]
struct AppState {
    secret: Arc<[u8]>,
    writes: mpsc::Sender<Write>,
}

/// Verifies, parses, then waits for the body's group commit.
async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if !signature_ok(&state.secret, &headers, &body) {
        return StatusCode::UNAUTHORIZED;
    }
    if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
        return StatusCode::BAD_REQUEST;
    }
    let (done, committed) = oneshot::channel();
    if state.writes.send((body, done)).is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match committed.await {
        Ok(true) => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Opens the database in WAL mode with full fsync and creates the table.
fn open(path: &std::path::Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, body BLOB NOT NULL)",
    )?;
    Ok(conn)
}

/// Stores one batch in one transaction.
fn commit(conn: &mut rusqlite::Connection, batch: &[Write]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached("INSERT INTO deliveries (body) VALUES (?1)")?;
        for (body, _) in batch {
            insert.execute([&body[..]])?;
        }
    }
    tx.commit()
}

/// The writer loop: block for one write, drain whatever else is queued, commit, answer.
fn writer(mut conn: rusqlite::Connection, inbox: mpsc::Receiver<Write>) {
    while let Ok(first) = inbox.recv() {
        let mut batch = vec![first];
        batch.extend(inbox.try_iter());
        let ok = match commit(&mut conn, &batch) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("bare-durable: commit failed: {e}");
                false
            }
        };
        for (_, done) in batch {
            let _ = done.send(ok);
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::env::var_os("BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("bench-durable.db"));
    let conn = open(&path)?;
    let (writes, inbox) = mpsc::channel();
    std::thread::spawn(move || writer(conn, inbox));
    let state = AppState {
        secret: Arc::from(SECRET.as_bytes()),
        writes,
    };
    let app = axum::Router::new()
        .route("/webhook", post(webhook))
        .with_state(state);
    serve(app).await?;
    Ok(())
}
