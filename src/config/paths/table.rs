//! The endpoint table. Sources: `openapi.md` of the platform notes (section 5 and "Later
//! findings (December 2026)"). `[3p]` projects: M = kaiyuanxiaobing/atomgit-mcp-server,
//! L = linksaas desktop, C = opensumi/codeblitz, W = woodpecker-ci/woodpecker
//! `server/forge/atomgit`. `guess` = "not found" there: the GitHub-style path.

use super::{Endpoint, Family, Group, Source};

const DEMO: &str = "http://docs.atomgit.com/en/app/demo";
const M: Source = Source::ThirdParty("kaiyuanxiaobing/atomgit-mcp-server");
const W: Source = Source::ThirdParty("woodpecker-ci/woodpecker server/forge/atomgit");
const LM: Source = Source::ThirdParty("linksaas desktop; kaiyuanxiaobing/atomgit-mcp-server");
const MC: Source = Source::ThirdParty("kaiyuanxiaobing/atomgit-mcp-server; opensumi/codeblitz");
const C: Source = Source::ThirdParty("opensumi/codeblitz");

macro_rules! endpoints {
    ($(
        $(#[$doc:meta])*
        $konst:ident = $name:literal $method:literal $group:ident
            [$v2023:literal, $v5:literal] $family:ident $source:expr $(, $optional:ident)?;
    )*) => {
        $(
            $(#[$doc])*
            pub const $konst: Endpoint = Endpoint {
                name: $name,
                method: $method,
                group: Group::$group,
                v2023: $v2023,
                v5: $v5,
                default_family: Family::$family,
                source: $source,
                optional: endpoints!(@optional $($optional)?),
            };
        )*
        /// Every endpoint in the table.
        pub const ALL: &[&Endpoint] = &[$(&$konst),*];
    };
    (@optional optional) => { true };
    (@optional) => { false };
}

endpoints! {
    /// `GET /app/installations` `[doc]` app/demo.
    INSTALLATIONS_LIST = "installations.list" "GET" Apps
        ["/app/installations", "/app/installations"] V2023 Source::Doc(DEMO);
    /// `POST /app/installations/{installation}/access_tokens` `[doc]` app/demo.
    INSTALLATIONS_TOKEN = "installations.token" "POST" Apps
        ["/app/installations/{installation}/access_tokens", "/app/installations/{installation}/access_tokens"]
        V2023 Source::Doc(DEMO);

    /// `GET /orgs/{org}/repos` `[doc]` app/demo.
    REPOS_ORG_LIST = "repos.org_list" "GET" Repos
        ["/orgs/{org}/repos", "/orgs/{org}/repos"] V2023 Source::Doc(DEMO);
    /// `GET /user/{username}/repos` `[doc]` app/demo (`/users/{username}/repos` in M, L).
    REPOS_USER_LIST = "repos.user_list" "GET" Repos
        ["/user/{username}/repos", "/users/{username}/repos"] V2023 Source::Doc(DEMO);
    /// `GET /repos/{owner}/{repo}` `[3p]` M, C.
    REPOS_GET = "repos.get" "GET" Repos
        ["/repos/{owner}/{repo}", "/repos/{owner}/{repo}"] V2023 MC;
    /// `GET /repos/{owner}/{repo}/branches` guess.
    REPOS_BRANCHES = "repos.branches" "GET" Repos
        ["/repos/{owner}/{repo}/branches", "/repos/{owner}/{repo}/branches"] V2023 Source::Guess;
    /// `GET /repos/{owner}/{repo}/branches/{branch}` `[doc]` older copy of the App guide; C.
    REPOS_BRANCH = "repos.branch" "GET" Repos
        ["/repos/{owner}/{repo}/branches/{branch}", "/repos/{owner}/{repo}/branches/{branch}"] V2023 C;
    /// `GET /repos/{owner}/{repo}/tags` guess.
    REPOS_TAGS = "repos.tags" "GET" Repos
        ["/repos/{owner}/{repo}/tags", "/repos/{owner}/{repo}/tags"] V2023 Source::Guess;
    /// `GET /repos/{owner}/{repo}/contents?path=&ref=` `[3p]` C.
    REPOS_CONTENTS = "repos.contents" "GET" Repos
        ["/repos/{owner}/{repo}/contents", "/repos/{owner}/{repo}/contents"] V2023 C;
    /// `POST /repos/{owner}/{repo}/contents/{*path}` guess (create a file).
    REPOS_CONTENTS_CREATE = "repos.contents_create" "POST" Repos
        ["/repos/{owner}/{repo}/contents/{*path}", "/repos/{owner}/{repo}/contents/{*path}"]
        V2023 Source::Guess;
    /// `PUT /repos/{owner}/{repo}/contents/{*path}` guess (update a file, with its `sha`).
    REPOS_CONTENTS_UPDATE = "repos.contents_update" "PUT" Repos
        ["/repos/{owner}/{repo}/contents/{*path}", "/repos/{owner}/{repo}/contents/{*path}"]
        V2023 Source::Guess;
    /// `GET /api/v5/repos/{owner}/{repo}/raw/{*path}?ref=` `[3p]` W.
    REPOS_RAW = "repos.raw" "GET" Repos
        ["/repos/{owner}/{repo}/raw/{*path}", "/repos/{owner}/{repo}/raw/{*path}"] V5 W;
    /// `GET /api/v5/repos/{owner}/{repo}/file_list?ref=` (a bare array of paths) `[3p]` W.
    REPOS_FILE_LIST = "repos.file_list" "GET" Repos
        ["/repos/{owner}/{repo}/file_list", "/repos/{owner}/{repo}/file_list"] V5 W;
    /// `GET /repos/{owner}/{repo}/collaborators/{username}/permission` guess.
    REPOS_COLLABORATOR_PERMISSION = "repos.collaborator_permission" "GET" Repos
        ["/repos/{owner}/{repo}/collaborators/{username}/permission",
         "/repos/{owner}/{repo}/collaborators/{username}/permission"] V2023 Source::Guess;

    /// `GET /repos/{owner}/{repo}/issues` `[3p]` L, M.
    ISSUES_LIST = "issues.list" "GET" Issues
        ["/repos/{owner}/{repo}/issues", "/repos/{owner}/{repo}/issues"] V2023 LM;
    /// `GET /repos/{owner}/{repo}/issues/{number}` `[3p]` M.
    ISSUES_GET = "issues.get" "GET" Issues
        ["/repos/{owner}/{repo}/issues/{number}", "/repos/{owner}/{repo}/issues/{number}"] V2023 M;
    /// `POST /repos/{owner}/{repo}/issues` `[3p]` M.
    ISSUES_CREATE = "issues.create" "POST" Issues
        ["/repos/{owner}/{repo}/issues", "/repos/{owner}/{repo}/issues"] V2023 M;
    /// `PATCH /api/v5/repos/{owner}/issues/{number}` (body names `repo`) `[doc]`; unprefixed: guess.
    ISSUES_UPDATE = "issues.update" "PATCH" Issues
        ["/repos/{owner}/{repo}/issues/{number}", "/repos/{owner}/issues/{number}"]
        V5 Source::Doc("https://docs.atomgit.com/docs/apis/patch-api-v-5-repos-owner-issues-number");
    /// `POST /repos/{owner}/{repo}/issues/{number}/assignees` guess.
    ISSUES_ASSIGNEES_ADD = "issues.assignees_add" "POST" Issues
        ["/repos/{owner}/{repo}/issues/{number}/assignees", "/repos/{owner}/{repo}/issues/{number}/assignees"]
        V2023 Source::Guess;
    /// `DELETE /repos/{owner}/{repo}/issues/{number}/assignees` guess.
    ISSUES_ASSIGNEES_REMOVE = "issues.assignees_remove" "DELETE" Issues
        ["/repos/{owner}/{repo}/issues/{number}/assignees", "/repos/{owner}/{repo}/issues/{number}/assignees"]
        V2023 Source::Guess;
    /// `POST /repos/{owner}/{repo}/issues/{number}/labels` (a JSON array of names) `[3p]` M.
    ISSUES_LABELS_ADD = "issues.labels_add" "POST" Issues
        ["/repos/{owner}/{repo}/issues/{number}/labels", "/repos/{owner}/{repo}/issues/{number}/labels"] V2023 M;
    /// `PUT /repos/{owner}/{repo}/issues/{number}/labels` guess.
    ISSUES_LABELS_REPLACE = "issues.labels_replace" "PUT" Issues
        ["/repos/{owner}/{repo}/issues/{number}/labels", "/repos/{owner}/{repo}/issues/{number}/labels"]
        V2023 Source::Guess;
    /// `DELETE /repos/{owner}/{repo}/issues/{number}/labels/{name}` `[3p]` M.
    ISSUES_LABEL_REMOVE = "issues.label_remove" "DELETE" Issues
        ["/repos/{owner}/{repo}/issues/{number}/labels/{name}", "/repos/{owner}/{repo}/issues/{number}/labels/{name}"]
        V2023 M;
    /// `GET`/`POST /repos/{owner}/{repo}/issues/{number}/comments` `[3p]` M.
    ISSUES_COMMENTS = "issues.comments" "GET" Issues
        ["/repos/{owner}/{repo}/issues/{number}/comments", "/repos/{owner}/{repo}/issues/{number}/comments"] V2023 M;
    /// `POST /repos/{owner}/{repo}/issues/{number}/comments` `[3p]` M.
    ISSUES_COMMENT_CREATE = "issues.comment_create" "POST" Issues
        ["/repos/{owner}/{repo}/issues/{number}/comments", "/repos/{owner}/{repo}/issues/{number}/comments"] V2023 M;
    /// `PATCH /repos/{owner}/{repo}/issues/comments/{id}` guess (doc slug
    /// `update-issue-comment` exists, path not printed).
    ISSUES_COMMENT_UPDATE = "issues.comment_update" "PATCH" Issues
        ["/repos/{owner}/{repo}/issues/comments/{id}", "/repos/{owner}/{repo}/issues/comments/{id}"]
        V2023 Source::Guess;
    /// `DELETE /repos/{owner}/{repo}/issues/comments/{id}` `[3p]` M.
    ISSUES_COMMENT_DELETE = "issues.comment_delete" "DELETE" Issues
        ["/repos/{owner}/{repo}/issues/comments/{id}", "/repos/{owner}/{repo}/issues/comments/{id}"] V2023 M;

    /// `GET /api/v5/repos/{owner}/{repo}/pulls?state=` `[3p]` W.
    PULLS_LIST = "pulls.list" "GET" Pulls
        ["/repos/{owner}/{repo}/pulls", "/repos/{owner}/{repo}/pulls"] V5 W;
    /// `GET /repos/{owner}/{repo}/pulls/{number}` `[3p]` M.
    PULLS_GET = "pulls.get" "GET" Pulls
        ["/repos/{owner}/{repo}/pulls/{number}", "/repos/{owner}/{repo}/pulls/{number}"] V2023 M;
    /// `POST /repos/{owner}/{repo}/pulls` `[3p]` M.
    PULLS_CREATE = "pulls.create" "POST" Pulls
        ["/repos/{owner}/{repo}/pulls", "/repos/{owner}/{repo}/pulls"] V2023 M;
    /// `PATCH /repos/{owner}/{repo}/pulls/{number}` guess.
    PULLS_UPDATE = "pulls.update" "PATCH" Pulls
        ["/repos/{owner}/{repo}/pulls/{number}", "/repos/{owner}/{repo}/pulls/{number}"] V2023 Source::Guess;
    /// `GET /api/v5/repos/{owner}/{repo}/pulls/{number}/files` `[3p]` W.
    PULLS_FILES = "pulls.files" "GET" Pulls
        ["/repos/{owner}/{repo}/pulls/{number}/files", "/repos/{owner}/{repo}/pulls/{number}/files"] V5 W;
    /// `GET /repos/{owner}/{repo}/pulls/{number}/commits` guess.
    PULLS_COMMITS = "pulls.commits" "GET" Pulls
        ["/repos/{owner}/{repo}/pulls/{number}/commits", "/repos/{owner}/{repo}/pulls/{number}/commits"]
        V2023 Source::Guess;
    /// `PUT /repos/{owner}/{repo}/pulls/{number}/merge` guess ("merge PR: not found").
    PULLS_MERGE = "pulls.merge" "PUT" Pulls
        ["/repos/{owner}/{repo}/pulls/{number}/merge", "/repos/{owner}/{repo}/pulls/{number}/merge"]
        V2023 Source::Guess;
    /// `POST /repos/{owner}/{repo}/pulls/{number}/reviews` guess (v5 supports approve only, W).
    PULLS_REVIEW = "pulls.review" "POST" Pulls
        ["/repos/{owner}/{repo}/pulls/{number}/reviews", "/repos/{owner}/{repo}/pulls/{number}/reviews"]
        V2023 Source::Guess;
    /// `POST /repos/{owner}/{repo}/pulls/{number}/comments` `[3p]` M.
    PULLS_COMMENT_CREATE = "pulls.comment_create" "POST" Pulls
        ["/repos/{owner}/{repo}/pulls/{number}/comments", "/repos/{owner}/{repo}/pulls/{number}/comments"] V2023 M;

    /// `GET /api/v5/orgs/{org}/members/{username}` (404 = not a member) `[3p]` W.
    ORGS_MEMBER = "orgs.member" "GET" Orgs
        ["/orgs/{org}/members/{username}", "/orgs/{org}/members/{username}"] V5 W;
    /// `GET /orgs/{org}/memberships/{username}` guess.
    ORGS_MEMBERSHIP = "orgs.membership" "GET" Orgs
        ["/orgs/{org}/memberships/{username}", "/orgs/{org}/memberships/{username}"] V2023 Source::Guess;

    /// `GET /repos/{owner}/{repo}/releases` guess (the v5 directory has a Release module).
    RELEASES_LIST = "releases.list" "GET" Releases
        ["/repos/{owner}/{repo}/releases", "/repos/{owner}/{repo}/releases"] V2023 Source::Guess;
    /// `POST /repos/{owner}/{repo}/releases` guess.
    RELEASES_CREATE = "releases.create" "POST" Releases
        ["/repos/{owner}/{repo}/releases", "/repos/{owner}/{repo}/releases"] V2023 Source::Guess;
    /// `GET /repos/{owner}/{repo}/releases/tags/{tag}` guess.
    RELEASES_BY_TAG = "releases.by_tag" "GET" Releases
        ["/repos/{owner}/{repo}/releases/tags/{tag}", "/repos/{owner}/{repo}/releases/tags/{tag}"]
        V2023 Source::Guess;

    /// `POST /repos/{owner}/{repo}/statuses/{sha}` guess (page `create-commit-statuses`
    /// prints no path; no v5 module).
    STATUSES_CREATE = "statuses.create" "POST" Statuses
        ["/repos/{owner}/{repo}/statuses/{sha}", "/repos/{owner}/{repo}/statuses/{sha}"]
        V2023 Source::Guess, optional;
    /// `POST /repos/{owner}/{repo}/check-runs` guess (page `create-check-run` prints no path;
    /// no v5 module).
    CHECKS_CREATE = "checks.create" "POST" Checks
        ["/repos/{owner}/{repo}/check-runs", "/repos/{owner}/{repo}/check-runs"]
        V2023 Source::Guess, optional;
    /// `PATCH /repos/{owner}/{repo}/check-runs/{id}` guess.
    CHECKS_UPDATE = "checks.update" "PATCH" Checks
        ["/repos/{owner}/{repo}/check-runs/{id}", "/repos/{owner}/{repo}/check-runs/{id}"]
        V2023 Source::Guess, optional;
}
