//! A refresh whose caller is cancelled after the platform rotated the refresh token still
//! stores the new tokens, so the user is not signed out by a timeout.

mod oauth_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use atombot::oauth::{MemoryUserTokenStore, OAuthSettings, UserToken, UserTokenStore};
use futures_util::future::BoxFuture;
use oauth_common::*;
use secrecy::ExposeSecret;

/// An in-memory store whose writes take two seconds while `slow` is on (a busy database).
#[derive(Debug, Default)]
struct SlowWrites {
    inner: MemoryUserTokenStore,
    slow: AtomicBool,
}

impl SlowWrites {
    async fn pause(&self) {
        if self.slow.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

impl UserTokenStore for SlowWrites {
    fn get<'a>(&'a self, user: &'a str) -> BoxFuture<'a, atombot::Result<Option<UserToken>>> {
        self.inner.get(user)
    }

    fn put<'a>(&'a self, token: &'a UserToken) -> BoxFuture<'a, atombot::Result<()>> {
        Box::pin(async move {
            self.pause().await;
            self.inner.put(token).await
        })
    }

    fn remove<'a>(&'a self, user: &'a str) -> BoxFuture<'a, atombot::Result<bool>> {
        self.inner.remove(user)
    }

    fn replace<'a>(
        &'a self,
        expected: &'a UserToken,
        new: &'a UserToken,
    ) -> BoxFuture<'a, atombot::Result<bool>> {
        Box::pin(async move {
            self.pause().await;
            self.inner.replace(expected, new).await
        })
    }

    fn remove_if<'a>(&'a self, expected: &'a UserToken) -> BoxFuture<'a, atombot::Result<bool>> {
        self.inner.remove_if(expected)
    }
}

fn refresh_secret(token: &UserToken) -> String {
    token
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned()
}

#[tokio::test]
async fn a_cancelled_refresh_still_stores_the_rotated_token() {
    let store = Arc::new(SlowWrites::default());
    let setup = start_with(OAuthSettings::default(), store.clone()).await;
    let (status, page) = sign_in(&setup, &browser()).await;
    assert_eq!(status, 200, "{page}");
    setup.sim.set_rotate_refresh_tokens(true);
    let old = store.get(USER).await.unwrap().unwrap();
    let refreshes = setup.sim.oauth_refresh_count();

    // The caller gives up while the new tokens are being written.
    store.slow.store(true, Ordering::SeqCst);
    let cancelled =
        tokio::time::timeout(Duration::from_millis(500), setup.oauth.refresh(USER)).await;
    assert!(cancelled.is_err(), "the refresh should still be writing");
    assert_eq!(
        setup.sim.oauth_refresh_count(),
        refreshes + 1,
        "the platform rotated"
    );

    // The rotated refresh token lands in the store anyway.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = store.get(USER).await.unwrap().expect("still signed in");
        if refresh_secret(&now) != refresh_secret(&old) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rotated refresh token was never stored: the user must sign in again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store.slow.store(false, Ordering::SeqCst);
    // And it is the live one: the next refresh works and the user's calls go through.
    setup.oauth.refresh(USER).await.unwrap();
    assert_eq!(setup.sim.oauth_refresh_count(), refreshes + 2);
    assert_eq!(setup.oauth.user_repos(USER).await.unwrap().len(), 2);
}
