//! Acceptance 6: no secret or token appears in `Debug` output or in the tracing output of a
//! run (captured at TRACE level, including failures and token refreshes).

use std::io::Write;
use std::sync::{Arc, Mutex};

use atombot::testing::{Fault, Route, Simulator};
use atombot::{App, AppConfig};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every bearer credential the simulator received (app JWTs and `ats_` tokens).
fn bearer_tokens(sim: &Simulator) -> Vec<String> {
    let mut tokens: Vec<String> = sim
        .requests()
        .iter()
        .filter_map(|r| {
            r.header("authorization")?
                .strip_prefix("Bearer ")
                .map(str::to_owned)
        })
        .collect();
    tokens.sort();
    tokens.dedup();
    tokens
}

fn key_fragments() -> Vec<String> {
    Simulator::dev_private_key_pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| l[..24.min(l.len())].to_owned())
        .collect()
}

#[tokio::test]
async fn a_run_logs_no_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = Simulator::start().await.unwrap();
    let config = AppConfig::builder()
        .app_id(sim.app_id())
        .private_key_pem(Simulator::dev_private_key_pem())
        .api_url(sim.url())
        .webhook_secret("whsec-do-not-log-me")
        .client_secret("client-secret-do-not-log-me")
        .build()
        .unwrap();
    let app = App::new(config.clone()).unwrap();
    let client = app.installation_client(14);
    app.installations().await.unwrap();
    client.repos().list_org("atomgit-demo").all().await.unwrap();
    sim.revoke_installation_tokens(14);
    client
        .issues("atomgit-demo", "hello-world")
        .create_comment(1, "hello")
        .await
        .unwrap();
    sim.fail_next(
        Route::get("/repos/atomgit-demo/hello-world"),
        1,
        Fault::Status(503),
    );
    client
        .repos()
        .get("atomgit-demo", "hello-world")
        .await
        .unwrap();
    let token = app.create_installation_token(14).await.unwrap();
    let err = app
        .installation_client(99)
        .repos()
        .get("atomgit-demo", "x")
        .await
        .unwrap_err();

    let debug = format!("{config:?} {app:?} {client:?} {token:?} {err:?} {err}");
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("atomgit.request"),
        "the run was traced: {logs}"
    );

    let tokens = bearer_tokens(&sim);
    assert!(tokens.iter().any(|t| t.starts_with("ats_")) && tokens.len() >= 3);
    for (name, text) in [("debug output", &debug), ("logs", &logs)] {
        for t in &tokens {
            assert!(
                !text.contains(t.as_str()),
                "a bearer token appears in the {name}"
            );
        }
        assert!(
            !text.contains(secrecy::ExposeSecret::expose_secret(&token.token)),
            "{name}"
        );
        for fragment in key_fragments() {
            assert!(
                !text.contains(&fragment),
                "the private key appears in the {name}"
            );
        }
        assert!(
            !text.contains("do-not-log-me"),
            "a secret appears in the {name}"
        );
    }
}
