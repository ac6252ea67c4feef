//! Seed types: what the simulator knows before the first request.

use std::collections::BTreeMap;

/// Whether an installation's account (or a repository's owner) is an organization or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountKind {
    /// An organization (`/orgs/{org}/repos`).
    Organization,
    /// A personal space (`/user/{username}/repos`).
    User,
}

impl AccountKind {
    /// The GitHub-style `type` string: `"Organization"` or `"User"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organization => "Organization",
            Self::User => "User",
        }
    }
}

/// An app installation to seed into the simulator.
///
/// # Example
/// ```
/// use atombot::testing::SimInstallation;
///
/// let inst = SimInstallation::org(21, "acme").events(["push", "issues"]);
/// assert_eq!(inst.id(), 21);
/// ```
#[derive(Debug, Clone)]
pub struct SimInstallation {
    pub(crate) id: u64,
    pub(crate) account_id: u64,
    pub(crate) account_path: String,
    pub(crate) kind: AccountKind,
    pub(crate) events: Vec<String>,
    pub(crate) permissions: BTreeMap<String, String>,
}

impl SimInstallation {
    /// An installation on the organization `path`.
    pub fn org(id: u64, path: impl Into<String>) -> Self {
        Self::new(id, path.into(), AccountKind::Organization)
    }

    /// An installation on the personal space of user `path`.
    pub fn user(id: u64, path: impl Into<String>) -> Self {
        Self::new(id, path.into(), AccountKind::User)
    }

    fn new(id: u64, account_path: String, kind: AccountKind) -> Self {
        let permissions = ["emails", "checks", "contents", "keys", "statuses"]
            .into_iter()
            .map(|p| (p.to_owned(), "write".to_owned()))
            .collect();
        Self {
            id,
            account_id: 10_000 + id,
            account_path,
            kind,
            events: vec!["push".to_owned()],
            permissions,
        }
    }

    /// Replaces the subscribed `events` (sent verbatim, even if odd).
    pub fn events<I, S>(mut self, events: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.events = events.into_iter().map(Into::into).collect();
        self
    }

    /// Sets one permission, e.g. `("issues", "write")`.
    pub fn permission(mut self, name: impl Into<String>, level: impl Into<String>) -> Self {
        self.permissions.insert(name.into(), level.into());
        self
    }

    /// Sets the numeric `account.id`.
    pub fn account_id(mut self, id: u64) -> Self {
        self.account_id = id;
        self
    }

    /// The installation id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The account path (org or user name).
    pub fn account_path(&self) -> &str {
        &self.account_path
    }

    /// Whether the account is an organization or a user.
    pub fn kind(&self) -> AccountKind {
        self.kind
    }
}

/// A stable hex id of `width` digits (24 for AtomGit ids, 40 for shas) derived from `name`.
pub(crate) fn hex_id(name: impl AsRef<[u8]>, width: usize) -> String {
    let name = name.as_ref();
    let mut out = String::with_capacity(width + 16);
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    while out.len() < width {
        for b in name {
            seed ^= u64::from(*b);
            seed = seed.wrapping_mul(0x0100_0000_01b3);
        }
        seed ^= out.len() as u64;
        seed = seed.wrapping_mul(0x0100_0000_01b3);
        out.push_str(&format!("{seed:016x}"));
    }
    out.truncate(width);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_are_stable_and_sized() {
        assert_eq!(hex_id("acme", 24), hex_id("acme", 24));
        assert_ne!(hex_id("acme", 24), hex_id("acme2", 24));
        assert_eq!(hex_id("x", 40).len(), 40);
        assert!(hex_id("x", 24).bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn installation_defaults() {
        let inst = SimInstallation::user(3, "bob").permission("issues", "read");
        assert_eq!(inst.kind(), AccountKind::User);
        assert_eq!(inst.events, ["push"]);
        assert_eq!(inst.permissions["issues"], "read");
        assert_eq!(inst.permissions["checks"], "write");
    }
}
