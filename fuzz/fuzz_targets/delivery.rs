//! Delivery parsing: any headers and body either parse into a delivery whose accessors all
//! work, or are rejected with a status — never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let (headers, body) = split_headers(data);
    for settings in [
        atombot::webhook::WebhookSettings::default().with_secret("fuzz-secret"),
        atombot::webhook::WebhookSettings::default().with_allow_unsigned(true),
    ] {
        match atombot::webhook::parse_delivery(&headers, bytes::Bytes::copy_from_slice(body), &settings) {
            Ok(delivery) => {
                let _ = (delivery.id(), delivery.event(), delivery.action());
                let _ = (delivery.repository_full_name(), delivery.owner_path());
                let _ = delivery.installation_id();
                let _ = delivery.typed_payload();
                let _ = delivery.normalized_json();
            }
            Err(rejection) => {
                let _ = rejection.to_string();
            }
        }
    }
});
