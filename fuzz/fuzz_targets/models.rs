//! Model decoding of API responses: any JSON decodes into each model or fails with an error,
//! never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fn decode<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let _ = serde_json::from_slice::<T>(data);
    let _ = serde_json::from_slice::<Vec<T>>(data);
}

fuzz_target!(|data: &[u8]| {
    use atombot::models::*;
    decode::<Repository>(data);
    decode::<Comment>(data);
    decode::<Issue>(data);
    decode::<PullRequest>(data);
    decode::<PullRequestFile>(data);
    decode::<Review>(data);
    decode::<Release>(data);
    decode::<Branch>(data);
    decode::<Membership>(data);
    decode::<CollaboratorPermission>(data);
    decode::<Label>(data);
    decode::<User>(data);
    decode::<Installation>(data);
    decode::<InstallationToken>(data);
    decode::<Content>(data);
    decode::<CheckRun>(data);
    decode::<CommitStatus>(data);
});
