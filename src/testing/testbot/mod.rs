//! [`TestBot`]: a bot definition run in-process against the simulator.

mod outcome;
mod progress;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response};
use secrecy::ExposeSecret;
use tokio::sync::watch;
use tower::ServiceExt;

#[doc(inline)]
pub use outcome::{Acceptance, HandlerRun, JobRun, Outcome, Received, TestBotError};

use self::progress::Progress;
use super::events::Payload;
use super::sim::Simulator;
use crate::jobs::Queue;
use crate::observe::Observer;
use crate::runtime::{Bot, Built, Overrides};
use crate::webhook::send::{DeliveryOptions, headers, random_delivery_id};

/// How long [`TestBot::receive`] waits by default for a delivery's work to finish.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A [`Bot`] running in-process against a [`Simulator`], one delivery at a time.
///
/// A `TestBot` wires the same [`Bot`] a deployment serves (same handlers, jobs, state and
/// settings) with two changes: the platform is a [`Simulator`] and the queue is the
/// in-process `memory` queue with short backoff (10 ms to 100 ms) and polling (10 ms).
/// [`receive`](TestBot::receive) signs a delivery with the bot's webhook secret and hands
/// it to the bot's own HTTP router — receiver, queue, worker, fan-out into one unit per
/// handler, retries — and returns once every handler has finished for good, with each
/// handler's outcome and attempts and the API calls the simulator recorded. No listener,
/// no sleeps.
///
/// ```
/// use atombot::testing::{TestBot, events};
/// use atombot::{Bot, Context};
///
/// async fn greet(ctx: Context) -> atombot::Result<()> {
///     ctx.comment("Thanks!").await?;
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> anyhow::Result<()> {
/// let bot = TestBot::start(Bot::new(TestBot::config()).on("issues.opened", greet)).await?;
/// let received = bot
///     .receive(events::issue_opened("atomgit-demo/hello-world", 1, "Crash"))
///     .await?;
/// assert!(received.succeeded());
/// assert_eq!(received.handler("issues.opened#1").unwrap().attempts, 1);
/// assert_eq!(received.comments(), ["Thanks!"]);
/// bot.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestBot {
    sim: Simulator,
    http: axum::Router,
    webhook_path: String,
    secret: Option<secrecy::SecretString>,
    queue: Queue,
    progress: Arc<Progress>,
    stop: watch::Sender<bool>,
    worker: tokio::task::JoinHandle<()>,
    timeout: Duration,
}

impl TestBot {
    /// App settings for a bot that a `TestBot` will run: any valid config works (the
    /// `TestBot` points it at its simulator); this one needs no environment.
    pub fn config() -> crate::AppConfig {
        crate::AppConfig::builder()
            .app_id(1)
            .private_key_pem(Simulator::dev_private_key_pem())
            .webhook_secret(super::DEFAULT_WEBHOOK_SECRET)
            .build()
            .expect("the dev key is valid")
    }

    /// Runs `bot` against a new default [`Simulator`].
    ///
    /// # Errors
    /// [`TestBotError::Simulator`] if the simulator cannot start; [`TestBotError::Bot`] if
    /// the bot's definition is invalid (the start-up error a deployment would get).
    pub async fn start(bot: Bot) -> Result<Self, TestBotError> {
        let sim = Simulator::start()
            .await
            .map_err(|e| TestBotError::Simulator(e.to_string()))?;
        Self::start_with(bot, sim).await
    }

    /// Runs `bot` against `sim` (seeded as the test needs).
    ///
    /// The bot's app id, private key, API and web URLs and OAuth client become the
    /// simulator's (and its bot login, unless set); its webhook secrets, settings, handlers, jobs and state stay.
    ///
    /// # Errors
    /// As for [`start`](Self::start).
    pub async fn start_with(mut bot: Bot, sim: Simulator) -> Result<Self, TestBotError> {
        let platform = sim.app_config();
        let config = &mut bot.config;
        if bot.secrets.is_none() && config.webhook_secrets.is_empty() {
            config.webhook_secrets = platform.webhook_secrets.clone();
        }
        config.app_id = platform.app_id;
        config.private_key = platform.private_key.clone();
        config.api_url = platform.api_url.clone();
        config.web_url = platform.web_url.clone();
        config.client_id = platform.client_id.clone();
        config.client_secret = platform.client_secret.clone();
        if config.bot_login.is_none() {
            config.bot_login = Some(sim.bot_login());
        }
        bot.settings.queue = bot
            .settings
            .queue
            .clone()
            .with_url("memory")
            .poll_interval(Duration::from_millis(10))
            .backoff(Duration::from_millis(10), Duration::from_millis(100));
        let webhook_path = bot.settings.webhook_path.clone();
        let secret = bot.webhook().secrets.first().cloned();
        let (observer, reports) = Observer::channel();
        let progress = Progress::follow(reports);
        let Built {
            http,
            queue,
            stop,
            worker,
            ..
        } = bot
            .build(Overrides {
                observer: Some(observer),
            })
            .await
            .map_err(|e| TestBotError::Bot(Arc::new(e)))?;
        Ok(Self {
            sim,
            http,
            webhook_path,
            secret,
            queue,
            progress,
            stop,
            worker,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Waits at most `timeout` (default 60 s) in [`receive`](Self::receive) for a delivery's
    /// work to finish.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The simulator playing the platform.
    pub fn sim(&self) -> &Simulator {
        &self.sim
    }

    /// The bot's job queue (failed jobs, stats).
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Delivers `payload` (AtomGit headers, signed with the bot's secret) and waits until
    /// every handler of the delivery has finished; add [`.and_jobs()`](Receive::and_jobs) to
    /// also wait for the jobs they queue, and [`.options(..)`](Receive::options) for GitCode
    /// headers, password mode or a fixed delivery id.
    ///
    /// Deliveries received at the same time by one `TestBot` may see each other's API calls
    /// in [`Received::calls`]; receive one at a time for exact lists.
    ///
    /// ```
    /// use atombot::jobs::{Job, JobContext};
    /// use atombot::testing::{Outcome, TestBot, events};
    /// use atombot::{Bot, Context};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Triage {
    ///     number: u64,
    /// }
    ///
    /// impl Job for Triage {
    ///     const NAME: &'static str = "triage";
    /// }
    ///
    /// async fn queue_triage(ctx: Context) -> atombot::Result<()> {
    ///     let number = ctx.issue_number().unwrap_or_default();
    ///     ctx.jobs().push(Triage { number }).await?;
    ///     Ok(())
    /// }
    ///
    /// async fn triage(ctx: JobContext, job: Triage) -> atombot::Result<()> {
    ///     let issues = ctx.client().issues("atomgit-demo", "hello-world");
    ///     issues.add_labels(job.number, &["triage"]).await?;
    ///     Ok(())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> anyhow::Result<()> {
    /// let bot = Bot::new(TestBot::config())
    ///     .on("issues.opened", queue_triage)
    ///     .job(triage);
    /// let bot = TestBot::start(bot).await?;
    /// let received = bot
    ///     .receive(events::issue_opened("atomgit-demo/hello-world", 1, "Crash"))
    ///     .and_jobs() // wait for the job too
    ///     .await?;
    /// assert_eq!(received.status, 202);
    /// assert_eq!(received.handler("issues.opened#1").unwrap().attempts, 1);
    /// assert_eq!(received.jobs[0].outcome, Some(Outcome::Succeeded));
    /// let labels = bot.sim().labels("atomgit-demo", "hello-world", 1);
    /// assert_eq!(labels[0]["name"], "triage");
    /// bot.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn receive(&self, payload: impl Into<Payload>) -> Receive<'_> {
        Receive {
            bot: self,
            payload: payload.into(),
            options: DeliveryOptions::new(),
            and_jobs: false,
        }
    }

    /// Sends `request` to the bot's HTTP routes (webhook path, `/healthz`, `/readyz`,
    /// `/metrics`, OAuth) as a server would, and returns the answer.
    pub async fn request(&self, request: Request<Body>) -> Response<Body> {
        match self.http.clone().oneshot(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        }
    }

    /// Stops the worker, letting running work finish within the shutdown timeout.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.worker.await;
    }

    async fn run(&self, receive: Receive<'_>) -> Result<Received, TestBotError> {
        let body =
            Bytes::from(serde_json::to_vec(receive.payload.as_value()).map_err(|e| {
                TestBotError::Request(format!("the payload does not serialize: {e}"))
            })?);
        let delivery = receive
            .options
            .delivery_id
            .clone()
            .unwrap_or_else(random_delivery_id);
        let secret = self.secret.as_ref().map(|s| s.expose_secret());
        let headers = headers(
            secret,
            receive.payload.event(),
            &delivery,
            &body,
            &receive.options,
        )
        .map_err(|e| TestBotError::Request(e.to_string()))?;
        let mut request = Request::post(&self.webhook_path)
            .body(Body::from(body))
            .map_err(|e| TestBotError::Request(e.to_string()))?;
        *request.headers_mut() = headers;

        let first_call = self.sim.next_request_seq();
        let mut changes = self.progress.subscribe();
        let response = self.request(request).await;
        let status = response.status().as_u16();
        let answer = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(TestBotError::Rejected {
                status,
                body: answer.to_string(),
            });
        }
        let acceptance = match answer["status"].as_str() {
            Some("ignored") => Acceptance::Ignored,
            Some("duplicate") => Acceptance::Duplicate,
            _ => Acceptance::Queued,
        };
        if acceptance == Acceptance::Queued {
            let waited = tokio::time::timeout(self.timeout, async {
                while !self.progress.finished(&delivery, receive.and_jobs) {
                    if changes.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await;
            if waited.is_err() {
                return Err(TestBotError::Timeout {
                    delivery: delivery.clone(),
                    waited: self.timeout,
                    pending: self.progress.pending(&delivery, receive.and_jobs),
                });
            }
        }
        if let Some(error) = self.progress.fan_out_failed(&delivery) {
            return Err(TestBotError::FanOut { delivery, error });
        }
        let (handlers, jobs) = self.progress.runs(&delivery);
        Ok(Received {
            delivery,
            status,
            acceptance,
            handlers,
            jobs,
            calls: self.sim.requests_since(first_call),
        })
    }
}

/// A delivery about to be received; `.await` it. See [`TestBot::receive`].
#[derive(Debug)]
#[must_use = "a delivery is only sent when awaited"]
pub struct Receive<'a> {
    bot: &'a TestBot,
    payload: Payload,
    options: DeliveryOptions,
    and_jobs: bool,
}

impl Receive<'_> {
    /// Also waits for every job the delivery's handlers queued (and the jobs those queued).
    pub fn and_jobs(mut self) -> Self {
        self.and_jobs = true;
        self
    }

    /// Sends with these options (header dialect, password mode, delivery id, extra
    /// headers); the credential is made with the bot's secret.
    pub fn options(mut self, options: DeliveryOptions) -> Self {
        self.options = options;
        self
    }
}

impl<'a> std::future::IntoFuture for Receive<'a> {
    type Output = Result<Received, TestBotError>;
    type IntoFuture =
        std::pin::Pin<Box<dyn std::future::Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.bot.run(self).await })
    }
}
