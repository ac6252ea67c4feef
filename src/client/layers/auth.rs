//! Adds `Authorization: Bearer …` from a [`TokenSource`]; on a 401 it invalidates the token
//! and, if the source can mint a fresh one, retries the request once.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::{HeaderValue, StatusCode, header::AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use tower::{Layer, Service, ServiceExt};

use super::{clone_request, take_ready};
use crate::auth::TokenSource;
use crate::client::{HttpRequest, HttpResponse};
use crate::error::{Error, Result};

/// Request extension naming the rate budget a request is charged to (set by [`Auth`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey(pub Arc<str>);

/// Layer for [`Auth`].
#[derive(Debug, Clone)]
pub struct AuthLayer {
    source: Arc<dyn TokenSource>,
}

impl AuthLayer {
    /// Authenticates requests with tokens from `source`.
    pub fn new(source: Arc<dyn TokenSource>) -> Self {
        Self { source }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;
    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            key: RateKey(self.source.rate_key().into()),
            source: self.source.clone(),
        }
    }
}

/// Authenticates each request with a bearer token.
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    source: Arc<dyn TokenSource>,
    key: RateKey,
}

fn authorize(mut req: HttpRequest, token: &SecretString, key: &RateKey) -> Result<HttpRequest> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
        .map_err(|_| Error::InvalidRequest("token is not a valid header value".into()))?;
    value.set_sensitive(true);
    req.headers_mut().insert(AUTHORIZATION, value);
    req.extensions_mut().insert(key.clone());
    Ok(req)
}

impl<S> Service<HttpRequest> for Auth<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = Error;
    type Future = BoxFuture<'static, Result<HttpResponse>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        let inner = take_ready(&mut self.inner);
        let source = self.source.clone();
        let key = self.key.clone();
        Box::pin(async move {
            let token = source.token().await?;
            let retry = clone_request(&req);
            let resp = inner.clone().oneshot(authorize(req, &token, &key)?).await?;
            if resp.status() != StatusCode::UNAUTHORIZED || !source.invalidate(&token).await {
                return Ok(resp);
            }
            tracing::debug!("token refused with 401; retrying once with a fresh token");
            let fresh = source.token().await?;
            inner.oneshot(authorize(retry, &fresh, &key)?).await
        })
    }
}
