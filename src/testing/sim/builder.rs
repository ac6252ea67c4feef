//! [`SimulatorBuilder`]: app identity, key, token lifetime, prefix, rate limit and seed.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::Simulator;
use super::seed::{AccountKind, SimInstallation};
use super::server::{self, Shared};
use super::state::State;
use super::webhooks::{DEFAULT_WEBHOOK_SECRET, Hooks};

/// The dev app public key the simulator trusts by default.
pub(crate) const DEV_PUBLIC_KEY_PEM: &str = include_str!("../keys/dev-app-public-key.pem");

/// Configures and starts a [`Simulator`]; starts from the default seed.
///
/// # Example
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use atombot::testing::Simulator;
///
/// let sim = Simulator::builder()
///     .app_id(42)
///     .api_prefix("/api/v5")
///     .org_repo("atomgit-demo", "docs")
///     .start()
///     .await?;
/// assert!(sim.url().ends_with("/api/v5/"));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SimulatorBuilder {
    webhook_secret: SecretString,
    webhook_url: Option<String>,
    app_id: u64,
    app_slug: String,
    public_key_pem: String,
    prefix: String,
    port: u16,
    state: State,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        let mut state = State::new(Duration::from_secs(3600));
        state.seed_defaults();
        Self {
            webhook_secret: SecretString::from(DEFAULT_WEBHOOK_SECRET),
            webhook_url: None,
            app_id: 75,
            app_slug: "atombot-sim".to_owned(),
            public_key_pem: DEV_PUBLIC_KEY_PEM.to_owned(),
            prefix: String::new(),
            port: 0,
            state,
        }
    }
}

impl SimulatorBuilder {
    /// The app id the JWT `iss` must name (default 75).
    pub fn app_id(mut self, app_id: u64) -> Self {
        self.app_id = app_id;
        self
    }

    /// The app slug shown in installations and bot logins (default `atombot-sim`).
    pub fn app_slug(mut self, slug: impl Into<String>) -> Self {
        self.app_slug = slug.into();
        self
    }

    /// The PEM public key app JWTs must verify against (default: the dev key).
    pub fn public_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.public_key_pem = pem.into();
        self
    }

    /// Lifetime of minted `ats_` tokens (default one hour).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.state.token_lifetime = lifetime;
        self
    }

    /// Serves the API only under `prefix`, e.g. `/api/v5`.
    pub fn api_prefix(mut self, prefix: impl AsRef<str>) -> Self {
        let trimmed = prefix.as_ref().trim_matches('/');
        self.prefix = if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// Refuses more than `n` requests per token within any second (403).
    pub fn rate_limit_per_second(mut self, n: u32) -> Self {
        self.state.limiter.per_second = Some(n);
        self
    }

    /// Drops the default seed (installations 14 and 15, `atomgit-demo` repos).
    pub fn without_default_seed(mut self) -> Self {
        let lifetime = self.state.token_lifetime;
        let per_second = self.state.limiter.per_second;
        self.state = State::new(lifetime);
        self.state.limiter.per_second = per_second;
        self
    }

    /// Adds (or replaces, by id) an installation.
    pub fn installation(mut self, installation: SimInstallation) -> Self {
        self.state
            .installations
            .insert(installation.id, installation);
        self
    }

    /// Adds a repository owned by an organization.
    pub fn org_repo(mut self, org: &str, name: &str) -> Self {
        self.state.add_repo(org, AccountKind::Organization, name);
        self
    }

    /// Adds a repository owned by a user.
    pub fn user_repo(mut self, user: &str, name: &str) -> Self {
        self.state.add_repo(user, AccountKind::User, name);
        self
    }

    /// Adds an issue (comments and labels need one).
    pub fn issue(mut self, owner: &str, repo: &str, number: u64) -> Self {
        self.state.add_issue(owner, repo, number);
        self
    }

    /// Adds a pull request `number` from `head` into `base`, with one changed file and one
    /// commit.
    pub fn pull(mut self, owner: &str, repo: &str, number: u64, head: &str, base: &str) -> Self {
        self.state.add_pull(owner, repo, number, head, base);
        self
    }

    /// Makes `login` a member of organisation `org` with `role` (`admin`, `member`, …).
    pub fn member(mut self, org: &str, login: &str, role: &str) -> Self {
        self.state
            .members
            .entry(org.to_owned())
            .or_default()
            .insert(login.to_owned(), role.to_owned());
        self
    }

    /// Gives `login` `permission` (`admin`, `write`, `read`, `none`) on `owner/repo`.
    pub fn permission(mut self, owner: &str, repo: &str, login: &str, permission: &str) -> Self {
        self.state.permissions.insert(
            ((owner.to_owned(), repo.to_owned()), login.to_owned()),
            permission.to_owned(),
        );
        self
    }

    /// Adds a file served by `GET /repos/{owner}/{repo}/contents?path=…`.
    pub fn file(mut self, owner: &str, repo: &str, path: &str, contents: impl AsRef<[u8]>) -> Self {
        self.state.add_file(owner, repo, path, contents.as_ref());
        self
    }

    /// The secret webhook deliveries are signed with (default
    /// [`DEFAULT_WEBHOOK_SECRET`](crate::testing::DEFAULT_WEBHOOK_SECRET)).
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = SecretString::from(secret.into());
        self
    }

    /// The bot's webhook URL that [`Simulator::deliver`] posts to.
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }

    /// Listens on this port of 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Binds `127.0.0.1:<port>` and serves in a background task.
    ///
    /// Fails when the public key is not an RSA PEM key or the socket cannot be bound.
    pub async fn start(self) -> std::io::Result<Simulator> {
        let key = DecodingKey::from_rsa_pem(self.public_key_pem.as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(
            self.app_id,
            self.app_slug,
            key,
            self.prefix,
            addr,
            self.state,
        ));
        let router = server::app(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server::serve(listener, router, stopped));
        let hooks = Hooks::new(self.webhook_secret, self.webhook_url);
        Ok(Simulator::from_parts(shared, addr, stop, task, hooks))
    }
}
