//! Acceptance 6: the SQLite store keeps no plaintext token; it refuses to start without a
//! key; rows do not decrypt under another key.

mod oauth_common;

use std::sync::Arc;

use atombot::oauth::{
    OAuthSettings, SqliteUserTokenStore, TOKEN_KEY_ENV, TokenKey, UserTokenStore,
};
use oauth_common::*;
use secrecy::ExposeSecret;

fn files_contain(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    })
}

#[tokio::test]
async fn sqlite_rows_hold_no_plaintext_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("atombot.db").display());
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let store = SqliteUserTokenStore::connect(&url, TokenKey::from_base64(key).unwrap())
        .await
        .unwrap();
    let setup = start_with(OAuthSettings::default(), Arc::new(store.clone())).await;
    setup.sim.set_rotate_refresh_tokens(true);
    let (status, page) = sign_in(&setup, &browser()).await;
    assert_eq!(status, 200, "{page}");
    let first = setup.oauth.store().get(USER).await.unwrap().unwrap();
    let second = setup.oauth.refresh(USER).await.unwrap();
    store.pool().close().await;

    for token in [&first, &second] {
        let access = token.access_token.expose_secret();
        let refresh = token.refresh_token.as_ref().unwrap().expose_secret();
        assert!(access.starts_with("atu_") && refresh.starts_with("refresh_"));
        assert!(
            !files_contain(dir.path(), access),
            "plaintext atu_ token on disk"
        );
        assert!(
            !files_contain(dir.path(), refresh),
            "plaintext refresh token on disk"
        );
    }
    assert!(!files_contain(dir.path(), "atu_"));

    // Reopened with the same key, the row reads back; with another key it does not.
    let again = SqliteUserTokenStore::connect(&url, TokenKey::from_base64(key).unwrap())
        .await
        .unwrap();
    let read = again.get(USER).await.unwrap().unwrap();
    assert_eq!(
        read.access_token.expose_secret(),
        second.access_token.expose_secret()
    );
    let wrong = SqliteUserTokenStore::connect(&url, TokenKey::generate().unwrap())
        .await
        .unwrap();
    let err = wrong.get(USER).await.unwrap_err();
    assert!(err.to_string().contains(TOKEN_KEY_ENV), "{err}");
}

#[tokio::test]
async fn the_durable_store_refuses_to_start_without_a_key() {
    if std::env::var_os(TOKEN_KEY_ENV).is_some() {
        eprintln!("skipped: {TOKEN_KEY_ENV} is set in this environment");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let err = SqliteUserTokenStore::connect_with_env_key(&url)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(TOKEN_KEY_ENV) && text.contains("openssl rand -base64 32"),
        "{text}"
    );
    assert!(!dir.path().join("x.db").exists(), "nothing was created");
}

/// Replicas (or the bot and `atombot oauth …`) opening one new SQLite file at once: SQLite
/// refuses the switch to WAL at once ("database is locked", no busy wait) while another
/// connection makes it; every store must still open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_opening_a_new_sqlite_file_at_once_all_open() {
    let dir = tempfile::tempdir().unwrap();
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    for round in 0..20 {
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{round}.db")).display()
        );
        let opens = (0..6).map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                SqliteUserTokenStore::connect(&url, TokenKey::from_base64(key).unwrap()).await
            })
        });
        for opened in futures::future::join_all(opens).await {
            if let Err(e) = opened.unwrap() {
                panic!("round {round}: {e}");
            }
        }
    }
}
