//! Slash commands against the simulator over real HTTP: role checks through the platform's
//! member and permission calls, refusals, `/help`, quoted replies, several commands in one
//! comment, the bot's own comments; GitHub-shaped `issue_comment` and GitLab-shaped notes.

use std::sync::{Arc, Mutex};

use atombot::commands::{Command, Invocation, Role};
use atombot::testing::events::Payload;
use atombot::testing::{Simulator, TestBot, events};
use atombot::{Bot, Context};
use http::Method;

const REPO: &str = "atomgit-demo/hello-world";

/// What the command handlers ran: `name args…` per run.
#[derive(Default)]
struct Ran(Mutex<Vec<String>>);

impl Ran {
    fn push(&self, cmd: &Invocation) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", cmd.name, cmd.args.join(" ")));
    }

    fn list(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A bot with `/label` (members) and `/ping` (anyone), and what they ran.
async fn start() -> (TestBot, Arc<Ran>) {
    let ran = Arc::new(Ran::default());
    let (on_label, on_ping) = (Arc::clone(&ran), Arc::clone(&ran));
    let bot = Bot::new(TestBot::config())
        .command(
            Command::new("label")
                .role(Role::Member)
                .about("Adds labels"),
            move |ctx: Context, cmd: Invocation| {
                on_label.push(&cmd);
                async move {
                    let labels: Vec<&str> = cmd.args.iter().map(String::as_str).collect();
                    let number = ctx.issue_number().unwrap_or_default();
                    ctx.issues()?.add_labels(number, &labels).await?;
                    Ok::<_, atombot::Error>(())
                }
            },
        )
        .command("ping", move |_ctx: Context, cmd: Invocation| {
            on_ping.push(&cmd);
            async { Ok::<_, atombot::Error>(()) }
        });
    let sim = Simulator::builder()
        .member("atomgit-demo", "alice", "member")
        .start()
        .await
        .unwrap();
    (TestBot::start_with(bot, sim).await.unwrap(), ran)
}

/// A comment saying `body` by `login` on issue 1, in the GitHub or the GitLab dialect.
fn comment(gitlab: bool, login: &str, body: &str) -> Payload {
    if gitlab {
        events::gitlab::note_on_issue(REPO, 1, body)
            .set("/user/username", login)
            .set("/user/name", login)
    } else {
        events::issue_comment_created(REPO, 1, body)
            .set("/sender/login", login)
            .set("/comment/user/login", login)
    }
}

const DIALECTS: [bool; 2] = [false, true];

#[tokio::test]
async fn a_member_labels_an_issue() {
    for gitlab in DIALECTS {
        let (bot, ran) = start().await;
        let received = bot
            .receive(comment(
                gitlab,
                "alice",
                "Looks like a bug.\n/label bug \"needs triage\"",
            ))
            .await
            .unwrap();
        assert!(received.succeeded(), "gitlab={gitlab}: {received:?}");
        let calls = received.calls_to(Method::POST, "/issues/1/labels");
        assert_eq!(
            calls.len(),
            1,
            "gitlab={gitlab}: {:?}",
            received.api_calls()
        );
        let sent = calls[0].json().unwrap().to_string();
        assert!(
            sent.contains("\"bug\"") && sent.contains("\"needs triage\""),
            "{sent}"
        );
        assert!(received.comments().is_empty(), "{:?}", received.comments());
        assert_eq!(ran.list(), ["label bug needs triage"]);
        bot.shutdown().await;
    }
}

#[tokio::test]
async fn a_non_member_gets_one_refusal_and_no_label() {
    for gitlab in DIALECTS {
        let (bot, ran) = start().await;
        let received = bot
            .receive(comment(gitlab, "mallory", "/label bug\nplease"))
            .await
            .unwrap();
        assert!(received.succeeded(), "gitlab={gitlab}: {received:?}");
        assert!(received.calls_to(Method::POST, "/labels").is_empty());
        assert!(ran.list().is_empty(), "{:?}", ran.list());
        let replies = received.comments();
        assert_eq!(replies.len(), 1, "gitlab={gitlab}: one reply: {replies:?}");
        assert!(
            replies[0].contains("@mallory")
                && replies[0].contains("`/label`")
                && replies[0].contains("Member"),
            "{replies:?}"
        );
        // The role was checked on the platform.
        assert!(
            !received
                .calls_to(Method::GET, "/members/mallory")
                .is_empty(),
            "{:?}",
            received.api_calls()
        );
        bot.shutdown().await;
    }
}

#[tokio::test]
async fn a_quoted_or_fenced_command_does_nothing() {
    for gitlab in DIALECTS {
        let (bot, ran) = start().await;
        let received = bot
            .receive(comment(
                gitlab,
                "alice",
                "> /label bug\n\nI disagree.\n```\n/ping\n```",
            ))
            .await
            .unwrap();
        assert!(received.succeeded());
        assert!(received.calls_to(Method::POST, "/labels").is_empty());
        assert!(received.comments().is_empty());
        assert!(ran.list().is_empty(), "{:?}", ran.list());
        bot.shutdown().await;
    }
}

#[tokio::test]
async fn two_commands_in_one_comment_both_run_once() {
    for gitlab in DIALECTS {
        let (bot, ran) = start().await;
        let body = format!(
            "/ping one\n@{} label ui",
            bot.sim().bot_login().trim_end_matches("[bot]")
        );
        let received = bot.receive(comment(gitlab, "alice", &body)).await.unwrap();
        assert!(received.succeeded(), "{received:?}");
        let mut runs = ran.list();
        runs.sort();
        assert_eq!(runs, ["label ui", "ping one"], "gitlab={gitlab}");
        assert_eq!(received.calls_to(Method::POST, "/issues/1/labels").len(), 1);
        bot.shutdown().await;
    }
}

#[tokio::test]
async fn help_lists_the_registered_commands_and_their_roles() {
    for gitlab in DIALECTS {
        let (bot, ran) = start().await;
        let received = bot
            .receive(comment(gitlab, "mallory", "/help"))
            .await
            .unwrap();
        assert!(received.succeeded());
        let replies = received.comments();
        assert_eq!(replies.len(), 1, "{replies:?}");
        let help = &replies[0];
        for needle in [
            "`/label`",
            "Member",
            "Adds labels",
            "`/ping`",
            "Anyone",
            "`/help`",
        ] {
            assert!(help.contains(needle), "{needle} missing from {help}");
        }
        assert!(ran.list().is_empty());
        bot.shutdown().await;
    }
}

#[tokio::test]
async fn the_bots_own_comment_runs_nothing() {
    for gitlab in DIALECTS {
        let (bot, ran) = start().await;
        let own = bot.sim().bot_login();
        let received = bot
            .receive(comment(gitlab, &own, "/ping\n/label bug\n/help"))
            .await
            .unwrap();
        assert!(received.succeeded());
        assert!(ran.list().is_empty(), "{:?}", ran.list());
        assert!(received.comments().is_empty());
        assert!(
            received.api_calls().is_empty(),
            "{:?}",
            received.api_calls()
        );
        bot.shutdown().await;
    }
}

#[tokio::test]
async fn pull_request_comments_run_commands_too() {
    let (bot, ran) = start().await;
    let note =
        events::gitlab::note_on_merge_request(REPO, 2, "/ping mr").set("/user/username", "alice");
    let received = bot.receive(note).await.unwrap();
    assert!(received.succeeded(), "{received:?}");
    assert_eq!(ran.list(), ["ping mr"]);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_command_registered_twice_fails_at_start() {
    let bot = Bot::new(TestBot::config())
        .command("ping", |_c: Context, _i: Invocation| async {
            Ok::<_, atombot::Error>(())
        })
        .command("Ping", |_c: Context, _i: Invocation| async {
            Ok::<_, atombot::Error>(())
        });
    let Err(error) = TestBot::start(bot).await else {
        panic!("a command registered twice was accepted");
    };
    assert!(error.to_string().contains("registered twice"), "{error}");
}

#[tokio::test]
async fn write_and_author_roles_follow_the_platform() {
    let ran = Arc::new(Ran::default());
    let (on_close, on_retitle) = (Arc::clone(&ran), Arc::clone(&ran));
    let bot = Bot::new(TestBot::config())
        .command(
            Command::new("close").role(Role::Write),
            move |_ctx: Context, cmd: Invocation| {
                on_close.push(&cmd);
                async { Ok::<_, atombot::Error>(()) }
            },
        )
        .command(
            Command::new("retitle").role(Role::Author),
            move |_ctx: Context, cmd: Invocation| {
                on_retitle.push(&cmd);
                async { Ok::<_, atombot::Error>(()) }
            },
        );
    let sim = Simulator::builder()
        .permission("atomgit-demo", "hello-world", "reader", "read")
        .permission("atomgit-demo", "hello-world", "writer", "write")
        .start()
        .await
        .unwrap();
    let bot = TestBot::start_with(bot, sim).await.unwrap();
    let by =
        |login: &str, body: &str| comment(false, login, body).set("/issue/user/login", "mallory");
    let received = bot
        .receive(by("reader", "/close\n/retitle x"))
        .await
        .unwrap();
    assert_eq!(received.comments().len(), 1, "{:?}", received.comments());
    let refusal = &received.comments()[0];
    assert!(
        refusal.contains("`/close`") && refusal.contains("`/retitle`"),
        "{refusal}"
    );
    bot.receive(by("writer", "/close")).await.unwrap();
    bot.receive(by("mallory", "/retitle y\n/close"))
        .await
        .unwrap();
    assert_eq!(ran.list(), ["close ", "retitle y"]);
    bot.shutdown().await;
}
