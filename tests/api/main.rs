//! Integration tests: the real app on an ephemeral port, a fresh database
//! per test.

mod auth;
mod concurrency;
mod crud;
mod helpers;
mod import;
mod odata;
mod protocol;
mod storage;
mod validation;
