//! Typed calls, one handler per resource. Every path lives in [`paths`], so a path the
//! platform changes is a one-line change there.

mod checks;
pub(crate) mod installations;
mod issues;
pub mod paths;
mod repos;
mod statuses;

#[doc(inline)]
pub use self::{
    checks::{ChecksHandler, CreateCheckRun, UpdateCheckRun},
    installations::InstallationsHandler,
    issues::{IssuesHandler, ListComments},
    repos::{GetContent, ListRepos, ReposHandler},
    statuses::{CreateStatus, StatusesHandler},
};

use super::Client;

impl Client {
    /// App installations (needs the app JWT: use on [`Client::app`] or an app-built client).
    pub fn installations(&self) -> InstallationsHandler<'_> {
        InstallationsHandler::new(self)
    }

    /// Repositories: lists, one repository, file contents.
    pub fn repos(&self) -> ReposHandler<'_> {
        ReposHandler::new(self)
    }

    /// Issues of `owner/repo`: comments and labels.
    pub fn issues(&self, owner: &str, repo: &str) -> IssuesHandler<'_> {
        IssuesHandler::new(self, owner, repo)
    }

    /// Commit statuses of `owner/repo`.
    pub fn statuses(&self, owner: &str, repo: &str) -> StatusesHandler<'_> {
        StatusesHandler::new(self, owner, repo)
    }

    /// Check runs of `owner/repo`.
    pub fn checks(&self, owner: &str, repo: &str) -> ChecksHandler<'_> {
        ChecksHandler::new(self, owner, repo)
    }
}
