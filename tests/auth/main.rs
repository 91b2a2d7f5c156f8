//! Authentication, permissions, throttling and the server's limits, tested
//! end to end against a server on 127.0.0.1 with a fresh data directory.

mod helpers;
mod limits;
mod oidc;
mod permissions;
mod rejections;
mod throttling;
