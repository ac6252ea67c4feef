//! Runtime acceptance 7: whatever arrives at the webhook route — arbitrary headers, bodies
//! truncated or oversized, valid signatures over garbage — the receiver never panics and
//! answers one of its documented statuses.

mod common;

use axum::body::Body;
use proptest::prelude::*;
use tower::ServiceExt;

const DOCUMENTED: [u16; 6] = [200, 202, 400, 401, 413, 503];
const HEADER_NAMES: [&str; 10] = [
    "x-atomgit-event",
    "x-gitcode-event",
    "x-github-event",
    "x-atomgit-delivery",
    "x-gitcode-delivery",
    "x-hub-signature-256",
    "x-gitcode-signature-256",
    "x-gitcode-token",
    "content-type",
    "x-other",
];
const PUSH: &[u8] = include_bytes!("fixtures/payloads/gogitcode-push.json");
const MR_EVENT_NAME: &[u8] = include_bytes!("fixtures/payloads/synthetic-mr-event-name.json");
const PROJECT_ONLY: &[u8] = include_bytes!("fixtures/payloads/synthetic-push-project-only.json");

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("push".to_owned()),
        Just("Merge Request Hook".to_owned()),
        Just("merge_request".to_owned()),
        Just("tag_push".to_owned()),
        Just("note".to_owned()),
        Just("issue".to_owned()),
        Just(common::SECRET.to_owned()),
        "sha256=[0-9a-f]{0,64}",
        "[ -~]{0,40}",
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        (0..PUSH.len()).prop_map(|cut| PUSH[..cut].to_vec()),
        Just(PUSH.to_vec()),
        Just(vec![b'{'; 5000]),
        Just(b"[1,2,3]".to_vec()),
        Just(br#"{"object_kind":"push"}"#.to_vec()),
        Just(MR_EVENT_NAME.to_vec()),
        (0..MR_EVENT_NAME.len()).prop_map(|cut| MR_EVENT_NAME[..cut].to_vec()),
        Just(PROJECT_ONLY.to_vec()),
        Just(br#"{"event_name":"merge_request_merge","object_attributes":{"iid":"x"}}"#.to_vec()),
    ]
}

/// One bot (in-memory queue) for every case, on a runtime that keeps its worker running.
fn receiver() -> &'static (tokio::runtime::Runtime, axum::Router) {
    static RECEIVER: std::sync::OnceLock<(tokio::runtime::Runtime, axum::Router)> =
        std::sync::OnceLock::new();
    RECEIVER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let router = rt.block_on(async {
            let config = atombot::AppConfig::builder()
                .app_id(75)
                .private_key_pem(atombot::testing::Simulator::dev_private_key_pem())
                .api_url("http://127.0.0.1:9/")
                .webhook_secret(common::SECRET)
                .build()
                .unwrap();
            let mut settings = common::settings();
            settings.max_body_bytes = 4096;
            atombot::Bot::new(config)
                .settings(settings)
                .on("push", |_ctx: atombot::Context| async {
                    Ok::<_, atombot::Error>(())
                })
                .into_router()
                .await
                .unwrap()
        });
        (rt, router)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn the_receiver_always_answers_a_documented_status(
        headers in proptest::collection::vec((0..HEADER_NAMES.len(), header_value()), 0..6),
        body in body(),
        sign in any::<bool>(),
    ) {
        let (rt, router) = receiver();
        let status = rt.block_on(async {
            let mut request = http::Request::post("/webhook");
            for (i, value) in &headers {
                if let Ok(v) = http::HeaderValue::from_str(value) {
                    request = request.header(HEADER_NAMES[*i], v);
                }
            }
            if sign {
                request = request.header("x-hub-signature-256", atombot::webhook::sign(common::SECRET.as_bytes(), &body));
            }
            let response = router.clone().oneshot(request.body(Body::from(body.clone())).unwrap()).await.unwrap();
            response.status().as_u16()
        });
        prop_assert!(DOCUMENTED.contains(&status), "status {}", status);
    }
}
