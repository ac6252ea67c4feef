//! `ctx.config::<T>(name)`: `.atomgit/<name>` of the delivery's repository over real HTTP
//! against the simulator — repository file, organisation fallback, `_extends`, defaults,
//! invalid files, push invalidation and single-flight reads.

use std::sync::{Arc, Mutex};

use atombot::testing::{Outcome, Simulator, TestBot, events};
use atombot::{Bot, Context, Error, RepoConfigSettings, State};
use futures::future::join_all;
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

const OWNER: &str = "atomgit-demo";
const REPO: &str = "atomgit-demo/hello-world";
const FILE: &str = ".atomgit/bot.yml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Limits {
    per_day: u32,
    per_user: u32,
}

/// No `#[serde(default)]`: a field the file leaves out must come from the merged defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Conf {
    greeting: String,
    labels: Vec<String>,
    limits: Limits,
}

impl Default for Conf {
    fn default() -> Self {
        Self {
            greeting: "hello".into(),
            labels: vec!["bug".into()],
            limits: Limits {
                per_day: 3,
                per_user: 1,
            },
        }
    }
}

/// What the handlers read, in order.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<Conf>>>);

impl Seen {
    fn all(&self) -> Vec<Conf> {
        self.0.lock().unwrap().clone()
    }
    fn last(&self) -> Conf {
        self.all()
            .last()
            .cloned()
            .expect("a handler read the configuration")
    }
}

async fn read_yaml(ctx: Context, State(seen): State<Seen>) -> atombot::Result<()> {
    let conf: Conf = ctx.config("bot.yml").await?;
    seen.0.lock().unwrap().push(conf);
    Ok(())
}

async fn read_toml(ctx: Context, State(seen): State<Seen>) -> atombot::Result<()> {
    let conf: Conf = ctx.config("bot.toml").await?;
    seen.0.lock().unwrap().push(conf);
    Ok(())
}

async fn read_or_report(ctx: Context, State(seen): State<Seen>) -> atombot::Result<()> {
    let conf: Conf = ctx.config_or_report("bot.yml").await?;
    seen.0.lock().unwrap().push(conf);
    Ok(())
}

/// A bot reading `bot.yml` on issues and pushes, against `sim`.
async fn bot_with(sim: Simulator, seen: &Seen) -> TestBot {
    let bot = Bot::new(TestBot::config())
        .with_state(seen.clone())
        .on_named("read", "issues.opened", read_yaml)
        .on_named("read-on-push", "push", read_yaml);
    TestBot::start_with(bot, sim).await.unwrap()
}

fn sim() -> atombot::testing::SimulatorBuilder {
    Simulator::builder()
}

/// The raw-file reads the simulator saw for `repo`.
fn raw_reads(bot: &TestBot, repo: &str) -> Vec<String> {
    bot.sim()
        .requests_to("/raw/")
        .into_iter()
        .filter(|r| r.method == Method::GET && r.path.contains(&format!("/{repo}/raw/")))
        .map(|r| r.path)
        .collect()
}

#[tokio::test]
async fn the_repository_file_is_merged_over_the_defaults() {
    let sim = sim()
        .file(
            OWNER,
            "hello-world",
            FILE,
            "greeting: hi\nlimits:\n  per_user: 5\n",
        )
        .start()
        .await
        .unwrap();
    let seen = Seen::default();
    let bot = bot_with(sim, &seen).await;
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    assert!(received.succeeded(), "{:?}", received.handlers);
    assert_eq!(
        seen.last(),
        Conf {
            greeting: "hi".into(),
            labels: vec!["bug".into()],
            limits: Limits {
                per_day: 3,
                per_user: 5
            },
        }
    );
    let reads = received.calls_to(Method::GET, "/raw/");
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert!(
        reads[0].path.contains("hello-world/raw/"),
        "{}",
        reads[0].path
    );
    assert!(reads[0].path.ends_with("bot.yml"), "{}", reads[0].path);
    // A second delivery is served from the cache.
    bot.receive(events::issue_opened(REPO, 1, "Again"))
        .await
        .unwrap();
    assert_eq!(raw_reads(&bot, "hello-world").len(), 1);
    assert_eq!(seen.all().len(), 2);
    bot.shutdown().await;
}

#[tokio::test]
async fn toml_files_are_read_by_their_extension() {
    let toml = "greeting = \"ahoy\"\nlabels = [\"a\", \"b\"]\n\n[limits]\nper_day = 7\n";
    let sim = sim()
        .file(OWNER, "hello-world", ".atomgit/bot.toml", toml)
        .start()
        .await
        .unwrap();
    let seen = Seen::default();
    let bot = Bot::new(TestBot::config())
        .with_state(seen.clone())
        .on("issues.opened", read_toml);
    let bot = TestBot::start_with(bot, sim).await.unwrap();
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    assert!(received.succeeded(), "{:?}", received.handlers);
    let conf = seen.last();
    assert_eq!(conf.greeting, "ahoy");
    assert_eq!(conf.labels, ["a", "b"]);
    assert_eq!((conf.limits.per_day, conf.limits.per_user), (7, 1));
    bot.shutdown().await;
}

#[tokio::test]
async fn a_repository_without_the_file_falls_back_to_the_organisation() {
    let sim = sim()
        .org_repo(OWNER, ".atomgit")
        .file(OWNER, ".atomgit", FILE, "greeting: from the org\n")
        .start()
        .await
        .unwrap();
    let seen = Seen::default();
    let bot = bot_with(sim, &seen).await;
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    assert!(received.succeeded(), "{:?}", received.handlers);
    assert_eq!(seen.last().greeting, "from the org");
    assert_eq!(seen.last().labels, ["bug"], "defaults fill the rest");
    let reads = received.calls_to(Method::GET, "/raw/");
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert!(reads[0].path.contains("hello-world/raw/"));
    assert_eq!(reads[0].status, Some(404));
    assert!(
        reads[1].path.contains("/.atomgit/raw/"),
        "{}",
        reads[1].path
    );
    assert_eq!(reads[1].status, Some(200));
    bot.shutdown().await;
}

#[tokio::test]
async fn the_fallback_repository_is_a_setting() {
    let sim = sim()
        .org_repo(OWNER, "bot-config")
        .file(OWNER, ".atomgit", FILE, "greeting: not this one\n")
        .file(OWNER, "bot-config", FILE, "greeting: from bot-config\n")
        .start()
        .await
        .unwrap();
    let seen = Seen::default();
    let bot = Bot::new(TestBot::config())
        .repo_config(RepoConfigSettings::default().repo("bot-config"))
        .with_state(seen.clone())
        .on("issues.opened", read_yaml);
    let bot = TestBot::start_with(bot, sim).await.unwrap();
    bot.receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    assert_eq!(seen.last().greeting, "from bot-config");
    bot.shutdown().await;
}

#[tokio::test]
async fn extends_names_a_repository_of_the_same_owner() {
    let sim = sim()
        .org_repo(OWNER, "base")
        .file(OWNER, "hello-world", FILE, "_extends: base\ngreeting: hi\n")
        .file(
            OWNER,
            "base",
            FILE,
            "greeting: base\nlabels: [a, b]\nlimits:\n  per_day: 9\n",
        )
        .start()
        .await
        .unwrap();
    let seen = Seen::default();
    let bot = bot_with(sim, &seen).await;
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    assert!(received.succeeded(), "{:?}", received.handlers);
    assert_eq!(
        seen.last(),
        Conf {
            greeting: "hi".into(),
            labels: vec!["a".into(), "b".into()],
            limits: Limits {
                per_day: 9,
                per_user: 1
            },
        }
    );
    assert_eq!(raw_reads(&bot, "base").len(), 1);
    bot.shutdown().await;
}

#[tokio::test]
async fn extends_names_another_owners_repository_and_path() {
    let sim = sim()
        .org_repo("shared-org", "configs")
        .file(
            OWNER,
            "hello-world",
            FILE,
            "_extends: shared-org/configs:bots/greeter.yml\nlimits:\n  per_user: 2\n",
        )
        // The base's own `_extends` is not followed (one level).
        .file(
            "shared-org",
            "configs",
            "bots/greeter.yml",
            "_extends: elsewhere\ngreeting: shared\nlimits:\n  per_day: 4\n  per_user: 8\n",
        )
        .start()
        .await
        .unwrap();
    let seen = Seen::default();
    let bot = bot_with(sim, &seen).await;
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    assert!(received.succeeded(), "{:?}", received.handlers);
    let conf = seen.last();
    assert_eq!(conf.greeting, "shared");
    assert_eq!((conf.limits.per_day, conf.limits.per_user), (4, 2));
    let reads = raw_reads(&bot, "configs");
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert!(reads[0].ends_with("bots/greeter.yml"), "{}", reads[0]);
    assert!(raw_reads(&bot, "elsewhere").is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn no_file_anywhere_gives_the_defaults() {
    let sim = sim().start().await.unwrap();
    let seen = Seen::default();
    let bot = bot_with(sim, &seen).await;
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    assert!(received.succeeded(), "{:?}", received.handlers);
    assert_eq!(seen.last(), Conf::default());
    let reads = received.calls_to(Method::GET, "/raw/");
    assert_eq!(reads.len(), 2, "repository, then organisation: {reads:?}");
    assert!(reads.iter().all(|r| r.status == Some(404)));
    // Missing is cached too.
    bot.receive(events::issue_opened(REPO, 1, "Again"))
        .await
        .unwrap();
    assert_eq!(bot.sim().requests_to("/raw/").len(), 2);
    bot.shutdown().await;
}

#[tokio::test]
async fn invalid_yaml_fails_the_handler_once_and_is_reported_once() {
    let sim = sim()
        .file(
            OWNER,
            "hello-world",
            FILE,
            "greeting: hi\nlabels: [bug\nlimits: {}\n",
        )
        .start()
        .await
        .unwrap();
    let seen = Seen::default();
    let bot = Bot::new(TestBot::config())
        .with_state(seen.clone())
        .on_named("read", "issues.opened", read_or_report);
    let bot = TestBot::start_with(bot, sim).await.unwrap();
    let first = bot
        .receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    let run = first.handler("read").unwrap();
    assert_eq!(run.attempts, 1, "not retried: {run:?}");
    let Outcome::Failed(message) = &run.outcome else {
        panic!("the handler succeeded: {run:?}");
    };
    assert!(
        message.contains(
            "invalid configuration file atomgit-demo/hello-world:.atomgit/bot.yml at line"
        ),
        "{message}"
    );
    let comments = first.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].contains(".atomgit/bot.yml"), "{comments:?}");

    let second = bot
        .receive(events::issue_opened(REPO, 1, "Again"))
        .await
        .unwrap();
    let run = second.handler("read").unwrap();
    assert_eq!(run.attempts, 1);
    assert!(!run.outcome.is_success());
    assert!(second.comments().is_empty(), "reported once per version");
    assert_eq!(bot.sim().comments(OWNER, "hello-world", 1).len(), 1);
    assert!(seen.all().is_empty());
    bot.shutdown().await;
}

async fn capture_error(
    ctx: Context,
    State(errors): State<Mutex<Vec<String>>>,
) -> atombot::Result<()> {
    match ctx.config::<Conf>("bot.yml").await {
        Err(Error::ConfigFile(e)) => {
            errors.lock().unwrap().push(format!(
                "{}|{:?}|{:?}|{}",
                e.file, e.line, e.field, e.message
            ));
            Err(Error::ConfigFile(e))
        }
        other => {
            errors
                .lock()
                .unwrap()
                .push(format!("unexpected: {:?}", other.map(|_| ())));
            Ok(())
        }
    }
}

#[tokio::test]
async fn a_wrong_type_names_the_file_line_and_field() {
    let sim = sim()
        .file(
            OWNER,
            "hello-world",
            FILE,
            "greeting: hi\nlimits:\n  per_day: many\n",
        )
        .start()
        .await
        .unwrap();
    let bot = Bot::new(TestBot::config())
        .with_state(Mutex::new(Vec::<String>::new()))
        .on_named("read", "issues.opened", capture_error);
    let bot = TestBot::start_with(bot, sim).await.unwrap();
    let received = bot
        .receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    let run = received.handler("read").unwrap();
    assert_eq!(run.attempts, 1, "{run:?}");
    let Outcome::Failed(message) = &run.outcome else {
        panic!("{run:?}");
    };
    assert!(message.contains("at line 3"), "{message}");
    assert!(message.contains("field `limits.per_day`"), "{message}");
    assert!(message.contains("invalid type"), "{message}");
    bot.shutdown().await;
}

fn push_touching(git_ref: &str, modified: Option<&[&str]>) -> atombot::testing::events::Payload {
    let commit = match modified {
        Some(paths) => json!({ "id": "c1", "added": [], "modified": paths, "removed": [] }),
        None => json!({ "id": "c1", "message": "no file lists" }),
    };
    events::push_to(REPO, git_ref)
        .set("commits", json!([commit.clone()]))
        .set("head_commit", commit)
}

#[tokio::test]
async fn a_push_to_the_default_branch_that_changes_the_file_is_seen_next() {
    let sim = sim()
        .file(OWNER, "hello-world", FILE, "greeting: v1\n")
        .start()
        .await
        .unwrap();
    let seen = Seen::default();
    let bot = bot_with(sim, &seen).await;
    bot.receive(events::issue_opened(REPO, 1, "One"))
        .await
        .unwrap();
    assert_eq!(seen.last().greeting, "v1");

    bot.sim()
        .add_file(OWNER, "hello-world", FILE, "greeting: v2\n");
    bot.receive(events::issue_opened(REPO, 1, "Cached"))
        .await
        .unwrap();
    assert_eq!(
        seen.last().greeting,
        "v1",
        "cached until a push says otherwise"
    );

    // A push elsewhere, or to the default branch not touching the file: still cached.
    let other_branch = push_touching("refs/heads/dev", Some(&[FILE]));
    bot.receive(other_branch).await.unwrap();
    assert_eq!(seen.last().greeting, "v1");
    let readme_only = push_touching("refs/heads/main", Some(&["README.md"]));
    bot.receive(readme_only).await.unwrap();
    assert_eq!(seen.last().greeting, "v1");

    // The push's own handler already sees the new contents.
    let received = bot
        .receive(push_touching("refs/heads/main", Some(&[FILE])))
        .await
        .unwrap();
    assert!(received.succeeded(), "{:?}", received.handlers);
    assert_eq!(seen.last().greeting, "v2");
    bot.receive(events::issue_opened(REPO, 1, "Next"))
        .await
        .unwrap();
    assert_eq!(seen.last().greeting, "v2");

    // A push whose payload lists no files drops the repository's files.
    bot.sim()
        .add_file(OWNER, "hello-world", FILE, "greeting: v3\n");
    bot.receive(push_touching("refs/heads/main", None))
        .await
        .unwrap();
    assert_eq!(seen.last().greeting, "v3");
    bot.shutdown().await;
}

#[tokio::test]
async fn concurrent_deliveries_of_a_cold_repository_read_each_file_once() {
    let sim = sim()
        .org_repo(OWNER, "base")
        .file(OWNER, "hello-world", FILE, "_extends: base\ngreeting: hi\n")
        .file(OWNER, "base", FILE, "labels: [shared]\n")
        .start()
        .await
        .unwrap();
    let seen = Seen::default();
    let bot = bot_with(sim, &seen).await;
    let deliveries = (0..100).map(|i| {
        std::future::IntoFuture::into_future(bot.receive(events::issue_opened(
            REPO,
            1,
            &format!("#{i}"),
        )))
    });
    let received = join_all(deliveries).await;
    for r in &received {
        let r = r.as_ref().unwrap();
        assert!(r.succeeded(), "{:?}", r.handlers);
    }
    let all = seen.all();
    assert_eq!(all.len(), 100);
    assert!(
        all.iter()
            .all(|c| c.greeting == "hi" && c.labels == ["shared"]),
        "{:?}",
        all.first()
    );
    let reads: Vec<String> = bot
        .sim()
        .requests_to("/raw/")
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(reads.len(), 2, "one request per distinct file: {reads:?}");
    assert_eq!(raw_reads(&bot, "hello-world").len(), 1);
    assert_eq!(raw_reads(&bot, "base").len(), 1);
    bot.shutdown().await;
}

#[tokio::test]
async fn extends_errors_name_the_file_at_fault() {
    let sim = sim()
        .org_repo(OWNER, "base")
        .file(OWNER, "hello-world", FILE, "greeting: hi\n_extends: 42\n")
        .file(
            OWNER,
            "bot-playground",
            FILE,
            "_extends: base\ngreeting: hi\n",
        )
        .file(
            OWNER,
            "base",
            FILE,
            "labels: [a]\nlimits:\n  per_day: lots\n",
        )
        .start()
        .await
        .unwrap();
    let bot = Bot::new(TestBot::config())
        .with_state(Mutex::new(Vec::<String>::new()))
        .on_named("read", "issues.opened", capture_error);
    let bot = TestBot::start_with(bot, sim).await.unwrap();
    let failure =
        |received: &atombot::testing::Received| match &received.handler("read").unwrap().outcome {
            Outcome::Failed(message) => message.clone(),
            Outcome::Succeeded => panic!("the handler succeeded"),
            _ => panic!("unexpected outcome"),
        };
    let not_a_string = bot
        .receive(events::issue_opened(REPO, 1, "Crash"))
        .await
        .unwrap();
    let message = failure(&not_a_string);
    assert!(
        message.contains("hello-world:.atomgit/bot.yml at line 2"),
        "{message}"
    );
    assert!(message.contains("`_extends` must be a string"), "{message}");

    let in_base = bot
        .receive(events::issue_opened(
            "atomgit-demo/bot-playground",
            1,
            "Crash",
        ))
        .await
        .unwrap();
    let message = failure(&in_base);
    assert!(
        message.contains("atomgit-demo/base:.atomgit/bot.yml at line 3"),
        "{message}"
    );
    assert!(message.contains("field `limits.per_day`"), "{message}");
    bot.shutdown().await;
}
