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
-- Upgrading an older schema while other processes push: atombot_jobs is locked before
-- atombot_bodies, in the order pushes and outcomes take them, so the two never deadlock.
-- Partial indexes: a job handed straight to a worker is inserted running and deleted when
-- done, so it enters only the primary key and the index of running jobs. Earlier versions
-- indexed every row three more times.
DROP INDEX IF EXISTS atombot_jobs_ready;
DROP INDEX IF EXISTS atombot_jobs_lock;
DROP INDEX IF EXISTS atombot_jobs_finished;
CREATE INDEX IF NOT EXISTS atombot_jobs_waiting ON atombot_jobs (queue, run_at)
    WHERE status IN ('pending', 'unknown');
CREATE INDEX IF NOT EXISTS atombot_jobs_ended ON atombot_jobs (queue, status, done_at)
    WHERE status IN ('done', 'failed');
-- Its presence marks this version's schema (all of this file commits at once).
CREATE INDEX IF NOT EXISTS atombot_jobs_running ON atombot_jobs (queue, lock_by)
    WHERE status = 'running';
-- Bodies compressed with lz4 rather than pglz: a fraction of the CPU, and a typical webhook
-- payload then fits in its row, with no TOAST rows to write and delete for every delivery.
-- Skipped where the server has no lz4 (before Postgres 14, or built without it).
DO $$ BEGIN
    EXECUTE 'ALTER TABLE atombot_bodies ALTER COLUMN body SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
