//! Calls through the endpoint table: render the path for the configured family, send with
//! the endpoint's method, and explain a 404 (unsupported capability, or an unconfirmed path
//! and the setting that overrides it).

use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::paths::Endpoint;
use crate::client::{Client, HttpResponse, Page, decode};
use crate::error::{Error, Result};

impl Client {
    /// The request path of `endpoint` with `params`, in the family the settings choose.
    ///
    /// Fails with [`Error::InvalidRequest`] when a placeholder has no value.
    pub fn endpoint_path(&self, endpoint: &Endpoint, params: &[(&str, &str)]) -> Result<String> {
        self.shared
            .paths
            .render(endpoint, &self.shared.base_path, params)
    }

    /// Sends `endpoint` to `path` (from [`endpoint_path`](Self::endpoint_path)) with an
    /// optional query and JSON body; a non-success status is an error explained for the
    /// endpoint (see [`explain`]).
    pub(crate) async fn call_raw<Q: Serialize + ?Sized, B: Serialize + ?Sized>(
        &self,
        endpoint: &Endpoint,
        path: &str,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<HttpResponse> {
        let method = Method::from_bytes(endpoint.method.as_bytes())
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        self.execute(method, path, query, body)
            .await
            .map_err(|e| self.explain(endpoint, e))
    }

    /// Like [`call_raw`](Self::call_raw), decoding the answer as `T`.
    pub(crate) async fn call<T: DeserializeOwned, Q: Serialize + ?Sized, B: Serialize + ?Sized>(
        &self,
        endpoint: &Endpoint,
        path: &str,
        query: Option<&Q>,
        body: Option<&B>,
    ) -> Result<T> {
        let resp = self.call_raw(endpoint, path, query, body).await?;
        decode(path, &resp)
    }

    /// One page of a list endpoint (`request` is the path with its query).
    pub(crate) async fn call_page<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        request: &str,
    ) -> Result<Page<T>> {
        self.get_page(request)
            .await
            .map_err(|e| self.explain(endpoint, e))
    }

    /// Every item of a list endpoint.
    pub(crate) async fn call_all<T: DeserializeOwned + Send + 'static>(
        &self,
        endpoint: &Endpoint,
        request: &str,
    ) -> Result<Vec<T>> {
        self.get_all(request)
            .await
            .map_err(|e| self.explain(endpoint, e))
    }

    /// A 404 on an optional endpoint is [`Error::Unsupported`]; on a `guess` path (not
    /// overridden) the message says the path is unconfirmed and names the setting.
    fn explain(&self, endpoint: &Endpoint, error: Error) -> Error {
        match error {
            Error::Api {
                status,
                message,
                method,
                path,
            } if status == http::StatusCode::NOT_FOUND => {
                if endpoint.optional {
                    Error::Unsupported {
                        capability: endpoint.name,
                        method,
                        path,
                        setting: endpoint.setting(),
                    }
                } else if endpoint.source.is_guess() && !self.shared.paths.is_overridden(endpoint) {
                    Error::Api {
                        status,
                        message: format!(
                            "{message} (this path is unconfirmed; set {} to override)",
                            endpoint.setting()
                        ),
                        method,
                        path,
                    }
                } else {
                    Error::Api {
                        status,
                        message,
                        method,
                        path,
                    }
                }
            }
            other => other,
        }
    }
}
