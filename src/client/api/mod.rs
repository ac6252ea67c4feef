//! Typed calls, one handler per resource. Every path lives in [`paths`] with its source, and
//! can be overridden by a setting without a rebuild.

mod call;
mod checks;
pub(crate) mod installations;
mod issues;
mod orgs;
/// The path table and its settings, kept with the settings in [`crate::config::paths`].
pub use crate::config::paths;
mod pulls;
mod releases;
mod repos;
mod statuses;

#[doc(inline)]
pub use self::{
    checks::{ChecksHandler, CreateCheckRun, UpdateCheckRun},
    installations::InstallationsHandler,
    issues::{CreateIssue, IssuesHandler, ListComments, ListIssues, UpdateIssue},
    orgs::OrgsHandler,
    pulls::{CreatePull, ListPulls, MergePull, PullsHandler},
    releases::{CreateRelease, ReleasesHandler},
    repos::{GetContent, ListRepos, ReposHandler, WriteFile},
    statuses::{CreateStatus, StatusesHandler},
};

use super::Client;

impl Client {
    /// App installations (needs the app JWT: use on [`Client::app`] or an app-built client).
    pub fn installations(&self) -> InstallationsHandler<'_> {
        InstallationsHandler::new(self)
    }

    /// Repositories: lists, one repository, branches, tags, files, permissions.
    pub fn repos(&self) -> ReposHandler<'_> {
        ReposHandler::new(self)
    }

    /// Issues of `owner/repo`: issues, assignees, labels and comments.
    pub fn issues(&self, owner: &str, repo: &str) -> IssuesHandler<'_> {
        IssuesHandler::new(self, owner, repo)
    }

    /// Pull requests of `owner/repo`.
    pub fn pulls(&self, owner: &str, repo: &str) -> PullsHandler<'_> {
        PullsHandler::new(self, owner, repo)
    }

    /// Organisation `org`: members and roles.
    pub fn orgs(&self, org: &str) -> OrgsHandler<'_> {
        OrgsHandler::new(self, org)
    }

    /// Releases of `owner/repo`.
    pub fn releases(&self, owner: &str, repo: &str) -> ReleasesHandler<'_> {
        ReleasesHandler::new(self, owner, repo)
    }

    /// Commit statuses of `owner/repo` (optional: a 404 is
    /// [`Error::Unsupported`](crate::Error::Unsupported)).
    pub fn statuses(&self, owner: &str, repo: &str) -> StatusesHandler<'_> {
        StatusesHandler::new(self, owner, repo)
    }

    /// Check runs of `owner/repo` (optional: a 404 is
    /// [`Error::Unsupported`](crate::Error::Unsupported)).
    pub fn checks(&self, owner: &str, repo: &str) -> ChecksHandler<'_> {
        ChecksHandler::new(self, owner, repo)
    }
}
