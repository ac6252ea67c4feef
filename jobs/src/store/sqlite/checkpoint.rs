//! The thread that checkpoints a database file's WAL, off the commits' path.
//!
//! It runs a passive checkpoint (it never blocks the writer), copying the committed WAL
//! frames into the database file, and then flushes what it copied to disk: every
//! [`BUSY_EVERY`] while commits come, backing off to [`IDLE_EVERY`] while none do. Small,
//! frequent flushes disturb the writer's own WAL syncs less than larger ones (paired bench
//! runs with the delivery log on: p99 ~6.7 ms at 10 ms, ~7.8 ms at 50 ms, far worse at 200).
//! SQLite itself syncs the database file only when a checkpoint has caught up with the WAL,
//! which under a steady stream of commits is mostly the one the writer's own connection
//! runs once the WAL reaches its auto-checkpoint size: that sync then had to write out
//! everything copied since, on the writer's thread (~6 ms at 12,000 deliveries/s with the
//! delivery log keeping bodies). Flushed here as it goes, that sync finds little left.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is checkpointed while commits come.
const BUSY_EVERY: Duration = Duration::from_millis(10);

/// How often at most while none come.
const IDLE_EVERY: Duration = Duration::from_millis(160);

/// Checkpoints on `conn` (a connection to the file at `path`) until `stop` is dropped.
pub(super) fn run(conn: &Connection, path: &Path, stop: &Receiver<()>) {
    let file = flush_handle(path);
    if let Err(e) = &file {
        tracing::debug!(error = %e, "no handle to flush the SQLite file; checkpoints still run");
    }
    // (frames in the WAL, frames checkpointed) when last seen, and flushed if need be.
    let mut seen = (0, 0);
    let mut every = BUSY_EVERY;
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
        let progress = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        let now = match progress {
            Ok(now) => now,
            Err(e) => {
                tracing::debug!(error = %e, "SQLite checkpoint failed; the next one retries");
                every = (every * 2).min(IDLE_EVERY);
                continue;
            }
        };
        if now == seen {
            every = (every * 2).min(IDLE_EVERY);
            continue;
        }
        every = BUSY_EVERY;
        if now.1 > 0
            && let Ok(file) = &file
            && let Err(e) = file.sync_data()
        {
            tracing::debug!(error = %e, "flushing the SQLite file failed; the next checkpoint retries");
            continue;
        }
        seen = now;
    }
}

/// A handle on the database file at `path` to flush it with, one per file for the life of
/// the process: closing any descriptor of a file drops every POSIX lock the process holds
/// on it, which SQLite's connections to it rely on, so these are never closed. Flushing
/// only brings writes forward (SQLite's own syncs still make the file durable), so a stale
/// handle, on a file since replaced at the same path, costs speed, never data.
fn flush_handle(path: &Path) -> std::io::Result<Arc<File>> {
    static HANDLES: OnceLock<Mutex<HashMap<PathBuf, Arc<File>>>> = OnceLock::new();
    let path = std::fs::canonicalize(path)?;
    let mut handles = HANDLES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(file) = handles.get(&path) {
        return Ok(file.clone());
    }
    let file = Arc::new(File::options().read(true).write(true).open(&path)?);
    handles.insert(path, file.clone());
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_flush_handle_per_file_however_its_path_is_spelled() {
        let dir = std::env::temp_dir().join(format!("atombot-flush-{}", fastrand::u64(..)));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let file = dir.join("q.db");
        std::fs::write(&file, b"").unwrap();
        let first = flush_handle(&file).unwrap();
        let again = flush_handle(&dir.join("sub").join("..").join("q.db")).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        first.sync_data().unwrap();
        let other = dir.join("r.db");
        std::fs::write(&other, b"").unwrap();
        assert!(!Arc::ptr_eq(&first, &flush_handle(&other).unwrap()));
        assert!(flush_handle(&dir.join("missing.db")).is_err());
    }
}
