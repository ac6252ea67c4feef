//! Pull requests of one repository: list, read, files, commits, create, update, merge,
//! reviews (approve) and comments.

use serde::Serialize;

use super::issues::route_of;
use super::paths::{
    Endpoint, PULLS_COMMENT_CREATE, PULLS_COMMITS, PULLS_CREATE, PULLS_FILES, PULLS_GET,
    PULLS_LIST, PULLS_MERGE, PULLS_REVIEW, PULLS_UPDATE,
};
use crate::client::{Client, Page, build_uri};
use crate::error::Result;
use crate::models::{Comment, Commit, MergeResult, PullRequest, PullRequestFile, Review};

/// Pull-request calls for `owner/repo`.
#[derive(Debug, Clone)]
pub struct PullsHandler<'c> {
    client: &'c Client,
    owner: String,
    repo: String,
}

impl<'c> PullsHandler<'c> {
    pub(crate) fn new(client: &'c Client, owner: &str, repo: &str) -> Self {
        Self {
            client,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        }
    }

    fn path(&self, endpoint: &Endpoint, number: Option<u64>) -> Result<String> {
        let number = number.map(|n| n.to_string());
        let mut params = vec![("owner", self.owner.as_str()), ("repo", self.repo.as_str())];
        if let Some(n) = &number {
            params.push(("number", n));
        }
        self.client.endpoint_path(endpoint, &params)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        number: u64,
    ) -> Result<T> {
        let path = self.path(endpoint, Some(number))?;
        self.client
            .call::<_, (), ()>(endpoint, &path, None, None)
            .await
    }

    /// Lists pull requests; filter, then end with [`ListPulls::send`] or [`ListPulls::all`].
    pub fn list(&self) -> ListPulls<'c> {
        ListPulls {
            client: self.client,
            route: self.path(&PULLS_LIST, None),
            query: PullQuery::default(),
        }
    }

    /// Pull request `number`.
    pub async fn get(&self, number: u64) -> Result<PullRequest> {
        self.get_json(&PULLS_GET, number).await
    }

    /// The files pull request `number` changes.
    pub async fn files(&self, number: u64) -> Result<Vec<PullRequestFile>> {
        self.get_json(&PULLS_FILES, number).await
    }

    /// The commits of pull request `number`.
    pub async fn commits(&self, number: u64) -> Result<Vec<Commit>> {
        self.get_json(&PULLS_COMMITS, number).await
    }

    /// Starts a pull request from `head` into `base`; end with [`CreatePull::send`].
    pub fn create(
        &self,
        title: impl Into<String>,
        head: impl Into<String>,
        base: impl Into<String>,
    ) -> CreatePull<'c> {
        CreatePull {
            client: self.client,
            endpoint: &PULLS_CREATE,
            route: self.path(&PULLS_CREATE, None),
            body: PullBody {
                title: Some(title.into()),
                head: Some(head.into()),
                base: Some(base.into()),
                ..PullBody::default()
            },
        }
    }

    /// Starts an update of pull request `number` (title, body, state, base); end with
    /// [`CreatePull::send`].
    pub fn update(&self, number: u64) -> CreatePull<'c> {
        CreatePull {
            client: self.client,
            endpoint: &PULLS_UPDATE,
            route: self.path(&PULLS_UPDATE, Some(number)),
            body: PullBody::default(),
        }
    }

    /// Merges pull request `number`; end with [`MergePull::send`].
    pub fn merge(&self, number: u64) -> MergePull<'c> {
        MergePull {
            client: self.client,
            route: self.path(&PULLS_MERGE, Some(number)),
            body: MergeBody::default(),
        }
    }

    /// Approves pull request `number` (a review with event `APPROVE`), with an optional
    /// message. Formal reviews on `/api/v5` support approve only.
    pub async fn approve(&self, number: u64, body: Option<&str>) -> Result<Review> {
        let path = self.path(&PULLS_REVIEW, Some(number))?;
        let body = serde_json::json!({ "event": "APPROVE", "body": body });
        self.client
            .call::<_, (), _>(&PULLS_REVIEW, &path, None, Some(&body))
            .await
    }

    /// Comments on pull request `number` (`POST …/pulls/{n}/comments`).
    pub async fn comment(&self, number: u64, body: impl Into<String>) -> Result<Comment> {
        let path = self.path(&PULLS_COMMENT_CREATE, Some(number))?;
        let body = serde_json::json!({ "body": body.into() });
        self.client
            .call::<_, (), _>(&PULLS_COMMENT_CREATE, &path, None, Some(&body))
            .await
    }
}

#[derive(Debug, Default, Serialize)]
struct PullQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_page: Option<u32>,
}

/// A pull-request list request.
#[derive(Debug)]
pub struct ListPulls<'c> {
    client: &'c Client,
    route: Result<String>,
    query: PullQuery,
}

impl ListPulls<'_> {
    /// `open`, `closed`, `merged` or `all`.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.query.state = Some(state.into());
        self
    }

    /// Only pull requests into branch `base`.
    pub fn base(mut self, base: impl Into<String>) -> Self {
        self.query.base = Some(base.into());
        self
    }

    /// Page number, from 1.
    pub fn page(mut self, page: u32) -> Self {
        self.query.page = Some(page);
        self
    }

    /// Items per page (the platform's maximum is 100).
    pub fn per_page(mut self, n: u32) -> Self {
        self.query.per_page = Some(n);
        self
    }

    fn request(&self) -> Result<String> {
        build_uri(&route_of(&self.route)?, Some(&self.query))
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<PullRequest>> {
        self.client.call_page(&PULLS_LIST, &self.request()?).await
    }

    /// Collects every pull request.
    pub async fn all(self) -> Result<Vec<PullRequest>> {
        self.client.call_all(&PULLS_LIST, &self.request()?).await
    }
}

#[derive(Debug, Default, Serialize)]
struct PullBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    draft: Option<bool>,
}

/// A pull-request creation or update request.
#[derive(Debug)]
pub struct CreatePull<'c> {
    client: &'c Client,
    endpoint: &'static Endpoint,
    route: Result<String>,
    body: PullBody,
}

impl CreatePull<'_> {
    /// Title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.body.title = Some(title.into());
        self
    }

    /// Markdown body.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body.body = Some(body.into());
        self
    }

    /// Target branch.
    pub fn base(mut self, base: impl Into<String>) -> Self {
        self.body.base = Some(base.into());
        self
    }

    /// `open` or `closed` (updates only).
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.body.state = Some(state.into());
        self
    }

    /// Draft (work in progress).
    pub fn draft(mut self, draft: bool) -> Self {
        self.body.draft = Some(draft);
        self
    }

    /// Sends the request.
    pub async fn send(self) -> Result<PullRequest> {
        let route = self.route?;
        self.client
            .call::<_, (), _>(self.endpoint, &route, None, Some(&self.body))
            .await
    }
}

#[derive(Debug, Default, Serialize)]
struct MergeBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    merge_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_message: Option<String>,
}

/// A merge request; end with [`send`](Self::send).
#[derive(Debug)]
pub struct MergePull<'c> {
    client: &'c Client,
    route: Result<String>,
    body: MergeBody,
}

impl MergePull<'_> {
    /// `merge`, `squash` or `rebase`.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.body.merge_method = Some(method.into());
        self
    }

    /// Title of the merge commit.
    pub fn commit_title(mut self, title: impl Into<String>) -> Self {
        self.body.commit_title = Some(title.into());
        self
    }

    /// Message of the merge commit.
    pub fn commit_message(mut self, message: impl Into<String>) -> Self {
        self.body.commit_message = Some(message.into());
        self
    }

    /// Merges.
    pub async fn send(self) -> Result<MergeResult> {
        let route = self.route?;
        self.client
            .call::<_, (), _>(&PULLS_MERGE, &route, None, Some(&self.body))
            .await
    }
}
