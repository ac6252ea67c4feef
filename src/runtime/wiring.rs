//! Where server, client and jobs meet: a [`Bot`] definition becomes a queue, a worker, a
//! receiver and HTTP routes, then is served ([`Bot::start`], [`Bot::serve`]) or mounted
//! ([`Bot::into_router`]).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use axum::Router as HttpRouter;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::bot::Bot;
use super::install_page::{self, InstallPage};
use super::lifecycle::Lifecycle;
use super::metrics::{self, Metrics};
use super::ops::{Ops, readyz, render_metrics, sample_depth};
use super::resolve::InstallationResolver;
use super::running::RunningBot;
use super::settings::env;
use super::signal::{init_logging, shutdown_signal};
use super::{dispatch, queue, receiver, scheduler, serve, worker};
use crate::app::App;
use crate::deliveries::{DeliveryLog, LogWriter};
use crate::error::{Error, Result};
use crate::jobs::Queue;
use crate::observe::{Observed, Observer};

/// What the test kit changes in how a bot is wired (nothing, for a deployed bot).
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    /// Reports every unit's and job's outcome.
    pub(crate) observer: Option<Observer>,
}

/// What `build` makes.
pub(crate) struct Built {
    pub(crate) oauth: Option<crate::oauth::OAuth>,
    pub(crate) http: HttpRouter,
    pub(crate) metrics: Metrics,
    pub(crate) queue: Queue,
    pub(crate) delivery_log: Option<DeliveryLog>,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) worker: tokio::task::JoinHandle<()>,
}

impl Bot {
    /// Connects the queue, builds the HTTP app and spawns the worker. Must be called
    /// inside a Tokio runtime.
    pub(crate) async fn build(mut self, overrides: Overrides) -> Result<Built> {
        self.check()?;
        let commands = std::mem::take(&mut self.commands);
        self.router = commands.install(self.router, crate::commands::mentions(&self.config));
        let webhook = self.webhook();
        let api_calls = metrics::ApiCalls::default();
        let app = App::with_client(self.config, self.client.observe(api_calls.observer()))?;
        let log_settings = &self.settings.delivery_log;
        // With the log on a SQLite queue file, the queue keeps each delivery's body for the
        // log (stored once, where its jobs store it) and the log stores none. Not under the
        // replay guard: it lets one delivery id come with two bodies (keyed by body, not
        // id), and a kept body, keyed by id, would then be the first one's for both.
        let bodies_in_queue = log_settings.enabled
            && !self.settings.replay_guard
            && atombot_jobs::sqlite_file::file_of(self.settings.queue.url())
                .ok()
                .flatten()
                .is_some();
        let mut queue_config = self
            .settings
            .queue
            .clone()
            .concurrency(self.settings.concurrency);
        if bodies_in_queue {
            queue_config =
                queue_config.keep_bodies(log_settings.retention, log_settings.max_records);
        }
        let queue = Queue::connect(queue_config)
            .await
            .map_err(|e| Error::config(env::QUEUE, format!("cannot open the job queue: {e}")))?;
        let log = if self.settings.delivery_log.enabled {
            let config = self
                .settings
                .queue
                .clone()
                .queue_name(queue.config().name());
            Some(DeliveryLog::connect(&config, self.settings.delivery_log.clone()).await?)
        } else {
            None
        };
        let log_writer = log
            .clone()
            .map(|log| LogWriter::spawn(log, bodies_in_queue));
        let deliveries = queue::JobDeliveryQueue::new(queue.clone())
            .replay_guard(self.settings.replay_guard)
            .keep_bodies(bodies_in_queue);
        let metrics = Metrics::new(
            Arc::new(deliveries.clone()),
            app.client().installation_tokens().cloned(),
            api_calls,
            Some(app.client().clone()),
            self.router.routes().map(|(pattern, _)| pattern),
        );
        let resolver = Arc::new(InstallationResolver::new(app.client().clone()));
        let lifecycle = Arc::new(Lifecycle::new(
            app.client().installation_tokens().cloned(),
            resolver.clone(),
        ));
        let mut install_page = InstallPage::new(
            app.config(),
            lifecycle.clone(),
            metrics.clone(),
            queue.clone(),
        );
        install_page.log = log.clone();
        let install_page = Arc::new(install_page);
        let schedules = Arc::new(self.schedules);
        let dispatch = Arc::new(dispatch::Dispatch {
            app: app.clone(),
            schedules: schedules.clone(),
            resolver,
            lifecycle: lifecycle.clone(),
            make_client: dispatch::clients_of(app),
            router: self.router.clone(),
            metrics: metrics.clone(),
            queue: queue.clone(),
            jobs: self.jobs,
            state: self.state,
            observer: overrides.observer.clone(),
            repo_config: crate::repo_config::RepoConfigCache::new(self.repo_config),
            keep_bodies: bodies_in_queue,
        });
        let (stop, stopped) = watch::channel(false);
        let worker = {
            let mut stopped = stopped.clone();
            let dispatch = dispatch.clone();
            let worker = queue.worker(move |job, ctx| {
                // Boxed: the layers between apalis and the handler then move a pointer,
                // not the whole (several kilobytes) future.
                Box::pin(worker::run_job(dispatch.clone(), job, ctx))
            });
            let observer = overrides.observer.clone();
            let recorded_log = log_writer.clone();
            let worker = if observer.is_some() || recorded_log.is_some() {
                worker.on_recorded(move |recorded| {
                    if let Some(log) = &recorded_log {
                        log.recorded(recorded);
                    }
                    if let Some(observer) = &observer {
                        observer.report(Observed::Recorded(recorded.clone()));
                    }
                })
            } else {
                worker
            };
            worker
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
        if !schedules.entries.is_empty() {
            tokio::spawn(scheduler::queue_ticks(
                schedules,
                queue.clone(),
                stopped.clone(),
            ));
        }
        tokio::spawn(sample_depth(deliveries.clone(), stopped));
        let receiver = Arc::new(receiver::Receiver {
            settings: webhook,
            router: self.router,
            queue: Arc::new(deliveries.fan_out_with(dispatch)),
            metrics: metrics.clone(),
            seen: AtomicUsize::new(0),
            body_timeout: self.settings.body_timeout,
            lifecycle,
            log: log_writer,
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
        let http = match self.routes {
            Some(routes) => http.merge(routes),
            None => http,
        };
        // Liveness and metrics stay answerable when the in-flight cap is reached; they read
        // no body and answer at once.
        let http = serve::limit_in_flight(http, self.settings.max_in_flight)
            .route("/healthz", get(|| async { "ok" }))
            .route("/metrics", get(render_metrics).with_state(ops))
            // `GET /`, unless the author's routes answer it.
            .layer(axum::middleware::from_fn_with_state(
                install_page,
                install_page::serve_root,
            ));
        Ok(Built {
            oauth: self.oauth,
            http,
            metrics,
            queue,
            delivery_log: log,
            stop,
            worker,
        })
    }

    /// The bot as an axum router (webhook route, `/healthz`, `/readyz`, `/metrics`, the
    /// install page at `/`) to
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
    /// when a pattern names no known event or a handler or job name is registered twice.
    ///
    /// [`RuntimeSettings::body_timeout`]: super::RuntimeSettings::body_timeout
    /// [`RuntimeSettings::max_in_flight`]: super::RuntimeSettings::max_in_flight
    pub async fn into_router(self) -> Result<HttpRouter> {
        let built = self.build(Overrides::default()).await?;
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
    /// Fails as [`into_router`](Self::into_router) does, or if the address cannot be bound.
    ///
    /// [`RuntimeSettings::header_timeout`]: super::RuntimeSettings::header_timeout
    pub async fn start(self) -> Result<RunningBot> {
        let listen = self.settings.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| Error::config(env::LISTEN, format!("cannot listen on {listen}: {e}")))?;
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
            delivery_log,
            stop,
            worker,
        } = self.build(Overrides::default()).await?;
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
            delivery_log,
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
