//! `atombot oauth login`: the OAuth flow for the terminal. Prints the authorize URL, waits
//! for the browser's callback on 127.0.0.1, exchanges the code and prints the user and the
//! token's expiry (the token itself only with `--show-token`).

use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use secrecy::ExposeSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use atombot::AppConfig;
use atombot::oauth::{MemoryUserTokenStore, OAuth, random_state};
#[cfg(feature = "sim")]
use atombot::testing::Simulator;

/// `atombot oauth …`.
#[derive(Debug, Args)]
pub(crate) struct OAuthArgs {
    #[command(subcommand)]
    command: OAuthCommand,
}

#[derive(Debug, Subcommand)]
enum OAuthCommand {
    /// Sign a user in: open the printed URL, approve, and get the user and token expiry.
    Login(LoginArgs),
}

#[derive(Debug, Args)]
struct LoginArgs {
    /// Port on 127.0.0.1 for the callback (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// The callback URL registered with the app (default `http://127.0.0.1:<port>/oauth/callback`).
    #[arg(long, value_name = "URL")]
    redirect_uri: Option<String>,
    /// Also print the access and refresh tokens.
    #[arg(long)]
    show_token: bool,
    /// Sign in against a local simulator instead of $ATOMGIT_*.
    #[cfg(feature = "sim")]
    #[arg(long)]
    sim: bool,
    /// Give up after this many seconds without a callback.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

pub(crate) async fn run(args: OAuthArgs) -> anyhow::Result<()> {
    match args.command {
        OAuthCommand::Login(args) => login(args).await,
    }
}

async fn login(args: LoginArgs) -> anyhow::Result<()> {
    // Kept alive until the login is done: the simulator stops when dropped.
    #[cfg(feature = "sim")]
    let sim = if args.sim {
        Some(Simulator::start().await.context("starting the simulator")?)
    } else {
        None
    };
    #[cfg(feature = "sim")]
    let config = match &sim {
        Some(sim) => sim.app_config(),
        None => AppConfig::from_env()?,
    };
    #[cfg(not(feature = "sim"))]
    let config = AppConfig::from_env()?;
    let oauth = OAuth::builder(&config)
        .store(MemoryUserTokenStore::new())
        .build()?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let port = listener.local_addr()?.port();
    let redirect = args
        .redirect_uri
        .unwrap_or_else(|| format!("http://127.0.0.1:{port}/oauth/callback"));
    let state = random_state()?;
    println!("Open this URL in a browser to sign in:");
    println!("  {}", oauth.authorize_url(&state, &redirect));

    let timeout = Duration::from_secs(args.timeout_secs);
    let query = tokio::time::timeout(timeout, wait_for_callback(&listener))
        .await
        .context("no callback arrived in time")??;
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if param("state") != Some(state.as_str()) {
        bail!("the callback's state does not match this login; not exchanging the code");
    }
    if let Some(error) = param("error") {
        bail!("the platform answered {error}");
    }
    let code = param("code").context("the callback carries no code")?;
    let token = oauth.sign_in(code).await?;
    println!("user: {}", token.user);
    println!("expires: {}", token.expires_at.to_rfc3339());
    if let Some(at) = token.refresh_expires_at {
        println!("refresh expires: {}", at.to_rfc3339());
    }
    if args.show_token {
        println!("token: {}", token.access_token.expose_secret());
        if let Some(r) = &token.refresh_token {
            println!("refresh token: {}", r.expose_secret());
        }
    }
    Ok(())
}

/// Accepts connections until one asks for `/oauth/callback`; answers it and returns its query.
async fn wait_for_callback(listener: &TcpListener) -> anyhow::Result<Vec<(String, String)>> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        while len < buf.len() {
            let n = stream.read(&mut buf[len..]).await?;
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let head = String::from_utf8_lossy(&buf[..len]);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let (status, body) = if path.ends_with("/oauth/callback") {
            (
                "200 OK",
                "Signed in. You can close this tab and return to the terminal.",
            )
        } else {
            ("404 Not Found", "Not the OAuth callback.")
        };
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
        if status.starts_with("200") {
            return Ok(parse_query(query));
        }
    }
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding; bad escapes are kept as they are.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = parse_query("code=abc&state=x%2By&error_description=a+b&bad=%zz&end=%4");
        assert_eq!(q[0], ("code".into(), "abc".into()));
        assert_eq!(q[1], ("state".into(), "x+y".into()));
        assert_eq!(q[2].1, "a b");
        assert_eq!(q[3].1, "%zz");
        assert_eq!(q[4].1, "%4");
    }
}
