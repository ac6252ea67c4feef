//! The bot runtime: webhook receiver, router, workers, health, metrics and shutdown.
//!
//! ```no_run
//! use atombot::{Bot, Context};
//!
//! async fn on_push(ctx: Context) -> atombot::Result<()> {
//!     let repo = ctx.repo().expect("push deliveries name their repository");
//!     let info = ctx.client().repos().get(&repo.owner, &repo.name).await?;
//!     tracing::info!(repo = %info.full_name, "pushed");
//!     Ok(())
//! }
//!
//! # async fn run() -> atombot::Result<()> {
//! Bot::from_env()?.on("push", on_push).serve().await
//! # }
//! ```

mod dispatch;
mod metrics;
mod ops;
mod queue;
mod receiver;
mod resolve;
mod serve;
mod settings;
mod signal;
mod worker;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use axum::Router as HttpRouter;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::client::ClientBuilder;
use crate::config::AppConfig;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::jobs::{JobHandler, JobHandlers, Queue};
use crate::webhook::{Handler, Router, WebhookSettings};

#[doc(inline)]
pub use self::{
    metrics::Metrics,
    queue::{DELIVERY_KIND, DeliveryQueue, EnqueueError, HANDLER_KIND_PREFIX},
    resolve::InstallationResolver,
    settings::{LogFormat, RuntimeSettings, env},
    signal::{init_logging, shutdown_signal},
};
use ops::{Ops, readyz, render_metrics, sample_depth};

/// A bot: handlers plus everything needed to serve them.
///
/// Register handlers with [`on`](Self::on) / [`on_any`](Self::on_any), then
/// [`serve`](Self::serve) (listen, run, shut down on SIGTERM/Ctrl-C) or
/// [`into_router`](Self::into_router) (mount in your own axum app).
pub struct Bot {
    config: AppConfig,
    client: ClientBuilder,
    settings: RuntimeSettings,
    webhook: WebhookSettings,
    router: Router<Context>,
    jobs: JobHandlers,
    /// User sign-in routes, if enabled with [`Bot::oauth`].
    oauth: Option<crate::oauth::OAuth>,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("config", &self.config)
            .field("settings", &self.settings)
            .field("router", &self.router)
            .field("jobs", &self.jobs)
            .finish_non_exhaustive()
    }
}

/// A bot whose server is running; see [`Bot::start`].
#[derive(Debug)]
pub struct RunningBot {
    oauth: Option<crate::oauth::OAuth>,
    addr: std::net::SocketAddr,
    metrics: Metrics,
    queue: Queue,
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<bool>,
}

impl RunningBot {
    /// The address the bot listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The webhook URL on that address.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The bot's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// A client acting as signed-in user `user`, with their `atu_` token (refreshed as
    /// needed).
    ///
    /// Fails with a "sign in again" error ([`Error::is_sign_in_again`]) when the user has no
    /// stored token, and with [`Error::Config`] when the bot has no [`Bot::oauth`].
    pub async fn user_client(&self, user: &str) -> Result<crate::Client> {
        match &self.oauth {
            Some(oauth) => oauth.user_client(user).await,
            None => Err(Error::config(
                crate::config::env::CLIENT_ID,
                "user sign-in is not enabled on this bot (Bot::oauth)",
            )),
        }
    }

    /// The bot's job queue (inspect failed jobs, re-queue them, read stats).
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Stops accepting, lets open connections and running handlers finish (within the
    /// shutdown timeout; connections still open then are dropped) and returns whether all
    /// handlers did.
    pub async fn shutdown(self) -> bool {
        let _ = self.stop.send(true);
        self.done.await.unwrap_or(false)
    }
}

impl Bot {
    /// A bot for this app with default runtime settings.
    pub fn new(config: AppConfig) -> Self {
        let webhook = WebhookSettings {
            secrets: config.webhook_secrets().to_vec(),
            ..WebhookSettings::default()
        };
        Self {
            config,
            client: ClientBuilder::default(),
            settings: RuntimeSettings::default(),
            webhook,
            router: Router::new(),
            jobs: JobHandlers::default(),
            oauth: None,
        }
        .settings(RuntimeSettings::default())
    }

    /// Reads [`AppConfig::from_env`] and [`RuntimeSettings::from_env`].
    ///
    /// Fails with [`Error::Config`] naming the first bad setting.
    pub fn from_env() -> Result<Self> {
        Ok(Self::new(AppConfig::from_env()?).settings(RuntimeSettings::from_env()?))
    }

    /// Replaces the runtime settings.
    pub fn settings(mut self, settings: RuntimeSettings) -> Self {
        let headers = self.webhook.clone();
        self.webhook = WebhookSettings {
            max_body_bytes: settings.max_body_bytes,
            allow_unsigned: settings.allow_unsigned,
            ..headers
        };
        self.settings = settings;
        self
    }

    /// Replaces the webhook settings (header names, secrets, limits).
    pub fn webhook_settings(mut self, webhook: WebhookSettings) -> Self {
        self.webhook = webhook;
        self
    }

    /// Tunes the API client (timeouts, retries, rate limits, token cache).
    pub fn client(mut self, builder: ClientBuilder) -> Self {
        self.client = builder;
        self
    }

    /// Runs `handler` for deliveries matching `pattern`: `"push"` (any action),
    /// `"issues.opened"` (event and action), `"issues.*"` or `"*"`.
    ///
    /// The handler is named `{pattern}#{n}`, `n` counting the `on` handlers of that pattern
    /// from 1 (`issues.opened#1`): its unit of each delivery is queued, retried and listed
    /// under that name, so reordering `on` calls for one pattern renames handlers. Use
    /// [`on_named`](Self::on_named) for names that do not depend on order.
    ///
    /// # Panics
    /// If `pattern` is empty or malformed — a programming error found at start-up.
    pub fn on<H: Handler<Context>>(mut self, pattern: &str, handler: H) -> Self {
        self.router = self.router.on(pattern, handler);
        self
    }

    /// Like [`on`](Self::on), under `name`: unique in the bot, stable across builds.
    /// Renaming a handler makes it a new handler (units queued under the old name wait for a
    /// process that knows it, then fail); a name used twice fails at start-up.
    ///
    /// # Panics
    /// If `pattern` is empty or malformed.
    pub fn on_named<H: Handler<Context>>(
        mut self,
        name: impl Into<std::borrow::Cow<'static, str>>,
        pattern: &str,
        handler: H,
    ) -> Self {
        self.router = self.router.on_named(name, pattern, handler);
        self
    }

    /// Runs `handler` for every delivery (pattern `*`, named `*#{n}`).
    pub fn on_any<H: Handler<Context>>(mut self, handler: H) -> Self {
        self.router = self.router.on_any(handler);
        self
    }

    /// Runs `handler` for background jobs of type `T`, stored under [`Job::NAME`] (queued
    /// with [`Context::jobs`]); see [`crate::jobs`]. A name registered twice fails at
    /// start-up.
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

    /// Mounts the user sign-in routes of `oauth` (`GET /login`, `GET /oauth/callback`,
    /// `POST /logout`); act as a signed-in user with [`RunningBot::user_client`] (or a
    /// clone of `oauth` and [`OAuth::user_client`]).
    ///
    /// [`OAuth::user_client`]: crate::oauth::OAuth::user_client
    pub fn oauth(mut self, oauth: crate::oauth::OAuth) -> Self {
        self.oauth = Some(oauth);
        self
    }

    fn check(&self) -> Result<()> {
        self.router.check_names().map_err(Error::Definition)?;
        self.jobs.check_names().map_err(Error::Definition)?;
        if self.webhook.secrets.is_empty() && !self.webhook.allow_unsigned {
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

    /// Connects the queue, builds the HTTP app and spawns the worker. Must be called
    /// inside a Tokio runtime.
    async fn build(self) -> Result<Built> {
        self.check()?;
        let api_calls = metrics::ApiCalls::default();
        let app = App::with_client(self.config, self.client.observe(api_calls.observer()))?;
        let queue = Queue::connect(
            self.settings
                .queue
                .clone()
                .concurrency(self.settings.concurrency),
        )
        .await
        .map_err(|e| Error::config(env::QUEUE, format!("cannot open the job queue: {e}")))?;
        let deliveries =
            queue::JobDeliveryQueue::new(queue.clone()).replay_guard(self.settings.replay_guard);
        let metrics = Metrics::new(
            Arc::new(deliveries.clone()),
            app.client().installation_tokens().cloned(),
            api_calls,
            Some(app.client().clone()),
            self.router.routes().map(|(pattern, _)| pattern),
        );
        let dispatch = Arc::new(dispatch::Dispatch {
            resolver: InstallationResolver::new(app.client().clone()),
            app,
            router: self.router.clone(),
            metrics: metrics.clone(),
            queue: queue.clone(),
            jobs: self.jobs,
        });
        let (stop, stopped) = watch::channel(false);
        let worker = {
            let mut stopped = stopped.clone();
            let dispatch = dispatch.clone();
            queue
                .worker(move |job, ctx| worker::run_job(dispatch.clone(), job, ctx))
                .name_prefix("atombot")
                .concurrency(self.settings.concurrency)
                .shutdown_timeout(self.settings.shutdown_timeout)
                .run(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
        };
        let worker = tokio::spawn(async move {
            if let Err(error) = worker.await {
                tracing::error!(%error, "the job worker stopped with an error");
            }
        });
        tokio::spawn(sample_depth(deliveries.clone(), stopped));
        let receiver = Arc::new(receiver::Receiver {
            settings: self.webhook,
            router: self.router,
            queue: Arc::new(deliveries),
            metrics: metrics.clone(),
            seen: AtomicUsize::new(0),
            body_timeout: self.settings.body_timeout,
        });
        let ops = Ops {
            queue: queue.clone(),
            metrics: metrics.clone(),
        };
        let http = HttpRouter::new()
            .route(
                &self.settings.webhook_path,
                post(receiver::receive).with_state(receiver),
            )
            .route("/readyz", get(readyz).with_state(ops.clone()));
        let http = match &self.oauth {
            Some(oauth) => http.merge(oauth.router()),
            None => http,
        };
        // Liveness and metrics stay answerable when the in-flight cap is reached; they read
        // no body and answer at once.
        let http = serve::limit_in_flight(http, self.settings.max_in_flight)
            .route("/healthz", get(|| async { "ok" }))
            .route("/metrics", get(render_metrics).with_state(ops));
        Ok(Built {
            oauth: self.oauth,
            http,
            metrics,
            queue,
            stop,
            worker,
        })
    }

    /// The bot as an axum router (webhook route, `/healthz`, `/readyz`, `/metrics`) to
    /// mount in your own server; the job worker runs in the background of the current
    /// runtime until the router is dropped.
    ///
    /// The router brings these limits with it: the body timeout
    /// ([`RuntimeSettings::body_timeout`], 408), the size limit (413, checked against
    /// `Content-Length` before reading), credentials checked before the body is read, and the
    /// in-flight request cap ([`RuntimeSettings::max_in_flight`], 503; `/healthz` and
    /// `/metrics` are exempt). What only a server
    /// can do is yours to set up (as [`start`](Self::start) does with hyper's connection
    /// builder and a timer): a header read timeout, an idle keep-alive timeout, a cap on
    /// open connections, and a bound on graceful shutdown. `axum::serve` offers none of
    /// them.
    ///
    /// Fails with [`Error::Config`] when no webhook secret is set and unsigned deliveries
    /// are not allowed, or when the queue cannot be opened, and with [`Error::Definition`]
    /// when a handler or job name is registered twice.
    pub async fn into_router(self) -> Result<HttpRouter> {
        let built = self.build().await?;
        // The worker stops (letting running jobs finish) when the last clone of the router
        // is dropped and with it this sender.
        Ok(built.http.layer(axum::Extension(Arc::new(built.stop))))
    }

    /// Binds the listen address and serves in the background; see [`RunningBot`].
    ///
    /// The server enforces [`RuntimeSettings::header_timeout`], `idle_timeout`,
    /// `max_connections` and, on shutdown, drops connections still open after
    /// `shutdown_timeout`, so no client can keep the bot from stopping.
    ///
    /// Fails if the settings are invalid or the address cannot be bound.
    pub async fn start(self) -> Result<RunningBot> {
        let listener = TcpListener::bind(self.settings.listen).await.map_err(|e| {
            Error::config(
                env::LISTEN,
                format!("cannot listen on {}: {e}", self.settings.listen),
            )
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::config(env::LISTEN, e.to_string()))?;
        let limits = serve::ServerLimits {
            header_timeout: self.settings.header_timeout,
            idle_timeout: self.settings.idle_timeout,
            max_connections: self.settings.max_connections,
            drain_timeout: self.settings.shutdown_timeout,
        };
        let Built {
            oauth,
            http,
            metrics,
            queue,
            stop,
            worker,
        } = self.build().await?;
        let stopped = stop.subscribe();
        let done = tokio::spawn(async move {
            // Stops accepting at once; open connections get the shutdown timeout to finish.
            serve::serve(listener, http, limits, stopped).await;
            // The worker lets running jobs finish within the shutdown timeout; what does not
            // finish is handed back to the queue and picked up after a restart.
            worker.await.is_ok()
        });
        tracing::info!(%addr, "atombot listening");
        Ok(RunningBot {
            oauth,
            addr,
            metrics,
            queue,
            stop,
            done,
        })
    }

    /// Serves until SIGTERM or Ctrl-C, then stops accepting, lets running handlers finish
    /// within the shutdown timeout and returns.
    ///
    /// Installs a `tracing` subscriber (human or JSON, `RUST_LOG` filter) if none is set.
    pub async fn serve(self) -> Result<()> {
        init_logging(self.settings.log_format);
        self.serve_until(shutdown_signal()).await
    }

    /// Like [`serve`](Self::serve), stopping when `signal` completes.
    pub async fn serve_until(self, signal: impl Future<Output = ()>) -> Result<()> {
        let running = self.start().await?;
        signal.await;
        tracing::info!("shutting down: no new deliveries; waiting for running handlers");
        if running.shutdown().await {
            tracing::info!("all handlers finished");
        }
        Ok(())
    }
}

/// What `build` makes.
struct Built {
    oauth: Option<crate::oauth::OAuth>,
    http: HttpRouter,
    metrics: Metrics,
    queue: Queue,
    stop: watch::Sender<bool>,
    worker: tokio::task::JoinHandle<()>,
}
