//! How fast a bot acknowledges webhook deliveries.
//!
//! Run with: cargo run --release -p atombot-bench --bin ack-latency [-- DELIVERIES CONCURRENCY]
//!
//! Sends signed deliveries over loopback (default 2,000 with 32 in flight) to
//! 1. a bare axum receiver that only verifies the signature and parses the JSON (the
//!    floor any receiver pays), and
//! 2. an atombot bot with its default durable queue (a SQLite file), whose handler takes
//!    5 s — the answer must not wait for it,
//!
//! and prints latency percentiles and throughput for each, then checks the targets: the
//! bot's p99 acknowledgement under 100 ms, and its throughput at least 0.7× the bare
//! receiver's. Exits non-zero when a target is missed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use atombot::runtime::RuntimeSettings;
use atombot::testing::Simulator;
use atombot::webhook::{WebhookSettings, parse_delivery, sign};
use atombot::{Bot, Context};
use atombot_bench::SECRET;
use axum::extract::State;
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
const P99_TARGET: Duration = Duration::from_millis(100);
const THROUGHPUT_RATIO_TARGET: f64 = 0.7;

struct Report {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Report {
    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, name: &str) {
        println!(
            "{name:<28} {:>8.0} deliveries/s   p50 {:>7.2?}   p90 {:>7.2?}   p99 {:>7.2?}   max {:>7.2?}",
            self.throughput(),
            self.percentile(0.5),
            self.percentile(0.9),
            self.percentile(0.99),
            self.latencies.last().copied().unwrap_or_default(),
        );
    }
}

async fn blast(url: String, deliveries: usize, concurrency: usize) -> anyhow::Result<Report> {
    let client = reqwest::Client::new();
    let body = Bytes::from(serde_json::to_vec(&serde_json::json!({
        "ref": "refs/heads/main",
        "repository": {"full_name": "atomgit-demo/hello-world", "owner": {"login": "atomgit-demo"}},
        "installation": {"id": 14},
        "commits": [{"id": "0123456789abcdef", "message": "bench"}],
    }))?);
    let signature = sign(SECRET.as_bytes(), &body);
    let start = Instant::now();
    let lanes = (0..concurrency).map(|lane| {
        let (client, url, body, signature) =
            (client.clone(), url.clone(), body.clone(), signature.clone());
        async move {
            let mut latencies = Vec::new();
            for i in (lane..deliveries).step_by(concurrency) {
                let sent = Instant::now();
                let resp = client
                    .post(&url)
                    .header("x-atomgit-event", "push")
                    .header("x-atomgit-delivery", format!("bench-{i}"))
                    .header("x-hub-signature-256", &signature)
                    .body(body.clone())
                    .send()
                    .await?;
                anyhow::ensure!(
                    resp.status().is_success(),
                    "delivery {i}: {}",
                    resp.status()
                );
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }
    });
    let mut latencies = Vec::with_capacity(deliveries);
    for lane in futures::future::join_all(lanes).await {
        latencies.extend(lane?);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Ok(Report { latencies, elapsed })
}

async fn bare_receiver(
    State(settings): State<Arc<WebhookSettings>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match parse_delivery(&headers, body, &settings) {
        Ok(_) => StatusCode::ACCEPTED,
        Err(rejection) => rejection.status(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let deliveries: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let concurrency: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(32);
    println!("{deliveries} signed deliveries, {concurrency} in flight, over loopback\n");

    let settings = Arc::new(WebhookSettings::default().with_secret(SECRET));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_url = format!("http://{}/webhook", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/webhook", post(bare_receiver))
        .with_state(settings);
    tokio::spawn(async move { axum::serve(listener, app).await });
    blast(bare_url.clone(), deliveries.min(200), concurrency).await?; // warm-up
    let bare = blast(bare_url, deliveries, concurrency).await?;
    bare.print("bare verify+parse receiver");

    let dir = std::env::temp_dir().join(format!("atombot-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let queue = format!("sqlite://{}", dir.join("queue.db").display());
    let sim = Simulator::start().await?;
    let mut runtime = RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some("127.0.0.1:0".into()),
        "ATOMBOT_QUEUE" => Some(queue.clone()),
        _ => None,
    })?;
    runtime.shutdown_timeout = Duration::from_secs(1);
    let config = atombot_bench::app_config(&sim)?;
    let bot = Bot::new(config)
        .settings(runtime)
        .on("push", |_ctx: Context| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, atombot::Error>(())
        })
        .start()
        .await?;
    let bot_url = bot.url("/webhook");
    let durable = blast(bot_url, deliveries, concurrency).await?;
    durable.print("atombot (SQLite queue)");
    bot.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);

    let ratio = durable.throughput() / bare.throughput();
    let p99 = durable.percentile(0.99);
    println!(
        "\nthroughput ratio {ratio:.2} (target ≥ {THROUGHPUT_RATIO_TARGET}), p99 {p99:.2?} (target < {P99_TARGET:?})"
    );
    let mut missed = Vec::new();
    if p99 >= P99_TARGET {
        missed.push("p99 acknowledgement latency");
    }
    if ratio < THROUGHPUT_RATIO_TARGET {
        missed.push("throughput ratio");
    }
    anyhow::ensure!(missed.is_empty(), "targets missed: {}", missed.join(", "));
    println!("targets met");
    Ok(())
}
