//! Slash commands: `/label bug ui` (or `@bot label bug`) at the start of a line of an issue
//! comment, a pull-request comment or a GitLab-shaped note runs the command registered
//! under that name with [`Bot::command`](crate::Bot::command), if the commenter holds the
//! [`Role`] it needs.
//!
//! - Several commands in one comment each run once; code blocks and quoted replies
//!   (`> /label`) are ignored ([`parse`]).
//! - A command refused for lack of a role gets one short reply saying why.
//! - `/help` (unless the bot registers its own) replies with the registered commands and
//!   their roles.
//! - Comments by the bot itself (or any bot: [`Context::is_bot`]) run nothing.
//! - Roles are checked through the platform's member and permission calls, cached for a
//!   minute per repository and user.
//!
//! Each comment becomes two units of work: one that runs the permitted commands (retried
//! on failure, so command handlers should be idempotent, like every handler) and one that
//! posts the refusal and `/help` replies, so a failing command never posts a reply twice.
//!
//! ```no_run
//! use atombot::commands::{Command, Invocation, Role};
//! use atombot::{Bot, Context};
//!
//! async fn label(ctx: Context, command: Invocation) -> atombot::Result<()> {
//!     let labels: Vec<&str> = command.args.iter().map(String::as_str).collect();
//!     let number = ctx.issue_number().unwrap_or_default();
//!     ctx.issues()?.add_labels(number, &labels).await?;
//!     Ok(())
//! }
//!
//! # async fn run() -> atombot::Result<()> {
//! Bot::from_env()?
//!     .command(Command::new("label").role(Role::Member).about("Adds labels"), label)
//!     .serve()
//!     .await
//! # }
//! ```

mod parse;
mod permission;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::webhook::{BoxError, HandlerFuture, Router};

pub use parse::{Invocation, parse};
use permission::Permissions;

/// The least a commenter must be for a command to run; each role includes those above it
/// in this list (a repository admin may run a `Member` command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Role {
    /// Anyone who can comment.
    #[default]
    Anyone,
    /// The author of the issue or pull request (or a member, or a writer).
    Author,
    /// A member of the organisation that owns the repository (or a writer).
    Member,
    /// A user with write permission on the repository.
    Write,
    /// A user with admin permission on the repository.
    Admin,
}

impl Role {
    /// Who holds the role, in words (for `/help` and refusals).
    pub fn describe(self) -> &'static str {
        match self {
            Role::Anyone => "anyone",
            Role::Author => "the issue's author or an organisation member",
            Role::Member => "organisation members",
            Role::Write => "users with write permission",
            Role::Admin => "repository admins",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Anyone => "Anyone",
            Role::Author => "Author",
            Role::Member => "Member",
            Role::Write => "Write",
            Role::Admin => "Admin",
        })
    }
}

/// A command's definition: its name, the [`Role`] it needs and a line for `/help`.
/// `"label".into()` is a command anyone may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    name: Cow<'static, str>,
    role: Role,
    about: Option<String>,
}

impl Command {
    /// A command run as `/name`; names are letters, digits, `-` and `_`, matched without case.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            role: Role::Anyone,
            about: None,
        }
    }

    /// The least role a commenter needs (default [`Role::Anyone`]).
    pub fn role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// What the command does, shown by `/help`.
    pub fn about(mut self, about: impl Into<String>) -> Self {
        self.about = Some(about.into());
        self
    }

    /// The command's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl From<&'static str> for Command {
    fn from(name: &'static str) -> Self {
        Command::new(name)
    }
}

impl From<String> for Command {
    fn from(name: String) -> Self {
        Command::new(name)
    }
}

/// A command handler: `async fn(Context, Invocation) -> Result<(), E>` with `E:
/// Into<BoxError>`.
pub trait CommandHandler: Send + Sync + 'static {
    /// Runs the command.
    fn call(&self, ctx: Context, invocation: Invocation) -> HandlerFuture;
}

impl<F, Fut, E> CommandHandler for F
where
    F: Fn(Context, Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<(), E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn call(&self, ctx: Context, invocation: Invocation) -> HandlerFuture {
        let fut = self(ctx, invocation);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

struct Entry {
    command: Command,
    handler: Arc<dyn CommandHandler>,
}

/// The commands a bot registered; installed into its router when it starts.
#[derive(Default)]
pub(crate) struct Commands {
    entries: Vec<Entry>,
}

impl fmt::Debug for Commands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.command))
            .finish()
    }
}

/// The events commands are read from (GitLab-shaped notes on issues and merge requests are
/// normalised to these).
const EVENTS: [&str; 2] = [
    "issue_comment.created",
    "pull_request_review_comment.created",
];

impl Commands {
    pub(crate) fn add(&mut self, command: Command, handler: impl CommandHandler) {
        self.entries.push(Entry {
            command,
            handler: Arc::new(handler),
        });
    }

    /// Names that are malformed or registered twice.
    pub(crate) fn check(&self) -> Result<()> {
        for (i, entry) in self.entries.iter().enumerate() {
            let name = entry.command.name();
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric());
            if !valid {
                return Err(Error::Definition(format!(
                    "command name {name:?}: use letters, digits, '-' and '_', starting with a letter or digit"
                )));
            }
            if self.entries[..i]
                .iter()
                .any(|e| e.command.name().eq_ignore_ascii_case(name))
            {
                return Err(Error::Definition(format!(
                    "command {name:?} is registered twice"
                )));
            }
        }
        Ok(())
    }

    /// `router` with the command units added (nothing when no command is registered).
    /// `mentions` are the names the bot answers to after `@`.
    pub(crate) fn install(self, router: Router<Context>, mentions: Vec<String>) -> Router<Context> {
        if self.entries.is_empty() {
            return router;
        }
        let shared = Arc::new(Registry {
            entries: self.entries,
            mentions,
            permissions: Permissions::new(),
        });
        let mut router = router;
        for pattern in EVENTS {
            let event = pattern.split('.').next().unwrap_or(pattern);
            for reply in [false, true] {
                let registry = Arc::clone(&shared);
                let part = if reply { "reply" } else { "run" };
                router = router.on_named(
                    format!("atombot.commands.{part}@{event}"),
                    pattern,
                    move |ctx: Context| {
                        let registry = Arc::clone(&registry);
                        async move {
                            if reply {
                                registry.reply(ctx).await
                            } else {
                                registry.run(ctx).await
                            }
                        }
                    },
                );
            }
        }
        router
    }
}

struct Registry {
    entries: Vec<Entry>,
    mentions: Vec<String>,
    permissions: Permissions,
}

/// What one invocation in a comment comes to.
enum Verdict<'a> {
    Run(&'a Entry),
    Refused(&'a Entry),
    Help,
}

impl Registry {
    fn find(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.command.name().eq_ignore_ascii_case(name))
    }

    /// The comment's commands, each with what to do about it; empty for a bot's comment.
    async fn judge(&self, ctx: &Context) -> Result<Vec<(Invocation, Verdict<'_>)>> {
        if ctx.is_bot() {
            return Ok(Vec::new());
        }
        let Some(body) = ctx.json().pointer("/comment/body").and_then(|b| b.as_str()) else {
            return Ok(Vec::new());
        };
        let login = ctx.sender().map(|s| s.login).unwrap_or_default();
        let mut verdicts = Vec::new();
        for invocation in parse(body, &self.mentions) {
            let verdict = match self.find(&invocation.name) {
                Some(entry) => {
                    if self
                        .permissions
                        .allows(ctx, &login, entry.command.role)
                        .await?
                    {
                        Verdict::Run(entry)
                    } else {
                        Verdict::Refused(entry)
                    }
                }
                None if invocation.name == "help" => Verdict::Help,
                // Not ours (another bot's, or a typo): stay quiet.
                None => continue,
            };
            verdicts.push((invocation, verdict));
        }
        Ok(verdicts)
    }

    /// Runs the permitted commands of the comment, in order; the first error fails the unit
    /// (after the others ran), which is retried.
    async fn run(&self, ctx: Context) -> std::result::Result<(), BoxError> {
        let mut first_error = None;
        for (invocation, verdict) in self.judge(&ctx).await? {
            let Verdict::Run(entry) = verdict else {
                continue;
            };
            let name = invocation.name.clone();
            tracing::info!(command = %name, line = invocation.line, "running command");
            if let Err(error) = entry.handler.call(ctx.clone(), invocation).await {
                tracing::warn!(command = %name, %error, "command failed");
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Posts one reply with the refusals and the `/help` text, if any.
    async fn reply(&self, ctx: Context) -> std::result::Result<(), BoxError> {
        let login = ctx.sender().map(|s| s.login).unwrap_or_default();
        let mut lines = Vec::new();
        for (invocation, verdict) in self.judge(&ctx).await? {
            match verdict {
                Verdict::Refused(entry) => lines.push(format!(
                    "@{login} `/{}` is for {} ({}), so it was not run.",
                    invocation.name,
                    entry.command.role.describe(),
                    entry.command.role
                )),
                Verdict::Help => lines.push(self.help()),
                Verdict::Run(_) => {}
            }
        }
        if !lines.is_empty() {
            ctx.comment(lines.join("\n\n")).await?;
        }
        Ok(())
    }

    /// The `/help` text: a table of the registered commands.
    fn help(&self) -> String {
        let mut text = String::from("| command | who may run it | what it does |\n|---|---|---|\n");
        for entry in &self.entries {
            let c = &entry.command;
            text.push_str(&format!(
                "| `/{}` | {} ({}) | {} |\n",
                c.name(),
                c.role,
                c.role.describe(),
                c.about.as_deref().unwrap_or("")
            ));
        }
        text.push_str("| `/help` | Anyone | lists these commands |");
        text
    }
}

/// The names the bot answers to after `@`: its app user's login (and `login[bot]`) and the
/// app's slug, when configured.
pub(crate) fn mentions(config: &crate::config::AppConfig) -> Vec<String> {
    let mut names = Vec::new();
    for name in [config.bot_login(), config.app_slug()]
        .into_iter()
        .flatten()
    {
        let base = name.trim_end_matches("[bot]");
        names.push(base.to_owned());
        names.push(format!("{base}[bot]"));
    }
    names.sort();
    names.dedup();
    names
}
