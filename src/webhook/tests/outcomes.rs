//! One test per outcome and authenticity mode.

use http::StatusCode;

use super::*;

// ---- outcomes, one per status ----

#[test]
fn accepted() {
    let d = parse(Some("issues"), r#"{"action":"opened"}"#).unwrap();
    assert_eq!((d.event(), d.action()), ("issues", Some("opened")));
    assert_eq!(d.dialect(), Dialect::GitHub);
    assert!(matches!(
        d.authenticity(),
        Authenticity::Signature {
            secret_index: 1,
            ..
        }
    ));
}

#[test]
fn too_large_is_413_and_checked_first() {
    let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(100));
    let h = headers(&[("X-Hub-Signature-256", "sha256=00")]);
    let s = settings().with_max_body_bytes(64);
    let r = parse_delivery(&h, body.clone().into(), &s).unwrap_err();
    assert!(matches!(r, Rejection::PayloadTooLarge(_)));
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_clean(&r, &body);
}

#[test]
fn missing_signature_is_400_and_names_the_header() {
    let r = parse_delivery(
        &headers(&[("X-AtomGit-Event", "push")]),
        "{}".into(),
        &settings(),
    )
    .unwrap_err();
    assert!(matches!(r, Rejection::MissingSignature(_)));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.body_text().contains("X-Hub-Signature-256"));
    assert!(r.body_text().contains("X-GitCode-Token"));
}

#[test]
fn bad_signature_is_401_before_json_is_looked_at() {
    let body = "not json at all";
    let h = headers(&[("X-Hub-Signature-256", &sign(b"wrong", body.as_bytes()))]);
    let r = parse_delivery(&h, body.into(), &settings()).unwrap_err();
    assert!(matches!(r, Rejection::InvalidSignature(_)));
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_clean(&r, body);
}

#[test]
fn invalid_json_is_400() {
    let body = r#"{"action": "opened", "secret": "#;
    let r = parse(Some("issues"), body).unwrap_err();
    assert!(matches!(r, Rejection::InvalidJson(_)));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!r.body_text().contains("secret"));
}

#[test]
fn non_object_is_400() {
    for (body, found) in [("[1,2]", "array"), ("\"push\"", "string"), ("null", "null")] {
        let r = parse(Some("push"), body).unwrap_err();
        assert_eq!(r, Rejection::NotAnObject(NotAnObject { found }));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}

#[test]
fn missing_event_is_400() {
    let r = parse(None, r#"{"action":"opened"}"#).unwrap_err();
    assert!(matches!(r, Rejection::MissingEvent(_)));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.body_text().contains("X-AtomGit-Event"));
    // An empty header counts as absent.
    let r = parse(Some(""), "{}").unwrap_err();
    assert!(matches!(r, Rejection::MissingEvent(_)));
}

// ---- authenticity modes ----

#[test]
fn signature_prefix_is_optional() {
    let body = r#"{"zen":"hi"}"#;
    let full = sign(SECRET.as_bytes(), body.as_bytes());
    for sig in [full.as_str(), &full["sha256=".len()..]] {
        let h = headers(&[("X-GitCode-Signature-256", sig), ("X-GitHub-Event", "ping")]);
        let d = parse_delivery(&h, body.into(), &settings()).unwrap();
        assert_eq!(d.event(), "ping");
    }
}

#[test]
fn rotation_first_and_second_secret() {
    let body = r#"{"zen":"hi"}"#;
    for (secret, index) in [("retired-secret", 0), (SECRET, 1)] {
        let sig = sign(secret.as_bytes(), body.as_bytes());
        let h = headers(&[("X-Hub-Signature-256", &sig), ("X-AtomGit-Event", "ping")]);
        let d = parse_delivery(&h, body.into(), &settings()).unwrap();
        assert!(
            matches!(d.authenticity(), Authenticity::Signature { secret_index, .. } if *secret_index == index)
        );
    }
}

#[test]
fn password_mode() {
    let ok = headers(&[
        ("X-GitCode-Token", SECRET),
        ("X-GitCode-Event", "Push Hook"),
    ]);
    let d = parse_delivery(&ok, PUSH.into(), &settings()).unwrap();
    assert!(matches!(d.authenticity(), Authenticity::Token { .. }));

    let bad = headers(&[
        ("X-GitCode-Token", "guess"),
        ("X-GitCode-Event", "Push Hook"),
    ]);
    let r = parse_delivery(&bad, PUSH.into(), &settings()).unwrap_err();
    assert!(matches!(r, Rejection::InvalidToken(_)));
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_clean(&r, PUSH);
}

#[test]
fn unsigned_when_allowed() {
    let s = settings().with_allow_unsigned(true);
    let d = parse_delivery(&headers(&[("X-AtomGit-Event", "push")]), "{}".into(), &s).unwrap();
    assert_eq!(d.authenticity(), &Authenticity::Unsigned);
}

// ---- delivery ids ----

#[test]
fn delivery_id_sources() {
    let body = r#"{"uuid":"from-body"}"#;
    let sig = sign(SECRET.as_bytes(), body.as_bytes());
    let h = headers(&[
        ("X-Hub-Signature-256", &sig),
        ("X-AtomGit-Event", "ping"),
        ("X-GitHub-Delivery", "from-header"),
    ]);
    assert_eq!(
        parse_delivery(&h, body.into(), &settings()).unwrap().id(),
        "from-header"
    );
    assert_eq!(parse(Some("ping"), body).unwrap().id(), "from-body");
    let d = parse(Some("ping"), "{}").unwrap();
    assert_eq!(
        d.id(),
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}
