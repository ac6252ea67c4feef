//! Repositories: lists, one repository, branches, tags, files and collaborator permissions.

use bytes::Bytes;
use serde::Serialize;

use super::paths::{
    self, REPOS_BRANCH, REPOS_BRANCHES, REPOS_COLLABORATOR_PERMISSION, REPOS_CONTENTS,
    REPOS_CONTENTS_CREATE, REPOS_CONTENTS_UPDATE, REPOS_FILE_LIST, REPOS_GET, REPOS_ORG_LIST,
    REPOS_RAW, REPOS_TAGS, REPOS_USER_LIST,
};
use crate::client::{Client, Page, PageStream, build_uri};
use crate::error::Result;
use crate::models::{Branch, CollaboratorPermission, Content, FileCommit, Repository, Tag};

/// Repository calls.
#[derive(Debug)]
pub struct ReposHandler<'c> {
    client: &'c Client,
}

/// `(owner, repo)` path parameters.
fn or<'a>(owner: &'a str, repo: &'a str) -> [(&'static str, &'a str); 2] {
    [("owner", owner), ("repo", repo)]
}

impl<'c> ReposHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Repositories of an organisation (`GET /orgs/{org}/repos`).
    pub fn list_org(&self, org: &str) -> ListRepos<'c> {
        ListRepos::new(
            self.client,
            self.client.endpoint_path(&REPOS_ORG_LIST, &[("org", org)]),
        )
    }

    /// Repositories of a user's personal space (`GET /user/{username}/repos`).
    pub fn list_user(&self, username: &str) -> ListRepos<'c> {
        ListRepos::new(
            self.client,
            self.client
                .endpoint_path(&REPOS_USER_LIST, &[("username", username)]),
        )
    }

    /// One repository.
    pub async fn get(&self, owner: &str, repo: &str) -> Result<Repository> {
        let path = self.client.endpoint_path(&REPOS_GET, &or(owner, repo))?;
        self.client
            .call::<_, (), ()>(&REPOS_GET, &path, None, None)
            .await
    }

    /// The repository's branches (first 100; see [`Client::get_all`] for more).
    pub async fn branches(&self, owner: &str, repo: &str) -> Result<Vec<Branch>> {
        let path = self
            .client
            .endpoint_path(&REPOS_BRANCHES, &or(owner, repo))?;
        self.client.call_all(&REPOS_BRANCHES, &path).await
    }

    /// One branch.
    pub async fn branch(&self, owner: &str, repo: &str, branch: &str) -> Result<Branch> {
        let [o, r] = or(owner, repo);
        let path = self
            .client
            .endpoint_path(&REPOS_BRANCH, &[o, r, ("branch", branch)])?;
        self.client
            .call::<_, (), ()>(&REPOS_BRANCH, &path, None, None)
            .await
    }

    /// The repository's tags.
    pub async fn tags(&self, owner: &str, repo: &str) -> Result<Vec<Tag>> {
        let path = self.client.endpoint_path(&REPOS_TAGS, &or(owner, repo))?;
        self.client.call_all(&REPOS_TAGS, &path).await
    }

    /// A file's contents (`GET /repos/{o}/{r}/contents?path=…`).
    pub fn content(&self, owner: &str, repo: &str, path: &str) -> GetContent<'c> {
        GetContent {
            client: self.client,
            route: self.client.endpoint_path(&REPOS_CONTENTS, &or(owner, repo)),
            query: RefQuery {
                path: Some(path.to_owned()),
                r#ref: None,
            },
        }
    }

    /// A file's raw bytes at `reference` (default branch when `None`), from
    /// `GET /api/v5/repos/{o}/{r}/raw/{path}?ref=`.
    pub async fn raw(
        &self,
        owner: &str,
        repo: &str,
        path: &str,
        reference: Option<&str>,
    ) -> Result<Bytes> {
        let [o, r] = or(owner, repo);
        let route = self
            .client
            .endpoint_path(&REPOS_RAW, &[o, r, ("path", path)])?;
        let query = RefQuery {
            path: None,
            r#ref: reference.map(str::to_owned),
        };
        let resp = self
            .client
            .call_raw::<_, ()>(&REPOS_RAW, &route, Some(&query), None)
            .await?;
        Ok(resp.into_body())
    }

    /// Every file path in the repository at `reference`, from
    /// `GET /api/v5/repos/{o}/{r}/file_list?ref=` (a bare array of paths).
    pub async fn file_list(
        &self,
        owner: &str,
        repo: &str,
        reference: Option<&str>,
    ) -> Result<Vec<String>> {
        let route = self
            .client
            .endpoint_path(&REPOS_FILE_LIST, &or(owner, repo))?;
        let query = RefQuery {
            path: None,
            r#ref: reference.map(str::to_owned),
        };
        self.client
            .call::<_, _, ()>(&REPOS_FILE_LIST, &route, Some(&query), None)
            .await
    }

    /// Creates file `path` with `content` (sent base64-encoded); end with
    /// [`WriteFile::send`].
    pub fn create_file(
        &self,
        owner: &str,
        repo: &str,
        path: &str,
        content: impl AsRef<[u8]>,
        message: impl Into<String>,
    ) -> WriteFile<'c> {
        WriteFile::new(
            self.client,
            &REPOS_CONTENTS_CREATE,
            owner,
            repo,
            path,
            content.as_ref(),
            message.into(),
            None,
        )
    }

    /// Replaces file `path` (whose current blob is `sha`) with `content`; end with
    /// [`WriteFile::send`].
    pub fn update_file(
        &self,
        owner: &str,
        repo: &str,
        path: &str,
        content: impl AsRef<[u8]>,
        message: impl Into<String>,
        sha: impl Into<String>,
    ) -> WriteFile<'c> {
        WriteFile::new(
            self.client,
            &REPOS_CONTENTS_UPDATE,
            owner,
            repo,
            path,
            content.as_ref(),
            message.into(),
            Some(sha.into()),
        )
    }

    /// `username`'s permission on the repository (`admin`, `write`, `read`, `none`), for
    /// permission checks on commands.
    pub async fn collaborator_permission(
        &self,
        owner: &str,
        repo: &str,
        username: &str,
    ) -> Result<CollaboratorPermission> {
        let [o, r] = or(owner, repo);
        let path = self.client.endpoint_path(
            &REPOS_COLLABORATOR_PERMISSION,
            &[o, r, ("username", username)],
        )?;
        self.client
            .call::<_, (), ()>(&REPOS_COLLABORATOR_PERMISSION, &path, None, None)
            .await
    }
}

#[derive(Debug, Serialize)]
struct ListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    search: Option<String>,
}

/// A repository list request; end with [`send`](Self::send) (one page) or
/// [`stream`](Self::stream) / [`all`](Self::all) (every page).
#[derive(Debug)]
pub struct ListRepos<'c> {
    client: &'c Client,
    route: Result<String>,
    query: ListQuery,
}

impl<'c> ListRepos<'c> {
    fn new(client: &'c Client, route: Result<String>) -> Self {
        Self {
            client,
            route,
            query: ListQuery {
                page: None,
                per_page: None,
                search: None,
            },
        }
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

    /// Only repositories whose name matches.
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.query.search = Some(text.into());
        self
    }

    fn request(&self) -> Result<String> {
        match &self.route {
            Ok(route) => build_uri(route, Some(&self.query)),
            Err(e) => Err(crate::Error::InvalidRequest(e.to_string())),
        }
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<Repository>> {
        self.client.get_page(&self.request()?).await
    }

    /// Streams every repository, page after page.
    pub fn stream(self) -> Result<PageStream<Repository>> {
        Ok(self.client.paginate(&self.request()?))
    }

    /// Collects every repository.
    pub async fn all(self) -> Result<Vec<Repository>> {
        self.client.get_all(&self.request()?).await
    }
}

#[derive(Debug, Serialize)]
struct RefQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    r#ref: Option<String>,
}

/// A file-contents request; end with [`send`](Self::send).
#[derive(Debug)]
pub struct GetContent<'c> {
    client: &'c Client,
    route: Result<String>,
    query: RefQuery,
}

impl GetContent<'_> {
    /// Branch, tag or commit to read from (default: the default branch).
    pub fn r#ref(mut self, reference: impl Into<String>) -> Self {
        self.query.r#ref = Some(reference.into());
        self
    }

    /// Fetches the file; [`Content::text`] decodes it.
    pub async fn send(self) -> Result<Content> {
        let route = self.route?;
        self.client
            .call::<_, _, ()>(&REPOS_CONTENTS, &route, Some(&self.query), None)
            .await
    }
}

#[derive(Debug, Serialize)]
struct WriteBody {
    message: String,
    content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
}

/// A request that creates or updates a file; end with [`send`](Self::send).
#[derive(Debug)]
pub struct WriteFile<'c> {
    client: &'c Client,
    endpoint: &'static paths::Endpoint,
    route: Result<String>,
    body: WriteBody,
}

impl<'c> WriteFile<'c> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        client: &'c Client,
        endpoint: &'static paths::Endpoint,
        owner: &str,
        repo: &str,
        path: &str,
        content: &[u8],
        message: String,
        sha: Option<String>,
    ) -> Self {
        use base64::Engine as _;
        let [o, r] = or(owner, repo);
        Self {
            client,
            endpoint,
            route: client.endpoint_path(endpoint, &[o, r, ("path", path)]),
            body: WriteBody {
                message,
                content: base64::engine::general_purpose::STANDARD.encode(content),
                sha,
                branch: None,
            },
        }
    }

    /// The branch to commit to (default: the default branch).
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.body.branch = Some(branch.into());
        self
    }

    /// Writes the file.
    pub async fn send(self) -> Result<FileCommit> {
        let route = self.route?;
        self.client
            .call::<_, (), _>(self.endpoint, &route, None, Some(&self.body))
            .await
    }
}
