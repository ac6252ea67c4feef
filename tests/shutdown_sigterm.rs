//! Runtime acceptance 6: SIGTERM while a handler runs — the handler finishes, then the
//! process exits 0. Runs the `slow-handler` example as a real process against the simulator.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use atombot::testing::Simulator;

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_running_handler_finish_then_exits_zero() {
    let sim = Simulator::start().await.unwrap();
    let port = common::free_port();
    let dir = common::temp_dir("sigterm");
    let queue = dir.join("queue.db");
    let mut child = Command::new(common::example("slow-handler"))
        .envs(sim.env())
        .env("ATOMGIT_WEBHOOK_SECRET", common::SECRET)
        .env("ATOMBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("ATOMBOT_QUEUE", format!("sqlite://{}", queue.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the slow-handler example is built by `cargo test`");
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the bot did not come up");

    let body = serde_json::to_vec(&serde_json::json!({"ref": "refs/heads/main",
        "repository": {"full_name": "atomgit-demo/hello-world"}}))
    .unwrap();
    let mut req = reqwest::Client::new()
        .post(format!("{base}/webhook"))
        .body(body.clone());
    for (k, v) in common::signed("push", "term-1", common::SECRET, &body) {
        req = req.header(k, v);
    }
    assert_eq!(req.send().await.unwrap().status().as_u16(), 202);
    // Logs share stdout with the example's own lines; wait for the handler to start.
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the handler starts");
        if line == "handler started term-1" {
            break;
        }
    }

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let rest: Vec<String> = lines.iter().collect();
    assert!(status.success(), "exit status {status:?}; output {rest:?}");
    assert!(
        rest.contains(&"handler finished term-1".to_owned()),
        "{rest:?}"
    );
    assert_eq!(rest.last().map(String::as_str), Some("exited cleanly"));
}
