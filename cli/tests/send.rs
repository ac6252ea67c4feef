//! `atombot send` posts a signed delivery that a receiver verifies, and reports the answer,
//! in the default build and the lean one (`--no-default-features`, no simulator).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atombot::testing::{WebhookReceiver, events};

const SECRET: &str = "cli-test-secret-0451";

/// Runs the built `atombot` binary with `args` and, if given, the webhook secret.
async fn atombot(args: Vec<String>, secret: Option<&'static str>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atombot"));
        command.args(&args).env_remove("ATOMGIT_WEBHOOK_SECRET");
        if let Some(secret) = secret {
            command.env("ATOMGIT_WEBHOOK_SECRET", secret);
        }
        command.output().unwrap()
    })
    .await
    .unwrap()
}

fn write_payload(name: &str, body: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn atomgit_push_is_accepted() {
    let receiver = WebhookReceiver::start(SECRET).await.unwrap();
    let body = events::push("acme/app")
        .installation(14)
        .into_value()
        .to_string();
    let file = write_payload("cli-send-push.json", &body);
    let url = receiver.url();
    let out = atombot(
        args(&["send", "push", file.to_str().unwrap(), "--to", &url]),
        Some(SECRET),
    )
    .await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("HTTP 202"), "{stdout}");
    assert!(stdout.contains("accepted push"), "{stdout}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));

    let [delivery] = receiver.deliveries().try_into().unwrap();
    assert_eq!(delivery.event(), "push");
    assert_eq!(
        delivery.installation_id(),
        Some(atombot::models::InstallationId(14))
    );
    assert_eq!(delivery.body().as_ref(), body.as_bytes());
}

#[tokio::test]
async fn gitcode_password_mode_with_fixed_delivery_id() {
    let receiver = WebhookReceiver::start(SECRET).await.unwrap();
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/payloads/gogitcode-mr-open.json"
    );
    let url = receiver.url();
    let out = atombot(
        args(&[
            "send",
            "Merge Request Hook",
            capture,
            "--to",
            &url,
            "--dialect",
            "gitcode",
            "--password",
            "--delivery-id",
            "redeliver-7",
        ]),
        Some(SECRET),
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("accepted pull_request.opened"), "{stdout}");
    let [delivery] = receiver.deliveries().try_into().unwrap();
    assert_eq!(delivery.id(), "redeliver-7");
    assert_eq!(delivery.original_event(), "Merge Request Hook");
}

#[tokio::test]
async fn a_refused_delivery_exits_non_zero() {
    let receiver = WebhookReceiver::start("another-secret").await.unwrap();
    let file = write_payload("cli-send-refused.json", r#"{"ref":"refs/heads/main"}"#);
    let url = receiver.url();
    let out = atombot(
        args(&["send", "push", file.to_str().unwrap(), "--to", &url]),
        Some(SECRET),
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("HTTP 401"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stderr).contains("401"));
    assert_eq!(receiver.rejections().len(), 1);
}

#[tokio::test]
async fn a_missing_secret_is_a_clear_error() {
    let file = write_payload("cli-send-nosecret.json", "{}");
    let out = atombot(
        args(&[
            "send",
            "push",
            file.to_str().unwrap(),
            "--to",
            "http://127.0.0.1:9/",
        ]),
        None,
    )
    .await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("ATOMGIT_WEBHOOK_SECRET"));
}

/// `send` is in both builds (the tests above run in each); the simulator commands only with
/// the default feature `sim`, so `--no-default-features` gives a tool without them.
#[tokio::test]
async fn the_simulator_commands_follow_the_sim_feature() {
    let sim = atombot(args(&["sim", "--help"]), None).await;
    let login = atombot(args(&["oauth", "login", "--help"]), None).await;
    let login_help = text(&login.stdout);
    assert!(login.status.success(), "{}", text(&login.stderr));
    if cfg!(feature = "sim") {
        assert!(sim.status.success(), "{}", text(&sim.stderr));
        assert!(login_help.contains("--sim"), "{login_help}");
    } else {
        assert!(!sim.status.success());
        assert!(
            text(&sim.stderr).contains("unrecognized subcommand"),
            "{}",
            text(&sim.stderr)
        );
        assert!(!login_help.contains("--sim"), "{login_help}");
    }
    let send = atombot(args(&["send", "--help"]), None).await;
    assert!(send.status.success(), "{}", text(&send.stderr));
}
