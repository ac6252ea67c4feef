//! Signature decoding and checking: any signature or token header values against two secrets
//! (rotation) give an answer, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let (headers, body) = split_headers(data);
    let settings = atombot::webhook::WebhookSettings::default()
        .with_secret("new-secret")
        .with_secret("old-secret");
    let _ = atombot::webhook::verify(&headers, body, &settings);
    // A correct signature over the same body always verifies.
    let mut signed = http::HeaderMap::new();
    let signature = atombot::webhook::sign(b"old-secret", body);
    signed.insert(
        "x-hub-signature-256",
        http::HeaderValue::from_str(&signature).unwrap(),
    );
    assert!(atombot::webhook::verify(&signed, body, &settings).is_ok());
});
