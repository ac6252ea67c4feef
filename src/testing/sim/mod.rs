//! A local AtomGit on `127.0.0.1`: app JWT, `ats_` tokens, a small OpenAPI, faults, rate limits.
//!
//! [`Simulator`] is the handle tests hold; it seeds the model, reads the request log, injects
//! faults and revokes tokens. The server stops when the handle is dropped.

mod auth;
mod builder;
mod faults;
mod inspect;
mod oauth;
mod routes;
mod seed;
mod server;
mod state;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[doc(inline)]
pub use builder::SimulatorBuilder;
#[doc(inline)]
pub use faults::{Fault, Route};
#[doc(inline)]
pub use seed::{AccountKind, SimInstallation};
#[doc(inline)]
pub use state::{RecordedRequest, TokenKind};
#[doc(inline)]
pub use webhooks::{DEFAULT_WEBHOOK_SECRET, SentDelivery};

use server::Shared;
use state::TokenOwner;
use webhooks::Hooks;

/// The dev app private key (PKCS#1 PEM) matching the key the simulator trusts by default.
const DEV_PRIVATE_KEY_PEM: &str = include_str!("../keys/dev-app-private-key.pem");

/// A running simulator; dropping it stops the server.
///
/// # Example
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use atombot::testing::{Fault, Route, Simulator};
///
/// let sim = Simulator::start().await?;
/// sim.fail_next(Route::get("/orgs/atomgit-demo/repos"), 1, Fault::Status(502));
/// // … point an atombot client at sim.url() with Simulator::dev_private_key_pem() …
/// assert_eq!(sim.mint_count(14), 0);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    hooks: Hooks,
}

impl Simulator {
    /// Starts a simulator with the defaults (app 75, dev key, default seed).
    ///
    /// Must run inside a Tokio runtime; fails only if `127.0.0.1:0` cannot be bound.
    pub async fn start() -> std::io::Result<Self> {
        Self::builder().start().await
    }

    /// A builder starting from the defaults.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// The dev app private key (PKCS#1 PEM) the default simulator accepts JWTs from.
    pub fn dev_private_key_pem() -> &'static str {
        DEV_PRIVATE_KEY_PEM
    }

    /// The dev app public key (PEM) the default simulator verifies JWTs with.
    pub fn dev_public_key_pem() -> &'static str {
        builder::DEV_PUBLIC_KEY_PEM
    }

    pub(crate) fn from_parts(
        shared: Arc<Shared>,
        addr: SocketAddr,
        stop: oneshot::Sender<()>,
        task: JoinHandle<()>,
        hooks: Hooks,
    ) -> Self {
        Self {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
            hooks,
        }
    }

    /// An [`AppConfig`](crate::AppConfig) for the simulator's app: its id, the dev private
    /// key, its API and web URLs and the webhook secret it signs deliveries with.
    pub fn app_config(&self) -> crate::AppConfig {
        crate::AppConfig::builder()
            .app_id(self.app_id())
            .private_key_pem(DEV_PRIVATE_KEY_PEM)
            .api_url(self.url())
            .web_url(self.web_url())
            .webhook_secret(self.webhook_secret())
            .client_id(oauth::SIM_CLIENT_ID)
            .client_secret(oauth::SIM_CLIENT_SECRET)
            .build()
            .expect("the dev key and the simulator's URLs are valid")
    }

    /// The `ATOMGIT_*` environment a bot needs to talk to this simulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        use crate::config::env;
        vec![
            (env::APP_ID, self.app_id().to_string()),
            (env::PRIVATE_KEY, DEV_PRIVATE_KEY_PEM.to_owned()),
            (env::API_URL, self.url()),
            (env::WEB_URL, self.web_url()),
            (env::WEBHOOK_SECRET, self.webhook_secret().to_owned()),
            (env::CLIENT_ID, oauth::SIM_CLIENT_ID.to_owned()),
            (env::CLIENT_SECRET, oauth::SIM_CLIENT_SECRET.to_owned()),
        ]
    }

    /// Base URL of the API, including any prefix, ending in `/`.
    pub fn url(&self) -> String {
        self.shared.api_url()
    }

    /// Base URL of the web host (used in `html_url`), ending in `/`.
    pub fn web_url(&self) -> String {
        self.shared.web_url().to_owned()
    }

    /// The socket address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The app id JWTs must carry as `iss`.
    pub fn app_id(&self) -> u64 {
        self.shared.app_id
    }

    /// Adds (or replaces, by id) an installation.
    pub fn add_installation(&self, installation: SimInstallation) {
        self.shared
            .lock()
            .installations
            .insert(installation.id, installation);
    }

    /// Adds a repository owned by an organization.
    pub fn add_org_repo(&self, org: &str, name: &str) {
        self.shared
            .lock()
            .add_repo(org, AccountKind::Organization, name);
    }

    /// Adds a repository owned by a user.
    pub fn add_user_repo(&self, user: &str, name: &str) {
        self.shared.lock().add_repo(user, AccountKind::User, name);
    }

    /// Adds an issue.
    pub fn add_issue(&self, owner: &str, repo: &str, number: u64) {
        self.shared.lock().add_issue(owner, repo, number);
    }

    /// Adds a pull request `number` from `head` into `base`.
    pub fn add_pull(&self, owner: &str, repo: &str, number: u64, head: &str, base: &str) {
        self.shared.lock().add_pull(owner, repo, number, head, base);
    }

    /// The login the app's installation tokens act as (`<slug>[bot]`): what
    /// [`Context::is_bot`](crate::Context::is_bot) recognises as the app itself.
    pub fn bot_login(&self) -> String {
        format!("{}[bot]", self.shared.app_slug)
    }

    /// Adds or replaces a file.
    pub fn add_file(&self, owner: &str, repo: &str, path: &str, contents: impl AsRef<[u8]>) {
        self.shared
            .lock()
            .add_file(owner, repo, path, contents.as_ref());
    }

    /// Mints an `ats_` token directly (not counted by [`mint_count`](Self::mint_count)).
    ///
    /// Returns `None` for an unknown installation.
    pub fn issue_token(&self, installation_id: u64) -> Option<String> {
        let mut state = self.shared.lock();
        if !state.installations.contains_key(&installation_id) {
            return None;
        }
        let (token, _) = auth::issue_installation_token(&mut state, installation_id);
        Some(token)
    }

    /// Sets the lifetime of tokens minted from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.lock().token_lifetime = lifetime;
    }

    /// Applies `fault` to the next `times` requests matching `route`.
    pub fn fail_next(&self, route: Route, times: u32, fault: Fault) {
        self.shared.lock().faults.push(route, times, fault);
    }

    /// Drops all pending faults.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Revokes one token; returns whether it was known.
    pub fn revoke_token(&self, token: &str) -> bool {
        let mut state = self.shared.lock();
        state
            .tokens
            .get_mut(token)
            .map(|r| r.revoked = true)
            .is_some()
    }

    /// Revokes every token of an installation; returns how many were live.
    pub fn revoke_installation_tokens(&self, installation_id: u64) -> usize {
        let mut state = self.shared.lock();
        let owner = TokenOwner::Installation(installation_id);
        let mut revoked = 0;
        for record in state
            .tokens
            .values_mut()
            .filter(|r| r.owner == owner && !r.revoked)
        {
            record.revoked = true;
            revoked += 1;
        }
        revoked
    }

    /// Sets (or with `None`, lifts) the per-token limit of requests per second.
    pub fn set_rate_limit_per_second(&self, limit: Option<u32>) {
        self.shared.lock().limiter.per_second = limit;
    }

    /// How many requests the rate limit refused.
    pub fn rate_limited_count(&self) -> u64 {
        self.shared.lock().limiter.refused
    }

    /// Stops the server and waits (up to a few seconds) for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(server::SHUTDOWN_GRACE, task).await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
