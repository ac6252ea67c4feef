//! `Retry-After` and `x-ratelimit-*` parsing: any value gives a bounded delay (never an
//! overflow or a panic), and a refused answer becomes a typed error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(delay) = atombot::fuzzing::retry_after(data) {
        assert!(delay <= std::time::Duration::from_secs(24 * 3600));
        let _ = std::time::Instant::now() + delay;
    }
    let headers: [(&str, &[u8]); 3] = [
        ("retry-after", data),
        ("x-ratelimit-remaining", b"0"),
        ("x-ratelimit-reset", data),
    ];
    for status in [403, 429, 500] {
        let _ = atombot::fuzzing::api_error(status, &headers, data);
    }
});
