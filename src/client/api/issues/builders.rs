//! The request builders of [`IssuesHandler`](super::IssuesHandler): lists, creation and
//! updates.

use serde::Serialize;

use super::IssueQuery;
use crate::client::api::paths::{ISSUES_COMMENTS, ISSUES_CREATE, ISSUES_LIST, ISSUES_UPDATE};
use crate::client::{Client, Page, build_uri};
use crate::error::{Error, Result};
use crate::models::{Comment, Issue};

/// Copies a route error (errors are not `Clone`).
pub(crate) fn route_of(route: &Result<String>) -> Result<String> {
    match route {
        Ok(route) => Ok(route.clone()),
        Err(e) => Err(Error::InvalidRequest(e.to_string())),
    }
}

/// An issue-list request.
#[derive(Debug)]
pub struct ListIssues<'c> {
    pub(super) client: &'c Client,
    pub(super) route: Result<String>,
    pub(super) query: IssueQuery,
}

impl ListIssues<'_> {
    /// `open`, `closed` or `all`.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.query.state = Some(state.into());
        self
    }

    /// Only issues opened by `login`.
    pub fn creator(mut self, login: impl Into<String>) -> Self {
        self.query.creator = Some(login.into());
        self
    }

    /// Only issues assigned to `login`.
    pub fn assignee(mut self, login: impl Into<String>) -> Self {
        self.query.assignee = Some(login.into());
        self
    }

    /// Only issues with all these labels (sent comma-separated).
    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.query.labels = Some(labels.join(","));
        self
    }

    /// `created` or `updated`.
    pub fn sort(mut self, sort: impl Into<String>) -> Self {
        self.query.sort = Some(sort.into());
        self
    }

    /// `asc` or `desc`.
    pub fn direction(mut self, direction: impl Into<String>) -> Self {
        self.query.direction = Some(direction.into());
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
    pub async fn send(self) -> Result<Page<Issue>> {
        self.client.call_page(&ISSUES_LIST, &self.request()?).await
    }

    /// Collects every issue.
    pub async fn all(self) -> Result<Vec<Issue>> {
        self.client.call_all(&ISSUES_LIST, &self.request()?).await
    }
}

#[derive(Debug, Default, Serialize)]
pub(super) struct NewIssue {
    pub(super) title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    assignees: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    milestone: Option<u64>,
}

impl NewIssue {
    pub(super) fn titled(title: String) -> Self {
        Self {
            title,
            ..Self::default()
        }
    }
}

/// An issue-creation request.
#[derive(Debug)]
pub struct CreateIssue<'c> {
    pub(super) client: &'c Client,
    pub(super) route: Result<String>,
    pub(super) body: NewIssue,
}

impl CreateIssue<'_> {
    /// Markdown body.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body.body = Some(body.into());
        self
    }

    /// Assignees by login.
    pub fn assignees(mut self, logins: &[&str]) -> Self {
        self.body.assignees = logins.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Labels by name.
    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.body.labels = labels.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Milestone number.
    pub fn milestone(mut self, number: u64) -> Self {
        self.body.milestone = Some(number);
        self
    }

    /// Creates the issue (the platform answers 200 or 201).
    pub async fn send(self) -> Result<Issue> {
        let route = self.route?;
        self.client
            .call::<_, (), _>(&ISSUES_CREATE, &route, None, Some(&self.body))
            .await
    }
}

#[derive(Debug, Default, Serialize)]
pub(super) struct IssueChanges {
    pub(super) repo: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

impl IssueChanges {
    pub(super) fn for_repo(repo: String) -> Self {
        Self {
            repo,
            ..Self::default()
        }
    }
}

/// An issue-update request.
#[derive(Debug)]
pub struct UpdateIssue<'c> {
    pub(super) client: &'c Client,
    pub(super) route: Result<String>,
    pub(super) body: IssueChanges,
}

impl UpdateIssue<'_> {
    /// New title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.body.title = Some(title.into());
        self
    }

    /// New Markdown body.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body.body = Some(body.into());
        self
    }

    /// `open` or `closed`.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.body.state = Some(state.into());
        self
    }

    /// Sends the update.
    pub async fn send(self) -> Result<Issue> {
        let route = self.route?;
        self.client
            .call::<_, (), _>(&ISSUES_UPDATE, &route, None, Some(&self.body))
            .await
    }
}

/// A comment-list request.
#[derive(Debug)]
pub struct ListComments<'c> {
    pub(super) client: &'c Client,
    pub(super) route: Result<String>,
    pub(super) page: Option<u32>,
    pub(super) per_page: Option<u32>,
}

impl ListComments<'_> {
    /// Page number, from 1.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Items per page (the platform's maximum is 100).
    pub fn per_page(mut self, n: u32) -> Self {
        self.per_page = Some(n);
        self
    }

    fn request(&self) -> Result<String> {
        let query = IssueQuery {
            page: self.page,
            per_page: self.per_page,
            ..IssueQuery::default()
        };
        build_uri(&route_of(&self.route)?, Some(&query))
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<Comment>> {
        self.client
            .call_page(&ISSUES_COMMENTS, &self.request()?)
            .await
    }

    /// Collects every comment.
    pub async fn all(self) -> Result<Vec<Comment>> {
        self.client
            .call_all(&ISSUES_COMMENTS, &self.request()?)
            .await
    }
}
