//! Acceptance 1 and 2: the app JWT is accepted by the simulator's verification; JWTs signed
//! with another key, expired, or with a wrong `iss` get 401. Installations (including the
//! broken-`events` sample) and minted tokens parse.

use std::sync::Arc;

use atombot::auth::{Claims, StaticToken};
use atombot::testing::Simulator;
use atombot::{App, AppConfig, Client};
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

const OTHER_KEY: &str = include_str!("fixtures/other-app-private-key.pem");

fn sign(key_pem: &str, claims: &Claims) -> String {
    let key = EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

async fn list_with_jwt(
    sim: &Simulator,
    jwt: String,
) -> atombot::Result<Vec<atombot::models::Installation>> {
    let client = Client::builder()
        .base_url(sim.url())
        .token_source(Arc::new(StaticToken::new(jwt, "test")))
        .build()?;
    client.installations().list().await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn the_apps_own_jwt_is_accepted_and_installations_parse() {
    let sim = Simulator::start().await.unwrap();
    let app = App::new(sim.app_config()).unwrap();
    let installations = app.installations().await.unwrap();
    let ids: Vec<u64> = installations.iter().map(|i| i.id.0).collect();
    assert_eq!(ids, [14, 15]);
    let org = &installations[0];
    assert_eq!(org.account.path, "atomgit-demo");
    assert_eq!(org.app_id, 75);
    assert!(org.created_at.is_some());
    // The platform's second sample: `events` holds broken JSON fragments, kept verbatim.
    let broken = &installations[1];
    assert_eq!(
        broken.events,
        [r#"{"code":"push""#, r#""desc":"push event"}"#]
    );

    let token = app.create_installation_token(14).await.unwrap();
    let expires = token.expires_at;
    assert_eq!(
        expires.0.offset().local_minus_utc(),
        8 * 3600,
        "keeps the +08:00 offset"
    );
    let left = expires.to_utc() - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(59) && left <= chrono::Duration::minutes(60));
}

#[tokio::test]
async fn a_jwt_from_another_key_is_rejected() {
    let sim = Simulator::start().await.unwrap();
    let config = AppConfig::builder()
        .app_id(75)
        .private_key_pem(OTHER_KEY)
        .api_url(sim.url())
        .build()
        .unwrap();
    let err = App::new(config).unwrap().installations().await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED), "{err}");
}

#[tokio::test]
async fn an_expired_jwt_is_rejected() {
    let sim = Simulator::start().await.unwrap();
    let claims = Claims {
        iss: "75".into(),
        iat: now() - 1200,
        exp: now() - 600,
    };
    let err = list_with_jwt(&sim, sign(Simulator::dev_private_key_pem(), &claims))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED), "{err}");
}

#[tokio::test]
async fn a_jwt_with_the_wrong_issuer_is_rejected() {
    let sim = Simulator::start().await.unwrap();
    let claims = Claims {
        iss: "76".into(),
        iat: now() - 60,
        exp: now() + 600,
    };
    let err = list_with_jwt(&sim, sign(Simulator::dev_private_key_pem(), &claims))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED), "{err}");
    // The same claims with the right issuer pass, so the 401 above is about `iss`.
    let claims = Claims {
        iss: "75".into(),
        ..claims
    };
    assert!(
        list_with_jwt(&sim, sign(Simulator::dev_private_key_pem(), &claims))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn installations_are_followed_across_pages_and_under_a_path_prefix() {
    let sim = Simulator::builder()
        .api_prefix("/api/v5")
        .installation(atombot::testing::SimInstallation::org(16, "third-org"))
        .start()
        .await
        .unwrap();
    assert!(sim.url().ends_with("/api/v5/"));
    let app = App::new(sim.app_config()).unwrap();
    let client = app.client();
    let first: atombot::client::Page<atombot::models::Installation> = client
        .get_page("/app/installations?per_page=2")
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(first.next.is_some(), "a full page has a next page");
    let all = app.installations().await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(
        sim.requests()
            .iter()
            .all(|r| r.path.starts_with("/api/v5/"))
    );
}
