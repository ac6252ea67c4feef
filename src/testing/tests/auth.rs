//! App JWT and token checks.

use serde_json::{Value, json};

use super::{OTHER_PRIVATE_KEY_PEM, dev_jwt, get, jwt_with, mint, now, post, read};
use crate::testing::{Simulator, TokenKind};

#[tokio::test]
async fn valid_jwt_lists_installations() {
    let sim = Simulator::start().await.unwrap();
    let response = get(&sim, "app/installations", &dev_jwt()).await;
    assert_eq!(response.status(), 200);
    let list: Vec<Value> = read(response).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], 14);
    assert_eq!(list[0]["app_id"], 75);
    assert_eq!(list[0]["account"]["path"], "atomgit-demo");
    assert_eq!(list[0]["created_at"], "2023-04-26T14:18:39+08:00");
    let tokens_url = format!("{}app/installations/14/access_tokens", sim.url());
    assert_eq!(list[0]["access_tokens_url"], tokens_url);
    assert_eq!(list[1]["events"][0], "{\"code\":\"push\"");
    assert_eq!(sim.requests()[0].token_kind, Some(TokenKind::AppJwt));
}

#[tokio::test]
async fn bad_jwts_get_401() {
    let sim = Simulator::start().await.unwrap();
    let dev = Simulator::dev_private_key_pem();
    let cases = [
        jwt_with(OTHER_PRIVATE_KEY_PEM, json!("75"), now() - 60, now() + 600),
        jwt_with(dev, json!("75"), now() - 700, now() - 100),
        jwt_with(dev, json!("76"), now() - 60, now() + 600),
        jwt_with(dev, json!(75), now() - 60, now() + 600),
        jwt_with(dev, json!("75"), now() + 300, now() + 600),
        jwt_with(dev, json!("75"), now() - 60, now() + 3600),
        "not-a-jwt".to_owned(),
    ];
    for jwt in cases {
        let response = get(&sim, "app/installations", &jwt).await;
        assert_eq!(response.status(), 401, "{jwt}");
        let body: Value = read(response).await;
        assert!(body["message"].is_string());
    }
    let response = reqwest::get(format!("{}app/installations", sim.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn mint_and_use_token() {
    let sim = Simulator::start().await.unwrap();
    let response = post(
        &sim,
        "app/installations/14/access_tokens",
        &dev_jwt(),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = read(response).await;
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("ats_") && token.len() == 36);
    let expires_at = body["expires_at"].as_str().unwrap();
    assert!(
        expires_at.ends_with("+08:00") && expires_at.len() == 29,
        "{expires_at}"
    );
    assert_eq!(body["repository_selection"], "ALL");
    assert_eq!(sim.mint_count(14), 1);

    let response = get(&sim, "orgs/atomgit-demo/repos", token).await;
    assert_eq!(response.status(), 200);
    let repos: Vec<Value> = read(response).await;
    let names: Vec<&str> = repos.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hello-world", "bot-playground"]);

    let response = get(
        &sim,
        "orgs/atomgit-demo/repos",
        "ats_00000000000000000000000000000000",
    )
    .await;
    assert_eq!(response.status(), 401);
    let body: Value = read(response).await;
    assert_eq!(body["message"], "Bad credentials");

    let missing = post(
        &sim,
        "app/installations/99/access_tokens",
        &dev_jwt(),
        json!({}),
    )
    .await;
    assert_eq!(missing.status(), 404);
    let with_token = post(&sim, "app/installations/14/access_tokens", token, json!({})).await;
    assert_eq!(with_token.status(), 401);
}

#[tokio::test]
async fn other_installation_cannot_list_org() {
    let sim = Simulator::start().await.unwrap();
    let token = mint(&sim, 15).await;
    assert_eq!(
        get(&sim, "orgs/atomgit-demo/repos", &token).await.status(),
        404
    );
}

#[tokio::test]
async fn revoked_and_expired_tokens_get_401() {
    let sim = Simulator::start().await.unwrap();
    let token = mint(&sim, 14).await;
    let second = mint(&sim, 14).await;
    assert!(sim.revoke_token(&token));
    assert_eq!(
        get(&sim, "repos/atomgit-demo/hello-world", &token)
            .await
            .status(),
        401
    );
    assert_eq!(
        get(&sim, "repos/atomgit-demo/hello-world", &second)
            .await
            .status(),
        200
    );
    assert_eq!(sim.revoke_installation_tokens(14), 1);
    assert_eq!(
        get(&sim, "repos/atomgit-demo/hello-world", &second)
            .await
            .status(),
        401
    );

    sim.set_token_lifetime(std::time::Duration::ZERO);
    let expired = mint(&sim, 14).await;
    assert_eq!(
        get(&sim, "repos/atomgit-demo/hello-world", &expired)
            .await
            .status(),
        401
    );
    assert_eq!(sim.mint_count(14), 3);
}

#[tokio::test]
async fn custom_app_id_and_key() {
    let other_public = Simulator::dev_public_key_pem();
    let sim = Simulator::builder()
        .app_id(9)
        .public_key_pem(other_public)
        .start()
        .await
        .unwrap();
    assert_eq!(sim.app_id(), 9);
    let jwt = jwt_with(
        Simulator::dev_private_key_pem(),
        json!("9"),
        now() - 60,
        now() + 600,
    );
    assert_eq!(get(&sim, "app/installations", &jwt).await.status(), 200);
    assert_eq!(
        get(&sim, "app/installations", &dev_jwt()).await.status(),
        401
    );
    assert!(
        Simulator::builder()
            .public_key_pem("nope")
            .start()
            .await
            .is_err()
    );
}
