//! Repositories: organisation and user lists, one repository, file contents.

use serde::Serialize;

use super::paths;
use crate::client::{Client, Page, PageStream, build_uri};
use crate::error::Result;
use crate::models::{Content, Repository};

/// Repository calls.
#[derive(Debug)]
pub struct ReposHandler<'c> {
    client: &'c Client,
}

impl<'c> ReposHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Repositories of an organisation (`GET /orgs/{org}/repos`).
    pub fn list_org(&self, org: &str) -> ListRepos<'c> {
        ListRepos::new(self.client, paths::org_repos(org))
    }

    /// Repositories of a user's personal space (`GET /user/{username}/repos`).
    pub fn list_user(&self, username: &str) -> ListRepos<'c> {
        ListRepos::new(self.client, paths::user_repos(username))
    }

    /// One repository.
    pub async fn get(&self, owner: &str, repo: &str) -> Result<Repository> {
        self.client
            .get::<_, ()>(&paths::repo(owner, repo), None)
            .await
    }

    /// A file's contents (`GET /repos/{o}/{r}/contents?path=…`).
    pub fn content(&self, owner: &str, repo: &str, path: &str) -> GetContent<'c> {
        GetContent {
            client: self.client,
            route: paths::contents(owner, repo),
            query: ContentQuery {
                path: path.to_owned(),
                r#ref: None,
            },
        }
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
    route: String,
    query: ListQuery,
}

impl<'c> ListRepos<'c> {
    fn new(client: &'c Client, route: String) -> Self {
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
        build_uri(&self.route, Some(&self.query))
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
struct ContentQuery {
    path: String,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    r#ref: Option<String>,
}

/// A file-contents request; end with [`send`](Self::send).
#[derive(Debug)]
pub struct GetContent<'c> {
    client: &'c Client,
    route: String,
    query: ContentQuery,
}

impl GetContent<'_> {
    /// Branch, tag or commit to read from (default: the default branch).
    pub fn r#ref(mut self, reference: impl Into<String>) -> Self {
        self.query.r#ref = Some(reference.into());
        self
    }

    /// Fetches the file; [`Content::text`] decodes it.
    pub async fn send(self) -> Result<Content> {
        self.client.get(&self.route, Some(&self.query)).await
    }
}
