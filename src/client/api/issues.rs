//! Issue comments and labels of one repository.

use serde::Serialize;

use super::paths;
use crate::client::{Client, Page, build_uri};
use crate::error::Result;
use crate::models::{Comment, Label};

/// Issue calls for `owner/repo`.
#[derive(Debug)]
pub struct IssuesHandler<'c> {
    client: &'c Client,
    owner: String,
    repo: String,
}

impl<'c> IssuesHandler<'c> {
    pub(crate) fn new(client: &'c Client, owner: &str, repo: &str) -> Self {
        Self {
            client,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        }
    }

    /// Comments on issue (or pull request) `number`.
    pub async fn create_comment(&self, number: u64, body: impl Into<String>) -> Result<Comment> {
        #[derive(Serialize)]
        struct Body {
            body: String,
        }
        let path = paths::issue_comments(&self.owner, &self.repo, number);
        self.client.post(&path, &Body { body: body.into() }).await
    }

    /// Lists comments on issue `number`; end with `send` or `all`.
    pub fn list_comments(&self, number: u64) -> ListComments<'c> {
        ListComments {
            client: self.client,
            route: paths::issue_comments(&self.owner, &self.repo, number),
            page: None,
            per_page: None,
        }
    }

    /// Adds labels (by name) to issue `number`; returns the labels the platform reports.
    pub async fn add_labels(&self, number: u64, labels: &[&str]) -> Result<Vec<Label>> {
        let path = paths::issue_labels(&self.owner, &self.repo, number);
        self.client.post(&path, labels).await
    }
}

/// A comment-list request.
#[derive(Debug)]
pub struct ListComments<'c> {
    client: &'c Client,
    route: String,
    page: Option<u32>,
    per_page: Option<u32>,
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
        #[derive(Serialize)]
        struct Q {
            #[serde(skip_serializing_if = "Option::is_none")]
            page: Option<u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            per_page: Option<u32>,
        }
        build_uri(
            &self.route,
            Some(&Q {
                page: self.page,
                per_page: self.per_page,
            }),
        )
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<Comment>> {
        self.client.get_page(&self.request()?).await
    }

    /// Collects every comment.
    pub async fn all(self) -> Result<Vec<Comment>> {
        self.client.get_all(&self.request()?).await
    }
}
