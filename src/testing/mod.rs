//! Test kit for bot authors: a local AtomGit simulator on `127.0.0.1`.
#![allow(missing_docs)]
