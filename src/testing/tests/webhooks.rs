//! Deliveries sent by `WebhookSender` and the simulator verify and parse on the receiving end.

use crate::testing::{
    DEFAULT_WEBHOOK_SECRET, DeliveryError, DeliveryOptions, HeaderDialect, Simulator,
    WebhookReceiver, WebhookSender, deliver, deliver_with, events,
};
use crate::webhook::{Authenticity, Dialect, Rejection};

#[tokio::test]
async fn atomgit_push_verifies_and_parses() {
    let receiver = WebhookReceiver::start("s3cret").await.unwrap();
    let payload = events::push("acme/app");
    let answer = deliver(&receiver.url(), "s3cret", payload.event(), &payload)
        .await
        .unwrap();
    assert_eq!(answer.status, 202);
    assert_eq!(answer.body, "accepted push");
    assert_eq!(answer.delivery_id.len(), 36);

    let [delivery] = receiver.deliveries().try_into().unwrap();
    assert_eq!(delivery.event(), "push");
    assert_eq!(delivery.id(), answer.delivery_id);
    assert_eq!(delivery.dialect(), Dialect::GitHub);
    assert_eq!(delivery.original_event(), "push");
    assert!(matches!(
        delivery.authenticity(),
        Authenticity::Signature { header, .. } if header == "X-Hub-Signature-256"
    ));
    assert_eq!(delivery.repository_full_name(), Some("acme/app"));
    assert_eq!(delivery.installation_id(), None);
}

#[tokio::test]
async fn gitcode_merge_request_capture_becomes_pull_request_opened() {
    let receiver = WebhookReceiver::start("s3cret").await.unwrap();
    let mr = events::gitlab_merge_request_open();
    let options = DeliveryOptions::gitcode().delivery_id("fixed-1");
    let answer = deliver_with(&receiver.url(), "s3cret", mr.event(), &mr, &options)
        .await
        .unwrap();
    assert_eq!(answer.body, "accepted pull_request.opened");
    assert_eq!(answer.delivery_id, "fixed-1");

    let [delivery] = receiver.deliveries().try_into().unwrap();
    assert_eq!(
        (delivery.event(), delivery.action()),
        ("pull_request", Some("opened"))
    );
    assert_eq!(delivery.original_event(), "Merge Request Hook");
    assert_eq!(delivery.dialect(), Dialect::GitLab);
    assert_eq!(delivery.id(), "fixed-1");
    assert!(matches!(
        delivery.authenticity(),
        Authenticity::Signature { header, .. } if header == "X-GitCode-Signature-256"
    ));
}

#[tokio::test]
async fn password_mode_needs_the_right_secret() {
    let receiver = WebhookReceiver::start("s3cret").await.unwrap();
    let note = events::gitlab_note_on_issue();
    let options = DeliveryOptions::gitcode().password_mode(true);
    let ok = deliver_with(&receiver.url(), "s3cret", note.event(), &note, &options)
        .await
        .unwrap();
    assert_eq!(ok.body, "accepted issue_comment.created");
    let [delivery] = receiver.deliveries().try_into().unwrap();
    assert!(matches!(
        delivery.authenticity(),
        Authenticity::Token { header, .. } if header == "X-GitCode-Token"
    ));

    let wrong = deliver_with(&receiver.url(), "nope", note.event(), &note, &options)
        .await
        .unwrap();
    assert_eq!(wrong.status, 401);
    assert!(!wrong.is_success());
    assert!(matches!(
        receiver.rejections().as_slice(),
        [Rejection::InvalidToken(_)]
    ));
}

#[tokio::test]
async fn wrong_signature_is_refused_and_status_is_reported() {
    let receiver = WebhookReceiver::start("s3cret").await.unwrap();
    let answer = deliver(&receiver.url(), "other", "push", events::push("a/b"))
        .await
        .unwrap();
    assert_eq!(answer.status, 401);
    assert!(matches!(
        receiver.rejections().as_slice(),
        [Rejection::InvalidSignature(_)]
    ));

    receiver.set_status(500);
    let sender = WebhookSender::new(receiver.url(), "s3cret");
    let answer = sender
        .send("issues", events::issue_opened("a/b", 1, "t"))
        .await
        .unwrap();
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (500, "accepted issues.opened")
    );
}

#[tokio::test]
async fn unreachable_receiver_is_a_transport_error() {
    let receiver = WebhookReceiver::start("s").await.unwrap();
    let url = receiver.url();
    drop(receiver);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let err = deliver(&url, "s", "push", "{}").await.unwrap_err();
    assert!(matches!(err, DeliveryError::Transport(_)), "{err}");
}

#[tokio::test]
async fn simulator_signs_sends_and_records() {
    let receiver = WebhookReceiver::start(DEFAULT_WEBHOOK_SECRET)
        .await
        .unwrap();
    let sim = Simulator::start().await.unwrap();
    assert_eq!(sim.webhook_secret(), DEFAULT_WEBHOOK_SECRET);
    assert!(
        sim.env()
            .contains(&("ATOMGIT_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET.to_owned()))
    );
    assert!(matches!(
        sim.deliver("push", events::push("a/b")).await,
        Err(DeliveryError::NoUrl)
    ));
    assert!(!format!("{sim:?}").contains(DEFAULT_WEBHOOK_SECRET));

    sim.set_webhook_url(receiver.url());
    let payload = events::installation_created(14, "atomgit-demo");
    let answer = sim.deliver(payload.event(), &payload).await.unwrap();
    assert_eq!(answer.body, "accepted installation.created");
    let mr = events::gitlab_merge_request_open();
    let options = DeliveryOptions::gitcode()
        .password_mode(true)
        .delivery_id("again");
    sim.deliver_with(mr.event(), &mr, &options).await.unwrap();
    sim.deliver_with(mr.event(), &mr, &options).await.unwrap();

    let sent = sim.deliveries();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].event, "installation");
    assert_eq!(sent[0].delivery_id, answer.delivery_id);
    assert_eq!(sent[0].status, Some(202));
    assert_eq!(sent[1].dialect, HeaderDialect::GitCode);
    assert_eq!(sent[2].delivery_id, "again");

    let received = receiver.deliveries();
    assert_eq!(
        received[0].installation_id(),
        Some(crate::models::InstallationId(14))
    );
    assert_eq!(received[1].id(), received[2].id());
}

#[tokio::test]
async fn builder_sets_secret_and_url() {
    let receiver = WebhookReceiver::start("custom").await.unwrap();
    let sim = Simulator::builder()
        .webhook_secret("custom")
        .webhook_url(receiver.url())
        .start()
        .await
        .unwrap();
    assert_eq!(sim.webhook_url(), Some(receiver.url()));
    let c = events::issue_comment_created("atomgit-demo/docs", 1, "hi").installation(14);
    let answer = sim.deliver(c.event(), &c).await.unwrap();
    assert_eq!(answer.body, "accepted issue_comment.created");
    assert_eq!(
        receiver.deliveries()[0].installation_id(),
        Some(crate::models::InstallationId(14))
    );
}
