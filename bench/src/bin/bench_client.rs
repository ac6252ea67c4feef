//! `bench-client`: the small client side of `bench/run`'s extra measurements.
//!
//! ```text
//! bench-client burst URL N [INSTALLATION]   N signed push deliveries at once
//! bench-client startup CMD [ARG…]           spawn CMD, time it to the first 2xx
//! ```
//!
//! Both send the push payload at `BENCH_PAYLOAD` (default `bench/payloads/push.json`),
//! signed with the bench secret, with a unique delivery id (`X-AtomGit-Delivery` and
//! `X-GitHub-Delivery`) and event `push` (`X-AtomGit-Event`, `X-GitHub-Event`).
//!
//! `burst` adds `"installation": {"id": INSTALLATION}` to the payload when given, opens
//! one request per delivery, all at once, and prints `sent N ok K` (K: the 2xx answers).
//!
//! `startup` spawns CMD (it inherits the environment and must print `listening on ADDR`
//! on stdout, as the bench targets do), then POSTs a delivery to `http://ADDR/webhook`
//! every 2 ms until one is answered 2xx, and prints
//! `startup_ms=T announce_ms=A`: milliseconds from the spawn to that 2xx, and to the
//! `listening on` line. Then it stops CMD with SIGTERM. Gives up after 60 s.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use atombot_bench::SECRET;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("burst") if args.len() >= 3 => {
            let n: usize = args[2].parse().context("N")?;
            let installation = args.get(3).map(|s| s.parse::<u64>()).transpose()?;
            burst(&args[1], n, installation).await
        }
        Some("startup") if args.len() >= 2 => startup(&args[1..]).await,
        _ => bail!(
            "usage: bench-client burst URL N [INSTALLATION] | bench-client startup CMD [ARG…]"
        ),
    }
}

/// The push payload, with `installation` set when given.
fn payload(installation: Option<u64>) -> anyhow::Result<Vec<u8>> {
    let path =
        std::env::var("BENCH_PAYLOAD").unwrap_or_else(|_| "bench/payloads/push.json".to_owned());
    let raw = std::fs::read(&path).with_context(|| format!("reading {path}"))?;
    let Some(id) = installation else {
        return Ok(raw);
    };
    let mut json: serde_json::Value = serde_json::from_slice(&raw)?;
    json["installation"] = serde_json::json!({ "id": id });
    Ok(serde_json::to_vec(&json)?)
}

/// One signed push delivery with id `id` to `url`.
fn delivery(
    client: &reqwest::Client,
    url: &str,
    body: &bytes::Bytes,
    signature: &str,
    id: &str,
) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header("content-type", "application/json")
        .header("x-atomgit-event", "push")
        .header("x-github-event", "push")
        .header("x-atomgit-delivery", id)
        .header("x-github-delivery", id)
        .header("x-hub-signature-256", signature)
        .body(body.clone())
}

/// A prefix for delivery ids unique to this process.
fn id_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("bench-client-{}-{nanos}", std::process::id())
}

/// `burst URL N [INSTALLATION]`.
async fn burst(url: &str, n: usize, installation: Option<u64>) -> anyhow::Result<()> {
    let body = bytes::Bytes::from(payload(installation)?);
    let signature = atombot::webhook::sign(SECRET.as_bytes(), &body);
    // No idle connection is reused: each delivery gets its own, so all N are in flight.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()?;
    let prefix = id_prefix();
    let requests = (0..n).map(|i| {
        let req = delivery(&client, url, &body, &signature, &format!("{prefix}-{i}"));
        async move { req.send().await.map(|r| r.status().is_success()) }
    });
    let results = futures::future::join_all(requests).await;
    let ok = results.iter().filter(|r| matches!(r, Ok(true))).count();
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        eprintln!("bench-client: a request failed: {e}");
    }
    println!("sent {n} ok {ok}");
    Ok(())
}

/// `startup CMD [ARG…]`.
async fn startup(cmd: &[String]) -> anyhow::Result<()> {
    let body = bytes::Bytes::from(payload(None)?);
    let signature = atombot::webhook::sign(SECRET.as_bytes(), &body);
    let t0 = Instant::now();
    let mut child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawning {}", cmd[0]))?;
    let stdout = child.stdout.take().context("child stdout")?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    // Reads the announce line, then keeps draining stdout so the child never blocks on it.
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("listening on ")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(addr.trim().to_owned());
            }
        }
    });
    let result = async {
        let addr = tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .context("no `listening on` line within 60 s")?
            .context("the process exited before announcing its address")?;
        let announced = t0.elapsed();
        let url = format!("http://{addr}/webhook");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let prefix = id_prefix();
        for i in 0.. {
            if t0.elapsed() > Duration::from_secs(60) {
                bail!("no 2xx within 60 s");
            }
            let req = delivery(&client, &url, &body, &signature, &format!("{prefix}-{i}"));
            if let Ok(resp) = req.send().await
                && resp.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let first = t0.elapsed();
        println!(
            "startup_ms={:.1} announce_ms={:.1}",
            first.as_secs_f64() * 1e3,
            announced.as_secs_f64() * 1e3
        );
        Ok(())
    }
    .await;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    result
}
