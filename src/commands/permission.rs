//! Whether a commenter holds a [`Role`], from the platform's member and permission calls,
//! cached briefly (single-flight per key, bounded).

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use super::Role;
use crate::context::Context;
use crate::error::{Error, Result};

/// How long a looked-up permission or membership is trusted.
const TTL: Duration = Duration::from_secs(60);
/// How many lookups are kept.
const CAPACITY: u64 = 10_000;

/// Cached permission lookups.
pub(super) struct Permissions {
    /// `owner/repo\nlogin` → the repository permission (`admin`, `write`, `read`, `none`).
    permission: Cache<String, Arc<str>>,
    /// `org\nlogin` → membership.
    member: Cache<String, bool>,
}

impl Permissions {
    pub(super) fn new() -> Self {
        Self {
            permission: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build(),
            member: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build(),
        }
    }

    /// Whether `login` holds `role` for the delivery's repository; lookups that fail (other
    /// than "not found") are errors, so the unit is retried rather than a command refused.
    pub(super) async fn allows(&self, ctx: &Context, login: &str, role: Role) -> Result<bool> {
        if role == Role::Anyone {
            return Ok(true);
        }
        if login.is_empty() {
            return Ok(false);
        }
        if role == Role::Author && is_author(ctx, login) {
            return Ok(true);
        }
        let permission = self.permission(ctx, login).await?;
        let level = permission.to_ascii_lowercase();
        let admin = matches!(level.as_str(), "admin" | "owner");
        let write = admin || matches!(level.as_str(), "write" | "push" | "maintain" | "maintainer");
        Ok(match role {
            Role::Anyone => true,
            Role::Admin => admin,
            Role::Write => write,
            Role::Author | Role::Member => write || self.member(ctx, login).await?,
        })
    }

    async fn permission(&self, ctx: &Context, login: &str) -> Result<Arc<str>> {
        let Some(repo) = ctx.repo() else {
            return Ok(Arc::from("none"));
        };
        let key = format!("{}/{}\n{login}", repo.owner, repo.name);
        self.permission
            .try_get_with(key, async {
                match ctx
                    .client()
                    .repos()
                    .collaborator_permission(&repo.owner, &repo.name, login)
                    .await
                {
                    Ok(p) => Ok(Arc::from(p.permission.as_str())),
                    Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND) => {
                        Ok(Arc::from("none"))
                    }
                    Err(e) => Err(e),
                }
            })
            .await
            .map_err(unshare)
    }

    async fn member(&self, ctx: &Context, login: &str) -> Result<bool> {
        let Some(repo) = ctx.repo() else {
            return Ok(false);
        };
        // A nested group's members are the top-level organisation's.
        let org = repo
            .owner
            .split('/')
            .next()
            .unwrap_or(&repo.owner)
            .to_owned();
        let key = format!("{org}\n{login}");
        self.member
            .try_get_with(key, async {
                ctx.client().orgs(&org).is_member(login).await
            })
            .await
            .map_err(unshare)
    }
}

/// Whether `login` opened the issue or pull request the comment is on.
fn is_author(ctx: &Context, login: &str) -> bool {
    let json = ctx.json();
    [
        "/issue/user/login",
        "/pull_request/user/login",
        "/issue/author/login",
    ]
    .iter()
    .filter_map(|p| json.pointer(p)?.as_str())
    .any(|author| author.eq_ignore_ascii_case(login))
}

/// The error of a lookup other deliveries waited on too.
fn unshare(error: Arc<Error>) -> Error {
    Arc::try_unwrap(error).unwrap_or_else(|shared| {
        Error::Retry(crate::steer::Retry::backoff().because(format!("permission lookup: {shared}")))
    })
}
