//! Acceptance 7: the README's first command, `cargo run --example repo-lister`, works
//! offline and prints the repositories of the simulator's organisation.

mod common;

use std::process::Command;

#[test]
fn repo_lister_runs_offline() {
    let out = Command::new(common::example("repo-lister"))
        .env_remove("ATOMGIT_APP_ID")
        .env_remove("ATOMGIT_API_URL")
        .output()
        .expect("the repo-lister example is built by `cargo test`");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("using the local simulator"), "{stdout}");
    assert!(stdout.contains("atomgit-demo/hello-world"), "{stdout}");
    assert!(stdout.contains("atomgit-demo/bot-playground"), "{stdout}");
}
