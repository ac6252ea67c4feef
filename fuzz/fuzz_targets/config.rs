//! The config loader: any set of `NAME=value` lines is either a valid configuration or an
//! error naming the setting, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let vars: std::collections::HashMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let lookup = |name: &str| vars.get(name).cloned();
    if let Err(e) = atombot::AppConfig::from_lookup(lookup) {
        let _ = e.to_string();
    }
    if let Err(e) = atombot::runtime::RuntimeSettings::from_lookup(lookup) {
        let _ = e.to_string();
    }
});
