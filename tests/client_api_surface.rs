//! Issue 10 acceptance 3: every typed call sends the method, path, query and body its
//! endpoint says, against the simulator (which answers in the real AtomGit shapes: hex
//! string ids, `0`/`1` booleans, string numbers), and decodes the answer.

use atombot::client::api::paths::{self, ApiPaths, Family, Group};
use atombot::testing::{RecordedRequest, Simulator};
use atombot::{Client, Error};
use serde_json::{Value, json};

const O: &str = "atomgit-demo";
const R: &str = "hello-world";

async fn setup(paths: ApiPaths) -> (Simulator, Client) {
    let sim = Simulator::builder()
        .file(O, R, "docs/a b.md", "# A\n")
        .member(O, "ann", "member")
        .permission(O, R, "bob", "write")
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .app(sim.app_config())
        .api_paths(paths)
        .build()
        .unwrap()
        .installation(14);
    (sim, client)
}

/// The one API request (token mints aside) the simulator saw since the last call.
fn only_call(sim: &Simulator) -> RecordedRequest {
    let calls: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| !r.path.contains("/app/installations"))
        .collect();
    sim.clear_requests();
    assert_eq!(calls.len(), 1, "{calls:?}");
    calls.into_iter().next().unwrap()
}

#[track_caller]
fn expect(sim: &Simulator, method: &str, path: &str, query: Option<&str>, body: Option<Value>) {
    let call = only_call(sim);
    assert_eq!(call.method.as_str(), method, "{path}");
    assert_eq!(call.path, path);
    assert_eq!(call.query.as_deref(), query, "{path}");
    assert_eq!(call.json(), body, "{path}");
    assert!(
        call.header("authorization")
            .unwrap()
            .starts_with("Bearer ats_")
    );
    assert!(!call.query.unwrap_or_default().contains("access_token"));
    assert!(
        call.status.is_some_and(|s| s < 300),
        "{path}: {:?}",
        call.status
    );
}

#[tokio::test]
async fn issue_calls() {
    let (sim, client) = setup(ApiPaths::default()).await;
    let issues = client.issues(O, R);
    let base = format!("/repos/{O}/{R}/issues");

    let issue = issues.get(1).await.unwrap();
    expect(&sim, "GET", &format!("{base}/1"), None, None);
    assert_eq!((issue.number, issue.id.as_str().len()), (1, 24));

    let page = issues
        .list()
        .state("all")
        .creator("atomgit-dev")
        .assignee("ann")
        .labels(&["bug", "p1"])
        .sort("updated")
        .direction("asc")
        .per_page(5)
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "GET",
        &base,
        Some(
            "state=all&creator=atomgit-dev&assignee=ann&labels=bug%2Cp1&sort=updated&direction=asc&per_page=5",
        ),
        None,
    );
    assert!(page.items.is_empty(), "no issue has those labels yet");

    let created = issues
        .create("Crash")
        .body("Steps")
        .assignees(&["ann"])
        .labels(&["bug"])
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "POST",
        &base,
        None,
        Some(json!({"title": "Crash", "body": "Steps", "assignees": ["ann"], "labels": ["bug"]})),
    );
    let n = created.number;
    assert_eq!((n, created.user.login.as_str()), (3, "atombot-sim[bot]"));
    assert!(created.user.is_bot());

    // `issues.update` defaults to the documented `/api/v5` path, which names the repo in the body.
    let updated = issues
        .update(n)
        .title("Crash on start")
        .body("More")
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "PATCH",
        &format!("/api/v5/repos/{O}/issues/{n}"),
        None,
        Some(json!({"repo": R, "title": "Crash on start", "body": "More"})),
    );
    assert_eq!(updated.title, "Crash on start");
    assert_eq!(issues.close(n).await.unwrap().state, "closed");
    expect(
        &sim,
        "PATCH",
        &format!("/api/v5/repos/{O}/issues/{n}"),
        None,
        Some(json!({"repo": R, "state": "closed"})),
    );
    assert_eq!(issues.reopen(n).await.unwrap().state, "open");
    expect(
        &sim,
        "PATCH",
        &format!("/api/v5/repos/{O}/issues/{n}"),
        None,
        Some(json!({"repo": R, "state": "open"})),
    );

    let i = issues.add_assignees(n, &["bob"]).await.unwrap();
    expect(
        &sim,
        "POST",
        &format!("{base}/{n}/assignees"),
        None,
        Some(json!({"assignees": ["bob"]})),
    );
    assert_eq!(i.assignees.len(), 2);
    let i = issues.remove_assignees(n, &["ann"]).await.unwrap();
    expect(
        &sim,
        "DELETE",
        &format!("{base}/{n}/assignees"),
        None,
        Some(json!({"assignees": ["ann"]})),
    );
    assert_eq!(i.assignees[0].login, "bob");

    let labels = issues.add_labels(n, &["p1"]).await.unwrap();
    expect(
        &sim,
        "POST",
        &format!("{base}/{n}/labels"),
        None,
        Some(json!(["p1"])),
    );
    assert_eq!(labels.len(), 2);
    let labels = issues.replace_labels(n, &["wontfix"]).await.unwrap();
    expect(
        &sim,
        "PUT",
        &format!("{base}/{n}/labels"),
        None,
        Some(json!(["wontfix"])),
    );
    assert_eq!(labels[0].name, "wontfix");
    issues.remove_label(n, "wontfix").await.unwrap();
    expect(
        &sim,
        "DELETE",
        &format!("{base}/{n}/labels/wontfix"),
        None,
        None,
    );
    assert!(sim.labels(O, R, n).is_empty());

    let comment = issues.create_comment(n, "hello").await.unwrap();
    expect(
        &sim,
        "POST",
        &format!("{base}/{n}/comments"),
        None,
        Some(json!({"body": "hello"})),
    );
    let listed = issues.list_comments(n).per_page(10).send().await.unwrap();
    expect(
        &sim,
        "GET",
        &format!("{base}/{n}/comments"),
        Some("per_page=10"),
        None,
    );
    assert_eq!(listed.items[0].id, comment.id);
    let edited = issues.update_comment(&comment.id, "hello!").await.unwrap();
    expect(
        &sim,
        "PATCH",
        &format!("{base}/comments/{}", comment.id),
        None,
        Some(json!({"body": "hello!"})),
    );
    assert_eq!(edited.body, "hello!");
    issues.delete_comment(&comment.id).await.unwrap();
    expect(
        &sim,
        "DELETE",
        &format!("{base}/comments/{}", comment.id),
        None,
        None,
    );
    assert!(sim.comments(O, R, n).is_empty());
}

#[tokio::test]
async fn pull_request_calls() {
    let (sim, client) = setup(ApiPaths::default()).await;
    let pulls = client.pulls(O, R);
    let base = format!("/repos/{O}/{R}/pulls");

    let open = pulls
        .list()
        .state("open")
        .base("main")
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "GET",
        &format!("/api/v5{base}"),
        Some("state=open&base=main"),
        None,
    );
    assert_eq!(open.items[0].number, 2);

    let pr = pulls.get(2).await.unwrap();
    expect(&sim, "GET", &format!("{base}/2"), None, None);
    assert_eq!((pr.head.git_ref.as_str(), pr.merged), ("feature", false));

    let files = pulls.files(2).await.unwrap();
    expect(&sim, "GET", &format!("/api/v5{base}/2/files"), None, None);
    assert_eq!(
        (files[0].filename.as_str(), files[0].additions),
        ("README.md", 3)
    );
    let commits = pulls.commits(2).await.unwrap();
    expect(&sim, "GET", &format!("{base}/2/commits"), None, None);
    assert_eq!(commits[0].sha.len(), 40);

    let new = pulls
        .create("Add docs", "docs", "main")
        .body("b")
        .draft(true)
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "POST",
        &base,
        None,
        Some(
            json!({"title": "Add docs", "body": "b", "head": "docs", "base": "main", "draft": true}),
        ),
    );
    assert!(new.draft);
    let n = new.number;
    let updated = pulls
        .update(n)
        .title("Add the docs")
        .draft(false)
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "PATCH",
        &format!("{base}/{n}"),
        None,
        Some(json!({"title": "Add the docs", "draft": false})),
    );
    assert_eq!(updated.title, "Add the docs");

    let review = pulls.approve(n, Some("LGTM")).await.unwrap();
    expect(
        &sim,
        "POST",
        &format!("{base}/{n}/reviews"),
        None,
        Some(json!({"event": "APPROVE", "body": "LGTM"})),
    );
    assert_eq!(review.state, "APPROVED");
    let comment = pulls.comment(n, "nice").await.unwrap();
    expect(
        &sim,
        "POST",
        &format!("{base}/{n}/comments"),
        None,
        Some(json!({"body": "nice"})),
    );
    assert!(comment.user.is_bot());

    let merged = pulls
        .merge(n)
        .method("squash")
        .commit_title("docs")
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "PUT",
        &format!("{base}/{n}/merge"),
        None,
        Some(json!({"merge_method": "squash", "commit_title": "docs"})),
    );
    assert!(merged.merged);
    assert!(pulls.get(n).await.unwrap().merged);
    sim.clear_requests();
    // Merging twice: the platform's error, with the unconfirmed-path hint for this guess.
    let err = pulls.merge(n).send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(405));
}

#[tokio::test]
async fn repository_member_and_release_calls() {
    let (sim, client) = setup(ApiPaths::default()).await;
    let repos = client.repos();
    let base = format!("/repos/{O}/{R}");

    let repo = repos.get(O, R).await.unwrap();
    expect(&sim, "GET", &base, None, None);
    assert_eq!((repo.id.as_str().len(), repo.private), (24, false));

    let branches = repos.branches(O, R).await.unwrap();
    expect(
        &sim,
        "GET",
        &format!("{base}/branches"),
        Some("per_page=100"),
        None,
    );
    assert!(branches.iter().any(|b| b.name == "feature"));
    let main = repos.branch(O, R, "main").await.unwrap();
    expect(&sim, "GET", &format!("{base}/branches/main"), None, None);
    assert!(main.protected && main.commit.sha.len() == 40);

    let raw = repos.raw(O, R, "docs/a b.md", Some("main")).await.unwrap();
    expect(
        &sim,
        "GET",
        &format!("/api/v5{base}/raw/docs/a%20b.md"),
        Some("ref=main"),
        None,
    );
    assert_eq!(&raw[..], b"# A\n");
    let files = repos.file_list(O, R, Some("main")).await.unwrap();
    expect(
        &sim,
        "GET",
        &format!("/api/v5{base}/file_list"),
        Some("ref=main"),
        None,
    );
    assert!(files.contains(&"README.md".to_owned()));

    let written = repos
        .create_file(O, R, "new.txt", "hi", "add")
        .branch("main")
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "POST",
        &format!("{base}/contents/new.txt"),
        None,
        Some(json!({"message": "add", "content": "aGk=", "branch": "main"})),
    );
    let sha = written.content.unwrap().sha.unwrap();
    repos
        .update_file(O, R, "new.txt", "hi!", "edit", sha.clone())
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "PUT",
        &format!("{base}/contents/new.txt"),
        None,
        Some(json!({"message": "edit", "content": "aGkh", "sha": sha})),
    );
    let stale = repos
        .update_file(O, R, "new.txt", "x", "edit", sha)
        .send()
        .await
        .unwrap_err();
    assert_eq!(stale.status().map(|s| s.as_u16()), Some(409));
    sim.clear_requests();

    let perm = repos.collaborator_permission(O, R, "bob").await.unwrap();
    expect(
        &sim,
        "GET",
        &format!("{base}/collaborators/bob/permission"),
        None,
        None,
    );
    assert!(perm.can_write());
    assert!(
        !repos
            .collaborator_permission(O, R, "eve")
            .await
            .unwrap()
            .can_write()
    );
    sim.clear_requests();

    let org = client.orgs(O);
    assert!(org.is_member("ann").await.unwrap());
    expect(
        &sim,
        "GET",
        &format!("/api/v5/orgs/{O}/members/ann"),
        None,
        None,
    );
    assert!(
        !org.is_member("eve").await.unwrap(),
        "404 means not a member"
    );
    sim.clear_requests();
    let m = org.membership("ann").await.unwrap();
    expect(
        &sim,
        "GET",
        &format!("/orgs/{O}/memberships/ann"),
        None,
        None,
    );
    assert_eq!(m.role, "member");

    let releases = client.releases(O, R);
    let rel = releases
        .create("v1.0.0")
        .name("One")
        .body("notes")
        .prerelease(true)
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "POST",
        &format!("{base}/releases"),
        None,
        Some(
            json!({"tag_name": "v1.0.0", "name": "One", "body": "notes", "draft": false, "prerelease": true}),
        ),
    );
    assert!(rel.prerelease && !rel.draft && rel.id.as_str().len() == 24);
    assert_eq!(releases.list().await.unwrap().len(), 1);
    expect(
        &sim,
        "GET",
        &format!("{base}/releases"),
        Some("per_page=100"),
        None,
    );
    assert_eq!(releases.by_tag("v1.0.0").await.unwrap().tag_name, "v1.0.0");
    expect(
        &sim,
        "GET",
        &format!("{base}/releases/tags/v1.0.0"),
        None,
        None,
    );
    let tags = repos.tags(O, R).await.unwrap();
    expect(
        &sim,
        "GET",
        &format!("{base}/tags"),
        Some("per_page=100"),
        None,
    );
    assert_eq!(tags[0].name, "v1.0.0");
}

#[tokio::test]
async fn families_and_overrides_choose_the_path() {
    // Everything on /api/v5, the issues group back to unprefixed, one path overridden.
    let paths = ApiPaths::default()
        .family(Family::V5)
        .group_family(Group::Issues, Family::V2023)
        .override_path(&paths::PULLS_GET, "/repos/{owner}/{repo}/pull/{number}");
    let (sim, client) = setup(paths).await;
    client.repos().get(O, R).await.unwrap();
    expect(&sim, "GET", &format!("/api/v5/repos/{O}/{R}"), None, None);
    client
        .issues(O, R)
        .update(1)
        .title("t")
        .send()
        .await
        .unwrap();
    expect(
        &sim,
        "PATCH",
        &format!("/repos/{O}/{R}/issues/1"),
        None,
        Some(json!({"repo": R, "title": "t"})),
    );
    let err = client.pulls(O, R).get(2).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(only_call(&sim).path, format!("/repos/{O}/{R}/pull/2"));
    assert!(
        !err.to_string().contains("unconfirmed"),
        "an override is not a guess: {err}"
    );

    // A base URL that already ends in /api/v5 is never doubled.
    let sim = Simulator::builder()
        .api_prefix("/api/v5")
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .app(sim.app_config())
        .api_paths(ApiPaths::default().family(Family::V5))
        .build()
        .unwrap()
        .installation(14);
    client.repos().get(O, R).await.unwrap();
    expect(&sim, "GET", &format!("/api/v5/repos/{O}/{R}"), None, None);
}

#[tokio::test]
async fn a_404_on_a_guess_names_the_setting_and_statuses_degrade() {
    let (sim, client) = setup(ApiPaths::default()).await;
    let err = client.pulls(O, R).commits(99).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("this path is unconfirmed; set ATOMBOT_API_PATH_PULLS_COMMITS to override"),
        "{text}"
    );
    // A documented/[3p] path gets no such hint.
    let err = client.issues(O, R).get(99).await.unwrap_err();
    assert!(!err.to_string().contains("unconfirmed"), "{err}");

    use atombot::testing::{Fault, Route};
    sim.fail_next(
        Route::post(format!("/repos/{O}/{R}/statuses/abc")),
        1,
        Fault::Status(404),
    );
    let err = client
        .statuses(O, R)
        .create("abc", atombot::models::CommitState::Success)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unsupported(), "{err}");
    assert!(matches!(
        &err,
        Error::Unsupported {
            capability: "statuses.create",
            ..
        }
    ));
    sim.fail_next(
        Route::post(format!("/repos/{O}/{R}/check-runs")),
        1,
        Fault::Status(404),
    );
    let err = client
        .checks(O, R)
        .create("ci", "abc")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unsupported(), "{err}");
    assert!(
        err.to_string().contains("ATOMBOT_API_PATH_CHECKS_CREATE"),
        "{err}"
    );
}
