//! Other SQLite files kept beside a queue's own (the delivery log's), opened the way the
//! queue opens its file: WAL, a busy timeout, and the start-up race on a new file handled;
//! and the bodies a queue's file keeps beyond their jobs, read from another connection.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The rusqlite this crate is built with, so callers open files with matching versions.
pub use rusqlite;

use crate::error::Error;
use crate::store::sqlite::ops::{Target, wal_mode};

/// The file a SQLite queue URL names (`sqlite://path`, `sqlite:path`, with an optional
/// `?mode=…`), or `None` for an in-memory database (`sqlite::memory:`, `mode=memory`).
///
/// Fails with [`Error::InvalidUrl`] for a URL that is not SQLite's or names no file.
pub fn file_of(url: &str) -> Result<Option<PathBuf>, Error> {
    Ok(match Target::parse(url)? {
        Target::File { path, .. } => Some(path),
        Target::Memory => None,
    })
}

/// The file `name` beside the SQLite queue file `queue` (`atombot.db` and `deliveries` →
/// `atombot-deliveries.db`).
pub fn beside(queue: &Path, name: &str) -> PathBuf {
    let file = queue.file_name().map(Path::new).unwrap_or(queue);
    let renamed = match (file.file_stem(), file.extension()) {
        (Some(stem), Some(ext)) => format!(
            "{}-{name}.{}",
            stem.to_string_lossy(),
            ext.to_string_lossy()
        ),
        _ => format!("{}-{name}", file.to_string_lossy()),
    };
    queue.with_file_name(renamed)
}

/// Opens (creating it if missing) the SQLite file at `path` in WAL mode, waiting up to
/// `busy` on other connections' locks, with a cache of prepared statements. Several
/// processes may open a new file at once: SQLite refuses the switch to WAL at once while
/// another connection makes it, so it is tried again until `busy` has passed.
///
/// Fails with [`Error::Unavailable`] when the file cannot be opened.
pub fn open_wal(path: &Path, busy: Duration) -> Result<rusqlite::Connection, Error> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy)?;
    conn.set_prepared_statement_cache_capacity(32);
    wal_mode(&conn, busy)?;
    Ok(conn)
}

/// The body kept under `key` by a job of queue `queue` pushed with
/// [`Job::with_kept_body`](crate::Job::with_kept_body), read on `conn`, a connection to the
/// queue's file; `None` once pruned ([`QueueConfig::keep_bodies`](crate::QueueConfig::keep_bodies)),
/// or if the file has no kept bodies.
///
/// Fails with [`Error::Backend`] for a stored body that does not unpack (a corrupt file).
pub fn kept_body(
    conn: &rusqlite::Connection,
    queue: &str,
    key: &str,
) -> Result<Option<bytes::Bytes>, Error> {
    use rusqlite::OptionalExtension;
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'atombot_kept_bodies'",
        [],
        |r| r.get(0),
    )?;
    if tables == 0 {
        return Ok(None);
    }
    let stored: Option<Vec<u8>> = conn
        .prepare_cached("SELECT body FROM atombot_kept_bodies WHERE queue = ?1 AND key = ?2")?
        .query_row((queue, key), |r| r.get(0))
        .optional()?;
    stored
        .map(|packed| {
            crate::packed::unpack(&packed)
                .ok_or_else(|| Error::Backend(format!("the kept body {key:?} is corrupt")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_beside_a_queue_and_from_urls() {
        assert_eq!(
            beside(Path::new("atombot.db"), "deliveries"),
            Path::new("atombot-deliveries.db")
        );
        assert_eq!(
            beside(Path::new("/var/lib/bot/q.db"), "deliveries"),
            Path::new("/var/lib/bot/q-deliveries.db")
        );
        assert_eq!(
            beside(Path::new("queue"), "deliveries"),
            Path::new("queue-deliveries")
        );
        assert_eq!(
            file_of("sqlite:///var/lib/q.db?mode=rwc").unwrap(),
            Some(PathBuf::from("/var/lib/q.db"))
        );
        assert_eq!(file_of("sqlite::memory:").unwrap(), None);
        assert_eq!(file_of("sqlite://x.db?mode=memory").unwrap(), None);
        assert!(file_of("redis://x").is_err());
    }
}
