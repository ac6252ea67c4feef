//! Installation lifecycle: `installation.deleted` / `suspend` drop the installation's token
//! at once, its calls fail fast and its queued work fails with "installation removed";
//! `installation.created` / `unsuspend` make it work again without a restart. Also the
//! `App` iteration helpers (`for_each_installation`, `for_each_repository`,
//! `repositories`) against the simulator.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atombot::jobs::{Job, JobContext};
use atombot::models::InstallationId;
use atombot::testing::{Outcome, SimInstallation, Simulator, TestBot, events};
use atombot::{App, Bot, Context, Error, State};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

const REPO: &str = "atomgit-demo/hello-world";
const OWNER: &str = "atomgit-demo";

#[derive(Debug, Serialize, Deserialize)]
struct Sync {
    number: u64,
}

impl Job for Sync {
    const NAME: &'static str = "sync";
}

/// What the handlers saw; the test keeps a clone.
#[derive(Default, Clone)]
struct Seen {
    job_runs: Arc<AtomicUsize>,
    /// How the API calls made by the `installation.deleted` handler ended.
    on_deleted: Arc<Mutex<Vec<String>>>,
}

/// Reads the repository (minting a token), and queues a sync for later if asked to.
async fn on_issue(ctx: Context) -> atombot::Result<()> {
    ctx.client().repos().get(OWNER, "hello-world").await?;
    let number = ctx.issue_number().unwrap_or(0);
    if number == 1 {
        ctx.jobs()
            .push_after(Duration::from_millis(400), Sync { number })
            .await?;
    }
    Ok(())
}

async fn sync(ctx: JobContext, _job: Sync) -> atombot::Result<()> {
    ctx.state::<Seen>()?.job_runs.fetch_add(1, Ordering::SeqCst);
    ctx.client().repos().get(OWNER, "hello-world").await?;
    Ok(())
}

/// Runs for the deletion itself (lifecycle deliveries still reach their handlers) and
/// tries an API call with the removed installation's client.
async fn on_deleted(ctx: Context, State(seen): State<Seen>) -> atombot::Result<()> {
    let error = ctx.client().repos().get(OWNER, "hello-world").await.err();
    let recorded = match error {
        Some(Error::InstallationRemoved { installation }) => format!("removed {installation}"),
        Some(other) => format!("other: {other}"),
        None => "succeeded".to_owned(),
    };
    seen.on_deleted.lock().unwrap().push(recorded);
    Ok(())
}

fn bot(seen: &Seen) -> Bot {
    Bot::new(TestBot::config())
        .with_state(seen.clone())
        .on("issues.opened", on_issue)
        .on("installation.deleted", on_deleted)
        .job(sync)
}

/// Waits until the queue holds a failed job of `kind`.
async fn failed_job(bot: &TestBot, kind: &str) -> atombot::jobs::FailedJob {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let failed = bot.queue().failed().await.unwrap();
            if let Some(job) = failed.into_iter().find(|j| j.kind == kind) {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the job failed within 20 s")
}

fn failed_with(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Failed(message) => message.clone(),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_deleted_installation_fails_fast_and_works_again_once_created() {
    let seen = Seen::default();
    let bot = TestBot::start(bot(&seen)).await.unwrap();
    let received = bot
        .receive(events::issue_opened(REPO, 1, "queues a sync"))
        .await
        .unwrap();
    assert!(received.succeeded(), "{received:?}");
    assert_eq!(bot.sim().mint_count(14), 1);

    // The app is uninstalled while the sync job waits in the queue.
    let deleted = bot
        .receive(events::installation(14, OWNER, "deleted"))
        .await
        .unwrap();
    assert!(deleted.succeeded(), "{deleted:?}");
    assert_eq!(
        seen.on_deleted.lock().unwrap().as_slice(),
        ["removed 14"],
        "the removed installation's call fails with Error::InstallationRemoved"
    );
    assert!(
        deleted.api_calls().is_empty(),
        "no request and no mint for a removed installation: {:?}",
        deleted.api_calls()
    );

    // Its queued job ends failed at once, without running or retrying.
    let job = failed_job(&bot, "sync").await;
    let error = job.last_error.clone().unwrap_or_default();
    assert!(error.contains("installation removed"), "{error}");
    assert_eq!(job.attempts, 1, "not retried");
    assert_eq!(seen.job_runs.load(Ordering::SeqCst), 0);

    // New work for it fails the same way, on its first attempt, with no API call.
    let refused = bot
        .receive(events::issue_opened(REPO, 2, "after the uninstall"))
        .await
        .unwrap();
    let run = refused.handler("issues.opened#1").unwrap();
    assert_eq!(run.attempts, 1);
    assert!(
        failed_with(&run.outcome).contains("installation removed"),
        "{run:?}"
    );
    assert!(refused.api_calls().is_empty(), "{:?}", refused.api_calls());
    assert_eq!(bot.sim().mint_count(14), 1);

    // Installed again: works without a restart, with a freshly minted token.
    let created = bot
        .receive(events::installation_created(14, OWNER))
        .await
        .unwrap();
    assert!(created.succeeded());
    let again = bot
        .receive(events::issue_opened(REPO, 3, "after reinstalling"))
        .await
        .unwrap();
    assert!(again.succeeded(), "{again:?}");
    assert_eq!(
        bot.sim().mint_count(14),
        2,
        "a fresh token after reinstalling"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn a_suspended_installation_fails_fast_until_unsuspended() {
    let seen = Seen::default();
    let bot = TestBot::start(bot(&seen)).await.unwrap();
    assert!(
        bot.receive(events::issue_opened(REPO, 2, "before"))
            .await
            .unwrap()
            .succeeded()
    );
    bot.receive(events::installation(14, OWNER, "suspend"))
        .await
        .unwrap();
    let refused = bot
        .receive(events::issue_opened(REPO, 2, "while suspended"))
        .await
        .unwrap();
    let run = refused.handler("issues.opened#1").unwrap();
    assert_eq!(run.attempts, 1, "not retried");
    assert!(failed_with(&run.outcome).contains("installation removed"));
    assert!(refused.api_calls().is_empty(), "{:?}", refused.api_calls());

    bot.receive(events::installation(14, OWNER, "unsuspend"))
        .await
        .unwrap();
    let again = bot
        .receive(events::issue_opened(REPO, 2, "unsuspended"))
        .await
        .unwrap();
    assert!(again.succeeded(), "{again:?}");
    assert_eq!(
        bot.sim().mint_count(14),
        2,
        "the suspended token was dropped"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn changed_repositories_drop_the_cached_token() {
    let seen = Seen::default();
    let bot = TestBot::start(bot(&seen)).await.unwrap();
    bot.receive(events::issue_opened(REPO, 2, "first"))
        .await
        .unwrap();
    bot.receive(events::issue_opened(REPO, 2, "cached"))
        .await
        .unwrap();
    assert_eq!(bot.sim().mint_count(14), 1);
    bot.receive(events::installation_repositories(
        14,
        OWNER,
        "added",
        &["bot-playground"],
    ))
    .await
    .unwrap();
    let after = bot
        .receive(events::issue_opened(REPO, 2, "after"))
        .await
        .unwrap();
    assert!(after.succeeded(), "{after:?}");
    assert_eq!(bot.sim().mint_count(14), 2, "a token covering the new set");
    bot.shutdown().await;
}

async fn sim_with_installations() -> Simulator {
    let sim = Simulator::start().await.unwrap();
    for (id, org) in [
        (21, "acme"),
        (22, "globex"),
        (23, "initech"),
        (24, "umbrella"),
    ] {
        sim.add_installation(SimInstallation::org(id, org));
        sim.add_org_repo(org, "site");
        sim.add_org_repo(org, "tools");
    }
    sim.add_user_repo("octo-user", "dotfiles");
    sim
}

#[tokio::test]
async fn for_each_installation_runs_at_most_the_given_number_at_once() {
    let sim = sim_with_installations().await;
    let app = App::new(sim.app_config()).unwrap();
    let in_flight = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let visited = Mutex::new(BTreeSet::new());
    app.for_each_installation(2, |installation, client| {
        let (in_flight, most, visited) = (&in_flight, &most, &visited);
        async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            assert_eq!(client.installation_id(), Some(installation.id));
            tokio::time::sleep(Duration::from_millis(50)).await;
            visited.lock().unwrap().insert(installation.id.0);
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, Error>(())
        }
    })
    .await
    .unwrap();
    assert_eq!(
        visited.into_inner().unwrap(),
        BTreeSet::from([14, 15, 21, 22, 23, 24])
    );
    assert_eq!(most.load(Ordering::SeqCst), 2, "bounded, and concurrent");

    let zero = app
        .for_each_installation(0, |_, _| async { Ok::<_, Error>(()) })
        .await;
    assert!(matches!(zero, Err(Error::InvalidRequest(_))), "{zero:?}");

    // An error from the callback stops the walk and comes back.
    let stopped = app
        .for_each_installation(1, |installation, _| async move {
            if installation.id == InstallationId(21) {
                return Err(Error::InvalidRequest("stop at 21".into()));
            }
            Ok(())
        })
        .await;
    assert!(matches!(stopped, Err(Error::InvalidRequest(m)) if m == "stop at 21"));
}

#[tokio::test]
async fn repositories_and_for_each_repository_list_through_each_installation() {
    let sim = sim_with_installations().await;
    let app = App::new(sim.app_config()).unwrap();
    let installations: Vec<_> = app.installations_stream().try_collect().await.unwrap();
    assert_eq!(
        installations.len(),
        app.installations().await.unwrap().len()
    );
    let demo = installations.iter().find(|i| i.id.0 == 14).unwrap();
    let names: BTreeSet<String> = app
        .repositories(demo)
        .map_ok(|r| r.full_name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        names,
        BTreeSet::from([
            "atomgit-demo/bot-playground".to_owned(),
            "atomgit-demo/hello-world".to_owned()
        ])
    );
    // A personal space: the organisation listing answers 404, the user listing is used.
    let user = installations.iter().find(|i| i.id.0 == 15).unwrap();
    let names: Vec<String> = app
        .repositories(user)
        .map_ok(|r| r.full_name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names, ["octo-user/dotfiles"]);
    // An installation with no account path is an error, not a request to `/user//repos`.
    let nameless = atombot::models::Installation::default();
    let listed: Result<Vec<_>, _> = app.repositories(&nameless).try_collect().await;
    assert!(
        matches!(listed, Err(Error::InvalidRequest(_))),
        "{listed:?}"
    );

    let seen = Mutex::new(BTreeSet::new());
    let in_flight = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    app.for_each_repository(3, |installation, repo, client| {
        let (seen, in_flight, most) = (&seen, &in_flight, &most);
        async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            assert_eq!(client.installation_id(), Some(installation.id));
            tokio::time::sleep(Duration::from_millis(30)).await;
            seen.lock().unwrap().insert(repo.full_name);
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, Error>(())
        }
    })
    .await
    .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 2 + 1 + 4 * 2, "{seen:?}");
    assert!(seen.contains("umbrella/tools"));
    assert!(most.load(Ordering::SeqCst) <= 3);
    assert!(
        most.load(Ordering::SeqCst) >= 2,
        "repositories ran concurrently"
    );
}

#[tokio::test]
async fn a_removed_installation_fails_fast_in_the_client_and_is_skipped() {
    let sim = sim_with_installations().await;
    let app = App::new(sim.app_config()).unwrap();
    let tokens = app.client().installation_tokens().unwrap();
    assert!(tokens.remove(InstallationId(21)).await);
    let error = app
        .installation_client(21)
        .repos()
        .get("acme", "site")
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::InstallationRemoved { installation: 21 }),
        "{error:?}"
    );
    assert!(error.to_string().contains("installation removed"));
    assert_eq!(sim.mint_count(21), 0, "no mint");
    assert!(sim.requests_to("/repos/acme/site").is_empty(), "no request");

    let visited = Mutex::new(BTreeSet::new());
    app.for_each_installation(4, |installation, _| {
        let visited = &visited;
        async move {
            visited.lock().unwrap().insert(installation.id.0);
            Ok::<_, Error>(())
        }
    })
    .await
    .unwrap();
    assert!(!visited.lock().unwrap().contains(&21));
    assert_eq!(visited.lock().unwrap().len(), 5);

    assert!(tokens.restore(InstallationId(21)));
    app.installation_client(21)
        .repos()
        .get("acme", "site")
        .await
        .unwrap();
    assert_eq!(sim.mint_count(21), 1);
}
