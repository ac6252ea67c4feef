//! Resolves a request's relative URI under the API base URL (which may carry a path prefix
//! such as `/api/v5`), and refuses absolute URIs on another origin so credentials never
//! leave the configured host.

use std::task::{Context, Poll};

use futures_util::future::{BoxFuture, FutureExt};
use http::Uri;
use tower::{Layer, Service};
use url::Url;

use crate::client::{HttpRequest, HttpResponse};
use crate::error::Error;

/// Layer for [`BaseUri`].
#[derive(Debug, Clone)]
pub struct BaseUriLayer {
    base: Url,
}

impl BaseUriLayer {
    /// `base` must end in `/` (as [`AppConfig`](crate::AppConfig) URLs do).
    pub fn new(base: Url) -> Self {
        Self { base }
    }
}

impl<S> Layer<S> for BaseUriLayer {
    type Service = BaseUri<S>;
    fn layer(&self, inner: S) -> BaseUri<S> {
        BaseUri {
            inner,
            base: self.base.clone(),
        }
    }
}

/// Joins relative request paths under the base URL.
#[derive(Debug, Clone)]
pub struct BaseUri<S> {
    inner: S,
    base: Url,
}

/// Resolves `uri` against `base`: a relative path is joined under the base's path; an
/// absolute URI must have the base's origin.
pub(crate) fn resolve(base: &Url, uri: &Uri) -> Result<Uri, String> {
    if uri.scheme().is_some() {
        let url = Url::parse(&uri.to_string()).map_err(|e| e.to_string())?;
        if url.origin() != base.origin() {
            return Err(format!(
                "refusing to send credentials to {} (not the API host)",
                url.origin().ascii_serialization()
            ));
        }
        return Ok(uri.clone());
    }
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let joined = format!(
        "{}{}",
        base.as_str().trim_end_matches('/'),
        if pq.starts_with('/') {
            pq.to_owned()
        } else {
            format!("/{pq}")
        }
    );
    joined
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())
}

impl<S> Service<HttpRequest> for BaseUri<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = Error;
    type Future = BoxFuture<'static, Result<HttpResponse, Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: HttpRequest) -> Self::Future {
        match resolve(&self.base, req.uri()) {
            Ok(uri) => {
                *req.uri_mut() = uri;
                self.inner.call(req).boxed()
            }
            Err(reason) => std::future::ready(Err(Error::InvalidRequest(reason))).boxed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_under_a_path_prefix() {
        let base = Url::parse("https://h.example/api/v5/").unwrap();
        let uri: Uri = "/orgs/x/repos?page=2".parse().unwrap();
        assert_eq!(
            resolve(&base, &uri).unwrap().to_string(),
            "https://h.example/api/v5/orgs/x/repos?page=2"
        );
        let root = Url::parse("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            resolve(&root, &uri).unwrap().to_string(),
            "http://127.0.0.1:9/orgs/x/repos?page=2"
        );
    }

    #[test]
    fn refuses_other_hosts() {
        let base = Url::parse("https://h.example/api/v5/").unwrap();
        let same: Uri = "https://h.example/api/v5/x?page=3".parse().unwrap();
        let other: Uri = "https://evil.example/x".parse().unwrap();
        assert!(resolve(&base, &same).is_ok());
        assert!(resolve(&base, &other).unwrap_err().contains("evil.example"));
    }
}
