//! Serde types for what the AtomGit OpenAPI returns and webhooks deliver: one model family.
//!
//! Every model tolerates what the platform really sends: fields default when missing,
//! unknown fields are ignored, `null` reads as the default, ids may come as strings (24 hex
//! digits) or numbers and are kept as text, booleans may be `true`/`false`, `1`/`0` or
//! those as strings, and timestamps ISO 8601 with an offset, `YYYY-MM-DD HH:MM:SS` or a
//! Unix epoch. A value that fits none of these fails naming its JSON path.

mod checks;
mod content;
pub(crate) mod de;
mod ids;
mod installation;
mod issues;
mod members;
mod pulls;
mod release;
mod repository;
mod status;
mod time;
pub(crate) mod user;
pub mod webhook;

#[cfg(test)]
mod tests;

#[doc(inline)]
pub use self::{
    checks::{CheckRun, CheckRunOutput},
    content::{Content, FileCommit},
    ids::{
        CheckRunId, CommentId, InstallationId, IssueId, LabelId, PullRequestId, ReactionId,
        ReleaseId, RepositoryId, ReviewId, StatusId, UserId,
    },
    installation::{
        Account, Installation, InstallationEvent, InstallationRef, InstallationRepositoriesEvent,
        InstallationToken,
    },
    issues::{Comment, Issue, Label, Reaction},
    members::{CollaboratorPermission, Membership},
    pulls::{
        BranchRef, Commit, CommitDetail, GitActor, MergeResult, PullRequest, PullRequestFile,
        Review,
    },
    release::Release,
    repository::{Branch, CommitRef, Repository, Tag},
    status::{CommitState, CommitStatus},
    time::Timestamp,
    user::User,
};
