//! End-to-end tests: the simulator over real HTTP with reqwest.

mod auth;
mod faults;
mod resources;
mod webhooks;

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, Response};
use serde_json::{Value, json};

use super::Simulator;

const OTHER_PRIVATE_KEY_PEM: &str =
    include_str!("../../../tests/fixtures/other-app-private-key.pem");

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Signs an app JWT with `pem` and explicit claims.
fn jwt_with(pem: &str, iss: Value, iat: i64, exp: i64) -> String {
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let claims = json!({ "iss": iss, "iat": iat, "exp": exp });
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

/// A valid app JWT for app 75, signed with the dev key.
fn dev_jwt() -> String {
    jwt_with(
        Simulator::dev_private_key_pem(),
        json!("75"),
        now() - 60,
        now() + 600,
    )
}

async fn get(sim: &Simulator, path: &str, bearer: &str) -> Response {
    Client::new()
        .get(format!("{}{path}", sim.url()))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
}

async fn post(sim: &Simulator, path: &str, bearer: &str, body: Value) -> Response {
    let url = format!("{}{path}", sim.url());
    Client::new()
        .post(url)
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// Mints a token for an installation over HTTP.
async fn mint(sim: &Simulator, installation: u64) -> String {
    let path = format!("app/installations/{installation}/access_tokens");
    let response = post(sim, &path, &dev_jwt(), json!({})).await;
    assert_eq!(response.status(), 201);
    let body: Value = read(response).await;
    body["token"].as_str().unwrap().to_owned()
}

/// Decodes a response body as JSON (reqwest is built without its `json` feature).
async fn read<T: serde::de::DeserializeOwned>(response: Response) -> T {
    let bytes = response.bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
