//! Acceptance 3, 4 and 5: expiry forms, refresh ahead of expiry (single-flight, unchanged
//! and rotated refresh tokens, once on a 401), and revoked refresh tokens.

mod oauth_common;

use std::time::Duration;

use atombot::oauth::{ExpiryForm, OAuthError};
use chrono::Utc;
use oauth_common::*;
use secrecy::ExposeSecret;

async fn signed_in() -> Setup {
    let setup = start().await;
    let (status, page) = sign_in(&setup, &browser()).await;
    assert_eq!(status, 200, "{page}");
    setup
}

#[tokio::test]
async fn epoch_ms_epoch_s_and_relative_s_store_the_same_expiry() {
    let setup = start().await;
    let lifetime = chrono::Duration::hours(8);
    for form in [
        ExpiryForm::EpochMillis,
        ExpiryForm::EpochSeconds,
        ExpiryForm::RelativeSeconds,
    ] {
        setup.sim.set_oauth_expiry_form(form);
        let before = Utc::now();
        let (status, _) = sign_in(&setup, &browser()).await;
        let after = Utc::now();
        assert_eq!(status, 200);
        let stored = setup.oauth.store().get(USER).await.unwrap().unwrap();
        let slack = chrono::Duration::seconds(1);
        assert!(
            stored.expires_at >= before + lifetime - slack
                && stored.expires_at <= after + lifetime + slack,
            "{form:?}: {} not within [{}, {}] ± 1 s",
            stored.expires_at,
            before + lifetime,
            after + lifetime
        );
        let refresh = stored.refresh_expires_at.unwrap();
        let days = (refresh - before).num_days();
        assert!(
            (89..=90).contains(&days),
            "{form:?}: refresh expiry {refresh}"
        );
    }
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_once_for_50_concurrent_calls() {
    let setup = start().await;
    setup.sim.set_user_token_lifetime(Duration::from_secs(2));
    let (status, _) = sign_in(&setup, &browser()).await;
    assert_eq!(status, 200);
    // The page itself already refreshed once (2 s < the 5 min margin); start from a fresh
    // 2-second token.
    setup.oauth.refresh(USER).await.unwrap();
    let old = setup.oauth.store().get(USER).await.unwrap().unwrap();
    assert!(old.expires_at - Utc::now() <= chrono::Duration::seconds(2));
    setup.sim.set_user_token_lifetime(Duration::from_secs(3600));
    let refreshes = setup.sim.oauth_refresh_count();
    setup.sim.clear_requests();

    let calls = (0..50).map(|_| setup.oauth.user_repos(USER));
    let results = futures::future::join_all(calls).await;
    for result in results {
        assert_eq!(result.unwrap().len(), 2);
    }
    assert_eq!(
        setup.sim.oauth_refresh_count(),
        refreshes + 1,
        "one refresh"
    );
    let new = setup.oauth.store().get(USER).await.unwrap().unwrap();
    assert_ne!(
        new.access_token.expose_secret(),
        old.access_token.expose_secret()
    );
    // Every list call carried the new token, none the old one.
    let sent: Vec<String> = setup
        .sim
        .requests_to("/user/octo-user/repos")
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(sent.len(), 50);
    let bearer = format!("Bearer {}", new.access_token.expose_secret());
    assert!(sent.iter().all(|h| *h == bearer));
}

#[tokio::test]
async fn unchanged_and_rotated_refresh_tokens_both_keep_working() {
    let setup = signed_in().await;
    let first = setup.oauth.store().get(USER).await.unwrap().unwrap();
    let r1 = first.refresh_token.clone().unwrap();

    // Unchanged (the platform's sample): the same refresh token works again and again.
    setup.sim.set_rotate_refresh_tokens(false);
    for _ in 0..2 {
        let t = setup.oauth.refresh(USER).await.unwrap();
        assert_eq!(t.refresh_token.unwrap().expose_secret(), r1.expose_secret());
    }

    // Rotated: each refresh stores the new one, and the next refresh uses it.
    setup.sim.set_rotate_refresh_tokens(true);
    let t2 = setup.oauth.refresh(USER).await.unwrap();
    let r2 = t2.refresh_token.unwrap();
    assert_ne!(r2.expose_secret(), r1.expose_secret());
    let t3 = setup.oauth.refresh(USER).await.unwrap();
    let r3 = t3.refresh_token.unwrap();
    assert_ne!(r3.expose_secret(), r2.expose_secret());
    assert_eq!(setup.oauth.user_repos(USER).await.unwrap().len(), 2);
    assert_eq!(setup.sim.oauth_refresh_count(), 4);
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries() {
    let setup = signed_in().await;
    let before = setup.oauth.store().get(USER).await.unwrap().unwrap();
    assert!(setup.sim.revoke_token(before.access_token.expose_secret()));
    let refreshes = setup.sim.oauth_refresh_count();
    assert_eq!(setup.oauth.user_repos(USER).await.unwrap().len(), 2);
    assert_eq!(setup.sim.oauth_refresh_count(), refreshes + 1);
}

#[tokio::test]
async fn a_revoked_refresh_token_means_sign_in_again_and_forgets_the_user() {
    let setup = signed_in().await;
    assert!(setup.sim.revoke_user_tokens(USER) >= 2);
    let err = setup.oauth.user_repos(USER).await.unwrap_err();
    assert!(err.is_sign_in_again(), "{err}");
    assert!(matches!(
        err.find_source::<OAuthError>(),
        Some(OAuthError::SignInAgain { user, .. }) if user == USER
    ));
    assert!(setup.oauth.store().get(USER).await.unwrap().is_none());
    // And from then on, without asking the platform.
    let err = setup.oauth.user_client(USER).await.unwrap_err();
    assert!(err.is_sign_in_again());
}

#[tokio::test]
async fn an_expired_refresh_token_means_sign_in_again() {
    let setup = start().await;
    setup.sim.set_user_token_lifetime(Duration::from_secs(1));
    setup.sim.set_refresh_token_lifetime(Duration::from_secs(1));
    let _ = sign_in(&setup, &browser()).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let err = setup.oauth.access_token(USER).await.unwrap_err();
    assert!(err.is_sign_in_again(), "{err}");
    assert!(setup.oauth.store().get(USER).await.unwrap().is_none());
}
