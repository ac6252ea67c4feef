//! [`Context`]: what a handler receives — the delivery, its installation, and an API
//! client already authenticated as that installation.

use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::Client;
use crate::client::api::{IssuesHandler, PullsHandler};
use crate::error::{Error, Result};
use crate::jobs::Jobs;
use crate::models::webhook::EventPayload;
use crate::models::{Comment, InstallationId, User};
use crate::repo_config::RepoConfigCache;
use crate::state::StateMap;
use crate::webhook::{Delivery, PayloadError};

/// The repository a delivery is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepoRef {
    /// Owner namespace (may contain `/` for nested groups).
    pub owner: String,
    /// Repository name.
    pub name: String,
}

impl RepoRef {
    /// Splits `owner/name` at its last `/`.
    pub fn parse(full_name: &str) -> Option<Self> {
        let (owner, name) = full_name.rsplit_once('/')?;
        (!owner.is_empty() && !name.is_empty()).then(|| Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl std::fmt::Display for RepoRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A delivery as a handler sees it. Cheap to clone.
///
/// ```no_run
/// use atombot::{Context, models::webhook::IssuesEvent};
///
/// async fn greet(ctx: Context) -> atombot::Result<()> {
///     let issue: IssuesEvent = ctx.payload()?;
///     ctx.comment(format!("Thanks for opening #{}!", issue.issue.number)).await?;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    delivery: Arc<Delivery>,
    installation: Option<InstallationId>,
    client: ClientSlot,
    jobs: Jobs,
    unit: Option<Unit>,
    state: StateMap,
    /// Repository configuration files, shared by the bot's contexts (a context built with
    /// [`Context::new`] gets a cache of its own on first use).
    repo_config: std::sync::OnceLock<RepoConfigCache>,
}

/// A context's client: given, or built on first use (many handlers never call the API, and
/// building a client clones its whole middleware stack).
#[derive(Debug)]
enum ClientSlot {
    Given(Client),
    Lazy {
        make: MakeClient,
        built: OnceLock<Client>,
    },
}

/// Builds the client acting as an installation (or as the app for `None`).
#[derive(Clone)]
pub(crate) struct MakeClient(
    pub(crate) Arc<dyn Fn(Option<InstallationId>) -> Client + Send + Sync>,
);

impl std::fmt::Debug for MakeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MakeClient")
    }
}

/// Which durable unit a context runs: one handler of one delivery, on one attempt.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    /// `{delivery id}:{handler name}`.
    pub(crate) key: String,
    pub(crate) handler: String,
    pub(crate) attempt: u32,
}

impl Context {
    /// A context for `delivery`; `client` must act as `installation` when there is one,
    /// and `jobs` queue for it.
    pub fn new(
        delivery: Arc<Delivery>,
        installation: Option<InstallationId>,
        client: Client,
        jobs: Jobs,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                delivery,
                installation,
                client: ClientSlot::Given(client),
                jobs,
                unit: None,
                state: StateMap::default(),
                repo_config: OnceLock::new(),
            }),
        }
    }

    /// The context of a running `unit` of `delivery`: its client built on first use by
    /// `make_client`, with the bot's `state` and repository configuration `cache`.
    pub(crate) fn for_unit(
        delivery: Arc<Delivery>,
        installation: Option<InstallationId>,
        make_client: MakeClient,
        jobs: Jobs,
        unit: Unit,
        state: StateMap,
        cache: RepoConfigCache,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                delivery,
                installation,
                client: ClientSlot::Lazy {
                    make: make_client,
                    built: OnceLock::new(),
                },
                jobs,
                unit: Some(unit),
                state,
                repo_config: cache.into(),
            }),
        }
    }

    /// The cache [`config`](Self::config) reads through.
    pub(crate) fn repo_config(&self) -> &RepoConfigCache {
        self.inner.repo_config.get_or_init(RepoConfigCache::default)
    }

    /// The bot's shared value of type `S` (given with [`Bot::with_state`]).
    ///
    /// Fails with [`Error::Definition`] naming `S` when the bot was given none; the handler
    /// then fails without retries.
    ///
    /// ```no_run
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use atombot::{Bot, Context};
    ///
    /// #[derive(Default)]
    /// struct Seen(AtomicU64);
    ///
    /// async fn count(ctx: Context) -> atombot::Result<()> {
    ///     ctx.state::<Seen>()?.0.fetch_add(1, Ordering::Relaxed);
    ///     Ok(())
    /// }
    ///
    /// # async fn run() -> atombot::Result<()> {
    /// Bot::from_env()?.with_state(Seen::default()).on("push", count).serve().await
    /// # }
    /// ```
    ///
    /// [`Bot::with_state`]: crate::Bot::with_state
    pub fn state<S: Send + Sync + 'static>(&self) -> Result<Arc<S>> {
        self.inner.state.get::<S>()
    }

    /// Queues background jobs for this delivery's installation (see [`crate::jobs`]).
    pub fn jobs(&self) -> &Jobs {
        &self.inner.jobs
    }

    /// A key for making your own side effects idempotent: `{delivery id}:{handler name}`,
    /// the same across redeliveries of the delivery and retries of this handler, different
    /// for each handler of the delivery. (The delivery id alone outside a running bot.)
    pub fn idempotency_key(&self) -> &str {
        match &self.inner.unit {
            Some(unit) => &unit.key,
            None => self.inner.delivery.id(),
        }
    }

    /// The name of the handler running (see [`Router`](crate::webhook::Router) for how
    /// handlers are named); `None` outside a running bot.
    pub fn handler_name(&self) -> Option<&str> {
        self.inner.unit.as_ref().map(|u| u.handler.as_str())
    }

    /// Which run of this handler for this delivery this is, from 1. Runs postponed for a
    /// rate limit keep their number; 1 outside a running bot.
    pub fn attempt(&self) -> u32 {
        self.inner.unit.as_ref().map_or(1, |u| u.attempt)
    }

    /// Canonical event name (`push`, `issues`, `pull_request`, ...).
    pub fn event(&self) -> &str {
        self.inner.delivery.event()
    }

    /// Canonical action (`opened`, `closed`, ...), if the event has one.
    pub fn action(&self) -> Option<&str> {
        self.inner.delivery.action()
    }

    /// The delivery id (from the delivery header, the body's `uuid`, or a body hash).
    pub fn delivery_id(&self) -> &str {
        self.inner.delivery.id()
    }

    /// The installation the delivery came from; `None` when it could not be resolved (the
    /// client then acts as the app itself).
    pub fn installation_id(&self) -> Option<InstallationId> {
        self.inner.installation
    }

    /// The whole delivery.
    pub fn delivery(&self) -> &Delivery {
        &self.inner.delivery
    }

    /// The payload decoded as `T` (a type of [`models::webhook`](crate::models::webhook)
    /// or your own `Deserialize` type).
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, PayloadError> {
        self.inner.delivery.payload()
    }

    /// The payload as the typed enum for its event ([`EventPayload::Unknown`] otherwise).
    pub fn typed_payload(&self) -> Result<EventPayload, PayloadError> {
        self.inner.delivery.typed_payload()
    }

    /// The (normalised) raw JSON payload.
    pub fn json(&self) -> &Value {
        self.inner.delivery.normalized_json()
    }

    /// The API client, authenticated with the installation's `ats_` token (or as the app
    /// when there is no installation).
    ///
    /// ```no_run
    /// use atombot::Context;
    ///
    /// async fn on_push(ctx: Context) -> atombot::Result<()> {
    ///     let repo = ctx.repo().expect("pushes name their repository");
    ///     let client = ctx.client(); // the token is minted (or reused) on the first call
    ///     let info = client.repos().get(&repo.owner, &repo.name).await?;
    ///     client
    ///         .issues(&repo.owner, &repo.name)
    ///         .create_comment(1, format!("{} got a push", info.full_name))
    ///         .await?;
    ///     Ok(())
    /// }
    /// ```
    pub fn client(&self) -> &Client {
        match &self.inner.client {
            ClientSlot::Given(client) => client,
            ClientSlot::Lazy { make, built } => {
                built.get_or_init(|| (make.0)(self.inner.installation))
            }
        }
    }

    /// The repository the delivery is about.
    pub fn repo(&self) -> Option<RepoRef> {
        RepoRef::parse(self.inner.delivery.repository_full_name()?)
    }

    /// The number of the issue or pull request the delivery is about.
    pub fn issue_number(&self) -> Option<u64> {
        let json = self.json();
        ["issue", "pull_request", "merge_request"]
            .iter()
            .find_map(|k| json.get(k)?.get("number").and_then(number))
            .or_else(|| json.get("number").and_then(number))
    }

    /// Whether the delivery is about a pull request (or merge request) rather than an
    /// issue: a `pull_request` / `merge_request` object and no `issue`, or an `issue` that
    /// is a pull request's (GitHub-shaped comment events).
    fn is_about_pull_request(&self) -> bool {
        let json = self.json();
        match json.get("issue") {
            Some(issue) => issue.get("pull_request").is_some_and(|p| !p.is_null()),
            None => json
                .get("pull_request")
                .or(json.get("merge_request"))
                .is_some(),
        }
    }

    /// Comments on the issue or pull request the delivery is about (AtomGit keeps a pull
    /// request's comments apart from issues': `POST …/pulls/{n}/comments`).
    ///
    /// Fails with [`Error::InvalidRequest`] when the delivery is about none.
    pub async fn comment(&self, body: impl Into<String>) -> Result<Comment> {
        let (repo, number) = self.repo().zip(self.issue_number()).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "delivery {} ({}) is not about an issue or pull request",
                self.delivery_id(),
                self.event()
            ))
        })?;
        if self.is_about_pull_request() {
            return self
                .client()
                .pulls(&repo.owner, &repo.name)
                .comment(number, body)
                .await;
        }
        self.client()
            .issues(&repo.owner, &repo.name)
            .create_comment(number, body)
            .await
    }
}

/// Helpers a bot author expects: who acted, whether it was a bot, and repository-scoped
/// handlers.
impl Context {
    /// The user who triggered the delivery (`sender`, or the GitLab-shaped `user` it is
    /// normalised from); `None` when the delivery names nobody.
    pub fn sender(&self) -> Option<User> {
        let sender = self.json().get("sender")?;
        serde_json::from_value::<User>(sender.clone())
            .ok()
            .filter(|u| !u.login.is_empty() || !u.id.is_empty())
    }

    /// Whether a bot caused this delivery, so a bot does not answer itself: the sender (or,
    /// for a comment, its author) is the app's own user ([`Client::bot_login`]), has
    /// `type: Bot`, or has a login ending in `[bot]`.
    ///
    /// ```no_run
    /// use atombot::{Context, models::webhook::IssueCommentEvent};
    ///
    /// async fn on_comment(ctx: Context) -> atombot::Result<()> {
    ///     if ctx.is_bot() {
    ///         return Ok(()); // never answer ourselves (or another bot)
    ///     }
    ///     let event: IssueCommentEvent = ctx.payload()?;
    ///     if event.comment.body.trim() == "/triage" {
    ///         ctx.issues()?.add_labels(event.issue.number, &["triage"]).await?;
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn is_bot(&self) -> bool {
        let own = self.client().bot_login();
        let comment_author = self
            .json()
            .get("comment")
            .and_then(|c| c.get("user"))
            .and_then(|u| serde_json::from_value::<User>(u.clone()).ok());
        self.sender()
            .into_iter()
            .chain(comment_author)
            .any(|u| u.is_bot() || own.is_some_and(|own| own.eq_ignore_ascii_case(&u.login)))
    }

    /// Issue calls for the delivery's repository.
    ///
    /// Fails with [`Error::InvalidRequest`] when the delivery names no repository.
    pub fn issues(&self) -> Result<IssuesHandler<'_>> {
        let repo = self.repo_or_error()?;
        Ok(self.client().issues(&repo.owner, &repo.name))
    }

    /// Pull-request calls for the delivery's repository.
    ///
    /// Fails with [`Error::InvalidRequest`] when the delivery names no repository.
    pub fn pulls(&self) -> Result<PullsHandler<'_>> {
        let repo = self.repo_or_error()?;
        Ok(self.client().pulls(&repo.owner, &repo.name))
    }

    fn repo_or_error(&self) -> Result<RepoRef> {
        self.repo().ok_or_else(|| {
            Error::InvalidRequest(format!(
                "delivery {} ({}) names no repository",
                self.delivery_id(),
                self.event()
            ))
        })
    }
}

fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_refs_split_at_the_last_slash() {
        let r = RepoRef::parse("group/sub/repo").unwrap();
        assert_eq!((r.owner.as_str(), r.name.as_str()), ("group/sub", "repo"));
        assert!(RepoRef::parse("norepo").is_none());
        assert!(RepoRef::parse("/x").is_none());
    }
}
