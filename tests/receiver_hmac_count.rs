//! Hardening: a request carrying many wrong signature headers costs one HMAC per secret,
//! not one per header value and secret. Counted with the HMAC test hook, over real HTTP.
//! (One test in this file: the counter is per process.)

mod common;

use atombot::testing::Simulator;

#[tokio::test(flavor = "multi_thread")]
async fn many_wrong_signature_headers_cost_one_hmac_per_secret() {
    let sim = Simulator::start().await.unwrap();
    let bot = common::bot(&sim)
        .on("push", |_ctx: atombot::Context| async {
            Ok::<_, atombot::Error>(())
        })
        .start()
        .await
        .unwrap();
    let body = vec![b' '; 1024 * 1024];
    let wrong = atombot::webhook::sign(b"not-the-secret", &body);
    let mut request = reqwest::Client::new()
        .post(bot.url("/webhook"))
        .header("x-atomgit-event", "push")
        .header("x-atomgit-delivery", "many-sigs");
    for _ in 0..90 {
        request = request.header("x-hub-signature-256", wrong.clone());
    }
    let before = atombot::webhook::hmac_computations();
    let response = request.body(body).send().await.unwrap();
    let computed = atombot::webhook::hmac_computations() - before;
    assert_eq!(response.status().as_u16(), 401);
    // One secret is configured: one HMAC of the body, compared against every value.
    assert_eq!(computed, 1, "HMAC computations for one request");
    bot.shutdown().await;
}
