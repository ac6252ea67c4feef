//! Issue 11: the crate's modules depend on each other one way only — queue → store,
//! backend → store, worker → backend — and no source file is pasted into another with
//! `include!` (the SQL store is one module, generic over the dialect).

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source file");
                out.push((path, text));
            }
        }
    }
    out
}

/// The paths among `forbidden` that `text` names (`crate::name` or `crate::{…name…}`),
/// ignoring comments.
fn names(text: &str, forbidden: &[&str]) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    for module in forbidden {
        let direct = format!("crate::{module}");
        let hit = code.match_indices(&direct).any(|(i, _)| {
            let after = code[i + direct.len()..].chars().next();
            !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        let grouped = code.match_indices("crate::{").any(|(i, _)| {
            let group = &code[i..];
            let group = &group[..group.find('}').unwrap_or(group.len())];
            group
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| word == *module)
        });
        if hit || grouped {
            found.push(direct);
        }
    }
    found
}

#[test]
fn no_source_file_uses_include() {
    let sources = sources(&src());
    assert!(sources.len() > 5, "found the crate's sources");
    for (path, text) in &sources {
        assert!(
            !text.contains("include!"),
            "{} pastes a file in with include!",
            path.display()
        );
    }
}

#[test]
fn queue_backend_and_worker_do_not_import_each_other() {
    let src = src();
    let rules: [(&str, &[&str]); 3] = [
        ("queue.rs", &["backend", "worker"]),
        ("worker.rs", &["queue"]),
        ("backend", &["queue", "worker"]),
    ];
    for (place, forbidden) in rules {
        let path = src.join(place);
        let files = if path.is_dir() {
            sources(&path)
        } else {
            vec![(
                path.clone(),
                std::fs::read_to_string(&path).expect("read source file"),
            )]
        };
        assert!(!files.is_empty(), "{place} exists");
        for (file, text) in files {
            let named = names(&text, forbidden);
            assert!(
                named.is_empty(),
                "{} names {named:?}",
                file.strip_prefix(&src).unwrap_or(&file).display()
            );
        }
    }
}

#[test]
fn the_checker_sees_imports() {
    // The rules above would pass vacuously if `names` never matched: check that it does.
    assert_eq!(
        names("use crate::queue::Queue;", &["queue"]),
        ["crate::queue"]
    );
    assert_eq!(
        names("use crate::{error::Error, worker::X};", &["worker"]),
        ["crate::worker"]
    );
    assert!(names("use crate::queue_name;", &["queue"]).is_empty());
    assert!(names("// see crate::queue", &["queue"]).is_empty());
    assert!(names("use crate::store::Parts;", &["queue", "worker"]).is_empty());
}
