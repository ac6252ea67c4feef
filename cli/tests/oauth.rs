#![cfg(feature = "sim")]
//! `atombot oauth login --sim`: the terminal flow against a simulator, driven over raw HTTP
//! as a browser would, printing the user and expiry but never the token by default.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `GET url` over HTTP/1.1; returns the status line and the `Location` header.
fn get(url: &str) -> (String, Option<String>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or("").to_owned();
    let location = answer
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .map(str::to_owned);
    (status, location)
}

fn login(extra: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args([
            "oauth",
            "login",
            "--sim",
            "--port",
            "0",
            "--timeout-secs",
            "60",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = String::new();
    let url = loop {
        let line = lines.next().expect("the CLI printed a URL").unwrap();
        out.push_str(&line);
        out.push('\n');
        if let Some(url) = line.trim().strip_prefix("http://") {
            break format!("http://{url}");
        }
    };
    let (status, callback) = get(&url);
    assert!(status.contains(" 30"), "{status}");
    let (status, _) = get(&callback.unwrap());
    assert!(status.contains("200"), "{status}");
    for line in lines {
        out.push_str(&line.unwrap());
        out.push('\n');
    }
    let done = child.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    out
}

#[test]
fn oauth_login_prints_the_user_and_expiry_not_the_token() {
    let out = login(&[]);
    assert!(out.contains("/login/oauth/authorize?client_id="), "{out}");
    assert!(out.contains("user: octo-user"), "{out}");
    assert!(out.contains("expires: "), "{out}");
    assert!(!out.contains("atu_"), "{out}");
}

#[test]
fn oauth_login_show_token_prints_it() {
    let out = login(&["--show-token"]);
    assert!(out.contains("token: atu_"), "{out}");
}
