//! Test kit for bot authors: a local AtomGit simulator on `127.0.0.1`.
//!
//! Start a [`Simulator`], point an atombot client at [`Simulator::url`] with
//! [`Simulator::dev_private_key_pem`], and assert on what the simulator saw.

mod sim;

#[doc(inline)]
pub use sim::{
    AccountKind, Fault, RecordedRequest, Route, SimInstallation, Simulator, SimulatorBuilder,
    TokenKind,
};

#[cfg(test)]
mod tests;
