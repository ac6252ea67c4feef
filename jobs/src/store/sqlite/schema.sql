-- SQLite's schema: the shared one (../sql/schema.sql) with partial indexes.
CREATE TABLE IF NOT EXISTS atombot_jobs (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    job_key TEXT,
    meta TEXT NOT NULL,
    enqueued_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lock_by TEXT,
    lock_at BIGINT,
    last_error TEXT,
    done_at BIGINT
);
-- Partial indexes: a job handed straight to a worker is inserted running and deleted when
-- done, so it never touches the indexes of waiting or finished jobs.
CREATE INDEX IF NOT EXISTS atombot_jobs_ready ON atombot_jobs (queue, status, run_at)
    WHERE status IN ('pending', 'unknown');
CREATE INDEX IF NOT EXISTS atombot_jobs_lock ON atombot_jobs (lock_by);
CREATE INDEX IF NOT EXISTS atombot_jobs_finished ON atombot_jobs (queue, status, done_at)
    WHERE done_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS atombot_dedupe (
    queue TEXT NOT NULL,
    job_key TEXT NOT NULL,
    job_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (queue, job_key)
);
CREATE INDEX IF NOT EXISTS atombot_dedupe_expires ON atombot_dedupe (queue, expires_at);
CREATE TABLE IF NOT EXISTS atombot_workers (
    name TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    last_seen BIGINT NOT NULL,
    started_at BIGINT NOT NULL
);
