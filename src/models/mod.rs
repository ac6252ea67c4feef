//! placeholder

pub mod webhook;
