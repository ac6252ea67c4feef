//! `Link` header parsing (pagination): any value gives a next URL or none, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = atombot::fuzzing::link_next(data);
});
