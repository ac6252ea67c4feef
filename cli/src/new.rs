//! `atombot new`: scaffold a bot crate — one handler, a test on atombot's test kit, every
//! setting in `.env.example`, a README.
//!
//! The files are the templates in `cli/templates/new/`, with `{{name}}` (the package
//! name), `{{crate_name}}` (the same with `_` for `-`) and the atombot dependency filled in.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;

/// Arguments of `atombot new`.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Directory to create the bot in (must not exist, or be empty).
    path: PathBuf,
    /// Package name (default: the directory's name).
    #[arg(long)]
    name: Option<String>,
    /// The atombot checkout to depend on by path (default: the one this tool was built from).
    #[arg(long, value_name = "DIR", conflicts_with = "atombot_version")]
    atombot_path: Option<PathBuf>,
    /// Depend on this published atombot version instead of a checkout.
    #[arg(long, value_name = "VERSION")]
    atombot_version: Option<String>,
}

/// The atombot checkout this binary was built from.
const BUILT_FROM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The files of a new bot: path in the new crate, template.
const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../templates/new/Cargo.toml.tmpl"),
    ),
    ("src/lib.rs", include_str!("../templates/new/lib.rs.tmpl")),
    ("src/main.rs", include_str!("../templates/new/main.rs.tmpl")),
    (
        "tests/bot.rs",
        include_str!("../templates/new/bot_test.rs.tmpl"),
    ),
    (
        "payloads/issues-opened.json",
        include_str!("../templates/new/issues-opened.json"),
    ),
    (
        ".env.example",
        include_str!("../templates/new/env.example.tmpl"),
    ),
    ("README.md", include_str!("../templates/new/README.md.tmpl")),
    (
        ".gitignore",
        include_str!("../templates/new/gitignore.tmpl"),
    ),
];

/// Where the new bot gets atombot from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A checkout, by path (its `Cargo.lock` is copied when it has one).
    Path(PathBuf),
    /// A published version.
    Version(String),
}

/// Writes the new crate and prints what to do next.
pub(crate) fn run(args: NewArgs) -> anyhow::Result<()> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => default_name(&args.path)?,
    };
    validate_name(&name)?;
    let source = match (args.atombot_version, args.atombot_path) {
        (Some(version), _) => Source::Version(version),
        (None, Some(path)) => Source::Path(atombot_checkout(&path)?),
        (None, None) => Source::Path(atombot_checkout(Path::new(BUILT_FROM)).context(
            "the atombot checkout this tool was built from is gone; \
             pass --atombot-path DIR or --atombot-version VERSION",
        )?),
    };
    create(&args.path, &name, &source)?;

    println!("Created bot `{name}` in {}", args.path.display());
    println!();
    println!("  cd {}", args.path.display());
    println!("  cargo test      # its test, on atombot's simulator");
    println!("  cargo run       # serve it (settings: .env.example; offline run: README.md)");
    Ok(())
}

/// The package name a directory suggests: its last component.
fn default_name(path: &Path) -> anyhow::Result<String> {
    let absolute =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    absolute
        .components()
        .next_back()
        .and_then(|c| match c {
            std::path::Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "cannot take a package name from {}; pass --name",
                path.display()
            )
        })
}

/// Checks `name` against Cargo's package name rules (with crates.io's ASCII-only and length
/// limits, so the bot can be published): letters, digits, `-` and `_`; not starting with a
/// digit or `-`; not a Rust keyword or a name Cargo or Windows reserves; not `atombot`.
fn validate_name(name: &str) -> anyhow::Result<()> {
    const MAX_LEN: usize = 64;
    // Keywords (the 2024 edition's, strict and reserved) and names Cargo refuses.
    const RESERVED: &[&str] = &[
        "abstract",
        "as",
        "async",
        "await",
        "become",
        "box",
        "break",
        "const",
        "continue",
        "crate",
        "do",
        "dyn",
        "else",
        "enum",
        "extern",
        "false",
        "final",
        "fn",
        "for",
        "gen",
        "if",
        "impl",
        "in",
        "let",
        "loop",
        "macro",
        "match",
        "mod",
        "move",
        "mut",
        "override",
        "priv",
        "pub",
        "ref",
        "return",
        "self",
        "static",
        "struct",
        "super",
        "trait",
        "true",
        "try",
        "type",
        "typeof",
        "unsafe",
        "unsized",
        "use",
        "virtual",
        "where",
        "while",
        "yield",
        "alloc",
        "core",
        "std",
        "test",
        "proc_macro",
        "proc-macro",
        "build",
        "deps",
        "examples",
        "incremental",
    ];
    // Device names Windows reserves in every directory.
    const WINDOWS: &[&str] = &[
        "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
        "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
    ];

    let Some(first) = name.chars().next() else {
        bail!("the package name is empty");
    };
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        bail!(
            "invalid package name `{name}`: `{bad}` is not allowed \
             (use ASCII letters, digits, `-` and `_`)"
        );
    }
    if first.is_ascii_digit() {
        bail!("invalid package name `{name}`: it cannot start with a digit");
    }
    if first == '-' {
        bail!("invalid package name `{name}`: it cannot start with `-`");
    }
    if name.len() > MAX_LEN {
        bail!("invalid package name `{name}`: longer than {MAX_LEN} characters");
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) || WINDOWS.contains(&lower.as_str()) {
        bail!("invalid package name `{name}`: it is a reserved name");
    }
    if lower.replace('-', "_") == "atombot" {
        bail!("invalid package name `{name}`: the bot depends on `atombot`; pick another name");
    }
    Ok(())
}

/// `dir` if it is an atombot checkout, made absolute.
fn atombot_checkout(dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = fs::canonicalize(dir)
        .with_context(|| format!("no atombot checkout at {}", dir.display()))?;
    let manifest = fs::read_to_string(dir.join("Cargo.toml"))
        .with_context(|| format!("{} has no Cargo.toml", dir.display()))?;
    if !manifest.lines().any(|l| l.trim() == r#"name = "atombot""#) {
        bail!("{} is not an atombot checkout", dir.display());
    }
    Ok(dir)
}

/// Refuses an existing non-empty `dir`, then writes every file of the new crate into it.
fn create(dir: &Path, name: &str, source: &Source) -> anyhow::Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!("{} exists and is not a directory", dir.display());
        }
        let mut entries =
            fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} already exists and is not empty; choose a new directory",
                dir.display()
            );
        }
    }
    let (atombot, atombot_testing) = dependency(source);
    let crate_name = name.replace('-', "_");
    let vars = [
        ("name", name),
        ("crate_name", crate_name.as_str()),
        ("atombot", atombot.as_str()),
        ("atombot_testing", atombot_testing.as_str()),
    ];
    for (path, template) in FILES {
        write(&dir.join(path), &render(template, &vars))?;
    }
    if let Source::Path(checkout) = source {
        let lock = checkout.join("Cargo.lock");
        if lock.is_file() {
            // The versions atombot is built and tested with, and already in the local cache.
            fs::copy(&lock, dir.join("Cargo.lock"))
                .with_context(|| format!("cannot copy {}", lock.display()))?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The `atombot` dependency as TOML inline values: plain, and with the test kit.
fn dependency(source: &Source) -> (String, String) {
    match source {
        Source::Path(dir) => {
            let path = toml_string(&dir.to_string_lossy());
            (
                format!("{{ path = {path} }}"),
                format!(r#"{{ path = {path}, features = ["testing"] }}"#),
            )
        }
        Source::Version(version) => {
            let version = toml_string(version);
            (
                version.clone(),
                format!(r#"{{ version = {version}, features = ["testing"] }}"#),
            )
        }
    }
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `template` with every `{{key}}` replaced by its value.
fn render(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(template.to_owned(), |text, (key, value)| {
        text.replace(&format!("{{{{{key}}}}}"), value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_pass() {
        for name in ["my-bot", "x", "bot_2", "Triage-Bot", "a-b_c-9"] {
            validate_name(name).unwrap();
        }
    }

    #[test]
    fn invalid_names_are_refused_with_the_reason() {
        let cases = [
            ("", "empty"),
            ("my bot", "` ` is not allowed"),
            ("bot!", "`!` is not allowed"),
            ("bøt", "`ø` is not allowed"),
            ("../evil", "`.` is not allowed"),
            ("9lives", "cannot start with a digit"),
            ("-bot", "cannot start with `-`"),
            ("fn", "reserved"),
            ("Self", "reserved"),
            ("test", "reserved"),
            ("deps", "reserved"),
            ("nul", "reserved"),
            ("COM1", "reserved"),
            ("atombot", "depends on `atombot`"),
        ];
        for (name, reason) in cases {
            let error = validate_name(name).unwrap_err().to_string();
            assert!(error.contains(reason), "{name:?}: {error}");
        }
        let long = "b".repeat(65);
        assert!(validate_name(&long).unwrap_err().to_string().contains("64"));
        validate_name(&"b".repeat(64)).unwrap();
    }

    #[test]
    fn a_non_empty_directory_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let source = Source::Version("0.1".into());
        let error = create(dir.path(), "bot", &source).unwrap_err().to_string();
        assert!(error.contains("not empty"), "{error}");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["notes.txt"]);
        assert_eq!(
            fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
            "mine"
        );

        let file = dir.path().join("notes.txt");
        let error = create(&file, "bot", &source).unwrap_err().to_string();
        assert!(error.contains("not a directory"), "{error}");
    }

    #[test]
    fn an_empty_directory_is_filled() {
        let dir = tempfile::tempdir().unwrap();
        create(dir.path(), "my-bot", &Source::Version("0.1".into())).unwrap();
        let manifest = fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
        assert!(manifest.contains(r#"name = "my-bot""#), "{manifest}");
        assert!(manifest.contains(r#"atombot = "0.1""#), "{manifest}");
        assert!(
            manifest.contains(r#"atombot = { version = "0.1", features = ["testing"] }"#),
            "{manifest}"
        );
        let test = fs::read_to_string(dir.path().join("tests/bot.rs")).unwrap();
        assert!(test.contains("my_bot::bot("), "{test}");
        // A published version: no checkout, so no lock file to copy.
        assert!(!dir.path().join("Cargo.lock").exists());
    }

    #[test]
    fn every_placeholder_is_filled() {
        let vars = [
            ("name", "n"),
            ("crate_name", "c"),
            ("atombot", "a"),
            ("atombot_testing", "t"),
        ];
        for (path, template) in FILES {
            let text = render(template, &vars);
            assert!(!text.contains("{{"), "{path} keeps a placeholder");
        }
        assert_eq!(render("{{name}}/{{crate_name}}", &vars), "n/c");
    }

    #[test]
    fn dependency_paths_are_toml_strings() {
        let (plain, testing) = dependency(&Source::Path(PathBuf::from(r#"C:\a "b""#)));
        assert_eq!(plain, r#"{ path = "C:\\a \"b\"" }"#);
        assert_eq!(
            testing,
            r#"{ path = "C:\\a \"b\"", features = ["testing"] }"#
        );
        assert_eq!(toml_string("a\nb"), r#""a\u000Ab""#);
    }

    #[test]
    fn the_default_name_is_the_directory_name() {
        assert_eq!(default_name(Path::new("bots/my-bot")).unwrap(), "my-bot");
        assert_eq!(default_name(Path::new("my-bot/")).unwrap(), "my-bot");
    }
}
