//! The log's pure parts: filters, kept headers, exports, the SQLite file beside the queue's,
//! the in-memory store's bounds.

use bytes::Bytes;
use chrono::{TimeZone, Utc};

use super::memory::{MEMORY_MAX, MemoryLog};
use super::*;

fn record(id: &str, at_ms: i64) -> Record {
    Record {
        id: id.into(),
        event: "issues".into(),
        action: Some("opened".into()),
        installation: Some(14),
        repository: Some("o/r".into()),
        received_at: Utc.timestamp_millis_opt(at_ms).unwrap(),
        headers: vec![("x-atomgit-event".into(), "issues".into())],
        replay_of: None,
        outcomes: Vec::new(),
        body: Bytes::from_static(b"{\"action\":\"opened\"}"),
    }
}

fn outcome(handler: &str, status: Status, attempt: u32) -> HandlerOutcome {
    HandlerOutcome {
        handler: handler.into(),
        status,
        attempt,
        error: None,
        at: Utc::now(),
    }
}

#[test]
fn filters_match_event_action_failure_and_time() {
    let mut s = memory::summary(&record("a", 1_000));
    assert!(Filter::default().passes(&s));
    assert!(Filter::default().event("issues").passes(&s));
    assert!(Filter::default().event("issues.opened").passes(&s));
    assert!(!Filter::default().event("issues.closed").passes(&s));
    assert!(!Filter::default().event("push").passes(&s));
    assert!(!Filter::default().failed().passes(&s));
    s.outcomes.push(outcome("h", Status::Retrying, 1));
    assert!(Filter::default().failed().passes(&s));
    let later = Utc.timestamp_millis_opt(2_000).unwrap();
    assert!(!Filter::default().since(later).passes(&s));
}

#[test]
fn kept_headers_leave_out_credentials_and_proxies() {
    let mut headers = http::HeaderMap::new();
    for (name, value) in [
        ("x-atomgit-event", "push"),
        ("x-atomgit-delivery", "d1"),
        ("x-hub-signature-256", "sha256=abc"),
        ("x-gitcode-token", "password"),
        ("authorization", "Basic abc"),
        ("cookie", "a=b"),
        ("x-forwarded-for", "10.0.0.1"),
        ("user-agent", "git-oschina-hook"),
        ("content-type", "application/json"),
        ("accept", "*/*"),
    ] {
        headers.insert(
            http::HeaderName::from_static(name),
            http::HeaderValue::from_static(value),
        );
    }
    let kept = KeptHeaders::of(&headers);
    let kept: Vec<&str> = kept.pairs().map(|(n, _)| n).collect();
    assert_eq!(
        kept,
        [
            "x-atomgit-event",
            "x-atomgit-delivery",
            "user-agent",
            "content-type"
        ]
    );
}

#[test]
fn an_entry_gives_back_the_record_it_was_made_of() {
    let mut r = record("a", 5);
    r.headers
        .push(("x-atomgit-delivery".into(), "a:b c".into()));
    r.replay_of = Some("z".into());
    assert_eq!(Entry::from_record(&r).to_record(&[]), r);
    r.action = None;
    r.repository = None;
    r.headers.clear();
    let entry = Entry::from_record(&r);
    assert_eq!(entry.to_record(&[]), r);
    assert_eq!((entry.id(), entry.event()), ("a", "issues"));
}

#[test]
fn an_export_keeps_a_binary_body_byte_for_byte() {
    let mut r = record("a", 0);
    r.body = Bytes::from_static(&[0xff, 0x00, b'{']);
    r.headers.push(("x-gitcode-delivery".into(), "a".into()));
    let export = Export::of(&r);
    assert!(export.body.is_none() && export.body_base64.is_some());
    assert!(export.is_gitcode());
    let text = serde_json::to_vec(&export).unwrap();
    assert_eq!(
        Export::parse(&text).unwrap().unwrap().body_bytes().unwrap(),
        r.body
    );
    assert!(Export::parse(br#"{"format":"atombot-delivery/1"}"#).is_err());
    assert!(Export::parse(b"not json").unwrap().is_none());
}

#[test]
fn the_sqlite_log_lives_beside_the_queue_file() {
    use std::path::Path;
    assert_eq!(
        sqlite::beside(Path::new("/var/lib/bot/atombot.db")),
        Path::new("/var/lib/bot/atombot-deliveries.db")
    );
}

#[test]
fn the_memory_log_is_bounded_and_attaches_early_outcomes() {
    let log = MemoryLog::default();
    // An outcome before its record (a handler finished before the receiver logged it).
    log.outcomes(&[("r0".into(), outcome("h", Status::Succeeded, 1))]);
    let records: Vec<Record> = (0..MEMORY_MAX + 5)
        .map(|i| record(&format!("r{i}"), i as i64))
        .collect();
    log.insert(records.iter().map(Entry::from_record).collect());
    assert!(log.get("r0").is_none(), "the oldest went first");
    assert_eq!(
        log.list(&Filter::default().limit(usize::MAX)).len(),
        MEMORY_MAX
    );
    let early = MemoryLog::default();
    early.outcomes(&[("x".into(), outcome("h", Status::Failed, 2))]);
    early.insert(vec![Entry::from_record(&record("x", 0))]);
    assert_eq!(early.get("x").unwrap().outcomes[0].status, Status::Failed);
    // A later attempt's outcome replaces an earlier one, never the reverse.
    early.outcomes(&[("x".into(), outcome("h", Status::Succeeded, 3))]);
    early.outcomes(&[("x".into(), outcome("h", Status::Retrying, 1))]);
    assert_eq!(
        early.get("x").unwrap().outcomes[0].status,
        Status::Succeeded
    );
    // Pruned by age and by size.
    assert_eq!(log.prune(10, u64::MAX), 5);
    assert_eq!(log.prune(0, 3), (MEMORY_MAX - 5 - 3) as u64);
    assert_eq!(log.list(&Filter::default()).len(), 3);
    assert!(
        log.get(&format!("r{}", MEMORY_MAX + 4)).is_some(),
        "the newest stay"
    );
}

#[test]
fn bodies_are_kept_packed_and_older_raw_ones_still_read() {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bench/payloads/push.json"
    ))
    .unwrap();
    let packed = store::pack_body(&body);
    assert!(
        packed.len() * 3 < body.len(),
        "{} of {}",
        packed.len(),
        body.len()
    );
    assert_eq!(store::unpack_body(packed.clone()).unwrap(), body);
    // Stored raw (by the first version of the log): read as it is.
    assert_eq!(store::unpack_body(body.clone()).unwrap(), body);
    let mut corrupt = packed;
    corrupt.truncate(20);
    assert!(store::unpack_body(corrupt).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_logs_opening_a_new_file_at_once_all_open_and_share_it() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..10 {
        let queue_file = dir.path().join(format!("q{round}.db"));
        let opens = (0..6).map(|_| sqlite::SqliteLog::open(&queue_file, "bot"));
        let logs: Vec<_> = futures_util::future::join_all(opens)
            .await
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        logs[0]
            .write(
                vec![Entry::from_record(&record("a", 1))],
                vec![("a".into(), outcome("h", Status::Failed, 1))],
            )
            .await
            .unwrap();
        let kept = logs[5].get("a").await.unwrap().expect("kept");
        assert_eq!(kept.body, record("a", 1).body);
        assert_eq!(kept.outcomes[0].status, Status::Failed);
    }
}
