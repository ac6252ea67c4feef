//! The API client: one [`Client`] type whose transport is a tower stack over reqwest.
//!
//! Build one with [`Client::builder`]; scope it to an installation with
//! [`Client::installation`] (cheap: the stack, connection pool, rate budgets and token
//! cache are shared). Typed calls live in per-resource handlers ([`Client::repos`],
//! [`Client::issues`], ...); [`Client::get`]/[`Client::post`]/... decode any JSON, and
//! [`Client::send`] returns the raw response.

pub mod api;
mod builder;
pub mod layers;
mod page;
#[cfg(feature = "fuzzing")]
pub(crate) use page::link_next as link_next_of;
mod transport;

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Uri};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

use crate::auth::{AppJwt, InstallationTokens, TokenSource};
use crate::error::{Error, Result};
use crate::models::InstallationId;

#[doc(inline)]
pub use self::{
    builder::ClientBuilder,
    page::{Page, PageStream},
};

/// A request as it travels through the client's layers.
pub type HttpRequest = http::Request<Bytes>;
/// A buffered response.
pub type HttpResponse = http::Response<Bytes>;
type BoxService = BoxCloneSyncService<HttpRequest, HttpResponse, Error>;

/// The request path without the query (the query may hold parameters not meant for logs).
pub(crate) fn request_path(uri: &Uri) -> String {
    uri.path().to_owned()
}

/// What every client built by one builder shares.
struct Shared {
    /// Rate limit → timeout → base URI → headers → transport.
    base: BoxService,
    retry: Arc<dyn layers::RetryPolicy>,
    /// Bounds a whole call.
    deadline: std::time::Duration,
    limiter: Arc<layers::RateLimiter>,
    jwt: Option<Arc<AppJwt>>,
    tokens: Option<InstallationTokens>,
    observer: Option<layers::ResponseObserver>,
    /// Path families and overrides.
    paths: crate::config::paths::ApiPaths,
    /// The API base URL's path (`/` or `/api/v5/`), so a family prefix is never doubled.
    base_path: String,
    /// The login the app's own comments and commits appear under, if configured.
    bot_login: Option<String>,
}

/// An AtomGit OpenAPI client, authenticated as the app, an installation, a user or not at
/// all. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    service: BoxService,
    auth: Option<Arc<dyn TokenSource>>,
    installation: Option<InstallationId>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("auth", &self.auth)
            .field("installation", &self.installation)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    fn with_auth(shared: Arc<Shared>, auth: Option<Arc<dyn TokenSource>>) -> Self {
        let retry = layers::RetryLayer::new(shared.retry.clone());
        let trace = layers::TraceLayer::with_observer(shared.observer.clone());
        let service = match &auth {
            Some(source) => BoxService::new(
                tower::ServiceBuilder::new()
                    .layer(trace)
                    .layer(retry)
                    .layer(layers::AuthLayer::new(source.clone()))
                    .service(shared.base.clone()),
            ),
            None => BoxService::new(
                tower::ServiceBuilder::new()
                    .layer(trace)
                    .layer(retry)
                    .service(shared.base.clone()),
            ),
        };
        Self {
            shared,
            service,
            auth,
            installation: None,
        }
    }

    /// A client that acts as `installation`, with its `ats_` token from the shared cache.
    ///
    /// # Panics
    /// Never; but calls fail with [`Error::Config`] if this client was built without app
    /// credentials ([`ClientBuilder::app`]).
    pub fn installation(&self, installation: impl Into<InstallationId>) -> Client {
        let id = installation.into();
        let auth: Arc<dyn TokenSource> = match &self.shared.tokens {
            Some(tokens) => Arc::new(tokens.source(id)),
            None => Arc::new(MissingApp),
        };
        let mut client = Self::with_auth(self.shared.clone(), Some(auth));
        client.installation = Some(id);
        client
    }

    /// A client with the same stack that authenticates with `source` (an `atu_` user
    /// token, a personal token, ...).
    pub fn with_token_source(&self, source: Arc<dyn TokenSource>) -> Client {
        Self::with_auth(self.shared.clone(), Some(source))
    }

    /// A client that acts as the app itself (bearer = the app JWT).
    ///
    /// Calls fail with [`Error::Config`] if no app credentials were configured.
    pub fn app(&self) -> Client {
        let auth: Arc<dyn TokenSource> = match &self.shared.jwt {
            Some(jwt) => jwt.clone(),
            None => Arc::new(MissingApp),
        };
        Self::with_auth(self.shared.clone(), Some(auth))
    }

    /// The login of the app's own user (`ATOMGIT_BOT_LOGIN`), if configured; the
    /// platform's `…[bot]` logins are recognised without it.
    pub fn bot_login(&self) -> Option<&str> {
        self.shared.bot_login.as_deref()
    }

    /// The installation this client acts as, if any.
    pub fn installation_id(&self) -> Option<InstallationId> {
        self.installation
    }

    /// The installation-token cache shared by this client's family, if app credentials
    /// were configured.
    pub fn installation_tokens(&self) -> Option<&InstallationTokens> {
        self.shared.tokens.as_ref()
    }

    /// The rate budget the platform last reported for this client's token.
    pub fn rate_limit(&self) -> Option<layers::RateLimitStatus> {
        let key = self.auth.as_ref().map(|a| a.rate_key());
        self.shared
            .limiter
            .status(key.as_deref().unwrap_or("anonymous"))
    }

    /// Sends a request through the whole stack and returns the response untouched,
    /// whatever its status. `request`'s URI may be a path (joined under the API base URL)
    /// or an absolute URL on the API host.
    ///
    /// The whole call (waits, mint, retries) is bounded by the client's deadline
    /// ([`ClientBuilder::deadline`]); past it, it fails with [`Error::Timeout`].
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let call = self.service.clone().oneshot(request);
        match tokio::time::timeout(self.shared.deadline, call).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout { method, path }),
        }
    }

    /// Total time calls of this client's family (one builder) waited for the rate limit:
    /// pacing to the per-second and hourly budgets, and refusals waited out.
    pub fn rate_limit_wait(&self) -> std::time::Duration {
        self.shared.limiter.waited()
    }

    /// Sends `method path` with an optional query and JSON body; fails with
    /// [`Error::Api`] on a non-success status.
    pub async fn execute<Q: Serialize + ?Sized, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<HttpResponse> {
        let uri = build_uri(path, query)?;
        let mut builder = http::Request::builder().method(method.clone()).uri(uri);
        let body = match body {
            Some(b) => {
                builder = builder.header(http::header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(b).map_err(|e| {
                    Error::InvalidRequest(format!("cannot encode the request body: {e}"))
                })?)
            }
            None => Bytes::new(),
        };
        let request = builder
            .body(body)
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let response = self.send(request).await?;
        check_status(&method, path, response)
    }

    /// `GET path?query`, decoded as `T` (use `serde_json::Value` for anything).
    pub async fn get<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: Option<&Q>,
    ) -> Result<T> {
        let resp = self
            .execute::<Q, ()>(Method::GET, path, query, None)
            .await?;
        decode(path, &resp)
    }

    /// `POST path` with a JSON body, decoded as `T`.
    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let resp = self
            .execute::<(), B>(Method::POST, path, None, Some(body))
            .await?;
        decode(path, &resp)
    }

    /// `PUT path` with a JSON body, decoded as `T`.
    pub async fn put<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let resp = self
            .execute::<(), B>(Method::PUT, path, None, Some(body))
            .await?;
        decode(path, &resp)
    }

    /// `PATCH path` with a JSON body, decoded as `T`.
    pub async fn patch<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let resp = self
            .execute::<(), B>(Method::PATCH, path, None, Some(body))
            .await?;
        decode(path, &resp)
    }

    /// `DELETE path`; the answer's body is ignored.
    pub async fn delete(&self, path: &str) -> Result<()> {
        self.execute::<(), ()>(Method::DELETE, path, None, None)
            .await?;
        Ok(())
    }
}

/// Builds `path?query`, rejecting a query that does not encode.
pub(crate) fn build_uri<Q: Serialize + ?Sized>(path: &str, query: Option<&Q>) -> Result<String> {
    let mut uri = path.to_owned();
    if let Some(q) = query {
        let qs = serde_urlencoded::to_string(q)
            .map_err(|e| Error::InvalidRequest(format!("cannot encode the query: {e}")))?;
        if !qs.is_empty() {
            uri.push(if uri.contains('?') { '&' } else { '?' });
            uri.push_str(&qs);
        }
    }
    Ok(uri)
}

/// Turns a non-success response into [`Error::Api`] with the platform's message.
pub(crate) fn check_status(
    method: &Method,
    path: &str,
    resp: HttpResponse,
) -> Result<HttpResponse> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let message = error_message(resp.body());
    let method = method.clone();
    let path = path.split('?').next().unwrap_or(path).to_owned();
    let budget = layers::RateLimitStatus::from_headers(resp.headers());
    let exhausted = budget.as_ref().and_then(|b| b.remaining) == Some(0);
    if status == http::StatusCode::TOO_MANY_REQUESTS
        || (status == http::StatusCode::FORBIDDEN && exhausted)
    {
        let retry_after = layers::parse_retry_after(&resp)
            .or_else(|| Some(layers::until(budget.as_ref()?.reset?)));
        return Err(Error::RateLimited {
            status,
            message,
            method,
            path,
            retry_after,
        });
    }
    Err(Error::Api {
        status,
        message,
        method,
        path,
    })
}

fn error_message(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
        for field in ["message", "error_message", "error_description", "error"] {
            if let Some(serde_json::Value::String(m)) = map.get(field) {
                return m.clone();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None if text.is_empty() => "(empty body)".to_owned(),
        None => text.to_owned(),
    }
}

/// Decodes a JSON body, naming the failing field's path.
pub(crate) fn decode<T: DeserializeOwned>(path: &str, resp: &HttpResponse) -> Result<T> {
    let body: &[u8] = if resp.body().is_empty() {
        b"null"
    } else {
        resp.body()
    };
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        path: path.split('?').next().unwrap_or(path).to_owned(),
        json_path: e.path().to_string(),
        source: e.into_inner(),
    })
}

/// Token source of a client scoped to an installation without app credentials.
#[derive(Debug)]
struct MissingApp;

impl TokenSource for MissingApp {
    fn token(&self) -> futures_util::future::BoxFuture<'_, Result<secrecy::SecretString>> {
        Box::pin(async {
            Err(Error::config(
                crate::config::env::APP_ID,
                "this client has no app credentials (use ClientBuilder::app)",
            ))
        })
    }

    fn rate_key(&self) -> String {
        "anonymous".to_owned()
    }
}
