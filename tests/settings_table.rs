//! The README's configuration table is the settings registry (`atombot::settings::ALL`), and
//! every variable the source names is in the registry: a new variable cannot go undocumented.
//!
//! `ATOMBOT_BLESS=1 cargo test --test settings_table` rewrites the README's table from the
//! registry.

use std::path::{Path, PathBuf};

use atombot::settings;

/// Variables only tests read; they are not settings of a bot.
fn test_only(var: &str) -> bool {
    var.starts_with("ATOMBOT_TEST_") || var == "ATOMBOT_JOBS_CHILD" || var == "ATOMBOT_BLESS"
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The byte range of the table under `## Configuration`: its first `|` line through its last.
fn table_range(readme: &str) -> Option<(usize, usize)> {
    let section = readme.find("\n## Configuration\n")? + 1;
    let mut offset = section;
    let mut start = None;
    for line in readme[section..].split_inclusive('\n') {
        let is_row = line.starts_with('|');
        match (start, is_row) {
            (None, true) => start = Some(offset),
            (Some(s), false) => return Some((s, offset)),
            (None, false) if offset > section && line.starts_with("## ") => return None,
            _ => {}
        }
        offset += line.len();
    }
    start.map(|s| (s, readme.len()))
}

#[test]
fn the_readme_table_is_the_registry() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, end) = table_range(&readme).expect("README.md has a table under ## Configuration");
    let expected = settings::markdown_table();
    if readme[start..end] == expected {
        return;
    }
    if std::env::var_os("ATOMBOT_BLESS").is_some() {
        let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    let diff: Vec<String> = readme[start..end]
        .lines()
        .filter(|l| !expected.lines().any(|e| e == *l))
        .map(|l| format!("- {l}"))
        .chain(
            expected
                .lines()
                .filter(|e| !readme[start..end].lines().any(|l| l == *e))
                .map(|e| format!("+ {e}")),
        )
        .collect();
    panic!(
        "README.md's ## Configuration table differs from atombot::settings::ALL; \
         regenerate it with `ATOMBOT_BLESS=1 cargo test --test settings_table`:\n{}",
        diff.join("\n")
    );
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names in string literals that start with `"ATOMBOT_` or `"ATOMGIT_`.
fn named_variables(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for prefix in ["\"ATOMBOT_", "\"ATOMGIT_"] {
        for (at, _) in source.match_indices(prefix) {
            let name: String = source[at + 1..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    names
}

#[test]
fn every_variable_in_the_source_is_in_the_registry() {
    let mut files = Vec::new();
    for dir in ["src", "jobs/src", "cli/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut seen = 0;
    let mut missing = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for name in named_variables(&source) {
            seen += 1;
            // A literal ending in `_` is a pattern's prefix (`"ATOMBOT_API_PATH_"`).
            let known = settings::find(&name).is_some()
                || settings::ALL
                    .iter()
                    .any(|s| s.is_pattern() && s.instance("") == name);
            if !known && !test_only(&name) {
                let file = file.strip_prefix(root()).unwrap_or(file);
                missing.push(format!("{name} ({})", file.display()));
            }
        }
    }
    assert!(seen > 40, "found only {seen} variable names in the source");
    assert!(
        missing.is_empty(),
        "variables missing from atombot::settings::ALL (add an entry with its default and \
         meaning, then regenerate the README table with \
         `ATOMBOT_BLESS=1 cargo test --test settings_table`): {missing:?}"
    );
}

#[test]
fn the_scan_finds_literals_and_tells_test_variables_apart() {
    let names = named_variables(r#"let a = "ATOMBOT_LISTEN"; let b = "ATOMGIT_X_2"; "ATOM";"#);
    assert_eq!(names, ["ATOMBOT_LISTEN", "ATOMGIT_X_2"]);
    assert!(settings::find("ATOMGIT_X_2").is_none() && !test_only("ATOMGIT_X_2"));
    assert!(test_only("ATOMBOT_TEST_REDIS_URL") && !test_only("ATOMBOT_QUEUE"));
}
