//! Issues of one repository: read, list, create, update, close, reopen, assignees, labels
//! and comments.

mod builders;

use serde::Serialize;

use super::paths::{
    Endpoint, ISSUES_ASSIGNEES_ADD, ISSUES_ASSIGNEES_REMOVE, ISSUES_COMMENT_CREATE,
    ISSUES_COMMENT_DELETE, ISSUES_COMMENT_UPDATE, ISSUES_COMMENTS, ISSUES_CREATE, ISSUES_GET,
    ISSUES_LABEL_REMOVE, ISSUES_LABELS_ADD, ISSUES_LABELS_REPLACE, ISSUES_LIST, ISSUES_UPDATE,
};
use crate::client::Client;
use crate::error::Result;
use crate::models::{Comment, CommentId, Issue, Label};

pub(crate) use self::builders::route_of;
#[doc(inline)]
pub use self::builders::{CreateIssue, ListComments, ListIssues, UpdateIssue};
use self::builders::{IssueChanges, NewIssue};

/// Issue calls for `owner/repo`.
#[derive(Debug, Clone)]
pub struct IssuesHandler<'c> {
    client: &'c Client,
    owner: String,
    repo: String,
}

/// `page` / `per_page` and a list's filters, serialized into the query.
#[derive(Debug, Default, Serialize)]
pub(super) struct IssueQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_page: Option<u32>,
}

impl<'c> IssuesHandler<'c> {
    pub(crate) fn new(client: &'c Client, owner: &str, repo: &str) -> Self {
        Self {
            client,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        }
    }

    fn path(&self, endpoint: &Endpoint, extra: &[(&str, &str)]) -> Result<String> {
        let mut params = vec![("owner", self.owner.as_str()), ("repo", self.repo.as_str())];
        params.extend_from_slice(extra);
        self.client.endpoint_path(endpoint, &params)
    }

    fn numbered(&self, endpoint: &Endpoint, number: u64) -> Result<String> {
        self.path(endpoint, &[("number", &number.to_string())])
    }

    /// Issue `number`.
    pub async fn get(&self, number: u64) -> Result<Issue> {
        let path = self.numbered(&ISSUES_GET, number)?;
        self.client
            .call::<_, (), ()>(&ISSUES_GET, &path, None, None)
            .await
    }

    /// Lists issues; filter, then end with [`ListIssues::send`] or [`ListIssues::all`].
    pub fn list(&self) -> ListIssues<'c> {
        ListIssues {
            client: self.client,
            route: self.path(&ISSUES_LIST, &[]),
            query: IssueQuery::default(),
        }
    }

    /// Starts a new issue titled `title`; end with [`CreateIssue::send`].
    pub fn create(&self, title: impl Into<String>) -> CreateIssue<'c> {
        CreateIssue {
            client: self.client,
            route: self.path(&ISSUES_CREATE, &[]),
            body: NewIssue::titled(title.into()),
        }
    }

    /// Starts an update of issue `number`; end with [`UpdateIssue::send`].
    ///
    /// The body always names the repository (`repo`), which the `/api/v5` path
    /// (`PATCH /repos/{owner}/issues/{number}`) needs.
    pub fn update(&self, number: u64) -> UpdateIssue<'c> {
        UpdateIssue {
            client: self.client,
            route: self.numbered(&ISSUES_UPDATE, number),
            body: IssueChanges::for_repo(self.repo.clone()),
        }
    }

    /// Closes issue `number`.
    pub async fn close(&self, number: u64) -> Result<Issue> {
        self.update(number).state("closed").send().await
    }

    /// Reopens issue `number`.
    pub async fn reopen(&self, number: u64) -> Result<Issue> {
        self.update(number).state("open").send().await
    }

    /// Assigns `logins` to issue `number`.
    pub async fn add_assignees(&self, number: u64, logins: &[&str]) -> Result<Issue> {
        let path = self.numbered(&ISSUES_ASSIGNEES_ADD, number)?;
        let body = serde_json::json!({ "assignees": logins });
        self.client
            .call::<_, (), _>(&ISSUES_ASSIGNEES_ADD, &path, None, Some(&body))
            .await
    }

    /// Unassigns `logins` from issue `number`.
    pub async fn remove_assignees(&self, number: u64, logins: &[&str]) -> Result<Issue> {
        let path = self.numbered(&ISSUES_ASSIGNEES_REMOVE, number)?;
        let body = serde_json::json!({ "assignees": logins });
        self.client
            .call::<_, (), _>(&ISSUES_ASSIGNEES_REMOVE, &path, None, Some(&body))
            .await
    }

    /// Adds labels (by name) to issue `number`; returns the labels the platform reports.
    pub async fn add_labels(&self, number: u64, labels: &[&str]) -> Result<Vec<Label>> {
        let path = self.numbered(&ISSUES_LABELS_ADD, number)?;
        self.client
            .call::<_, (), _>(&ISSUES_LABELS_ADD, &path, None, Some(labels))
            .await
    }

    /// Replaces the labels of issue `number` with `labels` (by name).
    pub async fn replace_labels(&self, number: u64, labels: &[&str]) -> Result<Vec<Label>> {
        let path = self.numbered(&ISSUES_LABELS_REPLACE, number)?;
        self.client
            .call::<_, (), _>(&ISSUES_LABELS_REPLACE, &path, None, Some(labels))
            .await
    }

    /// Removes label `name` from issue `number`.
    pub async fn remove_label(&self, number: u64, name: &str) -> Result<()> {
        let path = self.path(
            &ISSUES_LABEL_REMOVE,
            &[("number", &number.to_string()), ("name", name)],
        )?;
        self.client
            .call_raw::<(), ()>(&ISSUES_LABEL_REMOVE, &path, None, None)
            .await?;
        Ok(())
    }

    /// Comments on issue (or pull request) `number`.
    pub async fn create_comment(&self, number: u64, body: impl Into<String>) -> Result<Comment> {
        let path = self.numbered(&ISSUES_COMMENT_CREATE, number)?;
        let body = CommentBody { body: body.into() };
        self.client
            .call::<_, (), _>(&ISSUES_COMMENT_CREATE, &path, None, Some(&body))
            .await
    }

    /// Lists comments on issue `number`; end with `send` or `all`.
    pub fn list_comments(&self, number: u64) -> ListComments<'c> {
        ListComments {
            client: self.client,
            route: self.numbered(&ISSUES_COMMENTS, number),
            page: None,
            per_page: None,
        }
    }

    /// Replaces the text of comment `id`.
    pub async fn update_comment(&self, id: &CommentId, body: impl Into<String>) -> Result<Comment> {
        let path = self.path(&ISSUES_COMMENT_UPDATE, &[("id", id.as_str())])?;
        let body = CommentBody { body: body.into() };
        self.client
            .call::<_, (), _>(&ISSUES_COMMENT_UPDATE, &path, None, Some(&body))
            .await
    }

    /// Deletes comment `id`.
    pub async fn delete_comment(&self, id: &CommentId) -> Result<()> {
        let path = self.path(&ISSUES_COMMENT_DELETE, &[("id", id.as_str())])?;
        self.client
            .call_raw::<(), ()>(&ISSUES_COMMENT_DELETE, &path, None, None)
            .await?;
        Ok(())
    }
}

#[derive(Debug, Serialize)]
struct CommentBody {
    body: String,
}
