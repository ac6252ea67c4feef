//! The innermost service: sends an `http::Request<Bytes>` with reqwest and buffers the answer.

use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tower::Service;

use super::{HttpRequest, HttpResponse, request_path};
use crate::error::Error;

/// Sends requests over HTTP with a shared [`reqwest::Client`] (connection pool, TLS).
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
}

impl Transport {
    pub(crate) fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

impl Service<HttpRequest> for Transport {
    type Response = HttpResponse;
    type Error = Error;
    type Future = BoxFuture<'static, Result<HttpResponse, Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        let http = self.http.clone();
        Box::pin(async move {
            let method = req.method().clone();
            let path = request_path(req.uri());
            let transport = |e: reqwest::Error| Error::Transport {
                method: method.clone(),
                path: path.clone(),
                source: Box::new(e.without_url()),
            };
            let req = reqwest::Request::try_from(req).map_err(transport)?;
            let resp = http.execute(req).await.map_err(transport)?;
            let mut builder = http::Response::builder()
                .status(resp.status())
                .version(resp.version());
            if let Some(headers) = builder.headers_mut() {
                *headers = resp.headers().clone();
            }
            let body: Bytes = resp.bytes().await.map_err(transport)?;
            builder.body(body).map_err(|e| Error::Transport {
                method: method.clone(),
                path: path.clone(),
                source: Box::new(e),
            })
        })
    }
}
