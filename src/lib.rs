//! remote-action-audits: Intune's `remoteActionAudits` entity set, served
//! with Microsoft Graph's behaviour from an embedded SQLite file or a shared
//! PostgreSQL database.
//!
//! The crate is laid out by layer:
//! - [`domain`]: the entity, its enums and the rules for input;
//! - [`odata`]: query options and the `$filter` language;
//! - [`storage`]: the store interface and its SQLite and PostgreSQL stores;
//! - [`http`] and [`routes`]: Graph's HTTP conventions and the handlers;
//! - [`auth`]: bearer tokens, permissions and throttling;
//! - [`error`]: the one error type, mapped to Graph error bodies;
//! - [`startup`], [`cli`], [`import`], [`telemetry`]: running it all.

pub mod auth;
pub mod cli;
pub mod domain;
pub mod error;
pub mod http;
pub mod import;
pub mod odata;
pub mod routes;
pub mod startup;
pub mod storage;
pub mod telemetry;
