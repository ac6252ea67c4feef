//! `atombot relay` and `atombot forward` end to end on 127.0.0.1: 500 signed deliveries posted
//! to a relay reach a verifying receiver through a forwarder, in order, byte for byte, none
//! lost across a dropped stream (the forwarder resumes by itself) and a SIGKILLed forwarder
//! (restarted, it resumes from its state file).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atombot::testing::{DeliveryOptions, WebhookReceiver, WebhookSender};
use atombot::webhook::Authenticity;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const SECRET: &str = "relay-e2e-webhook-secret-77";
const TOKEN: &str = "relay-e2e-forwarder-token-0123456789";
const COUNT: usize = 500;

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Children killed when the test ends, passing or not.
#[derive(Default)]
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `atombot relay` on a free port; returns it and its base URL.
fn start_relay(log: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args([
            "relay",
            "--listen",
            "127.0.0.1:0",
            "--max-deliveries",
            "1000",
        ])
        .env("ATOMBOT_RELAY_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("atombot relay listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    // Keep reading so the relay never writes into a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

/// Starts `atombot forward`, appending its output to `out` and `err`.
fn start_forwarder(from: &str, to: &str, state: &Path, out: &Path, err: &Path) -> Child {
    let append = |path: &Path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap()
    };
    Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args(["forward", "--from", from, "--to", to, "--state"])
        .arg(state)
        .env("ATOMBOT_RELAY_TOKEN", TOKEN)
        .stdout(append(out))
        .stderr(append(err))
        .spawn()
        .unwrap()
}

/// A TCP proxy in front of the relay that can drop every open connection, as a network
/// or a reverse proxy would.
struct Proxy {
    addr: SocketAddr,
    open: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accepted: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accepted = Arc::new(AtomicUsize::new(0));
        let (conns, count) = (Arc::clone(&open), Arc::clone(&accepted));
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns.lock().unwrap().push(task);
            }
        });
        Self {
            addr,
            open,
            accepted,
        }
    }

    /// Drops every connection open now (both sockets close).
    fn cut(&self) {
        for task in self.open.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// Waits until `done` holds; two minutes without it fails the test with `what`.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Body `i`: JSON with CRLF, tabs, escapes and non-ASCII text, which must arrive unchanged.
fn body(i: usize) -> Vec<u8> {
    format!(
        "{{\"ref\": \"refs/heads/main\",\r\n\t\"n\": {i},  \"note\": \"é ü \\u00e9 \\\"q\\\" {}\",\n\
         \"repository\": {{\"full_name\": \"acme/app\"}}}}\n",
        "x".repeat(i % 37)
    )
    .into_bytes()
}

/// Delivery `i`'s event and options: AtomGit and GitCode headers in turn.
fn shape(i: usize) -> (&'static str, DeliveryOptions, &'static str) {
    let id = format!("d-{i:03}");
    if i.is_multiple_of(2) {
        let options = DeliveryOptions::new().delivery_id(id);
        ("push", options, "X-Hub-Signature-256")
    } else {
        let options = DeliveryOptions::gitcode().delivery_id(id);
        ("Push Hook", options, "X-GitCode-Signature-256")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_reach_the_bot_in_order_across_a_dropped_stream_and_a_killed_forwarder() {
    let receiver = WebhookReceiver::start(SECRET).await.unwrap();
    let mut children = Children::default();
    let (relay_log, out, err, state) = (
        tmp("relay-e2e-relay.log"),
        tmp("relay-e2e-forward.out"),
        tmp("relay-e2e-forward.err"),
        tmp("relay-e2e-forward.state"),
    );
    for file in [&out, &err, &state] {
        let _ = std::fs::remove_file(file);
    }
    let (relay, relay_url) = start_relay(&relay_log);
    children.0.push(relay);
    let relay_addr: SocketAddr = relay_url.strip_prefix("http://").unwrap().parse().unwrap();
    let proxy = Proxy::start(relay_addr).await;
    let from = format!("http://{}/deliveries/e2e", proxy.addr);
    let to = receiver.url();

    children
        .0
        .push(start_forwarder(&from, &to, &state, &out, &err));
    // The forwarder writes its position once the relay says where the stream starts.
    wait_until("the forwarder connects", || state.exists()).await;

    let sender = WebhookSender::new(format!("{relay_url}/deliveries/e2e"), SECRET);
    for i in 1..=COUNT {
        let (event, options, _) = shape(i);
        let answer = sender.send_with(event, body(i), &options).await.unwrap();
        assert_eq!(answer.status, 202, "delivery {i}: {}", answer.body);
        assert_eq!(answer.body.trim(), format!("kept as #{i} on e2e"));

        if i == 150 {
            // Deliveries are flowing through the stream: drop it under the forwarder.
            wait_until("100 deliveries arrive", || receiver.request_count() >= 100).await;
            proxy.cut();
        }
        if i == 350 {
            // Past the dropped stream: kill the forwarder outright and start it again.
            wait_until("250 deliveries arrive", || receiver.request_count() >= 250).await;
            let mut forwarder = children.0.pop().unwrap();
            forwarder.kill().unwrap();
            forwarder.wait().unwrap();
            children
                .0
                .push(start_forwarder(&from, &to, &state, &out, &err));
        }
    }
    wait_until("all deliveries arrive", || {
        let ids: std::collections::HashSet<String> = receiver
            .deliveries()
            .iter()
            .map(|d| d.id().to_owned())
            .collect();
        ids.len() >= COUNT
    })
    .await;
    // The position is saved after the line is printed: then the forwarder is done.
    wait_until("the forwarder saves its position", || {
        std::fs::read_to_string(&state).is_ok_and(|s| s.trim() == COUNT.to_string())
    })
    .await;
    drop(children);

    let (stdout, stderr) = (
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&err).unwrap(),
    );
    let relay_stderr = std::fs::read_to_string(&relay_log).unwrap();
    let logs = format!("forwarder stdout:\n{stdout}\nforwarder stderr:\n{stderr}");

    // Every delivery verified at the receiver with the secret: nothing refused.
    assert!(
        receiver.rejections().is_empty(),
        "{:?}\n{logs}",
        receiver.rejections()
    );

    // In relay order; the only repeat allowed is the delivery in flight at the kill.
    let deliveries = receiver.deliveries();
    let mut next = 1;
    let mut repeats = 0;
    for (k, delivery) in deliveries.iter().enumerate() {
        let i: usize = delivery.id()[2..].parse().unwrap();
        if i == next {
            next += 1;
        } else {
            assert!(
                k > 0 && deliveries[k - 1].id() == delivery.id(),
                "delivery {} arrived at position {k}, expected d-{next:03}\n{logs}",
                delivery.id()
            );
            repeats += 1;
        }
        let (event, _, signature_header) = shape(i);
        assert_eq!(delivery.original_event(), event);
        assert_eq!(
            delivery.body().as_ref(),
            body(i).as_slice(),
            "body of {}",
            delivery.id()
        );
        match delivery.authenticity() {
            Authenticity::Signature { header, .. } => {
                assert!(header.eq_ignore_ascii_case(signature_header), "{header}")
            }
            other => panic!("{} verified by {other:?}", delivery.id()),
        }
    }
    assert_eq!(next, COUNT + 1, "{logs}");
    assert!(repeats <= 1, "{repeats} repeats\n{logs}");

    // The stream really was dropped and resumed: three connections (start, after the cut,
    // after the restart), each announced by the forwarder.
    assert!(proxy.accepted.load(Ordering::SeqCst) >= 3, "{logs}");
    assert!(stderr.matches("connected to").count() >= 3, "{logs}");
    assert!(stderr.contains("relay stream lost"), "{logs}");
    assert!(
        stdout.contains(&format!(
            "forwarded #{COUNT} push (delivery d-{COUNT:03}) → 202"
        )),
        "{logs}"
    );

    // Neither the token nor the webhook secret is ever printed.
    for text in [&stdout, &stderr, &relay_stderr] {
        assert!(!text.contains(TOKEN) && !text.contains(SECRET));
    }
}

#[tokio::test]
async fn the_bot_answering_5xx_is_retried_4xx_is_not() {
    let receiver = WebhookReceiver::start(SECRET).await.unwrap();
    let mut children = Children::default();
    let (relay_log, out, err, state) = (
        tmp("relay-retry-relay.log"),
        tmp("relay-retry-forward.out"),
        tmp("relay-retry-forward.err"),
        tmp("relay-retry-forward.state"),
    );
    for file in [&out, &err, &state] {
        let _ = std::fs::remove_file(file);
    }
    let (relay, relay_url) = start_relay(&relay_log);
    children.0.push(relay);
    let channel = format!("{relay_url}/deliveries/retry");
    children.0.push(start_forwarder(
        &channel,
        &receiver.url(),
        &state,
        &out,
        &err,
    ));
    wait_until("the forwarder connects", || state.exists()).await;
    let sender = WebhookSender::new(&channel, SECRET);
    let send = |i: usize| {
        let (event, options, _) = shape(i);
        let sender = &sender;
        async move { sender.send_with(event, body(i), &options).await.unwrap() }
    };

    receiver.set_status(503);
    send(2).await;
    wait_until("a second attempt", || receiver.request_count() >= 2).await;
    receiver.set_status(422);
    send(4).await;
    send(6).await;
    wait_until("d-006 is refused", || {
        std::fs::read_to_string(&state).is_ok_and(|s| s.trim() == "3")
    })
    .await;
    drop(children);

    let ids: Vec<String> = receiver
        .deliveries()
        .iter()
        .map(|d| d.id().to_owned())
        .collect();
    let stdout = std::fs::read_to_string(&out).unwrap();
    // d-002 until the 422 answer, then d-004 and d-006 once each.
    let (retried, rest) = ids.split_at(ids.len() - 2);
    assert!(retried.len() >= 2, "{ids:?}");
    assert!(retried.iter().all(|id| id == "d-002"), "{ids:?}");
    assert_eq!(rest, ["d-004", "d-006"], "{ids:?}");
    assert!(
        stdout.contains("refused #1 push (delivery d-002) → 422"),
        "{stdout}"
    );
    assert!(
        stdout.contains("refused #3 push (delivery d-006) → 422"),
        "{stdout}"
    );
    let stderr = std::fs::read_to_string(&err).unwrap();
    assert!(stderr.contains("the bot answered 503"), "{stderr}");
}

#[tokio::test]
async fn a_wrong_token_or_a_short_one_is_a_clear_error_that_hides_it() {
    let (relay, relay_url) = start_relay(&tmp("relay-token-relay.log"));
    let _children = Children(vec![relay]);
    let forward = Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args(["forward", "--from", &format!("{relay_url}/deliveries/x")])
        .args(["--to", "http://127.0.0.1:9/"])
        .env("ATOMBOT_RELAY_TOKEN", "not-the-relay-token")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&forward.stderr);
    assert!(!forward.status.success());
    assert!(stderr.contains("refused the token (401"), "{stderr}");
    assert!(!stderr.contains("not-the-relay-token"), "{stderr}");

    let relay = Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args(["relay", "--listen", "127.0.0.1:0"])
        .env("ATOMBOT_RELAY_TOKEN", "tiny-secret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&relay.stderr);
    assert!(!relay.status.success());
    assert!(stderr.contains("at least 16 characters"), "{stderr}");
    assert!(!stderr.contains("tiny-secret"), "{stderr}");
}
