//! Pending logins and sessions of a [`RedisUserTokenStore`]'s server, shared by every
//! replica: one key per pending login and per session, each with its own expiry, plus one
//! sorted set per user indexing their sessions (for the per-user cap and sign-out).

use chrono::{DateTime, TimeZone, Utc};
use futures_util::future::BoxFuture;

use super::redis::RedisUserTokenStore;
use crate::error::Result;
use crate::oauth::{LoginStore, OAuthError};

/// `GET` then `DEL`, atomically (works on servers older than `GETDEL`).
const TAKE: &str = "local v = redis.call('GET', KEYS[1]) \
    if v then redis.call('DEL', KEYS[1]) end return v";

/// KEYS: session, user index. ARGV: user, expires ms, ttl ms, now ms, max, session prefix,
/// member.
const START: &str = "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) \
    redis.call('ZADD', KEYS[2], ARGV[2], ARGV[7]) \
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4]) \
    local n = redis.call('ZCARD', KEYS[2]) local max = tonumber(ARGV[5]) \
    if n > max then \
      local old = redis.call('ZRANGE', KEYS[2], 0, n - max - 1) \
      for _, m in ipairs(old) do redis.call('DEL', ARGV[6] .. m) end \
      redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - max - 1) \
    end \
    redis.call('PEXPIRE', KEYS[2], ARGV[3]) return 1";

/// KEYS: session. ARGV: index prefix, member.
const END: &str = "local u = redis.call('GET', KEYS[1]) \
    if u then redis.call('DEL', KEYS[1]) redis.call('ZREM', ARGV[1] .. u, ARGV[2]) end \
    return u";

/// KEYS: user index. ARGV: session prefix.
const END_ALL: &str = "local all = redis.call('ZRANGE', KEYS[1], 0, -1) \
    for _, m in ipairs(all) do redis.call('DEL', ARGV[1] .. m) end \
    redis.call('DEL', KEYS[1]) return #all";

impl RedisUserTokenStore {
    fn state_key(&self, key: &str) -> String {
        format!("{}state:{key}", self.login_prefix)
    }

    fn session_prefix(&self) -> String {
        format!("{}session:", self.login_prefix)
    }

    fn index_prefix(&self) -> String {
        format!("{}sessions-of:", self.login_prefix)
    }

    async fn eval<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
        op: &'static str,
    ) -> Result<T> {
        let mut conn = self.conn.clone();
        Ok(cmd
            .query_async(&mut conn)
            .await
            .map_err(|e| OAuthError::store(op, e))?)
    }
}

fn ms_until(at: DateTime<Utc>) -> i64 {
    (at - Utc::now()).num_milliseconds().max(1)
}

impl LoginStore for RedisUserTokenStore {
    fn put_state<'a>(
        &'a self,
        key: &'a str,
        issued_at: DateTime<Utc>,
        forget_at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(self.state_key(key))
                .arg(issued_at.timestamp_millis())
                .arg("PX")
                .arg(ms_until(forget_at))
                .arg("NX");
            let set: Option<String> = self.eval(&cmd, "write a login state").await?;
            Ok(set.is_some())
        })
    }

    fn take_state<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<DateTime<Utc>>>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(TAKE).arg(1).arg(self.state_key(key));
            let issued: Option<i64> = self.eval(&cmd, "take a login state").await?;
            Ok(issued.and_then(|ms| Utc.timestamp_millis_opt(ms).single()))
        })
    }

    fn start_session<'a>(
        &'a self,
        key: &'a str,
        user: &'a str,
        expires_at: DateTime<Utc>,
        max_per_user: usize,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let session_prefix = self.session_prefix();
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(START)
                .arg(2)
                .arg(format!("{session_prefix}{key}"))
                .arg(format!("{}{user}", self.index_prefix()))
                .arg(user)
                .arg(expires_at.timestamp_millis())
                .arg(ms_until(expires_at))
                .arg(Utc::now().timestamp_millis())
                .arg(max_per_user.max(1))
                .arg(session_prefix)
                .arg(key);
            let _: i64 = self.eval(&cmd, "start a session").await?;
            Ok(())
        })
    }

    fn session_user<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("GET");
            cmd.arg(format!("{}{key}", self.session_prefix()));
            self.eval(&cmd, "read a session").await
        })
    }

    fn end_session<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(END)
                .arg(1)
                .arg(format!("{}{key}", self.session_prefix()))
                .arg(self.index_prefix())
                .arg(key);
            self.eval(&cmd, "end a session").await
        })
    }

    fn end_sessions_of<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(END_ALL)
                .arg(1)
                .arg(format!("{}{user}", self.index_prefix()))
                .arg(self.session_prefix());
            let _: i64 = self.eval(&cmd, "end sessions").await?;
            Ok(())
        })
    }
}
