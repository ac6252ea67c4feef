//! The simulator's OAuth side: codes, user tokens, refresh tokens and the knobs tests turn.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Simulator;
use super::state::{State, TokenKind, TokenOwner, TokenRecord};
use crate::oauth::ExpiryForm;

/// The OAuth client id of the simulator's app.
pub(crate) const SIM_CLIENT_ID: &str = "sim-client-id";
/// The OAuth client secret of the simulator's app.
pub(crate) const SIM_CLIENT_SECRET: &str = "sim-client-secret";

/// An issued authorization code.
#[derive(Debug, Clone)]
pub(crate) struct Code {
    pub(crate) user: String,
    pub(crate) expires_at: DateTime<Utc>,
}

/// An issued refresh token.
#[derive(Debug, Clone)]
pub(crate) struct Refresh {
    pub(crate) user: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) revoked: bool,
}

/// OAuth state of the simulator.
#[derive(Debug)]
pub(crate) struct OAuthSim {
    pub(crate) user: String,
    pub(crate) codes: HashMap<String, Code>,
    pub(crate) refresh_tokens: HashMap<String, Refresh>,
    pub(crate) code_lifetime: Duration,
    pub(crate) access_lifetime: Duration,
    pub(crate) refresh_lifetime: Duration,
    pub(crate) rotate_refresh: bool,
    pub(crate) expiry_form: ExpiryForm,
    pub(crate) exchanges: u64,
    pub(crate) refreshes: u64,
}

impl Default for OAuthSim {
    fn default() -> Self {
        Self {
            user: "octo-user".to_owned(),
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            code_lifetime: Duration::from_secs(600),
            access_lifetime: Duration::from_secs(8 * 3600),
            refresh_lifetime: Duration::from_secs(90 * 24 * 3600),
            rotate_refresh: false,
            expiry_form: ExpiryForm::EpochMillis,
            exchanges: 0,
            refreshes: 0,
        }
    }
}

pub(crate) fn random_hex(prefix: &str) -> String {
    format!(
        "{prefix}{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

pub(crate) fn after(lifetime: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(lifetime)
        .ok()
        .and_then(|d| Utc::now().checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Issues an `atu_` token for `user`; returns it and its expiry.
pub(crate) fn issue_user_token(state: &mut State, user: &str) -> (String, DateTime<Utc>) {
    let token = random_hex("atu_");
    let expires_at = after(state.oauth.access_lifetime);
    state.tokens.insert(
        token.clone(),
        TokenRecord {
            kind: TokenKind::User,
            owner: TokenOwner::User(user.to_owned()),
            expires_at,
            revoked: false,
        },
    );
    (token, expires_at)
}

/// Issues a refresh token for `user`.
pub(crate) fn issue_refresh_token(state: &mut State, user: &str) -> (String, DateTime<Utc>) {
    let token = random_hex("refresh_");
    let expires_at = after(state.oauth.refresh_lifetime);
    state.oauth.refresh_tokens.insert(
        token.clone(),
        Refresh {
            user: user.to_owned(),
            expires_at,
            revoked: false,
        },
    );
    (token, expires_at)
}

/// An expiry instant written the way the simulator is set to write it.
pub(crate) fn expiry_value(form: ExpiryForm, at: DateTime<Utc>) -> i64 {
    match form {
        ExpiryForm::EpochMillis => at.timestamp_millis(),
        ExpiryForm::EpochSeconds => at.timestamp(),
        ExpiryForm::RelativeSeconds => (at - Utc::now()).num_seconds().max(0),
    }
}

impl Simulator {
    /// The OAuth client id the simulator's app has (`sim-client-id`).
    pub fn oauth_client_id(&self) -> &'static str {
        SIM_CLIENT_ID
    }

    /// The OAuth client secret the simulator's app has (`sim-client-secret`).
    pub fn oauth_client_secret(&self) -> &'static str {
        SIM_CLIENT_SECRET
    }

    /// The user the authorize page signs in (default `octo-user`; a `login=` query
    /// parameter overrides it per request).
    pub fn set_oauth_user(&self, login: impl Into<String>) {
        self.shared.lock().oauth.user = login.into();
    }

    /// Lifetime of `atu_` tokens issued from now on (default 8 hours).
    pub fn set_user_token_lifetime(&self, lifetime: Duration) {
        self.shared.lock().oauth.access_lifetime = lifetime;
    }

    /// Lifetime of refresh tokens issued from now on (default 90 days).
    pub fn set_refresh_token_lifetime(&self, lifetime: Duration) {
        self.shared.lock().oauth.refresh_lifetime = lifetime;
    }

    /// Lifetime of authorization codes issued from now on (default 10 minutes).
    pub fn set_code_lifetime(&self, lifetime: Duration) {
        self.shared.lock().oauth.code_lifetime = lifetime;
    }

    /// Whether a refresh returns a new refresh token and retires the old one (default
    /// `false`: the same one comes back, as in the platform's sample).
    pub fn set_rotate_refresh_tokens(&self, rotate: bool) {
        self.shared.lock().oauth.rotate_refresh = rotate;
    }

    /// How `expires_in` and `refresh_token_expires_in` are written (default epoch ms).
    pub fn set_oauth_expiry_form(&self, form: ExpiryForm) {
        self.shared.lock().oauth.expiry_form = form;
    }

    /// Revokes every `atu_` and refresh token of `login`; returns how many were live.
    pub fn revoke_user_tokens(&self, login: &str) -> usize {
        let mut state = self.shared.lock();
        let owner = TokenOwner::User(login.to_owned());
        let mut revoked = 0;
        for record in state.tokens.values_mut() {
            if record.owner == owner && !record.revoked {
                record.revoked = true;
                revoked += 1;
            }
        }
        for record in state.oauth.refresh_tokens.values_mut() {
            if record.user == login && !record.revoked {
                record.revoked = true;
                revoked += 1;
            }
        }
        revoked
    }

    /// How many codes were exchanged successfully.
    pub fn oauth_exchange_count(&self) -> u64 {
        self.shared.lock().oauth.exchanges
    }

    /// How many refreshes succeeded.
    pub fn oauth_refresh_count(&self) -> u64 {
        self.shared.lock().oauth.refreshes
    }

    /// Issues an `atu_` token for `login` directly, without the flow.
    pub fn issue_user_token(&self, login: &str) -> String {
        issue_user_token(&mut self.shared.lock(), login).0
    }
}
