//! [`Bot`]: a bot's definition — handlers, jobs, shared state and settings — built up by
//! calls that read as a sentence, checked when it starts.

use std::borrow::Cow;

use crate::client::ClientBuilder;
use crate::config::AppConfig;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::jobs::{JobHandler, JobHandlers};
use crate::schedule::{Schedule, Schedules, TickHandler};
use crate::state::StateMap;
use crate::webhook::{Handler, Router, WebhookSettings};

use super::settings::{RuntimeSettings, env};

/// A bot: handlers plus everything needed to serve them.
///
/// Register handlers with [`on`](Self::on) / [`on_any`](Self::on_any), then
/// [`serve`](Self::serve) (listen, run, shut down on SIGTERM/Ctrl-C) or
/// [`into_router`](Self::into_router) (mount in your own axum app). Test it with
/// `atombot::testing::TestBot`.
///
/// # Settings
/// [`AppConfig`] (app id, key, secrets, URLs), [`RuntimeSettings`] ([`settings`](Self::settings))
/// and [`WebhookSettings`] ([`webhook_settings`](Self::webhook_settings)) compose, whatever
/// the order of the calls:
/// - a field keeps the last value set explicitly; a field left at its default in a later
///   call does not undo an earlier value (so `RuntimeSettings::default()` with one field
///   changed changes only that field);
/// - the body limit and the unsigned flag exist in both settings types: either call sets
///   them;
/// - the webhook secrets are [`AppConfig`]'s unless [`WebhookSettings::secrets`] names some,
///   which then replace them.
///
/// [`from_env`](Self::from_env) is the starting point: it reads the environment once, and
/// later calls refine it.
pub struct Bot {
    pub(crate) config: AppConfig,
    pub(crate) client: ClientBuilder,
    pub(crate) settings: RuntimeSettings,
    /// Webhook settings; its body limit, unsigned flag and secrets are applied from
    /// `settings` and `secrets` in `webhook()`.
    pub(crate) webhook: WebhookSettings,
    /// Secrets given with `webhook_settings`, replacing `config`'s.
    pub(crate) secrets: Option<Vec<secrecy::SecretString>>,
    pub(crate) router: Router<Context>,
    pub(crate) jobs: JobHandlers,
    /// Scheduled handlers ([`Bot::every`]).
    pub(crate) schedules: Schedules,
    pub(crate) state: StateMap,
    /// User sign-in routes, if enabled with [`Bot::oauth`].
    pub(crate) oauth: Option<crate::oauth::OAuth>,
    /// The author's own routes, served beside the bot's ([`Bot::merge`]).
    pub(crate) routes: Option<axum::Router>,
    /// Slash commands ([`Bot::command`]), added to `router` when the bot starts.
    pub(crate) commands: crate::commands::Commands,
    /// Where `Context::config` reads from and how long it caches ([`Bot::repo_config`]).
    pub(crate) repo_config: crate::repo_config::RepoConfigSettings,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("config", &self.config)
            .field("settings", &self.settings)
            .field("router", &self.router)
            .field("jobs", &self.jobs)
            .field("schedules", &self.schedules)
            .field("state", &self.state)
            .field("commands", &self.commands)
            .finish_non_exhaustive()
    }
}

/// Sets each listed field of `into` to `from`'s where `from`'s differs from `default`'s.
macro_rules! take_set_fields {
    ($into:expr, $from:expr, $default:expr, [$($field:ident),* $(,)?]) => {
        $( if $from.$field != $default.$field { $into.$field = $from.$field.clone(); } )*
    };
}

impl Bot {
    /// A bot for this app with default runtime settings.
    pub fn new(config: AppConfig) -> Self {
        Self {
            config,
            client: ClientBuilder::default(),
            settings: RuntimeSettings::default(),
            webhook: WebhookSettings::default(),
            secrets: None,
            router: Router::new(),
            jobs: JobHandlers::default(),
            schedules: Schedules::default(),
            state: StateMap::default(),
            oauth: None,
            routes: None,
            commands: Default::default(),
            repo_config: Default::default(),
        }
    }

    /// Reads [`AppConfig::from_env`], [`RuntimeSettings::from_env`] and
    /// [`RepoConfigSettings::from_env`](crate::RepoConfigSettings::from_env).
    ///
    /// Fails with [`Error::Config`] naming the first bad setting.
    pub fn from_env() -> Result<Self> {
        Ok(Self::new(AppConfig::from_env()?)
            .settings(RuntimeSettings::from_env()?)
            .repo_config(crate::RepoConfigSettings::from_env()?))
    }

    /// Sets where [`Context::config`](crate::Context::config) falls back to (the owner's
    /// `.atomgit` repository by default) and how long it caches files (5 minutes).
    pub fn repo_config(mut self, settings: crate::RepoConfigSettings) -> Self {
        self.repo_config = settings;
        self
    }

    /// Applies the runtime settings: every field of `settings` that differs from
    /// [`RuntimeSettings::default`] replaces the bot's (see [Settings](Self#settings)).
    pub fn settings(mut self, settings: RuntimeSettings) -> Self {
        let default = RuntimeSettings::default();
        take_set_fields!(
            self.settings,
            settings,
            default,
            [
                listen,
                webhook_path,
                max_body_bytes,
                queue,
                concurrency,
                shutdown_timeout,
                allow_unsigned,
                header_timeout,
                body_timeout,
                idle_timeout,
                max_connections,
                max_in_flight,
                replay_guard,
                log_format,
                delivery_log,
            ]
        );
        self
    }

    /// Applies the webhook settings (header names, secrets, limits): every field that
    /// differs from [`WebhookSettings::default`] replaces the bot's; non-empty `secrets`
    /// replace [`AppConfig`]'s (see [Settings](Self#settings)).
    pub fn webhook_settings(mut self, webhook: WebhookSettings) -> Self {
        let default = WebhookSettings::default();
        take_set_fields!(
            self.webhook,
            webhook,
            default,
            [
                event_headers,
                delivery_headers,
                signature_headers,
                token_headers,
                max_credential_values,
            ]
        );
        if webhook.max_body_bytes != default.max_body_bytes {
            self.settings.max_body_bytes = webhook.max_body_bytes;
        }
        if webhook.allow_unsigned != default.allow_unsigned {
            self.settings.allow_unsigned = webhook.allow_unsigned;
        }
        if !webhook.secrets.is_empty() {
            self.secrets = Some(webhook.secrets);
        }
        self
    }

    /// The webhook settings in force: the configured headers, the runtime settings' body
    /// limit and unsigned flag, and the secrets given (else the app's).
    pub(crate) fn webhook(&self) -> WebhookSettings {
        WebhookSettings {
            max_body_bytes: self.settings.max_body_bytes,
            allow_unsigned: self.settings.allow_unsigned,
            secrets: self
                .secrets
                .clone()
                .unwrap_or_else(|| self.config.webhook_secrets().to_vec()),
            ..self.webhook.clone()
        }
    }

    /// Tunes the API client (timeouts, retries, rate limits, token cache).
    pub fn client(mut self, builder: ClientBuilder) -> Self {
        self.client = builder;
        self
    }

    /// Shares `value` with every handler and job: reach it with
    /// [`Context::state`](crate::Context::state) /
    /// [`JobContext::state`](crate::jobs::JobContext::state), or take a
    /// [`State<S>`](crate::State) argument. One value per type; a second `with_state` of the
    /// same type replaces the first.
    ///
    /// ```no_run
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use atombot::{Bot, Context, State};
    ///
    /// #[derive(Default)]
    /// struct Counter(AtomicU64);
    ///
    /// async fn on_push(ctx: Context) -> atombot::Result<()> {
    ///     ctx.state::<Counter>()?.0.fetch_add(1, Ordering::Relaxed);
    ///     Ok(())
    /// }
    ///
    /// async fn on_issue(_ctx: Context, State(counter): State<Counter>) -> atombot::Result<()> {
    ///     counter.0.fetch_add(1, Ordering::Relaxed);
    ///     Ok(())
    /// }
    ///
    /// # async fn run() -> atombot::Result<()> {
    /// Bot::from_env()?
    ///     .with_state(Counter::default())
    ///     .on("push", on_push)
    ///     .on("issues.opened", on_issue)
    ///     .serve()
    ///     .await
    /// # }
    /// ```
    pub fn with_state<S: Send + Sync + 'static>(mut self, value: S) -> Self {
        self.state.insert(value);
        self
    }

    /// Runs `handler` for deliveries matching `pattern`: `"push"` (any action),
    /// `"issues.opened"` (event and action), `"issues.*"` or `"*"`. A handler is an
    /// `async fn(Context) -> Result<(), E>`, or `async fn(Context, State<S>) -> …`.
    ///
    /// The pattern must name a canonical event (and action) of
    /// [`webhook::events::CANONICAL`](crate::webhook::events::CANONICAL): an unknown one
    /// (`"issue.opened"`) fails at start-up with [`Error::Definition`] naming the closest
    /// known one. Use [`on_raw`](Self::on_raw) for events outside the table.
    ///
    /// The handler is named `{pattern}#{n}`, `n` counting the `on` handlers of that pattern
    /// from 1 (`issues.opened#1`): its unit of each delivery is queued, retried and listed
    /// under that name, so reordering `on` calls for one pattern renames handlers. Use
    /// [`on_named`](Self::on_named) for names that do not depend on order.
    ///
    /// ```no_run
    /// use atombot::models::webhook::IssuesEvent;
    /// use atombot::{Bot, Context};
    ///
    /// async fn thank(ctx: Context) -> atombot::Result<()> {
    ///     let event: IssuesEvent = ctx.payload()?;
    ///     ctx.comment(format!("Thanks, @{}!", event.sender.login)).await?;
    ///     Ok(())
    /// }
    ///
    /// async fn log_pull_request(ctx: Context) -> atombot::Result<()> {
    ///     println!("pull request {:?}: {:?}", ctx.issue_number(), ctx.action());
    ///     Ok(())
    /// }
    ///
    /// # async fn run() -> atombot::Result<()> {
    /// Bot::from_env()?
    ///     .on("issues.opened", thank) // named `issues.opened#1`
    ///     .on("pull_request", log_pull_request) // every action; `pull_request#1`
    ///     .serve()
    ///     .await
    /// # }
    /// ```
    pub fn on<M, H: Handler<Context, M>>(mut self, pattern: &str, handler: H) -> Self {
        self.router = self.router.on(pattern, handler);
        self
    }

    /// Like [`on`](Self::on) for an event name outside the canonical table (not checked).
    pub fn on_raw<M, H: Handler<Context, M>>(mut self, pattern: &str, handler: H) -> Self {
        self.router = self.router.on_raw(pattern, handler);
        self
    }

    /// Like [`on`](Self::on), under `name`: unique in the bot, stable across builds.
    /// Renaming a handler makes it a new handler (units queued under the old name wait for a
    /// process that knows it, then fail); a name used twice fails at start-up.
    pub fn on_named<M, H: Handler<Context, M>>(
        mut self,
        name: impl Into<Cow<'static, str>>,
        pattern: &str,
        handler: H,
    ) -> Self {
        self.router = self.router.on_named(name, pattern, handler);
        self
    }

    /// Runs `handler` for every delivery (pattern `*`, named `*#{n}`).
    pub fn on_any<M, H: Handler<Context, M>>(mut self, handler: H) -> Self {
        self.router = self.router.on_any(handler);
        self
    }

    /// Runs `handler` for background jobs of type `T`, stored under [`Job::NAME`] (queued
    /// with [`Context::jobs`]); see [`crate::jobs`]. A name registered twice fails at
    /// start-up.
    ///
    /// ```no_run
    /// use atombot::jobs::{Job, JobContext};
    /// use atombot::{Abort, Bot, Context};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Welcome {
    ///     owner: String,
    ///     repo: String,
    ///     number: u64,
    /// }
    ///
    /// impl Job for Welcome {
    ///     const NAME: &'static str = "welcome";
    /// }
    ///
    /// async fn on_issue(ctx: Context) -> atombot::Result<()> {
    ///     let repo = ctx.repo().ok_or_else(|| Abort::new("no repository"))?;
    ///     let number = ctx.issue_number().unwrap_or_default();
    ///     ctx.jobs()
    ///         .push(Welcome { owner: repo.owner, repo: repo.name, number })
    ///         .await?;
    ///     Ok(())
    /// }
    ///
    /// // Runs in a worker, with a client for the installation of the delivery that queued it.
    /// async fn welcome(ctx: JobContext, job: Welcome) -> atombot::Result<()> {
    ///     ctx.client()
    ///         .issues(&job.owner, &job.repo)
    ///         .create_comment(job.number, "Welcome!")
    ///         .await?;
    ///     Ok(())
    /// }
    ///
    /// # async fn run() -> atombot::Result<()> {
    /// Bot::from_env()?.on("issues.opened", on_issue).job(welcome).serve().await
    /// # }
    /// ```
    ///
    /// [`Job::NAME`]: crate::jobs::Job::NAME
    pub fn job<T, H>(mut self, handler: H) -> Self
    where
        T: crate::jobs::Job,
        H: JobHandler<T>,
    {
        self.jobs.add(handler);
        self
    }

    /// Runs `handler` on a schedule: a cron pattern in UTC (`"0 3 * * *"`, five fields or
    /// six with seconds) or an interval (`Duration::from_secs(60)`), **once per tick across
    /// all replicas** sharing the queue; see [`schedule`](crate::schedule). The schedule is
    /// named after itself (`"0 3 * * *#1"`, `"every 60s#1"`); give it a name that survives a
    /// change of its timing with [`every_named`](Self::every_named). A pattern that does not
    /// parse fails at start-up.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use atombot::{Bot, schedule::Tick};
    ///
    /// async fn report(tick: Tick) -> atombot::Result<()> {
    ///     println!("{} due at {} (run {})", tick.name(), tick.time(), tick.attempt());
    ///     Ok(())
    /// }
    ///
    /// # async fn run() -> atombot::Result<()> {
    /// Bot::from_env()?
    ///     .every("0 3 * * *", report) // 03:00 UTC daily, named `0 3 * * *#1`
    ///     .every(Duration::from_secs(300), report) // every five minutes
    ///     .every_named("weekly", "0 6 * * 1", report) // Mondays 06:00 UTC, named `weekly`
    ///     .serve()
    ///     .await
    /// # }
    /// ```
    pub fn every(mut self, schedule: impl Into<Schedule>, handler: impl TickHandler) -> Self {
        self.schedules.add(None, schedule.into(), handler);
        self
    }

    /// Like [`every`](Self::every), under `name` (unique in the bot, stable across deploys:
    /// queued ticks are keyed by it).
    pub fn every_named(
        mut self,
        name: &str,
        schedule: impl Into<Schedule>,
        handler: impl TickHandler,
    ) -> Self {
        self.schedules
            .add(Some(name.to_owned()), schedule.into(), handler);
        self
    }

    /// Runs `handler` for the slash command `command` (`"label"`, or a
    /// [`Command`](crate::commands::Command) with a [`Role`](crate::commands::Role) and a
    /// `/help` line) in issue comments, pull-request comments and GitLab-shaped notes:
    /// `/label bug "needs review"` or `@{bot} label bug` at the start of a line. A commenter
    /// without the role gets one reply saying why; `/help` lists the commands; see
    /// [`commands`](crate::commands). A name registered twice fails at start-up.
    pub fn command<H: crate::commands::CommandHandler>(
        mut self,
        command: impl Into<crate::commands::Command>,
        handler: H,
    ) -> Self {
        self.commands.add(command.into(), handler);
        self
    }

    /// Mounts the user sign-in routes of `oauth` (`GET /login`, `GET /oauth/callback`,
    /// `POST /logout`); act as a signed-in user with
    /// [`RunningBot::user_client`](super::RunningBot::user_client) (or a clone of `oauth`
    /// and [`OAuth::user_client`]).
    ///
    /// [`OAuth::user_client`]: crate::oauth::OAuth::user_client
    pub fn oauth(mut self, oauth: crate::oauth::OAuth) -> Self {
        self.oauth = Some(oauth);
        self
    }

    /// Serves `routes` (your pages, an API) beside the bot's own, behind the same limits;
    /// several calls add up. Paths the bot uses (the webhook path, `/healthz`, `/readyz`,
    /// `/metrics`, the sign-in routes) must not be among them: axum refuses overlapping
    /// routes when the bot starts. A `GET /` of yours takes the place of the install page.
    ///
    /// ```no_run
    /// use axum::routing::get;
    ///
    /// # async fn run() -> atombot::Result<()> {
    /// atombot::Bot::from_env()?
    ///     .merge(axum::Router::new().route("/", get(|| async { "hello" })))
    ///     .serve()
    ///     .await
    /// # }
    /// ```
    pub fn merge(mut self, routes: axum::Router) -> Self {
        self.routes = Some(match self.routes.take() {
            Some(earlier) => earlier.merge(routes),
            None => routes,
        });
        self
    }

    /// Checks the definition: patterns, names, and that deliveries can be verified.
    pub(super) fn check(&self) -> Result<()> {
        self.router.check().map_err(Error::Definition)?;
        self.commands.check()?;
        self.jobs.check_names().map_err(Error::Definition)?;
        self.schedules.check().map_err(Error::Definition)?;
        let webhook = self.webhook();
        if webhook.secrets.is_empty() && !webhook.allow_unsigned {
            return Err(Error::config(
                crate::config::env::WEBHOOK_SECRET,
                format!(
                    "not set; deliveries cannot be verified (set {}=true to accept unsigned ones)",
                    env::ALLOW_UNSIGNED
                ),
            ));
        }
        Ok(())
    }
}
