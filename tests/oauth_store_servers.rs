//! The Redis and Postgres user-token stores against real servers: round trips, a second
//! handle (another replica) sees the same tokens, the server holds no plaintext token, and
//! `OAuth::from_env` picks the store by the URL's scheme.
//!
//! Needs `ATOMBOT_TEST_REDIS_URL` / `ATOMBOT_TEST_POSTGRES_URL` and the `redis` / `postgres`
//! features; otherwise each test prints `skipped: …` and passes.

#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atombot::oauth::{TokenKey, UserToken, UserTokenStore};
use chrono::{DateTime, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};

const REDIS_ENV: &str = "ATOMBOT_TEST_REDIS_URL";
const POSTGRES_ENV: &str = "ATOMBOT_TEST_POSTGRES_URL";

fn server_url(var: &str) -> Option<String> {
    let url = std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    if url.is_none() {
        println!("skipped: {var} is not set");
    }
    url
}

/// A user name no other run (or concurrent test) uses.
fn unique_user(backend: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "replica-test-{backend}-{}-{nanos}-{}",
        std::process::id(),
        fastrand::u32(..)
    )
}

fn key() -> TokenKey {
    TokenKey::from_bytes(&[42u8; 32]).unwrap()
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap()
}

fn token(user: &str, n: u32, refresh: bool) -> UserToken {
    UserToken {
        user: user.to_owned(),
        access_token: SecretString::from(format!("atu_{n}_{user}")),
        expires_at: at(1_900_000_000_000 + i64::from(n)),
        refresh_token: refresh.then(|| SecretString::from(format!("refresh_{n}_{user}"))),
        refresh_expires_at: refresh.then(|| at(1_950_000_000_000)),
    }
}

fn assert_same(read: &UserToken, want: &UserToken) {
    assert_eq!(read.user, want.user);
    assert_eq!(
        read.access_token.expose_secret(),
        want.access_token.expose_secret()
    );
    assert_eq!(read.expires_at, want.expires_at);
    assert_eq!(
        read.refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        want.refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
    );
    assert_eq!(read.refresh_expires_at, want.refresh_expires_at);
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Put/get/remove through two handles (replicas) sharing one server and key.
async fn replicas_share_tokens(a: &dyn UserTokenStore, b: &dyn UserTokenStore, user: &str) {
    assert!(a.get(user).await.unwrap().is_none());
    assert!(!a.remove(user).await.unwrap());

    let first = token(user, 1, true);
    a.put(&first).await.unwrap();
    assert_same(&a.get(user).await.unwrap().unwrap(), &first);
    assert_same(&b.get(user).await.unwrap().unwrap(), &first);

    // Replica b refreshes; replica a sees the new tokens, and a record without a refresh
    // token drops the old one.
    let second = token(user, 2, false);
    b.put(&second).await.unwrap();
    assert_same(&a.get(user).await.unwrap().unwrap(), &second);
    let third = token(user, 3, true);
    a.put(&third).await.unwrap();
    assert_same(&b.get(user).await.unwrap().unwrap(), &third);
}

/// `replace` and `remove_if` are compare-and-set: a handle that holds a stale record
/// changes nothing, and nothing is resurrected once the record is gone.
async fn compare_and_set(a: &dyn UserTokenStore, b: &dyn UserTokenStore, user: &str) {
    let first = token(user, 10, true);
    let second = token(user, 11, true);
    let third = token(user, 12, false);
    assert!(!a.replace(&first, &second).await.unwrap(), "no record yet");
    assert!(a.get(user).await.unwrap().is_none());
    a.put(&first).await.unwrap();
    assert!(b.replace(&first, &second).await.unwrap());
    assert_same(&a.get(user).await.unwrap().unwrap(), &second);
    // `a` still believes `first` is current.
    assert!(!a.replace(&first, &third).await.unwrap());
    assert!(!a.remove_if(&first).await.unwrap());
    assert_same(&b.get(user).await.unwrap().unwrap(), &second);
    assert!(a.replace(&second, &third).await.unwrap());
    assert_same(&b.get(user).await.unwrap().unwrap(), &third);
    assert!(b.remove_if(&third).await.unwrap());
    assert!(a.get(user).await.unwrap().is_none());
    assert!(!a.replace(&third, &first).await.unwrap(), "no resurrection");
    assert!(a.get(user).await.unwrap().is_none());
}

#[tokio::test]
async fn sqlite_and_memory_replace_is_compare_and_set() {
    use atombot::oauth::{MemoryUserTokenStore, SqliteUserTokenStore};
    let memory = MemoryUserTokenStore::new();
    compare_and_set(&memory, &memory, "cas-memory").await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tokens.db").display());
    let a = SqliteUserTokenStore::connect(&url, key()).await.unwrap();
    let b = SqliteUserTokenStore::connect(&url, key()).await.unwrap();
    compare_and_set(&a, &b, "cas-sqlite").await;
}

async fn removed_everywhere(a: &dyn UserTokenStore, b: &dyn UserTokenStore, user: &str) {
    assert!(b.remove(user).await.unwrap());
    assert!(a.get(user).await.unwrap().is_none());
    assert!(b.get(user).await.unwrap().is_none());
    assert!(!a.remove(user).await.unwrap());
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_store_is_shared_and_sealed() {
    use atombot::oauth::RedisUserTokenStore;
    use std::collections::HashMap;

    let Some(url) = server_url(REDIS_ENV) else {
        return;
    };
    let user = unique_user("redis");
    let a = RedisUserTokenStore::connect(&url, key()).await.unwrap();
    let b = RedisUserTokenStore::connect(&url, key()).await.unwrap();
    compare_and_set(&a, &b, &unique_user("redis-cas")).await;
    replicas_share_tokens(&a, &b, &user).await;

    // What the server holds: sealed bytes only.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let raw: HashMap<String, Vec<u8>> = redis::cmd("HGETALL")
        .arg(format!("atombot:user-token:{user}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(raw.contains_key("access_token") && raw.contains_key("refresh_token"));
    for (field, value) in &raw {
        assert!(
            !contains(value, "atu_"),
            "plaintext access token in {field}"
        );
        assert!(
            !contains(value, "refresh_"),
            "plaintext refresh token in {field}"
        );
        assert!(!contains(value, &user), "plaintext user in {field}");
    }

    // Another key does not open the record.
    let other = RedisUserTokenStore::connect(&url, TokenKey::generate().unwrap())
        .await
        .unwrap();
    let err = other.get(&user).await.unwrap_err().to_string();
    assert!(err.contains("decrypt"), "{err}");

    // Another prefix does not see it.
    let elsewhere = a.clone().with_prefix(format!("atombot-test:{user}:"));
    assert!(elsewhere.get(&user).await.unwrap().is_none());

    removed_everywhere(&a, &b, &user).await;
    assert_eq!(
        redis::cmd("EXISTS")
            .arg(format!("atombot:user-token:{user}"))
            .query_async::<i64>(&mut conn)
            .await
            .unwrap(),
        0
    );
    assert!(!format!("{a:?}").contains("127.0.0.1"));
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_errors_hide_the_password() {
    use atombot::oauth::RedisUserTokenStore;

    let url = "redis://bot:hunter2-secret@127.0.0.1:1/";
    let err = RedisUserTokenStore::connect(url, key()).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("user-token store"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[cfg(not(feature = "redis"))]
#[test]
fn redis_store_is_shared_and_sealed() {
    println!("skipped: the `redis` feature is off");
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_store_is_shared_and_sealed() {
    use atombot::oauth::PostgresUserTokenStore;
    use sqlx::Row;

    let Some(url) = server_url(POSTGRES_ENV) else {
        return;
    };
    let user = unique_user("postgres");
    let a = PostgresUserTokenStore::connect(&url, key()).await.unwrap();
    let b = PostgresUserTokenStore::connect(&url, key()).await.unwrap();
    compare_and_set(&a, &b, &unique_user("postgres-cas")).await;
    replicas_share_tokens(&a, &b, &user).await;

    // What the server holds: sealed bytes only.
    let row = sqlx::query(
        "SELECT access_token, refresh_token, expires_at_ms FROM atombot_user_tokens \
         WHERE \"user\" = $1",
    )
    .bind(&user)
    .fetch_one(a.pool())
    .await
    .unwrap();
    let access: Vec<u8> = row.try_get("access_token").unwrap();
    let refresh: Option<Vec<u8>> = row.try_get("refresh_token").unwrap();
    let expires: i64 = row.try_get("expires_at_ms").unwrap();
    assert_eq!(expires, 1_900_000_000_003);
    let refresh = refresh.expect("a sealed refresh token");
    for value in [&access, &refresh] {
        assert!(!contains(value, "atu_"), "plaintext access token");
        assert!(!contains(value, "refresh_"), "plaintext refresh token");
    }

    // Another key does not open the row.
    let other = PostgresUserTokenStore::connect(&url, TokenKey::generate().unwrap())
        .await
        .unwrap();
    let err = other.get(&user).await.unwrap_err().to_string();
    assert!(err.contains("decrypt"), "{err}");

    removed_everywhere(&a, &b, &user).await;
    assert!(!format!("{a:?}").contains("atombot-test"));
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_errors_hide_the_password() {
    use atombot::oauth::PostgresUserTokenStore;

    let url = "postgres://bot:hunter2-secret@127.0.0.1:1/atombot";
    let err = PostgresUserTokenStore::connect(url, key())
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("user-token store"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_store_is_shared_and_sealed() {
    println!("skipped: the `postgres` feature is off");
}

/// Runs `OAuth::from_env` in a child process with `vars` (and nothing else of ours) set;
/// returns its `STORE …` or `ERROR …` line.
fn from_env_in_child(vars: &[(&str, &str)]) -> String {
    let key_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/testing/keys/dev-app-private-key.pem");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "child_from_env",
        "--exact",
        "--ignored",
        "--nocapture",
        "--quiet",
    ])
    .env_remove("ATOMBOT_OAUTH_STORE")
    .env_remove("ATOMBOT_QUEUE")
    .env("ATOMGIT_APP_ID", "75")
    .env("ATOMGIT_PRIVATE_KEY_PATH", key_path)
    .env("ATOMGIT_CLIENT_ID", "client-id")
    .env("ATOMGIT_CLIENT_SECRET", "client-secret")
    .env(
        "ATOMBOT_TOKEN_KEY",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    );
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find(|l| l.starts_with("STORE ") || l.starts_with("ERROR "))
        .unwrap_or_else(|| {
            panic!(
                "no result from the child: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_owned()
}

/// The child half of the `from_env` tests (run only by them).
#[tokio::test]
#[ignore = "run by from_env_picks_the_store_by_scheme in a child process"]
async fn child_from_env() {
    let result = async {
        let config = atombot::AppConfig::from_env()?;
        atombot::oauth::OAuth::from_env(&config).await
    }
    .await;
    match result {
        Ok(oauth) => println!("STORE {:?}", oauth.store()),
        Err(e) => println!("ERROR {e}"),
    }
}

#[test]
fn from_env_picks_the_store_by_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("tokens.db").display());
    let line = from_env_in_child(&[("ATOMBOT_OAUTH_STORE", &sqlite)]);
    assert!(line.starts_with("STORE SqliteUserTokenStore"), "{line}");

    let line = from_env_in_child(&[("ATOMBOT_OAUTH_STORE", "memory")]);
    assert!(
        line.starts_with("ERROR") && line.contains("ATOMBOT_OAUTH_STORE"),
        "{line}"
    );
    let line = from_env_in_child(&[("ATOMBOT_OAUTH_STORE", "mysql://h/db")]);
    assert!(
        line.starts_with("ERROR") && line.contains("ATOMBOT_OAUTH_STORE"),
        "{line}"
    );

    match server_url(REDIS_ENV) {
        #[cfg(feature = "redis")]
        Some(url) => {
            // The queue's Redis serves the tokens too when ATOMBOT_OAUTH_STORE is unset.
            let line = from_env_in_child(&[("ATOMBOT_QUEUE", &url)]);
            assert!(line.starts_with("STORE RedisUserTokenStore"), "{line}");
        }
        #[cfg(not(feature = "redis"))]
        Some(url) => {
            let line = from_env_in_child(&[("ATOMBOT_QUEUE", &url)]);
            assert!(
                line.contains("ATOMBOT_QUEUE") && line.contains("`redis`"),
                "{line}"
            );
        }
        None => {}
    }
    match server_url(POSTGRES_ENV) {
        #[cfg(feature = "postgres")]
        Some(url) => {
            let line = from_env_in_child(&[("ATOMBOT_OAUTH_STORE", &url)]);
            assert!(line.starts_with("STORE PostgresUserTokenStore"), "{line}");
            assert!(!line.contains("atombot-test"), "{line}");
        }
        #[cfg(not(feature = "postgres"))]
        Some(url) => {
            let line = from_env_in_child(&[("ATOMBOT_OAUTH_STORE", &url)]);
            assert!(
                line.contains("ATOMBOT_OAUTH_STORE") && line.contains("`postgres`"),
                "{line}"
            );
        }
        None => {}
    }
    // Without a server, a feature that is off is still reported by name.
    #[cfg(not(feature = "redis"))]
    {
        let line = from_env_in_child(&[("ATOMBOT_OAUTH_STORE", "redis://127.0.0.1:1/")]);
        assert!(
            line.contains("ATOMBOT_OAUTH_STORE") && line.contains("`redis`"),
            "{line}"
        );
    }
    #[cfg(not(feature = "postgres"))]
    {
        let line = from_env_in_child(&[("ATOMBOT_QUEUE", "postgres://h/db")]);
        assert!(
            line.contains("ATOMBOT_QUEUE") && line.contains("`postgres`"),
            "{line}"
        );
    }
}
