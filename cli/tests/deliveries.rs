//! Issue 15, acceptance 2: `atombot deliveries list | show | replay | export` against a bot
//! (SQLite queue) that received deliveries in both header dialects; replay runs the handlers
//! again under a new delivery id; an export goes back through `atombot send`.

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atombot::runtime::RuntimeSettings;
use atombot::testing::{DeliveryOptions, Simulator, events};
use atombot::{Bot, Context};

fn atombot(queue: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args(args)
        .env("ATOMBOT_QUEUE", queue)
        .env_remove("ATOMBOT_QUEUE_NAME")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn wait_until(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_delivery_log_commands_list_show_replay_and_export() {
    let dir = std::env::temp_dir().join(format!(
        "atombot-cli-deliveries-{}-{}",
        std::process::id(),
        fastrand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let queue = format!("sqlite://{}", dir.join("queue.db").display());
    let sim = Simulator::start().await.unwrap();
    let mut settings = RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some("127.0.0.1:0".into()),
        "ATOMBOT_QUEUE" => Some(queue.clone()),
        "ATOMBOT_DELIVERY_LOG" => Some("true".into()),
        _ => None,
    })
    .unwrap();
    settings.queue = settings.queue.poll_interval(Duration::from_millis(20));
    let keys = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = keys.clone();
    let bot = Bot::new(sim.app_config())
        .settings(settings)
        .on_named("count", "push", move |ctx: Context| {
            seen.lock().unwrap().push(ctx.idempotency_key().to_owned());
            async { Ok::<_, atombot::Error>(()) }
        })
        .on_named("broken", "issues.opened", |_: Context| async {
            Err::<(), _>(atombot::Abort::new("broken on purpose"))
        })
        .start()
        .await
        .unwrap();
    sim.set_webhook_url(bot.url("/webhook"));
    let sent = sim
        .deliver_with(
            "push",
            events::push("atomgit-demo/hello-world").installation(14),
            &DeliveryOptions::new().delivery_id("cli-hub-push"),
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.body);
    let sent = sim
        .deliver_with(
            "Push Hook",
            events::gitlab_push(),
            &DeliveryOptions::gitcode().delivery_id("cli-gitcode-push"),
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.body);
    let sent = sim
        .deliver_with(
            "issues",
            events::issue_opened("atomgit-demo/hello-world", 1, "Hello").installation(14),
            &DeliveryOptions::new().delivery_id("cli-issue"),
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.body);
    let listed = || stdout(&atombot(&queue, &["deliveries", "list"]));
    assert!(
        wait_until(20, || {
            let l = listed();
            l.contains("count=succeeded")
                && l.matches("count=succeeded").count() == 2
                && l.contains("broken=failed")
        })
        .await,
        "{}",
        listed()
    );

    // list, with filters.
    let all = listed();
    assert_eq!(all.lines().count(), 3, "{all}");
    assert!(
        all.lines().next().unwrap().starts_with("cli-issue\t"),
        "newest first: {all}"
    );
    let failed = stdout(&atombot(&queue, &["deliveries", "list", "--failed"]));
    assert_eq!(failed.lines().count(), 1, "{failed}");
    assert!(failed.contains("cli-issue") && failed.contains("issues.opened"));
    let pushes = stdout(&atombot(&queue, &["deliveries", "list", "--event", "push"]));
    assert_eq!(pushes.lines().count(), 2, "{pushes}");
    let recent = stdout(&atombot(&queue, &["deliveries", "list", "--since", "1h"]));
    assert_eq!(recent.lines().count(), 3, "{recent}");
    let later = stdout(&atombot(
        &queue,
        &["deliveries", "list", "--since", "2999-01-01T00:00:00Z"],
    ));
    assert_eq!(later.trim(), "no deliveries");

    // show: headers of its dialect, outcomes, the body pretty-printed.
    let shown = stdout(&atombot(
        &queue,
        &["deliveries", "show", "cli-gitcode-push"],
    ));
    assert!(shown.contains("x-gitcode-event: Push Hook"), "{shown}");
    assert!(shown.contains("count\tsucceeded\tattempt 1"), "{shown}");
    assert!(
        shown.contains("\n  \"object_kind\": \"push\""),
        "pretty-printed: {shown}"
    );
    assert!(!shown.to_lowercase().contains("signature"), "{shown}");
    let missing = atombot(&queue, &["deliveries", "show", "nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no delivery \"nope\""));

    // replay: the handlers run again under a new id, and it says so.
    let replayed = stdout(&atombot(&queue, &["deliveries", "replay", "cli-hub-push"]));
    assert!(
        replayed.contains("replaying cli-hub-push as cli-hub-push.replay-"),
        "{replayed}"
    );
    assert!(replayed.contains("new idempotency keys"), "{replayed}");
    assert!(
        wait_until(20, || keys.lock().unwrap().len() == 3).await,
        "{:?}",
        keys.lock().unwrap()
    );
    let third = keys.lock().unwrap()[2].clone();
    assert!(
        third.starts_with("cli-hub-push.replay-") && third.ends_with(":count"),
        "{third}"
    );
    assert!(
        wait_until(20, || listed().contains("replay of cli-hub-push")).await,
        "{}",
        listed()
    );

    // export → send: the same body again, as a new delivery with the GitCode headers.
    let export = stdout(&atombot(
        &queue,
        &["deliveries", "export", "cli-gitcode-push"],
    ));
    let file = dir.join("export.json");
    std::fs::write(&file, &export).unwrap();
    let secret = sim.app_config();
    let secret = secrecy::ExposeSecret::expose_secret(&secret.webhook_secrets()[0]).to_owned();
    let sent = Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args(["send", file.to_str().unwrap(), "--to", &bot.url("/webhook")])
        .env("ATOMGIT_WEBHOOK_SECRET", &secret)
        .output()
        .unwrap();
    let sent = stdout(&sent);
    assert!(
        sent.contains("sent the export of delivery cli-gitcode-push"),
        "{sent}"
    );
    assert!(sent.contains("HTTP 202"), "{sent}");
    assert!(
        wait_until(20, || keys.lock().unwrap().len() == 4).await,
        "{:?}",
        keys.lock().unwrap()
    );
    // An ordinary payload file alone is refused with a hint.
    let payload = dir.join("payload.json");
    std::fs::write(&payload, "{}").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args([
            "send",
            payload.to_str().unwrap(),
            "--to",
            &bot.url("/webhook"),
        ])
        .env("ATOMGIT_WEBHOOK_SECRET", &secret)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not an export"));
    bot.shutdown().await;
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}
