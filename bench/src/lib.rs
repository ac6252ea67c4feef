//! Shared pieces of the benchmark targets in `src/bin` (driven by `bench/run`): the
//! webhook secret, signature verification for the bare receivers, and start-up helpers.

use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use sha2::Sha256;

/// The webhook secret every target verifies with; `bench/run` signs with it too.
pub const SECRET: &str = "bench-secret";

/// The address to listen on: `BENCH_LISTEN`, else an ephemeral loopback port.
pub fn listen_addr() -> String {
    std::env::var("BENCH_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".to_owned())
}

/// Prints the line `bench/run` waits for: `listening on ADDR`.
pub fn announce(addr: std::net::SocketAddr) {
    println!("listening on {addr}");
}

/// Whether `X-Hub-Signature-256` is a valid HMAC-SHA256 of `body` under `secret`,
/// compared in constant time.
pub fn signature_ok(secret: &[u8], headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(hex_sig) = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
    else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Serves `app` on [`listen_addr`], announces the address and runs until SIGTERM or Ctrl-C.
pub async fn serve(app: axum::Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen_addr()).await?;
    announce(listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(terminated())
        .await
}

/// App settings for `sim`'s app with the bench's webhook secret.
pub fn app_config(sim: &atombot::testing::Simulator) -> atombot::Result<atombot::AppConfig> {
    atombot::AppConfig::builder()
        .app_id(sim.app_id())
        .private_key_pem(atombot::testing::Simulator::dev_private_key_pem())
        .api_url(sim.url())
        .webhook_secret(SECRET)
        .build()
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn terminated() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_atombot_signature_and_rejects_others() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let mut headers = HeaderMap::new();
        let sig = atombot::webhook::sign(SECRET.as_bytes(), body);
        headers.insert("x-hub-signature-256", sig.parse().unwrap());
        assert!(signature_ok(SECRET.as_bytes(), &headers, body));
        assert!(!signature_ok(b"other", &headers, body));
        assert!(!signature_ok(SECRET.as_bytes(), &HeaderMap::new(), body));
    }
}
