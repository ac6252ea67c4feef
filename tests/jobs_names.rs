//! Issue 9, acceptance 3: user jobs are stored under their declared name, so a job struct
//! renamed or moved in code but declared under the same name still runs jobs queued before
//! the change; a name registered twice fails at start-up.

mod common;

use std::time::Duration;

use atombot::jobs::{Job, JobContext};
use atombot::{Bot, Context};
use common::{Log, deliver};
use serde_json::json;

/// The job type as the old version of the bot had it.
mod before {
    #[derive(serde::Serialize, serde::Deserialize)]
    pub(crate) struct Lint {
        pub(crate) sha: String,
    }

    impl atombot::jobs::Job for Lint {
        const NAME: &'static str = "lint";
    }
}

/// The same job, renamed and moved, keeping its declared name.
mod after {
    pub(crate) mod jobs {
        #[derive(serde::Serialize, serde::Deserialize)]
        pub(crate) struct LintRequest {
            pub(crate) sha: String,
        }

        impl atombot::jobs::Job for LintRequest {
            const NAME: &'static str = "lint";
        }
    }
}

fn push() -> serde_json::Value {
    json!({
        "ref": "refs/heads/main",
        "after": "0123456789abcdef0123456789abcdef01234567",
        "repository": {"full_name": "atomgit-demo/hello-world"},
        "installation": {"id": 14}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_job_type_runs_jobs_queued_under_its_old_name() {
    let sim = atombot::testing::Simulator::start().await.unwrap();
    let dir = common::temp_dir("job-rename");
    let url = format!("sqlite://{}", dir.join("queue.db").display());
    let log = Log::default();

    // The old version queues a job for later, then stops before it is due.
    let queued = log.clone();
    let old = Bot::new(common::config(&sim))
        .settings(common::settings_with_queue(&url))
        .on("push", move |ctx: Context| {
            let log = queued.clone();
            async move {
                let sha = ctx.json()["after"].as_str().unwrap_or_default().to_owned();
                ctx.jobs()
                    .push_after(Duration::from_secs(2), before::Lint { sha })
                    .await?;
                log.push("queued");
                Ok::<_, atombot::Error>(())
            }
        })
        .job(|_ctx: JobContext, _job: before::Lint| async { Ok::<_, atombot::Error>(()) })
        .start()
        .await
        .unwrap();
    deliver(&old, "push", "rename-1", &push()).await;
    assert_eq!(log.wait_for(5, |e| !e.is_empty()).await, ["queued"]);
    old.shutdown().await;

    // The new version knows the job by its new type, under the same name.
    let ran = log.clone();
    let new = Bot::new(common::config(&sim))
        .settings(common::settings_with_queue(&url))
        .job(move |ctx: JobContext, job: after::jobs::LintRequest| {
            let log = ran.clone();
            async move {
                log.push(format!("lint {} attempt {}", job.sha, ctx.attempt()));
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let entries = log.wait_for(10, |e| e.len() >= 2).await;
    assert_eq!(
        entries,
        [
            "queued",
            "lint 0123456789abcdef0123456789abcdef01234567 attempt 1"
        ]
    );
    assert_eq!(after::jobs::LintRequest::NAME, before::Lint::NAME);
    new.shutdown().await;
}

#[tokio::test]
async fn a_job_name_registered_twice_fails_at_start() {
    let sim = atombot::testing::Simulator::start().await.unwrap();
    let error = common::bot(&sim)
        .job(|_ctx: JobContext, _job: before::Lint| async { Ok::<_, atombot::Error>(()) })
        .job(|_ctx: JobContext, _job: after::jobs::LintRequest| async {
            Ok::<_, atombot::Error>(())
        })
        .start()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("job name \"lint\" is registered twice"),
        "{error}"
    );
}
