//! The in-memory model behind the simulator, its token table and its request log.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method};
use serde_json::{Value, json};

use super::faults::{Faults, RateLimiter};
use super::seed::{AccountKind, SimInstallation, hex_id};

/// The kind of credential a request carried in `Authorization: Bearer …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// An RS256 app JWT (three dot-separated parts).
    AppJwt,
    /// An `ats_` installation access token.
    Installation,
    /// An `atu_` OAuth user token.
    User,
    /// Some other bearer value.
    Unknown,
}

impl TokenKind {
    /// Classifies a bearer value by its shape (not whether it is valid).
    pub fn of(bearer: &str) -> Self {
        if bearer.starts_with("ats_") {
            Self::Installation
        } else if bearer.starts_with("atu_") {
            Self::User
        } else if bearer.split('.').count() == 3 {
            Self::AppJwt
        } else {
            Self::Unknown
        }
    }
}

/// One request as the simulator received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: Method,
    /// Path as received (including any API prefix).
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// All request headers.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Bytes,
    /// Kind of bearer credential sent, if any.
    pub token_kind: Option<TokenKind>,
    /// When the simulator received it.
    pub received_at: DateTime<Utc>,
    /// The status the simulator answered with (`None` while the answer is pending).
    pub status: Option<u16>,
    pub(crate) seq: u64,
}

impl RecordedRequest {
    /// The body decoded as JSON, or `None` if it is not JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Who a minted token belongs to; `User` is reserved for `atu_` tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenOwner {
    Installation(u64),
    User(String),
}

/// One row of the token table.
#[derive(Debug, Clone)]
pub(crate) struct TokenRecord {
    pub(crate) kind: TokenKind,
    pub(crate) owner: TokenOwner,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) revoked: bool,
}

/// A repository in the model.
#[derive(Debug, Clone)]
pub(crate) struct Repo {
    pub(crate) id: u64,
    pub(crate) owner: String,
    pub(crate) owner_kind: AccountKind,
    pub(crate) name: String,
    pub(crate) created_at: DateTime<Utc>,
}

impl Repo {
    pub(crate) fn to_json(&self, web_url: &str) -> Value {
        let ts = self
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        // Real AtomGit shapes: a 24-hex id, booleans as 0/1.
        json!({
            "id": hex_id(format!("repo:{}", self.id), 24),
            "name": self.name,
            "full_name": format!("{}/{}", self.owner, self.name),
            "path_with_namespace": format!("{}/{}", self.owner, self.name),
            "owner": {
                "login": self.owner,
                "id": hex_id(&self.owner, 24),
                "type": self.owner_kind.as_str(),
            },
            "private": 0,
            "archived": 0,
            "fork": 0,
            "html_url": format!("{web_url}{}/{}", self.owner, self.name),
            "default_branch": "main",
            "description": format!("{} (simulated)", self.name),
            "created_at": ts,
            "updated_at": ts,
        })
    }
}

/// An issue (or the issue side of a pull request's comments).
#[derive(Debug, Clone, Default)]
pub(crate) struct Issue {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) body: Option<String>,
    /// `open` or `closed`.
    pub(crate) state: String,
    pub(crate) user: String,
    pub(crate) assignees: Vec<String>,
    pub(crate) comments: Vec<Value>,
    pub(crate) labels: Vec<Value>,
    pub(crate) created_at: String,
}

/// A pull request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pull {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) body: Option<String>,
    /// `open` or `closed`.
    pub(crate) state: String,
    pub(crate) merged: bool,
    pub(crate) draft: bool,
    pub(crate) head: String,
    pub(crate) base: String,
    pub(crate) user: String,
    pub(crate) files: Vec<Value>,
    pub(crate) commits: Vec<Value>,
    pub(crate) reviews: Vec<Value>,
    pub(crate) comments: Vec<Value>,
    pub(crate) created_at: String,
}

/// Key of a repository: `(owner, name)`.
pub(crate) type RepoKey = (String, String);

/// Everything mutable, behind one `std::sync::Mutex` never held across `.await`.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) installations: BTreeMap<u64, SimInstallation>,
    pub(crate) repos: Vec<Repo>,
    pub(crate) issues: BTreeMap<(RepoKey, u64), Issue>,
    pub(crate) pulls: BTreeMap<(RepoKey, u64), Pull>,
    pub(crate) releases: Vec<(RepoKey, Value)>,
    /// Organisation → member login → role.
    pub(crate) members: BTreeMap<String, BTreeMap<String, String>>,
    /// (repository, login) → permission.
    pub(crate) permissions: BTreeMap<(RepoKey, String), String>,
    pub(crate) files: BTreeMap<(RepoKey, String), Bytes>,
    pub(crate) statuses: Vec<(RepoKey, String, Value)>,
    pub(crate) check_runs: BTreeMap<u64, (RepoKey, Value)>,
    pub(crate) tokens: HashMap<String, TokenRecord>,
    pub(crate) mints: HashMap<u64, u64>,
    pub(crate) log: Vec<RecordedRequest>,
    /// Sequence number of the next recorded request (never reset).
    pub(crate) request_seq: u64,
    pub(crate) faults: Faults,
    pub(crate) limiter: RateLimiter,
    pub(crate) token_lifetime: Duration,
    /// OAuth codes, refresh tokens and settings (see `sim/oauth.rs`).
    pub(crate) oauth: super::oauth::OAuthSim,
    next_id: u64,
}

impl State {
    /// An empty model whose tokens live for `token_lifetime`.
    pub(crate) fn new(token_lifetime: Duration) -> Self {
        Self {
            token_lifetime,
            ..Default::default()
        }
    }

    /// A fresh id, unique within this simulator.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        1000 + self.next_id
    }

    /// The default seed: two installations, two org repos, an issue and a README.
    pub(crate) fn seed_defaults(&mut self) {
        let org =
            SimInstallation::org(14, "atomgit-demo").events(["push", "issues", "pull_request"]);
        let user = SimInstallation::user(15, "octo-user")
            .events(["{\"code\":\"push\"", "\"desc\":\"push event\"}"]);
        self.installations.insert(14, org);
        self.installations.insert(15, user);
        self.add_repo("atomgit-demo", AccountKind::Organization, "hello-world");
        self.add_repo("atomgit-demo", AccountKind::Organization, "bot-playground");
        self.add_issue("atomgit-demo", "hello-world", 1);
        self.add_pull("atomgit-demo", "hello-world", 2, "feature", "main");
        self.members
            .entry("atomgit-demo".to_owned())
            .or_default()
            .insert("atomgit-dev".to_owned(), "admin".to_owned());
        let readme = "# hello-world\n\nA repository served by the atombot simulator.\n";
        self.add_file(
            "atomgit-demo",
            "hello-world",
            "README.md",
            readme.as_bytes(),
        );
    }

    /// Adds a repository unless one with that owner and name exists.
    pub(crate) fn add_repo(&mut self, owner: &str, kind: AccountKind, name: &str) {
        if self.repo(owner, name).is_none() {
            let id = self.next_id();
            let created_at = Utc::now();
            self.repos.push(Repo {
                id,
                owner: owner.to_owned(),
                owner_kind: kind,
                name: name.to_owned(),
                created_at,
            });
        }
    }

    /// Adds an issue (no-op if present).
    pub(crate) fn add_issue(&mut self, owner: &str, repo: &str, number: u64) {
        let key = ((owner.to_owned(), repo.to_owned()), number);
        self.issues.entry(key).or_insert_with(|| Issue {
            id: hex_id(format!("issue:{owner}/{repo}#{number}"), 24),
            title: format!("Issue #{number}"),
            body: None,
            state: "open".to_owned(),
            user: "atomgit-dev".to_owned(),
            created_at: plain_now(),
            ..Issue::default()
        });
    }

    /// Adds a pull request from `head` into `base` with one changed file and one commit
    /// (no-op if present).
    pub(crate) fn add_pull(
        &mut self,
        owner: &str,
        repo: &str,
        number: u64,
        head: &str,
        base: &str,
    ) {
        let key = ((owner.to_owned(), repo.to_owned()), number);
        let sha = hex_id(format!("{owner}/{repo}!{number}:{head}"), 40);
        self.pulls.entry(key).or_insert_with(|| Pull {
            id: hex_id(format!("pull:{owner}/{repo}!{number}"), 24),
            title: format!("Pull request #{number}"),
            state: "open".to_owned(),
            head: head.to_owned(),
            base: base.to_owned(),
            user: "atomgit-dev".to_owned(),
            files: vec![
                json!({"filename": "README.md", "status": "modified", "additions": "3",
                               "deletions": 1, "changes": 4, "sha": hex_id(&sha, 40)}),
            ],
            commits: vec![
                json!({"sha": sha, "commit": {"message": format!("Work on {head}"),
                                 "author": {"name": "atomgit-dev", "email": "dev@example.com",
                                            "date": plain_now()}}}),
            ],
            created_at: plain_now(),
            ..Pull::default()
        });
    }

    /// The next free issue / pull request number of a repository.
    pub(crate) fn next_number(&self, owner: &str, repo: &str) -> u64 {
        let key = (owner.to_owned(), repo.to_owned());
        let issues = self
            .issues
            .keys()
            .filter(|(k, _)| *k == key)
            .map(|(_, n)| *n);
        let pulls = self
            .pulls
            .keys()
            .filter(|(k, _)| *k == key)
            .map(|(_, n)| *n);
        issues.chain(pulls).max().unwrap_or(0) + 1
    }

    /// Looks a pull request up, mutably.
    pub(crate) fn pull_mut(&mut self, owner: &str, repo: &str, number: u64) -> Option<&mut Pull> {
        self.pulls
            .get_mut(&((owner.to_owned(), repo.to_owned()), number))
    }

    /// Adds or replaces a file.
    pub(crate) fn add_file(&mut self, owner: &str, repo: &str, path: &str, contents: &[u8]) {
        let key = (
            (owner.to_owned(), repo.to_owned()),
            path.trim_start_matches('/').to_owned(),
        );
        self.files.insert(key, Bytes::copy_from_slice(contents));
    }

    /// Looks a repository up by owner and name.
    pub(crate) fn repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.repos
            .iter()
            .find(|r| r.owner == owner && r.name == name)
    }

    /// Looks an issue up, mutably.
    pub(crate) fn issue_mut(&mut self, owner: &str, repo: &str, number: u64) -> Option<&mut Issue> {
        self.issues
            .get_mut(&((owner.to_owned(), repo.to_owned()), number))
    }
}

/// Now as the platform writes user and issue times: `YYYY-MM-DD HH:MM:SS` (CST).
pub(crate) fn plain_now() -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    Utc::now()
        .with_timezone(&cst)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_kinds_by_shape() {
        assert_eq!(TokenKind::of("ats_abc"), TokenKind::Installation);
        assert_eq!(TokenKind::of("atu_abc"), TokenKind::User);
        assert_eq!(TokenKind::of("a.b.c"), TokenKind::AppJwt);
        assert_eq!(TokenKind::of("ghp_x"), TokenKind::Unknown);
    }

    #[test]
    fn default_seed() {
        let mut s = State::default();
        s.seed_defaults();
        assert_eq!(s.installations.len(), 2);
        assert!(s.repo("atomgit-demo", "hello-world").is_some());
        assert!(s.issue_mut("atomgit-demo", "hello-world", 1).is_some());
        s.add_repo("atomgit-demo", AccountKind::Organization, "hello-world");
        assert_eq!(s.repos.len(), 2);
        let json = s.repos[0].to_json("http://web/");
        assert_eq!(json["full_name"], "atomgit-demo/hello-world");
        assert_eq!(json["html_url"], "http://web/atomgit-demo/hello-world");
    }
}
