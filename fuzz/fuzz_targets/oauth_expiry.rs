//! OAuth expiry forms (relative seconds, epoch seconds, epoch milliseconds, as numbers,
//! floats or strings): any JSON value gives an instant or none, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = atombot::fuzzing::oauth_expiry(&value);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = atombot::fuzzing::oauth_expiry(&serde_json::Value::String(text.to_owned()));
        if let Ok(n) = text.trim().parse::<i64>() {
            let _ = atombot::oauth::absolute_expiry(n, chrono_now());
        }
    }
});

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
