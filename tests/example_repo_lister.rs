//! Acceptance 7: the README's first command, `cargo run --example repo-lister`, works
//! offline and prints the repositories of the simulator's organisation.

use std::path::PathBuf;
use std::process::Command;

/// `cargo test` builds the examples next to the test binaries.
fn example(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples").join(name)
}

#[test]
fn repo_lister_runs_offline() {
    let out = Command::new(example("repo-lister"))
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
