//! Integration tests: the real app on an ephemeral port, a fresh database
//! per test.

mod crud;
mod helpers;
mod import;
mod protocol;
mod storage;
mod validation;
