//! The embedded store: one SQLite file in WAL mode.
//!
//! Connections come from a small pool; every call runs on the blocking
//! thread pool. Writes take the database's write lock up front
//! (`BEGIN IMMEDIATE`) so that a read-modify-write never deadlocks, and wait
//! up to the busy timeout for another writer. With `synchronous = NORMAL` in
//! WAL mode a committed write survives the process being killed; a power
//! cut may lose the last transactions (`RAA_SQLITE_SYNC_FULL` trades speed
//! for that too).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params_from_iter};

use super::sql::{self, AuditRow, Dialect, ListQuery, SqlValue};
use super::{AuditStore, ImportOutcome, StoreError, StoreResult, check_version};
use crate::domain::{AuditInput, RemoteActionAudit, StoredAudit};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/sqlite/0001_audits.sql")),
    (2, include_str!("migrations/sqlite/0002_filter_indexes.sql")),
];
const DATABASE_FILE: &str = "audits.sqlite3";
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page cache per connection. The indexes take random keys (ids, names),
/// so a cache that holds their upper levels saves most reads on writes.
const CACHE_KIB: u32 = 64 * 1024;

pub struct SqliteStore {
    pool: r2d2::Pool<SqliteConnectionManager>,
    path: PathBuf,
    /// The instance secret, read once: it never changes once made.
    secret: tokio::sync::OnceCell<Vec<u8>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and brings its
    /// schema up to date.
    pub fn open(data_dir: &Path, synchronous_full: bool) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let path = data_dir.join(DATABASE_FILE);
        check_opens(&path)?;

        let synchronous = if synchronous_full { "FULL" } else { "NORMAL" };
        let manager = SqliteConnectionManager::file(&path).with_init(move |conn| {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
                 PRAGMA foreign_keys = ON; PRAGMA cache_size = -{CACHE_KIB}; \
                 PRAGMA temp_store = MEMORY;"
            ))
        });
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .connection_timeout(BUSY_TIMEOUT)
            .build(manager)
            .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;

        let mut conn = pool.get().context("cannot open a SQLite connection")?;
        migrate(&mut conn).context("cannot migrate the SQLite schema")?;
        drop(conn);
        Ok(Self {
            pool,
            path,
            secret: tokio::sync::OnceCell::new(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    async fn with_conn<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            work(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Other(anyhow::anyhow!("a storage task failed: {e}")))?
    }
}

/// Opens the file once, directly, so that an unusable file or directory is
/// reported at once and clearly rather than through the pool's retries.
fn check_opens(path: &Path) -> anyhow::Result<()> {
    let conn = Connection::open(path)
        .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .with_context(|| {
            format!(
                "cannot use the SQLite database {}: is it a database, and are the file and \
                 its directory writable?",
                path.display()
            )
        })?;
    anyhow::ensure!(
        mode.eq_ignore_ascii_case("wal"),
        "SQLite refused WAL mode (got {mode})"
    );
    Ok(())
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    // A database already up to date is only read, so that a read-only
    // file still opens and serves reads.
    if applied_version(conn)? >= MIGRATIONS.len() as i64 {
        return Ok(());
    }

    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)",
    )?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    for (version, script) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.execute_batch(script)
            .with_context(|| format!("migration {version} failed"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES (?1)",
            [version],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The latest migration applied, 0 for a new database; reads only.
fn applied_version(conn: &Connection) -> rusqlite::Result<i64> {
    let bookkept: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'schema_migrations'",
        [],
        |r| r.get(0),
    )?;
    if !bookkept {
        return Ok(0);
    }
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
}

/// Maps SQLite's failures to what they mean for the client.
fn store_error(error: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, _) = &error {
        match failure.code {
            ErrorCode::ReadOnly => return StoreError::ReadOnly(error.to_string()),
            ErrorCode::DiskFull => return StoreError::Full(error.to_string()),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return StoreError::Unavailable(error.to_string());
            }
            _ => {}
        }
    }
    StoreError::Other(anyhow::Error::new(error).context("SQLite failed"))
}

fn to_sql(value: &SqlValue) -> rusqlite::types::Value {
    match value {
        SqlValue::Null => rusqlite::types::Value::Null,
        SqlValue::Integer(i) => rusqlite::types::Value::Integer(*i),
        SqlValue::Text(t) => rusqlite::types::Value::Text(t.clone()),
    }
}

fn params(values: &[SqlValue]) -> impl rusqlite::Params + '_ {
    params_from_iter(values.iter().map(to_sql))
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        id: row.get(0)?,
        device_display_name: row.get(1)?,
        user_name: row.get(2)?,
        initiated_by_upn: row.get(3)?,
        action: row.get(4)?,
        request_ticks: row.get(5)?,
        device_owner_upn: row.get(6)?,
        device_imei: row.get(7)?,
        action_state: row.get(8)?,
        managed_device_id: row.get(9)?,
        bulk_device_action_id: row.get(10)?,
        device_action_category: row.get(11)?,
        version: row.get(12)?,
    })
}

fn fetch(conn: &Connection, id: &str) -> StoreResult<Option<StoredAudit>> {
    let sql = format!("SELECT {} FROM audits WHERE id = ?1", sql::AUDIT_COLUMNS);
    let row = conn
        .query_row(&sql, [id], read_row)
        .optional()
        .map_err(store_error)?;
    row.map(|r| r.into_stored().map_err(StoreError::Other))
        .transpose()
}

fn next_change_seq(conn: &Connection) -> StoreResult<i64> {
    reserve_change_seqs(conn, 1)
}

/// Advances the change sequence by `count` and returns its new value.
fn reserve_change_seqs(conn: &Connection, count: i64) -> StoreResult<i64> {
    conn.query_row(
        "UPDATE counters SET value = value + ?1 WHERE name = 'change_seq' RETURNING value",
        [count],
        |r| r.get(0),
    )
    .map_err(store_error)
}

fn insert_row(conn: &Connection, audit: &RemoteActionAudit) -> StoreResult<()> {
    let change_seq = next_change_seq(conn)?;
    insert_row_at(conn, audit, change_seq)
}

fn insert_row_at(conn: &Connection, audit: &RemoteActionAudit, change_seq: i64) -> StoreResult<()> {
    let mut values = sql::write_values(audit);
    values.push(SqlValue::Integer(1));
    values.push(SqlValue::Integer(change_seq));
    let sql = sql::insert_statement(Dialect::Sqlite);
    conn.prepare_cached(&sql)
        .and_then(|mut s| s.execute(params(&values)))
        .map_err(store_error)?;
    Ok(())
}

fn exists(conn: &Connection, id: &str) -> StoreResult<bool> {
    conn.prepare_cached("SELECT 1 FROM audits WHERE id = ?1")
        .and_then(|mut s| s.exists([id]))
        .map_err(store_error)
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn insert(&self, audit: &RemoteActionAudit) -> StoreResult<StoredAudit> {
        let audit = audit.clone();
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(store_error)?;
            if exists(&tx, &audit.id)? {
                return Err(StoreError::Conflict(audit.id));
            }
            insert_row(&tx, &audit)?;
            tx.commit().map_err(store_error)?;
            Ok(StoredAudit { audit, version: 1 })
        })
        .await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<StoredAudit>> {
        let id = id.to_owned();
        self.with_conn(move |conn| fetch(conn, &id)).await
    }

    async fn update(
        &self,
        id: &str,
        changes: &AuditInput,
        expected_version: Option<i64>,
    ) -> StoreResult<StoredAudit> {
        let (id, changes) = (id.to_owned(), changes.clone());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(store_error)?;
            let mut stored = fetch(&tx, &id)?.ok_or_else(|| StoreError::NotFound(id.clone()))?;
            check_version(expected_version, stored.version)?;

            changes.apply_to(&mut stored.audit);
            stored.version += 1;
            let mut values = sql::write_values(&stored.audit);
            values.push(SqlValue::Integer(stored.version));
            values.push(SqlValue::Integer(next_change_seq(&tx)?));
            values.push(SqlValue::Text(id));
            let sql = sql::update_statement(Dialect::Sqlite);
            tx.execute(&sql, params(&values)).map_err(store_error)?;

            tx.commit().map_err(store_error)?;
            Ok(stored)
        })
        .await
    }

    async fn delete(&self, id: &str, expected_version: Option<i64>) -> StoreResult<()> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(store_error)?;
            let stored = fetch(&tx, &id)?.ok_or_else(|| StoreError::NotFound(id.clone()))?;
            check_version(expected_version, stored.version)?;

            next_change_seq(&tx)?;
            tx.execute("DELETE FROM audits WHERE id = ?1", [&id])
                .map_err(store_error)?;
            tx.commit().map_err(store_error)
        })
        .await
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<StoredAudit>> {
        let (sql, values) = sql::select_page(query, Dialect::Sqlite);
        self.with_conn(move |conn| {
            let mut statement = conn.prepare_cached(&sql).map_err(store_error)?;
            let rows = statement
                .query_map(params(&values), read_row)
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(store_error)?;
            rows.into_iter()
                .map(|r| r.into_stored().map_err(StoreError::Other))
                .collect()
        })
        .await
    }

    async fn count(&self, query: &ListQuery) -> StoreResult<u64> {
        let (sql, values) = sql::select_count(query, Dialect::Sqlite);
        self.with_conn(move |conn| {
            let count: i64 = conn
                .prepare_cached(&sql)
                .and_then(|mut s| s.query_row(params(&values), |r| r.get(0)))
                .map_err(store_error)?;
            Ok(count as u64)
        })
        .await
    }

    async fn import(&self, audits: &[RemoteActionAudit]) -> StoreResult<ImportOutcome> {
        let audits = audits.to_vec();
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(store_error)?;
            // One change sequence number per audit, reserved in one step;
            // those of audits already present are left unused.
            let last = reserve_change_seqs(&tx, audits.len() as i64)?;
            let first = last - audits.len() as i64 + 1;

            let mut outcome = ImportOutcome::default();
            for (change_seq, audit) in (first..).zip(&audits) {
                if exists(&tx, &audit.id)? {
                    outcome.already_present += 1;
                } else {
                    insert_row_at(&tx, audit, change_seq)?;
                    outcome.inserted += 1;
                }
            }
            tx.commit().map_err(store_error)?;
            Ok(outcome)
        })
        .await
    }

    async fn instance_secret(&self) -> StoreResult<Vec<u8>> {
        self.secret
            .get_or_try_init(|| self.read_or_make_secret())
            .await
            .cloned()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.with_conn(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(store_error)
        })
        .await
    }
}

impl SqliteStore {
    async fn read_or_make_secret(&self) -> StoreResult<Vec<u8>> {
        self.with_conn(|conn| {
            let select = "SELECT value FROM instance_secrets WHERE name = 'skip_token'";
            let stored = conn.query_row(select, [], |r| r.get(0)).optional();
            if let Some(secret) = stored.map_err(store_error)? {
                return Ok(secret);
            }

            let fresh: [u8; 32] = rand::random();
            conn.execute(
                "INSERT INTO instance_secrets (name, value) VALUES ('skip_token', ?1) \
                 ON CONFLICT (name) DO NOTHING",
                [&fresh[..]],
            )
            .map_err(store_error)?;
            conn.query_row(select, [], |r| r.get(0))
                .map_err(store_error)
        })
        .await
    }
}

#[cfg(test)]
mod query_plan_tests {
    //! The common list queries must be answered from indexes: no full scan
    //! of `audits` and no temporary b-tree for the ordering.

    use super::*;
    use crate::odata::query::{QueryOptions, Resource};

    fn plan(raw_query: &str) -> Vec<String> {
        let data = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(data.path(), false).unwrap();
        let options = QueryOptions::parse(Some(raw_query), Resource::Collection, false).unwrap();
        let query = ListQuery {
            filter: options.filter,
            search: options.search,
            after: None,
            limit: 100,
            ..ListQuery::default()
        }
        .with_order(options.order);

        let (sql, values) = sql::select_page(&query, Dialect::Sqlite);
        let conn = store.pool.get().unwrap();
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        statement
            .query_map(params(&values), |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Asserts that `raw_query` is answered without a full scan or a sort,
    /// through `index`.
    fn assert_indexed(raw_query: &str, index: &str) {
        let plan = plan(raw_query).join(" | ");
        assert!(
            plan.contains(&format!("INDEX {index} ")) || plan.ends_with(index),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{raw_query}: {plan}");
        assert!(
            !plan.contains("SCAN audits") || plan.contains("SCAN audits USING"),
            "{plan}"
        );
    }

    #[test]
    fn state_and_time_range_newest_first() {
        assert_indexed(
            "$filter=actionState%20eq%20'done'%20and%20requestDateTime%20ge%20\
             2026-01-01T00:00:00Z%20and%20requestDateTime%20lt%202026-02-01T00:00:00Z\
             &$orderby=requestDateTime%20desc",
            "audits_by_state_time",
        );
        assert_indexed("$orderby=requestDateTime%20desc", "audits_by_time");
    }

    #[test]
    fn equality_filters_in_id_order() {
        assert_indexed("$filter=action%20eq%20'remoteLock'", "audits_by_action_id");
        assert_indexed("$filter=actionState%20eq%20'failed'", "audits_by_state_id");
        assert_indexed("$filter=managedDeviceId%20eq%20'x'", "audits_by_device_id");
        assert_indexed(
            "$filter=initiatedByUserPrincipalName%20eq%20'x'",
            "audits_by_initiator_id",
        );
    }

    #[test]
    fn prefix_by_name_and_the_unfiltered_walk() {
        assert_indexed(
            "$filter=startswith(deviceDisplayName,'desk')&$orderby=deviceDisplayName",
            "audits_by_device_name",
        );
        assert_indexed("", "sqlite_autoindex_audits_1");
    }
}
