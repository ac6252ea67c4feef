//! `atombot jwt | installations | token | repos` against the simulator, as a user runs them.

use std::process::{Command, Output};

use atombot::testing::Simulator;

async fn atombot(sim: &Simulator, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atombot"));
    cmd.args(args).envs(sim.env()).env_remove("RUST_BACKTRACE");
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_installations_and_repositories() {
    let sim = Simulator::start().await.unwrap();
    let out = atombot(&sim, &["installations"]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("14\tatomgit-demo")),
        "{}",
        stdout(&out)
    );
    let out = atombot(&sim, &["repos", "--org", "atomgit-demo"]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        "atomgit-demo/hello-world\natomgit-demo/bot-playground\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_prints_the_expiry_and_hides_the_token_unless_asked() {
    let sim = Simulator::start().await.unwrap();
    let out = atombot(&sim, &["token", "14"]).await;
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("expires at"), "{text}");
    assert!(!text.contains("ats_"), "the token was printed: {text}");
    let out = atombot(&sim, &["token", "14", "--show-token"]).await;
    assert!(stdout(&out).lines().any(|l| l.starts_with("ats_")));
    assert_eq!(sim.mint_count(14), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_one_clear_line_and_a_failing_exit() {
    let sim = Simulator::start().await.unwrap();
    let out = atombot(&sim, &["token", "99"]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: ") && err.contains("404"), "{err}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atombot"));
    cmd.arg("installations")
        .envs(sim.env())
        .env("ATOMGIT_APP_ID", "seventy-five");
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ATOMGIT_APP_ID"));
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_prints_a_token_the_simulator_accepts() {
    let sim = Simulator::start().await.unwrap();
    let out = atombot(&sim, &["jwt"]).await;
    let jwt = stdout(&out).trim().to_owned();
    assert_eq!(jwt.split('.').count(), 3, "{jwt}");
    let client = atombot::Client::builder()
        .base_url(sim.url())
        .token_source(std::sync::Arc::new(atombot::auth::StaticToken::new(
            jwt, "cli-jwt",
        )))
        .build()
        .unwrap();
    assert_eq!(client.installations().list().await.unwrap().len(), 2);
}
