//! Typed webhook payloads (GitHub-shaped; GitLab-shaped bodies are normalised first).
//!
//! The payloads are made of the same models the API returns ([`Repository`](super::Repository),
//! [`User`](super::User), [`Issue`](super::Issue), [`Comment`](super::Comment),
//! [`PullRequest`](super::PullRequest), …): one model family. Decode one with the `payload`
//! method of a webhook delivery or of a handler's context. Every field has a default,
//! unknown fields are ignored, `null` is read as the default, ids are kept as text whether
//! they come as numbers or strings, and booleans may be `true`/`false` or `1`/`0`, so a
//! payload decodes even when the platform leaves things out. A field that does not fit
//! names its JSON path in the error.

mod common;
mod issues;
mod payload;
mod pull_request;
mod push;

#[doc(inline)]
pub use crate::models::{InstallationEvent, InstallationRepositoriesEvent};
#[doc(inline)]
pub use common::PushCommit;
#[doc(inline)]
pub use issues::{IssueCommentEvent, IssuesEvent};
#[doc(inline)]
pub use payload::EventPayload;
#[doc(inline)]
pub use pull_request::{PullRequestEvent, PullRequestReviewCommentEvent};
#[doc(inline)]
pub use push::{PushEvent, Pusher};
