//! Acceptance 7: headless Chromium drives `examples/oauth-login.rs` against the simulator
//! (login → authorize → callback → the repository list) in one navigation.
//!
//! Needs Debian's `chromium` (`.ci/oauth-deps.sh`); skipped with a message when absent.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Kills the example when the test ends, however it ends.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn headless_chromium_signs_in_and_sees_the_repositories() {
    if !common::chromium_or_skip() {
        return;
    }
    let example = common::example("oauth-login");
    assert!(
        example.exists(),
        "{} is missing: run `cargo test` (which builds the examples)",
        example.display()
    );
    let mut child = Command::new(&example)
        .env("ATOMBOT_EXAMPLE_EXIT_AFTER", "120")
        .env_remove("ATOMGIT_APP_ID")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = Guard(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("[bot] open ") {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the example printed its login URL");

    let output = common::dump_dom(&url);
    let dom = String::from_utf8_lossy(&output.stdout);
    drop(guard);
    assert!(
        dom.contains("Repositories of octo-user"),
        "chromium did not reach the repository page; DOM:\n{dom}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dom.contains("octo-user/dotfiles"), "{dom}");
    assert!(dom.contains("octo-user/rust-playground"), "{dom}");
}
