//! Which way dependencies point (STYLE.md): the lower layers name nothing above them.
//!
//! `client`, `auth`, `models` and the crate's `Error` never name the job queue, the runtime,
//! the webhook receiver, OAuth or the handler context, not even in a doc link; `config`
//! never imports `client` (the client reads its settings, not the other way round).

use std::fs;
use std::path::{Path, PathBuf};

/// Strings that name a layer above `client`, `auth`, `models` and `error`.
const UPWARD: [&str; 5] = [
    "atombot_jobs",
    "crate::runtime",
    "crate::webhook",
    "crate::oauth",
    "crate::context",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` and `.md` file under `dir`, or `dir` itself when it is a file.
fn sources(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_owned()];
    }
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "rs" || ext == "md")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// `file:line: text` for every line of the files under `dirs` that contains one of `needles`.
fn offending_lines(dirs: &[&str], needles: &[&str]) -> Vec<String> {
    let root = root();
    let mut found = Vec::new();
    for dir in dirs {
        let files = sources(&root.join(dir));
        assert!(!files.is_empty(), "no sources under {dir}");
        for file in files {
            let text =
                fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for (number, line) in text.lines().enumerate() {
                for needle in needles {
                    if line.contains(needle) {
                        let name = file.strip_prefix(&root).unwrap_or(&file);
                        found.push(format!(
                            "{}:{}: names `{needle}`: {}",
                            name.display(),
                            number + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn client_auth_models_and_error_name_nothing_above_them() {
    let found = offending_lines(
        // `error.rs` names the retry-steering types of `steer.rs`, so that file is held to the
        // same rule (the runtime applies the table, in `runtime/steer.rs`).
        &[
            "src/client",
            "src/auth",
            "src/models",
            "src/error.rs",
            "src/steer.rs",
        ],
        &UPWARD,
    );
    assert!(found.is_empty(), "upward references:\n{}", found.join("\n"));
}

#[test]
fn config_does_not_import_the_client() {
    let found = offending_lines(&["src/config"], &["crate::client"]);
    assert!(
        found.is_empty(),
        "config names the client:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_reports_file_and_line() {
    let found = offending_lines(&["tests/structure.rs"], &["atombot_jobs"]);
    assert!(
        found
            .first()
            .is_some_and(|line| line.starts_with("tests/structure.rs:")),
        "{found:?}"
    );
}
