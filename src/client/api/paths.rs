//! Every OpenAPI path atombot calls, in one place. Paths are relative to the API base URL
//! (which may carry a prefix such as `/api/v5`); segments are percent-encoded.
//!
//! Sources are in `openapi.md` of the platform notes: `(documented)` paths come from the
//! platform's documentation; the others from third-party clients of the same API.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// Characters escaped inside one path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// `GET /app/installations` (documented).
pub fn installations() -> String {
    "/app/installations".to_owned()
}

/// `POST /app/installations/{id}/access_tokens` (documented).
pub fn installation_access_tokens(installation: u64) -> String {
    format!("/app/installations/{installation}/access_tokens")
}

/// `GET /orgs/{org}/repos` (documented).
pub fn org_repos(org: &str) -> String {
    format!("/orgs/{}/repos", seg(org))
}

/// `GET /user/{username}/repos` (documented) (third-party clients use `/users/{username}/repos`).
pub fn user_repos(username: &str) -> String {
    format!("/user/{}/repos", seg(username))
}

/// `GET /repos/{owner}/{repo}`.
pub fn repo(owner: &str, repo: &str) -> String {
    format!("/repos/{}/{}", seg(owner), seg(repo))
}

/// `GET /repos/{owner}/{repo}/contents` (`path` and `ref` go in the query).
pub fn contents(owner: &str, repo_name: &str) -> String {
    format!("{}/contents", repo(owner, repo_name))
}

/// `GET`/`POST /repos/{owner}/{repo}/issues/{number}/comments`.
pub fn issue_comments(owner: &str, repo_name: &str, number: u64) -> String {
    format!("{}/issues/{number}/comments", repo(owner, repo_name))
}

/// `POST /repos/{owner}/{repo}/issues/{number}/labels` (body: array of names).
pub fn issue_labels(owner: &str, repo_name: &str, number: u64) -> String {
    format!("{}/issues/{number}/labels", repo(owner, repo_name))
}

/// `POST /repos/{owner}/{repo}/statuses/{sha}` (path not printed by the docs; GitHub's).
pub fn commit_statuses(owner: &str, repo_name: &str, sha: &str) -> String {
    format!("{}/statuses/{}", repo(owner, repo_name), seg(sha))
}

/// `POST /repos/{owner}/{repo}/check-runs` (path not printed by the docs; GitHub's).
pub fn check_runs(owner: &str, repo_name: &str) -> String {
    format!("{}/check-runs", repo(owner, repo_name))
}

/// `PATCH /repos/{owner}/{repo}/check-runs/{id}` (path not printed by the docs; GitHub's).
pub fn check_run(owner: &str, repo_name: &str, id: &str) -> String {
    format!("{}/{}", check_runs(owner, repo_name), seg(id))
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_are_encoded() {
        assert_eq!(super::repo("a b", "c/d"), "/repos/a%20b/c%2Fd");
    }
}
