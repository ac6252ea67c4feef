//! Run with: cargo run --example repo-lister
fn main() {}
