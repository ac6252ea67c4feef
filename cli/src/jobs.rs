//! `atombot jobs`: inspect the bot's job queue (`ATOMBOT_QUEUE`).

use anyhow::Context as _;
use atombot::jobs::{JobId, Queue};
use atombot::runtime::RuntimeSettings;
use clap::{Args, Subcommand};

/// Arguments of `atombot jobs`.
#[derive(Debug, Args)]
pub(crate) struct JobsArgs {
    #[command(subcommand)]
    command: JobsCommand,
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// List what is kept as failed, with its last error: each handler's unit of a delivery
    /// (kind `handler:NAME`, key `handler:DELIVERY:NAME`), user jobs (kind: the job's name)
    /// and deliveries that could not be fanned out (`atombot.delivery`).
    Failed,
    /// Re-queue a failed unit or job by id, with fresh attempts; only that handler (or job)
    /// runs again.
    Retry {
        /// The job id (from `atombot jobs failed`).
        id: String,
    },
    /// Count pending, running, done and failed units and jobs; `unknown` counts pending ones
    /// whose handler or job name the last worker that saw them did not know.
    Stats,
}

async fn open() -> anyhow::Result<Queue> {
    // The bot's own settings (ATOMBOT_QUEUE, ATOMBOT_QUEUE_NAME, …), so the CLI opens the
    // queue the bot uses.
    let config = RuntimeSettings::from_env()?.queue;
    Queue::connect(config)
        .await
        .context("cannot open the job queue (ATOMBOT_QUEUE)")
}

pub(crate) async fn run(args: JobsArgs) -> anyhow::Result<()> {
    let queue = open().await?;
    match args.command {
        JobsCommand::Failed => {
            let failed = queue.failed().await?;
            if failed.is_empty() {
                println!("no failed jobs");
            }
            for job in failed {
                println!(
                    "{}\t{}\tattempts={}\t{}\t{}",
                    job.id,
                    job.kind,
                    job.attempts,
                    job.key.as_deref().unwrap_or("-"),
                    job.last_error.as_deref().unwrap_or("-").replace('\n', " "),
                );
            }
        }
        JobsCommand::Retry { id } => {
            if queue.retry(&JobId(id.clone())).await? {
                println!("re-queued {id}");
            } else {
                anyhow::bail!("no failed job with id {id}");
            }
        }
        JobsCommand::Stats => {
            let s = queue.stats().await?;
            println!(
                "pending={} running={} done={} failed={} unknown={}",
                s.pending, s.running, s.done, s.failed, s.unknown
            );
        }
    }
    Ok(())
}
