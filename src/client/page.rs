//! Pagination: `page`/`per_page`, following `Link: <…>; rel="next"` when the platform
//! sends it.

use std::pin::Pin;

use futures_core::Stream;
use futures_util::{StreamExt, TryStreamExt, stream};
use http::Method;
use serde::de::DeserializeOwned;

use super::{Client, HttpResponse, decode};
use crate::error::{Error, Result};

/// Default page size asked for when the caller sets none.
pub(crate) const DEFAULT_PER_PAGE: u32 = 100;

/// One page of a list.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// The request (path or absolute URL on the API host) for the next page, if any.
    pub next: Option<String>,
}

/// A stream of every item of a list, fetching pages as it goes.
pub type PageStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send>>;

/// The `rel="next"` target of a `Link` header.
pub(crate) fn link_next(resp: &HttpResponse) -> Option<String> {
    let link = resp.headers().get(http::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        is_next.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// Reads `page` and `per_page` from a request's query.
fn page_params(request: &str) -> (u32, Option<u32>) {
    let query = request.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut page = 1;
    let mut per_page = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "page" => page = v.parse().unwrap_or(1),
            "per_page" => per_page = v.parse().ok(),
            _ => {}
        }
    }
    (page, per_page)
}

/// `request` with its `page` parameter set to `page`.
fn with_page(request: &str, page: u32) -> String {
    let (path, query) = request.split_once('?').unwrap_or((request, ""));
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k != "page" {
            out.append_pair(&k, &v);
        }
    }
    out.append_pair("page", &page.to_string());
    format!("{path}?{}", out.finish())
}

/// Adds `per_page` to a first request that has none, so a short page means the end.
pub(crate) fn with_default_per_page(request: String) -> String {
    if page_params(&request).1.is_some() {
        return request;
    }
    let sep = if request.contains('?') { '&' } else { '?' };
    format!("{request}{sep}per_page={DEFAULT_PER_PAGE}")
}

impl Client {
    /// Fetches one page: `request` is a path with its query (or a `next` from a previous
    /// page).
    pub async fn get_page<T: DeserializeOwned>(&self, request: &str) -> Result<Page<T>> {
        let path = request.split('?').next().unwrap_or(request);
        let resp = self
            .execute::<(), ()>(Method::GET, request, None, None)
            .await?;
        let items: Vec<T> = decode(path, &resp)?;
        let (page, per_page) = page_params(request);
        let next = link_next(&resp).or_else(|| {
            let full = per_page.is_some_and(|n| n > 0 && items.len() >= n as usize);
            full.then(|| with_page(request, page + 1))
        });
        Ok(Page {
            next: next.filter(|_| !items.is_empty()),
            items,
        })
    }

    /// Streams every item of a list, starting at `request` (path plus query; `per_page`
    /// defaults to 100).
    pub fn paginate<T: DeserializeOwned + Send + 'static>(&self, request: &str) -> PageStream<T> {
        let client = self.clone();
        let first = Some(with_default_per_page(request.to_owned()));
        stream::try_unfold(first, move |next| {
            let client = client.clone();
            async move {
                let Some(request) = next else {
                    return Ok::<_, Error>(None);
                };
                let page = client.get_page::<T>(&request).await?;
                Ok(Some((
                    stream::iter(page.items.into_iter().map(Ok)),
                    page.next,
                )))
            }
        })
        .try_flatten()
        .boxed()
    }

    /// Collects every item of a list (see [`paginate`](Self::paginate)).
    pub async fn get_all<T: DeserializeOwned + Send + 'static>(
        &self,
        request: &str,
    ) -> Result<Vec<T>> {
        self.paginate(request).try_collect().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_next() {
        let resp = http::Response::builder()
            .header(
                "link",
                r#"<https://h/x?page=3&per_page=2>; rel="next", <https://h/x?page=9>; rel="last""#,
            )
            .body(bytes::Bytes::new())
            .unwrap();
        assert_eq!(
            link_next(&resp).as_deref(),
            Some("https://h/x?page=3&per_page=2")
        );
    }

    #[test]
    fn advances_the_page_parameter() {
        assert_eq!(page_params("/x?per_page=5&page=2"), (2, Some(5)));
        assert_eq!(with_page("/x?per_page=5&page=2", 3), "/x?per_page=5&page=3");
        assert_eq!(with_default_per_page("/x".into()), "/x?per_page=100");
    }
}
