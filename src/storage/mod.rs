//! Where audits are kept: one interface, two stores.
//!
//! [`AuditStore`] is what the HTTP layer and the import command see. The
//! embedded store ([`sqlite::SqliteStore`]) keeps one SQLite file in WAL mode;
//! the shared one ([`postgres::PostgresStore`]) lets many stateless nodes
//! serve one database. Both build their queries with [`sql`], so `$filter`,
//! `$orderby` and paging mean the same on each.
//!
//! Every row carries a `version` (the entity tag, bumped by each update) and
//! a `change_seq` taken from one store-wide sequence on every write, which
//! orders all changes for change tracking.

pub mod postgres;
pub mod sql;
pub mod sqlite;

use async_trait::async_trait;

use crate::domain::{AuditInput, RemoteActionAudit, StoredAudit};
use sql::ListQuery;

/// Failures of a store, in terms the HTTP layer maps to statuses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no audit has id '{0}'")]
    NotFound(String),
    #[error("an audit with id '{0}' already exists")]
    Conflict(String),
    #[error("the audit is at version {current}, not {expected}")]
    VersionMismatch { expected: i64, current: i64 },
    /// The database cannot be reached or is overloaded; worth retrying.
    #[error("{0}")]
    Unavailable(String),
    /// The database refuses writes (a read-only file, a read-only replica).
    #[error("{0}")]
    ReadOnly(String),
    /// The disk or the database is full.
    #[error("{0}")]
    Full(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What an import batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Audits written.
    pub inserted: u64,
    /// Audits skipped because their id was already stored.
    pub already_present: u64,
}

/// The operations on the `remoteActionAudits` entity set.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Stores a new audit; [`StoreError::Conflict`] if its id is taken.
    async fn insert(&self, audit: &RemoteActionAudit) -> StoreResult<StoredAudit>;

    async fn get(&self, id: &str) -> StoreResult<Option<StoredAudit>>;

    /// Applies `changes` to the audit atomically. When `expected_version`
    /// is given, the update happens only if it is still the current one.
    async fn update(
        &self,
        id: &str,
        changes: &AuditInput,
        expected_version: Option<i64>,
    ) -> StoreResult<StoredAudit>;

    /// Deletes the audit, under the same optional version check.
    async fn delete(&self, id: &str, expected_version: Option<i64>) -> StoreResult<()>;

    /// One page of audits, as `query` describes it.
    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<StoredAudit>>;

    /// How many audits match the query's filter and search.
    async fn count(&self, query: &ListQuery) -> StoreResult<u64>;

    /// Inserts a batch in one transaction, skipping ids already stored.
    async fn import(&self, audits: &[RemoteActionAudit]) -> StoreResult<ImportOutcome>;

    /// A secret shared by every node on this database, made on first use.
    /// It signs skip tokens, so a nextLink made by one node works on all.
    async fn instance_secret(&self) -> StoreResult<Vec<u8>>;

    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
}

/// Refuses a conditional write whose expected version is not the current one.
fn check_version(expected: Option<i64>, current: i64) -> StoreResult<()> {
    match expected {
        Some(expected) if expected != current => {
            Err(StoreError::VersionMismatch { expected, current })
        }
        _ => Ok(()),
    }
}
