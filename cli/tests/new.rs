//! `atombot new`: the scaffolded bot builds and passes its own tests offline, lists every
//! setting, and the command refuses what it must not overwrite.
//!
//! `slow_scaffolded_bot_passes_its_own_cargo_test_offline` is the slow one: it compiles
//! atombot once more, for the new crate, in `target/scaffold-test`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atombot::testing::events;

/// Runs the built `atombot` binary with `args` in `dir`.
fn atombot(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory under this workspace's `target/tmp`: inside the atombot workspace, so
/// the new crate must declare a workspace of its own.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("atombot-new-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// The atombot checkout (the workspace root).
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

#[test]
fn slow_scaffolded_bot_passes_its_own_cargo_test_offline() {
    let dir = scratch();
    let out = atombot(dir.path(), &["new", "x"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Created bot `x`"));
    let bot = dir.path().join("x");
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "src/main.rs",
        "tests/bot.rs",
        ".env.example",
        "README.md",
        ".gitignore",
        "payloads/issues-opened.json",
    ] {
        assert!(bot.join(file).is_file(), "{file} is missing");
    }
    let manifest = fs::read_to_string(bot.join("Cargo.toml")).unwrap();
    let checkout = fs::canonicalize(checkout()).unwrap();
    assert!(
        manifest.contains(&format!("path = \"{}\"", checkout.display())),
        "{manifest}"
    );

    // One cargo invocation, offline, on the versions of atombot's own Cargo.lock; a target
    // directory of its own under target/, so nothing of the workspace's build is reused.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("scaffold-test");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["test", "--offline", "--color", "never"])
        .current_dir(&bot)
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("test an_opened_issue_is_thanked ... ok"),
        "{stdout}"
    );
    assert!(
        stdout.contains("test a_closed_issue_is_left_alone ... ok"),
        "{stdout}"
    );
    // The new crate's own code compiles without a warning.
    let own = |line: &str| {
        let line = line.trim_start();
        line.starts_with("--> src/") || line.starts_with("--> tests/")
    };
    assert!(!stderr.lines().any(own), "{stderr}");
}

#[test]
fn a_non_empty_directory_is_refused() {
    let dir = scratch();
    fs::create_dir(dir.path().join("taken")).unwrap();
    fs::write(dir.path().join("taken/keep.txt"), "mine").unwrap();
    let out = atombot(dir.path(), &["new", "taken"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(fs::read_dir(dir.path().join("taken")).unwrap().count(), 1);

    // An existing empty directory is fine.
    fs::create_dir(dir.path().join("empty")).unwrap();
    let out = atombot(dir.path(), &["new", "empty", "--name", "empty-bot"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = fs::read_to_string(dir.path().join("empty/Cargo.toml")).unwrap();
    assert!(manifest.contains(r#"name = "empty-bot""#), "{manifest}");
}

#[test]
fn an_invalid_name_is_refused_before_anything_is_written() {
    let dir = scratch();
    let out = atombot(dir.path(), &["new", "9lives"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot start with a digit"));
    let out = atombot(dir.path(), &["new", "ok-dir", "--name", "my bot"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("invalid package name `my bot`"));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn atombot_from_a_version_or_another_checkout() {
    let dir = scratch();
    let out = atombot(
        dir.path(),
        &["new", "published", "--atombot-version", "0.2"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = fs::read_to_string(dir.path().join("published/Cargo.toml")).unwrap();
    assert!(manifest.contains("atombot = \"0.2\"\n"), "{manifest}");
    assert!(!dir.path().join("published/Cargo.lock").exists());

    let out = atombot(
        dir.path(),
        &[
            "new",
            "elsewhere",
            "--atombot-path",
            dir.path().to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("has no Cargo.toml"));
}

/// Every setting name in atombot's registry (`atombot::settings::ALL`); a patterned one
/// (`ATOMBOT_API_PATH_<NAME>`) as its prefix (`ATOMBOT_API_PATH_`).
fn setting_names() -> Vec<String> {
    let mut names: Vec<String> = atombot::settings::ALL
        .iter()
        .map(|s| s.name.split('<').next().unwrap_or(s.name).to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn env_example_lists_every_setting_with_a_meaning() {
    let names = setting_names();
    assert!(names.len() > 40, "found only {names:?}");
    let dir = scratch();
    let out = atombot(dir.path(), &["new", "b", "--atombot-version", "0.1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let example = fs::read_to_string(dir.path().join("b/.env.example")).unwrap();
    let lines: Vec<&str> = example.lines().collect();
    for name in &names {
        // `NAME=…` (or `# NAME=…`; for a prefix, `# NAME<SUFFIX>=…`), after a comment line.
        let is_set = |line: &str| {
            let line = line.trim_start_matches("# ");
            match line.strip_prefix(name.as_str()) {
                Some(rest) => rest.starts_with('=') || name.ends_with('_'),
                None => false,
            }
        };
        let at = lines
            .iter()
            .position(|l| is_set(l))
            .unwrap_or_else(|| panic!("{name} is not in .env.example"));
        assert!(
            at > 0 && lines[at - 1].starts_with('#'),
            "{name} has no meaning"
        );
    }
}

#[test]
fn the_sample_delivery_is_the_test_kits_issue_opened() {
    let sample = events::issue_opened("atomgit-demo/hello-world", 1, "Hello from the simulator")
        .installation(14)
        .into_value();
    let dir = scratch();
    let out = atombot(dir.path(), &["new", "b", "--atombot-version", "0.1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = fs::read(dir.path().join("b/payloads/issues-opened.json")).unwrap();
    let written: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(
        written,
        sample,
        "{}",
        serde_json::to_string_pretty(&sample).unwrap()
    );
}
