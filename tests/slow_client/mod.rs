//! A hand-written slow client for the server tests: raw TCP to 127.0.0.1, sending exactly
//! the bytes a test asks for, when it asks (headers never finished, bodies that stall).
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use atombot::runtime::RuntimeSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Runtime settings on a free loopback port with an in-memory queue, plus `extra` variables
/// (read through [`RuntimeSettings::from_lookup`], as a deployment would set them).
pub fn settings(extra: &[(&str, &str)]) -> RuntimeSettings {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut settings = RuntimeSettings::from_lookup(move |k| match k {
        "ATOMBOT_LISTEN" => Some("127.0.0.1:0".to_owned()),
        "ATOMBOT_QUEUE" => Some("memory".to_owned()),
        _ => extra
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone()),
    })
    .unwrap();
    settings.queue = settings.queue.poll_interval(Duration::from_millis(20));
    settings
}

/// The head of a `POST {path}` with `headers` and a `Content-Length` of `length`.
pub fn head(path: &str, headers: &[(&str, String)], length: usize) -> Vec<u8> {
    let mut head =
        format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// One raw connection.
pub struct Raw {
    stream: TcpStream,
}

impl Raw {
    /// Connects to `addr` (within 5 s).
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr))
            .await
            .expect("connect within 5 s")
            .expect("connect");
        Self { stream }
    }

    /// Sends `bytes`; a write error (the server closed) is ignored.
    pub async fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
        let _ = self.stream.flush().await;
    }

    /// Reads until the server closes the connection or `secs` pass; returns what was read
    /// and whether the connection was closed.
    pub async fn read_until_closed(&mut self, secs: u64) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut buf = [0u8; 4096];
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
                Err(_) => return (out, false),
                Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
                Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// Reads a response head within `secs`; returns its status, or `None` if none came (or
    /// the connection closed first).
    pub async fn read_status(&mut self, secs: u64) -> Option<u16> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut buf = [0u8; 4096];
        while !out.windows(4).any(|w| w == b"\r\n\r\n") {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
                _ => return None,
            }
        }
        let line = String::from_utf8_lossy(&out);
        line.split(' ').nth(1)?.parse().ok()
    }
}
