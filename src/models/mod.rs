//! Serde types for what the AtomGit OpenAPI returns.
//!
//! Every model tolerates what the platform really sends: fields default when missing,
//! unknown fields are ignored, ids may come as strings or numbers and timestamps as
//! ISO 8601 with an offset or as `YYYY-MM-DD HH:MM:SS`.

mod checks;
mod content;
mod ids;
mod installation;
mod issues;
mod repository;
mod status;
mod time;
mod user;
pub mod webhook;

#[doc(inline)]
pub use self::{
    checks::{CheckRun, CheckRunOutput},
    content::Content,
    ids::{CheckRunId, CommentId, InstallationId, IssueId, RepositoryId, StatusId, UserId},
    installation::{Account, Installation, InstallationToken},
    issues::{Comment, Label},
    repository::Repository,
    status::{CommitState, CommitStatus},
    time::Timestamp,
    user::User,
};
