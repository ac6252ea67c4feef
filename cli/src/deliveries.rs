//! `atombot deliveries`: the bot's delivery log (in the queue's store, `ATOMBOT_QUEUE`):
//! list, show, replay, export.

use anyhow::Context as _;
use atombot::deliveries::{DeliveryLog, Export, Filter, Record, Summary};
use atombot::jobs::Queue;
use atombot::runtime::RuntimeSettings;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

/// Arguments of `atombot deliveries`.
#[derive(Debug, Args)]
pub(crate) struct DeliveriesArgs {
    #[command(subcommand)]
    command: DeliveriesCommand,
}

#[derive(Debug, Subcommand)]
enum DeliveriesCommand {
    /// Kept deliveries, newest first: id, time, event, repository, handler outcomes.
    List {
        /// Only this event (`push`) or event and action (`issues.opened`).
        #[arg(long, value_name = "EVENT")]
        event: Option<String>,
        /// Only deliveries a handler failed on (for good, or to be retried).
        #[arg(long)]
        failed: bool,
        /// Only deliveries received since then: RFC 3339 (`2026-12-07T10:00:00Z`) or a
        /// duration back from now (`90s`, `30m`, `2h`, `7d`).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One delivery: headers, handler outcomes, and the body pretty-printed.
    Show {
        /// The delivery id.
        id: String,
    },
    /// Runs every handler again for these deliveries, under new delivery ids (so new
    /// idempotency keys); a running bot on the same queue picks them up.
    Replay {
        /// Delivery ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Prints a delivery as JSON that `atombot send FILE --to URL` sends again.
    Export {
        /// The delivery id.
        id: String,
    },
}

/// `--since`: RFC 3339, or a duration back from now.
fn since(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = number
        .parse()
        .with_context(|| format!("--since {text:?}: a time (RFC 3339) or a duration such as 2h"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => anyhow::bail!("--since {text:?}: the unit is s, m, h or d"),
    };
    Ok(Utc::now() - chrono::Duration::seconds(seconds))
}

fn outcomes(summary_outcomes: &[atombot::deliveries::HandlerOutcome]) -> String {
    if summary_outcomes.is_empty() {
        return "-".into();
    }
    summary_outcomes
        .iter()
        .map(|o| format!("{}={}", o.handler, o.status))
        .collect::<Vec<_>>()
        .join(",")
}

fn line(s: &Summary) -> String {
    let event = match &s.action {
        Some(action) => format!("{}.{action}", s.event),
        None => s.event.clone(),
    };
    let replay = s
        .replay_of
        .as_deref()
        .map(|of| format!("\treplay of {of}"))
        .unwrap_or_default();
    format!(
        "{}\t{}\t{event}\t{}\t{}{replay}",
        s.id,
        s.received_at.format("%Y-%m-%dT%H:%M:%SZ"),
        s.repository.as_deref().unwrap_or("-"),
        outcomes(&s.outcomes),
    )
}

fn show(record: &Record) -> String {
    let mut out = format!(
        "delivery  {}\nreceived  {}\nevent     {}{}\nrepository {}\ninstallation {}\n",
        record.id,
        record.received_at.to_rfc3339(),
        record.event,
        record
            .action
            .as_deref()
            .map(|a| format!(".{a}"))
            .unwrap_or_default(),
        record.repository.as_deref().unwrap_or("-"),
        record
            .installation
            .map_or_else(|| "-".to_owned(), |i| i.to_string()),
    );
    if let Some(of) = &record.replay_of {
        out.push_str(&format!("replay of {of}\n"));
    }
    out.push_str("\nheaders:\n");
    for (name, value) in &record.headers {
        out.push_str(&format!("  {name}: {value}\n"));
    }
    out.push_str("\nhandlers:\n");
    if record.outcomes.is_empty() {
        out.push_str("  (no outcome recorded yet)\n");
    }
    for o in &record.outcomes {
        out.push_str(&format!(
            "  {}\t{}\tattempt {}\t{}\n",
            o.handler,
            o.status,
            o.attempt,
            o.error.as_deref().unwrap_or("")
        ));
    }
    out.push_str("\nbody:\n");
    match serde_json::from_slice::<serde_json::Value>(&record.body) {
        Ok(json) => out.push_str(&serde_json::to_string_pretty(&json).unwrap_or_default()),
        Err(_) => out.push_str(&String::from_utf8_lossy(&record.body)),
    }
    out.push('\n');
    out
}

pub(crate) async fn run(args: DeliveriesArgs) -> anyhow::Result<()> {
    // The bot's own settings, so the CLI opens the log and queue the bot uses.
    let settings = RuntimeSettings::from_env()?;
    let log = DeliveryLog::connect(&settings.queue, settings.delivery_log.clone())
        .await
        .context("cannot open the delivery log (ATOMBOT_QUEUE)")?;
    let get = async |id: &str| -> anyhow::Result<Record> {
        log.get(id)
            .await?
            .with_context(|| format!("no delivery {id:?} in the delivery log"))
    };
    match args.command {
        DeliveriesCommand::List {
            event,
            failed,
            since: from,
            limit,
        } => {
            let mut filter = Filter::default().limit(limit);
            if let Some(event) = event {
                filter = filter.event(event);
            }
            if failed {
                filter = filter.failed();
            }
            if let Some(from) = from {
                filter = filter.since(since(&from)?);
            }
            let listed = log.list(&filter).await?;
            if listed.is_empty() {
                println!("no deliveries");
            }
            for summary in &listed {
                println!("{}", line(summary));
            }
        }
        DeliveriesCommand::Show { id } => print!("{}", show(&get(&id).await?)),
        DeliveriesCommand::Replay { ids } => {
            let queue = Queue::connect(settings.queue.clone())
                .await
                .context("cannot open the job queue (ATOMBOT_QUEUE)")?;
            for id in ids {
                let new_id = log.replay(&queue, &id).await?;
                println!(
                    "replaying {id} as {new_id}: every handler runs again under the new id (new idempotency keys)"
                );
            }
        }
        DeliveriesCommand::Export { id } => {
            let export = Export::of(&get(&id).await?);
            println!("{}", serde_json::to_string_pretty(&export)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_times_and_durations() {
        let t = since("2026-12-07T10:00:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-07T10:00:00+00:00");
        let two_hours = Utc::now() - since("2h").unwrap();
        assert!((7190..=7210).contains(&two_hours.num_seconds()));
        assert!(
            since("2w")
                .unwrap_err()
                .to_string()
                .contains("s, m, h or d")
        );
        assert!(since("soon").is_err());
    }
}
