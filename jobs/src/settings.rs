//! Settings read from the environment: the [`Setting`] type every atombot crate describes its
//! variables with, and the queue's own entries ([`ALL`]).
//!
//! An entry holds the variable's name, the default that applies when it is unset (as a user
//! would write it) and what it means. Loaders read through the entry ([`Setting::read`]), so
//! the default they apply is the one documented; `atombot::settings::ALL` gathers every entry
//! of every crate, and the README's configuration table is checked against it.

/// One environment variable: its name, the default shown to users, and its meaning.
///
/// A name with a `<PART>` placeholder (`ATOMBOT_API_PATH_<NAME>`) stands for a family of
/// variables; see [`instance`](Self::instance) and [`matches`](Self::matches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Setting {
    /// The variable's name, e.g. `ATOMBOT_QUEUE`.
    pub name: &'static str,
    /// The value that applies when the variable is unset or blank, written as a user would set
    /// it; `None` when unset means "off", "required" or something the meaning explains.
    pub default: Option<&'static str>,
    /// What the variable does (Markdown, one line).
    pub meaning: &'static str,
}

impl Setting {
    /// An entry; `default` is the value applied when the variable is unset.
    pub const fn new(
        name: &'static str,
        default: Option<&'static str>,
        meaning: &'static str,
    ) -> Self {
        Self {
            name,
            default,
            meaning,
        }
    }

    /// Whether the name is a pattern with a `<PART>` placeholder.
    pub fn is_pattern(&self) -> bool {
        self.name.contains('<')
    }

    /// The name with its `<PART>` placeholder replaced by `part` (the name itself when it has
    /// no placeholder).
    pub fn instance(&self, part: &str) -> String {
        match self.placeholder() {
            Some((prefix, suffix)) => format!("{prefix}{part}{suffix}"),
            None => self.name.to_owned(),
        }
    }

    /// Whether `var` is this setting: its name, or an instance of its pattern (a non-empty
    /// part of upper-case letters, digits and `_`).
    pub fn matches(&self, var: &str) -> bool {
        match self.placeholder() {
            None => var == self.name,
            Some((prefix, suffix)) => var
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix))
                .is_some_and(|part| {
                    !part.is_empty()
                        && part
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                }),
        }
    }

    /// The text before and after the `<PART>` placeholder, if the name has one.
    fn placeholder(&self) -> Option<(&'static str, &'static str)> {
        let open = self.name.find('<')?;
        let close = open + self.name[open..].find('>')?;
        Some((&self.name[..open], &self.name[close + 1..]))
    }

    /// The value `lookup` gives for this variable, or the [default](Self::default) when it is
    /// unset or blank; `None` only when both are missing. The value is returned as given.
    pub fn read(&self, lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
        lookup(self.name)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| self.default.map(str::to_owned))
    }

    /// [`read`](Self::read) from the process environment.
    pub fn read_env(&self) -> Option<String> {
        self.read(|name| std::env::var(name).ok())
    }
}

/// Renders `settings` as a Markdown table: `| variable | default | meaning |`, one row each,
/// in order (no default shows as `—`).
pub fn markdown_table(settings: &[Setting]) -> String {
    let cell = |text: &str| text.replace('|', "\\|");
    let mut out = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for s in settings {
        let default = match s.default {
            Some(d) => format!("`{}`", cell(d)),
            None => "—".to_owned(),
        };
        out.push_str(&format!(
            "| `{}` | {default} | {} |\n",
            s.name,
            cell(s.meaning)
        ));
    }
    out
}

/// Job queue URL: `sqlite://…` (a file, created if missing), `redis://…`, `postgres://…`, or
/// `memory` (tests only: not durable).
pub const QUEUE: Setting = Setting::new(
    "ATOMBOT_QUEUE",
    Some("sqlite://atombot.db"),
    "job queue: `sqlite://…` (a file, created if missing), `redis://…`, `postgres://…`, or `memory` (tests only, not durable)",
);
/// Queue name within the backend.
pub const QUEUE_NAME: Setting = Setting::new(
    "ATOMBOT_QUEUE_NAME",
    Some("atombot"),
    "queue name within the backend; bots sharing one Redis or Postgres use different names",
);
/// Runs before a unit or job is kept as failed.
pub const MAX_ATTEMPTS: Setting = Setting::new(
    "ATOMBOT_MAX_ATTEMPTS",
    Some("5"),
    "runs a failing handler unit or job gets before it is kept as failed",
);
/// Seconds before work held by a dead worker runs again.
pub const ORPHAN_TIMEOUT: Setting = Setting::new(
    "ATOMBOT_ORPHAN_TIMEOUT",
    Some("30"),
    "seconds after which work held by a dead worker is run again",
);
/// Seconds a unit or job whose name no running process knows waits for one that does.
pub const UNKNOWN_TIMEOUT: Setting = Setting::new(
    "ATOMBOT_UNKNOWN_TIMEOUT",
    Some("3600"),
    "seconds, counted from queueing, a unit or job whose handler or job name this process does not know goes back to the queue for a process that does; then it fails with \"no worker knows …\"",
);
/// Seconds past which a unit postponed by a rate limit fails instead of waiting.
pub const MAX_POSTPONE: Setting = Setting::new(
    "ATOMBOT_MAX_POSTPONE",
    Some("3600"),
    "seconds after queueing past which a unit postponed by a rate limit fails instead of waiting for the reset",
);
/// Seconds one run may take before it is cancelled and retried.
pub const JOB_TIMEOUT: Setting = Setting::new(
    "ATOMBOT_JOB_TIMEOUT",
    Some("600"),
    "seconds one run of a handler or job may take before it is cancelled and retried",
);
/// Seconds failed units and jobs are kept.
pub const KEEP_FAILED: Setting = Setting::new(
    "ATOMBOT_KEEP_FAILED",
    Some("2592000"),
    "seconds (30 days) failed units and jobs are kept for `atombot jobs failed` / `retry`",
);
/// Seconds a delivery id (a dedupe key) is remembered.
pub const DEDUPE_TTL: Setting = Setting::new(
    "ATOMBOT_DEDUPE_TTL",
    Some("604800"),
    "seconds (7 days) a delivery id is remembered to drop redeliveries",
);

/// Every setting of the queue layer, in the order the README lists them.
pub const ALL: &[Setting] = &[
    QUEUE,
    QUEUE_NAME,
    MAX_ATTEMPTS,
    ORPHAN_TIMEOUT,
    UNKNOWN_TIMEOUT,
    MAX_POSTPONE,
    JOB_TIMEOUT,
    KEEP_FAILED,
    DEDUPE_TTL,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QueueConfig;
    use std::time::Duration;

    /// A setting's default as a number of seconds.
    fn default_secs(s: &Setting) -> Option<Duration> {
        s.default?.parse().ok().map(Duration::from_secs)
    }

    #[test]
    fn queue_defaults_are_the_documented_ones() {
        let c = QueueConfig::new(QUEUE.default.unwrap());
        assert_eq!(c, QueueConfig::default());
        assert_eq!(Some(c.queue.as_str()), QUEUE_NAME.default);
        assert_eq!(
            Some(c.max_attempts.to_string().as_str()),
            MAX_ATTEMPTS.default
        );
        assert_eq!(Some(c.orphan_timeout), default_secs(&ORPHAN_TIMEOUT));
        assert_eq!(Some(c.unknown_timeout), default_secs(&UNKNOWN_TIMEOUT));
        assert_eq!(Some(c.max_postpone), default_secs(&MAX_POSTPONE));
        assert_eq!(Some(c.job_timeout), default_secs(&JOB_TIMEOUT));
        assert_eq!(Some(c.keep_failed), default_secs(&KEEP_FAILED));
        assert_eq!(Some(c.dedupe_ttl), default_secs(&DEDUPE_TTL));
    }

    #[test]
    fn read_falls_back_to_the_default_and_patterns_match_their_instances() {
        let set = |k: &str| (k == "ATOMBOT_QUEUE").then(|| "memory".to_owned());
        assert_eq!(QUEUE.read(set).as_deref(), Some("memory"));
        assert_eq!(QUEUE.read(|_| Some("  ".into())).as_deref(), QUEUE.default);
        assert_eq!(QUEUE.read(|_| None).as_deref(), Some("sqlite://atombot.db"));
        let none = Setting::new("ATOMBOT_TEST_X", None, "x");
        assert_eq!(none.read(|_| None), None);

        let pattern = Setting::new("ATOMBOT_API_PATH_<NAME>", None, "x");
        assert!(pattern.is_pattern() && !QUEUE.is_pattern());
        assert_eq!(
            pattern.instance("ISSUES_GET"),
            "ATOMBOT_API_PATH_ISSUES_GET"
        );
        assert!(pattern.matches("ATOMBOT_API_PATH_ISSUES_GET"));
        assert!(!pattern.matches("ATOMBOT_API_PATH_"));
        assert!(!pattern.matches("ATOMBOT_API_PATH_issues"));
        assert!(QUEUE.matches("ATOMBOT_QUEUE") && !QUEUE.matches("ATOMBOT_QUEUE_NAME"));
    }

    #[test]
    fn the_table_escapes_pipes_and_marks_missing_defaults() {
        let table = markdown_table(&[
            Setting::new("ATOMBOT_TEST_A", Some("1"), "a | b"),
            Setting::new("ATOMBOT_TEST_B", None, "c"),
        ]);
        assert_eq!(
            table,
            "| variable | default | meaning |\n|---|---|---|\n\
             | `ATOMBOT_TEST_A` | `1` | a \\| b |\n| `ATOMBOT_TEST_B` | — | c |\n"
        );
    }
}
