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
mod queue;
mod receiver;
mod resolve;
mod settings;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use axum::Router as HttpRouter;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use http::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::client::ClientBuilder;
use crate::config::AppConfig;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::webhook::{Handler, Router, WebhookSettings};

#[doc(inline)]
pub use self::{
    metrics::Metrics,
    queue::{DeliveryQueue, EnqueueError, InProcessQueue, InProcessReceiver, QueuedDelivery},
    resolve::InstallationResolver,
    settings::{LogFormat, RuntimeSettings, env},
};

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
    /// User sign-in routes, if enabled with [`Bot::oauth`].
    oauth: Option<crate::oauth::OAuth>,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("config", &self.config)
            .field("settings", &self.settings)
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}

/// A bot whose server is running; see [`Bot::start`].
#[derive(Debug)]
pub struct RunningBot {
    addr: std::net::SocketAddr,
    metrics: Metrics,
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

    /// Stops accepting, lets running handlers finish (within the shutdown timeout) and
    /// returns whether they all did.
    pub async fn shutdown(self) -> bool {
        let _ = self.stop.send(true);
        self.done.await.unwrap_or(false)
    }
}

impl Bot {
    /// A bot for this app with default runtime settings.
    pub fn new(config: AppConfig) -> Self {
        let webhook = webhook_settings(&config, &RuntimeSettings::default());
        Self {
            config,
            client: ClientBuilder::default(),
            settings: RuntimeSettings::default(),
            webhook,
            router: Router::new(),
            oauth: None,
        }
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
    /// # Panics
    /// If `pattern` is empty or malformed — a programming error found at start-up.
    pub fn on<H: Handler<Context>>(mut self, pattern: &str, handler: H) -> Self {
        self.router = self.router.on(pattern, handler);
        self
    }

    /// Runs `handler` for every delivery.
    pub fn on_any<H: Handler<Context>>(mut self, handler: H) -> Self {
        self.router = self.router.on_any(handler);
        self
    }

    /// Mounts the user sign-in routes of `oauth` (`GET /login`, `GET /oauth/callback`,
    /// `POST /logout`); keep a clone of `oauth` for [`OAuth::user_client`].
    ///
    /// [`OAuth::user_client`]: crate::oauth::OAuth::user_client
    pub fn oauth(mut self, oauth: crate::oauth::OAuth) -> Self {
        self.oauth = Some(oauth);
        self
    }

    fn check(&self) -> Result<()> {
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

    /// Builds the HTTP app and spawns the workers. Must be called inside a Tokio runtime.
    fn build(
        self,
    ) -> Result<(
        HttpRouter,
        Metrics,
        watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )> {
        self.check()?;
        let api_calls = metrics::ApiCalls::default();
        let app = App::with_client(self.config, self.client.observe(api_calls.observer()))?;
        let (queue, rx) = InProcessQueue::new(self.settings.queue_capacity);
        let queue = Arc::new(queue);
        let metrics = Metrics::new(
            queue.clone(),
            app.client().installation_tokens().cloned(),
            api_calls,
        );
        let dispatch = Arc::new(dispatch::Dispatch {
            resolver: InstallationResolver::new(app.client().clone()),
            app,
            router: self.router.clone(),
            metrics: metrics.clone(),
        });
        let (stop, stopped) = watch::channel(false);
        let workers = tokio::spawn(dispatch::run_workers(
            rx,
            dispatch,
            self.settings.concurrency,
            stopped,
        ));
        let receiver = Arc::new(receiver::Receiver {
            settings: self.webhook,
            router: self.router,
            queue: queue.clone(),
            metrics: metrics.clone(),
            seen: AtomicUsize::new(0),
        });
        let ops = Ops {
            queue,
            metrics: metrics.clone(),
        };
        let http = HttpRouter::new()
            .route(
                &self.settings.webhook_path,
                post(receiver::receive).with_state(receiver),
            )
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readyz).with_state(ops.clone()))
            .route("/metrics", get(render_metrics).with_state(ops));
        let http = match self.oauth {
            Some(oauth) => http.merge(oauth.router()),
            None => http,
        };
        Ok((http, metrics, stop, workers))
    }

    /// The bot as an axum router (webhook route, `/healthz`, `/readyz`, `/metrics`) to
    /// mount in your own server; workers run in the background of the current runtime.
    ///
    /// Fails with [`Error::Config`] when no webhook secret is set and unsigned deliveries
    /// are not allowed.
    pub fn into_router(self) -> Result<HttpRouter> {
        let (http, _, stop, _) = self.build()?;
        // The workers stop (after draining) when the last clone of the router is dropped.
        let stop = Arc::new(stop);
        Ok(http.layer(axum::Extension(stop)))
    }

    /// Binds the listen address and serves in the background; see [`RunningBot`].
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
        let timeout = self.settings.shutdown_timeout;
        let (http, metrics, stop, workers) = self.build()?;
        let mut stopped = stop.subscribe();
        let done = tokio::spawn(async move {
            let server = axum::serve(listener, http).with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            });
            if let Err(error) = server.await {
                tracing::error!(%error, "the server stopped with an error");
            }
            dispatch::drain(workers, timeout).await
        });
        tracing::info!(%addr, "atombot listening");
        Ok(RunningBot {
            addr,
            metrics,
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

fn webhook_settings(config: &AppConfig, settings: &RuntimeSettings) -> WebhookSettings {
    WebhookSettings {
        secrets: config.webhook_secrets().to_vec(),
        max_body_bytes: settings.max_body_bytes,
        allow_unsigned: settings.allow_unsigned,
        ..WebhookSettings::default()
    }
}

#[derive(Clone)]
struct Ops {
    queue: Arc<InProcessQueue>,
    metrics: Metrics,
}

async fn readyz(State(ops): State<Ops>) -> impl IntoResponse {
    if ops.queue.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the queue is closed",
        )
    }
}

async fn render_metrics(State(ops): State<Ops>) -> impl IntoResponse {
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ops.metrics.render(),
    )
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Installs a `tracing` subscriber (human or JSON; filter from `RUST_LOG`, default `info`)
/// unless one is already installed.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Human => builder.try_init(),
    };
}
