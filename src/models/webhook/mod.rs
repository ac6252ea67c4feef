//! Typed webhook payloads (GitHub-shaped; GitLab-shaped bodies are normalised first).
//!
//! Decode one with [`Delivery::payload`](crate::webhook::Delivery::payload). Every field has
//! a default, unknown fields are ignored, `null` is read as the default, and ids are accepted
//! as numbers or numeric strings, so a payload decodes even when the platform leaves things
//! out.

mod common;
pub(crate) mod de;
mod installation;
mod issues;
mod payload;
mod pull_request;
mod push;

#[doc(inline)]
pub use common::{Account, Commit, CommitAuthor, InstallationRef, Label, Repository, User};
#[doc(inline)]
pub use installation::{
    Installation, InstallationEvent, InstallationRepositoriesEvent, InstallationRepository,
};
#[doc(inline)]
pub use issues::{Comment, Issue, IssueCommentEvent, IssuesEvent};
#[doc(inline)]
pub use payload::EventPayload;
#[doc(inline)]
pub use pull_request::{Branch, PullRequest, PullRequestEvent};
#[doc(inline)]
pub use push::{PushEvent, Pusher};
