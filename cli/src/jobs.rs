//! `atombot jobs`: inspect the bot's job queue (`ATOMBOT_QUEUE`).

use anyhow::Context as _;
use atombot::jobs::{JobId, Queue, QueueConfig};
use clap::{Args, Subcommand};

/// Arguments of `atombot jobs`.
#[derive(Debug, Args)]
pub(crate) struct JobsArgs {
    #[command(subcommand)]
    command: JobsCommand,
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// List deliveries and jobs kept as failed, with their last error.
    Failed,
    /// Re-queue a failed delivery or job by id, with fresh attempts.
    Retry {
        /// The job id (from `atombot jobs failed`).
        id: String,
    },
    /// Count pending, running, done and failed jobs.
    Stats,
}

async fn open() -> anyhow::Result<Queue> {
    let config = QueueConfig::from_env();
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
                "pending={} running={} done={} failed={}",
                s.pending, s.running, s.done, s.failed
            );
        }
    }
    Ok(())
}
