//! The event normaliser (GitHub-, GitLab-style and lowercase spellings → canonical names): any
//! event header and JSON body give a dialect and a normalisation, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let header = std::str::from_utf8(&data[..cut]).ok();
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data.get(cut + 1..).unwrap_or(&[]))
    else {
        return;
    };
    let _ = atombot::webhook::events::dialect(header, &body);
    let _ = atombot::webhook::events::normalize(header, &body);
    let _ = atombot::webhook::events::normalize(None, &body);
});
