//! Repositories, issues, statuses, check runs, contents and the request log.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{dev_jwt, get, post, read};
use crate::testing::{SimInstallation, Simulator, TokenKind};

#[tokio::test]
async fn repo_lists_page_with_link() {
    let mut builder = Simulator::builder().installation(SimInstallation::user(20, "bob"));
    for i in 0..5 {
        builder = builder.user_repo("bob", &format!("r{i}"));
    }
    let sim = builder.start().await.unwrap();
    let token = sim.issue_token(20).unwrap();
    let response = get(&sim, "users/bob/repos?per_page=2&page=2", &token).await;
    assert_eq!(response.status(), 200);
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert_eq!(
        link,
        format!(
            "<{}users/bob/repos?page=3&per_page=2>; rel=\"next\"",
            sim.url()
        )
    );
    let repos: Vec<Value> = read(response).await;
    assert_eq!(repos[0]["full_name"], "bob/r2");
    assert_eq!(repos[0]["owner"]["type"], "User");
    assert_eq!(repos[0]["owner"]["id"].as_str().unwrap().len(), 24);
    let last = get(&sim, "user/bob/repos?per_page=2&page=3", &token).await;
    assert!(!last.headers().contains_key("link"));
    assert_eq!(read::<Vec<Value>>(last).await.len(), 1);
    assert_eq!(sim.mint_count(20), 0);

    let installations = get(&sim, "app/installations?per_page=1", &dev_jwt()).await;
    assert!(
        installations.headers()["link"]
            .to_str()
            .unwrap()
            .contains("page=2&per_page=1")
    );
}

#[tokio::test]
async fn repo_and_contents() {
    let sim = Simulator::builder()
        .file("atomgit-demo", "hello-world", "src/lib.rs", [b'x'; 100])
        .start()
        .await
        .unwrap();
    let token = sim.issue_token(14).unwrap();
    let response = get(&sim, "repos/atomgit-demo/hello-world", &token).await;
    let repo: Value = read(response).await;
    // Real AtomGit shapes: a 24-hex string id and 0/1 booleans.
    assert_eq!(repo["id"].as_str().map(str::len), Some(24));
    assert_eq!(repo["private"], 0);
    assert_eq!(repo["default_branch"], "main");
    assert_eq!(
        repo["html_url"],
        format!("{}atomgit-demo/hello-world", sim.web_url())
    );
    assert_eq!(
        get(&sim, "repos/atomgit-demo/nope", &token).await.status(),
        404
    );

    let response = get(
        &sim,
        "repos/atomgit-demo/hello-world/contents?path=src/lib.rs&ref=main",
        &token,
    )
    .await;
    let file: Value = read(response).await;
    assert_eq!(
        (file["type"].as_str(), file["encoding"].as_str()),
        (Some("file"), Some("base64"))
    );
    assert_eq!(
        (file["name"].as_str(), file["size"].as_u64()),
        (Some("lib.rs"), Some(100))
    );
    let content = file["content"].as_str().unwrap();
    assert!(content.contains('\n'));
    let decoded = STANDARD.decode(content.replace('\n', "")).unwrap();
    assert_eq!(decoded, vec![b'x'; 100]);
    let readme = get(
        &sim,
        "repos/atomgit-demo/hello-world/contents/README.md",
        &token,
    )
    .await;
    assert_eq!(readme.status(), 200);
    let missing = get(
        &sim,
        "repos/atomgit-demo/hello-world/contents?path=nope",
        &token,
    )
    .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn comments_and_labels() {
    let sim = Simulator::start().await.unwrap();
    let token = sim.issue_token(14).unwrap();
    let path = "repos/atomgit-demo/hello-world/issues/1/comments";
    let response = post(&sim, path, &token, json!({ "body": "hello" })).await;
    assert_eq!(response.status(), 201);
    let comment: Value = read(response).await;
    assert!(comment["id"].is_string());
    assert_eq!(comment["user"]["login"], "atombot-sim[bot]");
    let list: Vec<Value> = read(get(&sim, path, &token).await).await;
    assert_eq!(list, [comment]);
    assert_eq!(sim.comments("atomgit-demo", "hello-world", 1).len(), 1);
    let bad = post(&sim, path, &token, json!({ "text": "x" })).await;
    assert_eq!(bad.status(), 400);
    let unknown = post(
        &sim,
        "repos/atomgit-demo/hello-world/issues/9/comments",
        &token,
        json!({ "body": "x" }),
    );
    assert_eq!(unknown.await.status(), 404);

    let labels_path = "repos/atomgit-demo/hello-world/issues/1/labels";
    let response = post(&sim, labels_path, &token, json!(["bug", "triage"])).await;
    assert_eq!(response.status(), 200);
    let labels: Vec<Value> = read(response).await;
    assert_eq!(labels.len(), 2);
    assert_eq!(labels[0]["name"], "bug");
    assert!(labels[0]["color"].is_string() && labels[0]["id"].is_u64());

    let logged = sim.requests_to("/issues/1/comments");
    assert_eq!(logged[0].json().unwrap()["body"], "hello");
    assert_eq!(logged[0].token_kind, Some(TokenKind::Installation));
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn statuses_and_check_runs() {
    let sim = Simulator::start().await.unwrap();
    let token = sim.issue_token(14).unwrap();
    let body = json!({ "state": "success", "target_url": "https://ci", "description": "ok", "context": "ci" });
    let response = post(
        &sim,
        "repos/atomgit-demo/hello-world/statuses/abc123",
        &token,
        body,
    )
    .await;
    assert_eq!(response.status(), 201);
    let status: Value = read(response).await;
    assert!(status["id"].is_u64());
    assert_eq!(
        (status["context"].as_str(), status["required"].as_bool()),
        (Some("ci"), Some(false))
    );
    let bad = post(
        &sim,
        "repos/atomgit-demo/hello-world/statuses/abc",
        &token,
        json!({ "state": "x" }),
    );
    assert_eq!(bad.await.status(), 422);
    assert_eq!(sim.statuses("atomgit-demo", "hello-world")[0].0, "abc123");

    let run = json!({ "name": "lint", "head_sha": "abc123", "status": "in_progress" });
    let response = post(
        &sim,
        "repos/atomgit-demo/hello-world/check-runs",
        &token,
        run,
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = read(response).await;
    let id = created["id"].as_u64().unwrap();
    let url = format!(
        "{}repos/atomgit-demo/hello-world/check-runs/{id}",
        sim.url()
    );
    let update =
        json!({ "conclusion": "success", "output": { "title": "clean", "summary": "ok" } });
    let response = reqwest::Client::new()
        .patch(url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(update.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let updated: Value = read(response).await;
    assert_eq!(
        (updated["status"].as_str(), updated["id"].as_u64()),
        (Some("completed"), Some(id))
    );
    assert_eq!(
        sim.check_runs("atomgit-demo", "hello-world")[0]["output"]["title"],
        "clean"
    );
}
