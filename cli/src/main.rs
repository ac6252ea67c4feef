//! The `atombot` command.
fn main() {}
