//! Organisation members, for permission checks on commands.

use super::paths::{ORGS_MEMBER, ORGS_MEMBERSHIP};
use crate::client::Client;
use crate::error::Result;
use crate::models::Membership;

/// Calls about organisation `org`.
#[derive(Debug)]
pub struct OrgsHandler<'c> {
    client: &'c Client,
    org: String,
}

impl<'c> OrgsHandler<'c> {
    pub(crate) fn new(client: &'c Client, org: &str) -> Self {
        Self {
            client,
            org: org.to_owned(),
        }
    }

    /// Whether `username` is a member (`GET /orgs/{org}/members/{username}`: a success
    /// means yes, 404 means no).
    ///
    /// Fails on any other error status.
    pub async fn is_member(&self, username: &str) -> Result<bool> {
        let path = self
            .client
            .endpoint_path(&ORGS_MEMBER, &[("org", &self.org), ("username", username)])?;
        match self
            .client
            .call_raw::<(), ()>(&ORGS_MEMBER, &path, None, None)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `username`'s membership and role.
    pub async fn membership(&self, username: &str) -> Result<Membership> {
        let path = self.client.endpoint_path(
            &ORGS_MEMBERSHIP,
            &[("org", &self.org), ("username", username)],
        )?;
        self.client
            .call::<_, (), ()>(&ORGS_MEMBERSHIP, &path, None, None)
            .await
    }
}
