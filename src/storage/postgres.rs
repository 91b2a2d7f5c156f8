//! The shared store: one PostgreSQL database served by any number of nodes.
//!
//! Nodes keep no state of their own: every read goes to the database, so a
//! write acknowledged by one node is seen at once by all. Writes run in
//! read-committed transactions that lock what they change (`SELECT ... FOR
//! UPDATE` on the audit, then the `change_seq` row of `counters`), so the
//! version and the change sequence advance exactly as in the SQLite store.
//!
//! Every operation, from waiting for a pooled connection to the last row,
//! has one deadline. A database that is down, restarting, or too slow turns
//! into [`StoreError::Unavailable`] within it; the pool drops dead
//! connections and opens fresh ones, so the store recovers by itself when
//! the database returns.
//!
//! Migrations are serialised across nodes by a row lock on `schema_lock`
//! rather than an advisory lock, which CockroachDB lacks.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};

use super::sql::{self, AuditRow, Dialect, ListQuery, SqlValue};
use super::{AuditStore, ImportOutcome, StoreError, StoreResult, check_version};
use crate::domain::{AuditInput, RemoteActionAudit, StoredAudit};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/postgres/0001_audits.sql")),
    (
        2,
        include_str!("migrations/postgres/0002_filter_indexes.sql"),
    ),
];

/// Rows per multi-row `INSERT` of an import: 22 parameters each, well
/// under PostgreSQL's limit of 65,535 parameters per statement.
const IMPORT_ROWS_PER_STATEMENT: usize = 1000;

/// How a node reaches its database.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// A `postgres://` or `postgresql://` URL.
    pub url: String,
    /// The most connections this node keeps open.
    pub pool_size: usize,
    /// The deadline of every operation, connecting included.
    pub timeout: Duration,
}

pub struct PostgresStore {
    pool: Pool,
    timeout: Duration,
    secret: tokio::sync::OnceCell<Vec<u8>>,
}

impl PostgresStore {
    /// Connects to the database and brings its schema up to date; several
    /// nodes may do this at once.
    pub async fn connect(options: &PostgresOptions) -> anyhow::Result<Self> {
        let store = Self {
            pool: build_pool(options)?,
            timeout: options.timeout,
            secret: tokio::sync::OnceCell::new(),
        };

        let client = tokio::time::timeout(options.timeout, store.pool.get())
            .await
            .context("PostgreSQL did not answer in time")?
            .context("cannot connect to PostgreSQL")?;
        migrate(client)
            .await
            .context("cannot migrate the PostgreSQL schema")?;
        Ok(store)
    }

    /// Runs `work` under the store's deadline.
    async fn run<T>(&self, work: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(format!(
                "the database did not answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }

    async fn client(&self) -> StoreResult<Object> {
        self.pool.get().await.map_err(|error| {
            tracing::warn!(error.message = %error, "no database connection");
            StoreError::Unavailable("no database connection could be made".into())
        })
    }
}

fn build_pool(options: &PostgresOptions) -> anyhow::Result<Pool> {
    let mut config: tokio_postgres::Config = options
        .url
        .parse()
        .context("the database URL is not a valid PostgreSQL URL")?;
    config.connect_timeout(options.timeout);
    config.keepalives_idle(Duration::from_secs(30));
    config.application_name("remote-action-audits");

    // The server gives up on a statement a little after the client has, so
    // that a slow query never outlives the request that asked for it.
    let statement_timeout = options.timeout.as_millis() + 1000;
    let session = config.get_options().unwrap_or_default().to_owned();
    config.options(format!(
        "{session} -c statement_timeout={statement_timeout}"
    ));

    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(options.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(options.timeout))
        .create_timeout(Some(options.timeout))
        .recycle_timeout(Some(options.timeout))
        .build()
        .context("cannot build the connection pool")
}

/// Applies the migrations not yet applied, one node at a time.
async fn migrate(mut client: Object) -> anyhow::Result<()> {
    bootstrap_migrations(&client).await?;

    let tx = client.transaction().await?;
    tx.query_one("SELECT id FROM schema_lock WHERE id = 1 FOR UPDATE", &[])
        .await?;
    let current: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    for (version, script) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(script)
            .await
            .with_context(|| format!("migration {version} failed"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Creates the migration bookkeeping. Two nodes creating the same table at
/// once may see a duplicate-object error; the loser tries again and finds
/// the table there.
async fn bootstrap_migrations(client: &Object) -> anyhow::Result<()> {
    const BOOTSTRAP: &str = "\
        CREATE TABLE IF NOT EXISTS schema_lock (id INTEGER NOT NULL PRIMARY KEY); \
        INSERT INTO schema_lock (id) VALUES (1) ON CONFLICT (id) DO NOTHING; \
        CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY);";

    let mut attempts = 0;
    loop {
        attempts += 1;
        match client.batch_execute(BOOTSTRAP).await {
            Ok(()) => return Ok(()),
            Err(error) if attempts < 5 && is_creation_race(&error) => {
                tokio::time::sleep(Duration::from_millis(50 * attempts)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

fn is_creation_race(error: &tokio_postgres::Error) -> bool {
    let races = [
        SqlState::UNIQUE_VIOLATION,
        SqlState::DUPLICATE_TABLE,
        SqlState::DUPLICATE_OBJECT,
        SqlState::T_R_SERIALIZATION_FAILURE,
    ];
    error.code().is_some_and(|code| races.contains(code))
}

/// Maps PostgreSQL's failures to what they mean for the client. Details
/// go to the log; the client hears only what it can act on.
fn store_error(error: tokio_postgres::Error) -> StoreError {
    let Some(code) = error.code() else {
        tracing::warn!(error.message = %error, "the database connection failed");
        return StoreError::Unavailable("the connection to the database failed".into());
    };

    let class = code.code().get(..2).unwrap_or_default();
    if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        StoreError::ReadOnly("the database is read-only".into())
    } else if *code == SqlState::DISK_FULL {
        StoreError::Full("the database's disk is full".into())
    } else if is_transient(code) || class == "08" || class == "57" {
        tracing::warn!(error.message = %error, "the database is unavailable");
        StoreError::Unavailable("the database is unavailable or busy".into())
    } else {
        StoreError::Other(anyhow::Error::new(error).context("PostgreSQL failed"))
    }
}

/// Failures that a retry a moment later may not meet again.
fn is_transient(code: &SqlState) -> bool {
    [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::LOCK_NOT_AVAILABLE,
        SqlState::TOO_MANY_CONNECTIONS,
        SqlState::INSUFFICIENT_RESOURCES,
        SqlState::OUT_OF_MEMORY,
    ]
    .contains(code)
}

/// Parameters reach PostgreSQL in the binary form of the column's type.
impl ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Integer(value) => match *ty {
                Type::INT2 => i16::try_from(*value)?.to_sql_checked(ty, out),
                Type::INT4 => i32::try_from(*value)?.to_sql_checked(ty, out),
                _ => value.to_sql_checked(ty, out),
            },
            SqlValue::Text(text) => text.as_str().to_sql_checked(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        i64::accepts(ty) || i32::accepts(ty) || i16::accepts(ty) || <&str>::accepts(ty)
    }

    to_sql_checked!();
}

fn params(values: &[SqlValue]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

fn read_row(row: &Row) -> StoreResult<StoredAudit> {
    let audit = AuditRow {
        id: row.try_get(0).map_err(store_error)?,
        device_display_name: row.try_get(1).map_err(store_error)?,
        user_name: row.try_get(2).map_err(store_error)?,
        initiated_by_upn: row.try_get(3).map_err(store_error)?,
        action: row.try_get(4).map_err(store_error)?,
        request_ticks: row.try_get(5).map_err(store_error)?,
        device_owner_upn: row.try_get(6).map_err(store_error)?,
        device_imei: row.try_get(7).map_err(store_error)?,
        action_state: row.try_get(8).map_err(store_error)?,
        managed_device_id: row.try_get(9).map_err(store_error)?,
        bulk_device_action_id: row.try_get(10).map_err(store_error)?,
        device_action_category: row.try_get(11).map_err(store_error)?,
        version: row.try_get(12).map_err(store_error)?,
    };
    audit.into_stored().map_err(StoreError::Other)
}

/// The audit `id`, locked until the transaction ends when `lock` is set.
async fn fetch(
    client: &impl GenericClient,
    id: &str,
    lock: bool,
) -> StoreResult<Option<StoredAudit>> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {} FROM audits WHERE id = $1{suffix}",
        sql::AUDIT_COLUMNS
    );
    let row = client.query_opt(&sql, &[&id]).await.map_err(store_error)?;
    row.as_ref().map(read_row).transpose()
}

/// Takes `count` values of the store-wide change sequence and returns the
/// first. The counter row stays locked until the transaction ends, so
/// values are handed out in commit order and without gaps.
async fn reserve_change_seqs(client: &impl GenericClient, count: usize) -> StoreResult<i64> {
    let count = count as i64;
    let row = client
        .query_one(
            "UPDATE counters SET value = value + $1 WHERE name = 'change_seq' RETURNING value",
            &[&count],
        )
        .await
        .map_err(store_error)?;
    let last: i64 = row.try_get(0).map_err(store_error)?;
    Ok(last - count + 1)
}

/// `INSERT INTO audits ... VALUES (...), (...) ON CONFLICT (id) DO NOTHING`
/// for `audits`, numbered from change sequence `first_seq`.
fn bulk_insert(audits: &[&RemoteActionAudit], first_seq: i64) -> (String, Vec<SqlValue>) {
    let width = sql::WRITE_COLUMNS.len() + 2;
    let mut values = Vec::with_capacity(audits.len() * width);
    let mut rows = Vec::with_capacity(audits.len());
    for (i, audit) in audits.iter().enumerate() {
        values.extend(sql::write_values(audit));
        values.push(SqlValue::Integer(1));
        values.push(SqlValue::Integer(first_seq + i as i64));
        let placeholders = (i * width + 1..=(i + 1) * width)
            .map(|n| Dialect::Postgres.placeholder(n))
            .collect::<Vec<_>>();
        rows.push(format!("({})", placeholders.join(", ")));
    }

    let sql = format!(
        "INSERT INTO audits ({}, version, change_seq) VALUES {} ON CONFLICT (id) DO NOTHING",
        sql::WRITE_COLUMNS.join(", "),
        rows.join(", ")
    );
    (sql, values)
}

/// Imports one chunk inside the caller's transaction.
async fn import_chunk(
    client: &impl GenericClient,
    chunk: &[RemoteActionAudit],
) -> StoreResult<ImportOutcome> {
    let ids: Vec<&str> = chunk.iter().map(|a| a.id.as_str()).collect();
    let present: std::collections::HashSet<String> = client
        .query("SELECT id FROM audits WHERE id = ANY($1)", &[&ids])
        .await
        .map_err(store_error)?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(store_error)?;

    let fresh: Vec<&RemoteActionAudit> =
        chunk.iter().filter(|a| !present.contains(&a.id)).collect();
    if fresh.is_empty() {
        return Ok(ImportOutcome {
            inserted: 0,
            already_present: chunk.len() as u64,
        });
    }

    // Another node may insert one of these ids meanwhile; `ON CONFLICT`
    // skips it, and it counts as already present.
    let first_seq = reserve_change_seqs(client, fresh.len()).await?;
    let (sql, values) = bulk_insert(&fresh, first_seq);
    let inserted = client
        .execute(&sql, &params(&values))
        .await
        .map_err(store_error)?;
    Ok(ImportOutcome {
        inserted,
        already_present: chunk.len() as u64 - inserted,
    })
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn insert(&self, audit: &RemoteActionAudit) -> StoreResult<StoredAudit> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(store_error)?;

            let mut values = sql::write_values(audit);
            values.push(SqlValue::Integer(1));
            values.push(SqlValue::Integer(reserve_change_seqs(&tx, 1).await?));
            let sql = format!(
                "{} ON CONFLICT (id) DO NOTHING",
                sql::insert_statement(Dialect::Postgres)
            );
            let statement = tx.prepare_cached(&sql).await.map_err(store_error)?;
            let inserted = tx
                .execute(&statement, &params(&values))
                .await
                .map_err(store_error)?;
            if inserted == 0 {
                return Err(StoreError::Conflict(audit.id.clone()));
            }

            tx.commit().await.map_err(store_error)?;
            Ok(StoredAudit {
                audit: audit.clone(),
                version: 1,
            })
        })
        .await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<StoredAudit>> {
        self.run(async {
            let client = self.client().await?;
            fetch(&client, id, false).await
        })
        .await
    }

    async fn update(
        &self,
        id: &str,
        changes: &AuditInput,
        expected_version: Option<i64>,
    ) -> StoreResult<StoredAudit> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(store_error)?;
            let mut stored = fetch(&tx, id, true)
                .await?
                .ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
            check_version(expected_version, stored.version)?;

            changes.apply_to(&mut stored.audit);
            stored.version += 1;
            let mut values = sql::write_values(&stored.audit);
            values.push(SqlValue::Integer(stored.version));
            values.push(SqlValue::Integer(reserve_change_seqs(&tx, 1).await?));
            values.push(SqlValue::Text(id.to_owned()));
            // The shared statement skips the first two parameters (the id
            // and its folded copy); PostgreSQL must still be told their type.
            let statement = tx
                .prepare_typed_cached(
                    &sql::update_statement(Dialect::Postgres),
                    &[Type::TEXT, Type::TEXT],
                )
                .await
                .map_err(store_error)?;
            tx.execute(&statement, &params(&values))
                .await
                .map_err(store_error)?;

            tx.commit().await.map_err(store_error)?;
            Ok(stored)
        })
        .await
    }

    async fn delete(&self, id: &str, expected_version: Option<i64>) -> StoreResult<()> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(store_error)?;
            let stored = fetch(&tx, id, true)
                .await?
                .ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
            check_version(expected_version, stored.version)?;

            reserve_change_seqs(&tx, 1).await?;
            tx.execute("DELETE FROM audits WHERE id = $1", &[&id])
                .await
                .map_err(store_error)?;
            tx.commit().await.map_err(store_error)
        })
        .await
    }

    /// List and count statements vary with the query, so they are not
    /// kept prepared: a client could otherwise fill each connection's
    /// statement cache.
    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<StoredAudit>> {
        let (sql, values) = sql::select_page(query, Dialect::Postgres);
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(&sql, &params(&values))
                .await
                .map_err(store_error)?;
            rows.iter().map(read_row).collect()
        })
        .await
    }

    async fn count(&self, query: &ListQuery) -> StoreResult<u64> {
        let (sql, values) = sql::select_count(query, Dialect::Postgres);
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_one(&sql, &params(&values))
                .await
                .map_err(store_error)?;
            let count: i64 = row.try_get(0).map_err(store_error)?;
            Ok(count as u64)
        })
        .await
    }

    async fn import(&self, audits: &[RemoteActionAudit]) -> StoreResult<ImportOutcome> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(store_error)?;
            let mut outcome = ImportOutcome::default();
            for chunk in audits.chunks(IMPORT_ROWS_PER_STATEMENT) {
                let done = import_chunk(&tx, chunk).await?;
                outcome.inserted += done.inserted;
                outcome.already_present += done.already_present;
            }
            tx.commit().await.map_err(store_error)?;
            Ok(outcome)
        })
        .await
    }

    async fn instance_secret(&self) -> StoreResult<Vec<u8>> {
        let secret = self
            .secret
            .get_or_try_init(|| self.run(self.load_secret()))
            .await?;
        Ok(secret.clone())
    }

    async fn ping(&self) -> StoreResult<()> {
        self.run(async {
            let client = self.client().await?;
            client.simple_query("SELECT 1").await.map_err(store_error)?;
            Ok(())
        })
        .await
    }
}

impl PostgresStore {
    /// Reads the shared secret, making it if no node has yet.
    async fn load_secret(&self) -> StoreResult<Vec<u8>> {
        let client = self.client().await?;
        let fresh: [u8; 32] = rand::random();
        client
            .execute(
                "INSERT INTO instance_secrets (name, value) VALUES ('skip_token', $1) \
                 ON CONFLICT (name) DO NOTHING",
                &[&&fresh[..]],
            )
            .await
            .map_err(store_error)?;
        let row = client
            .query_one(
                "SELECT value FROM instance_secrets WHERE name = 'skip_token'",
                &[],
            )
            .await
            .map_err(store_error)?;
        row.try_get(0).map_err(store_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BodyKind;

    fn audit(id: &str) -> RemoteActionAudit {
        let body = format!(r#"{{"id": "{id}", "action": "remoteLock"}}"#);
        let input = AuditInput::parse(body.as_bytes(), BodyKind::Create, false).unwrap();
        input.into_new_audit().unwrap()
    }

    #[test]
    fn a_bulk_insert_numbers_rows_and_change_sequences_in_order() {
        let (a, b) = (audit("a"), audit("b"));

        let (sql, values) = bulk_insert(&[&a, &b], 41);

        let width = sql::WRITE_COLUMNS.len() + 2;
        assert_eq!(values.len(), 2 * width);
        assert!(sql.contains(&format!("(${}, ", width + 1)), "{sql}");
        assert!(sql.ends_with(&format!("${}) ON CONFLICT (id) DO NOTHING", 2 * width)));
        assert_eq!(values[width - 1], SqlValue::Integer(41));
        assert_eq!(values[2 * width - 1], SqlValue::Integer(42));
        assert_eq!(values[width], SqlValue::Text("b".into()));
    }

    #[test]
    fn integers_fit_the_parameter_type_or_are_refused() {
        let mut out = BytesMut::new();

        let small = SqlValue::Integer(7).to_sql_checked(&Type::INT2, &mut out);
        let large = SqlValue::Integer(1 << 40).to_sql_checked(&Type::INT4, &mut out);
        let text = SqlValue::Integer(7).to_sql_checked(&Type::TEXT, &mut out);

        assert!(small.is_ok());
        assert!(large.is_err());
        assert!(text.is_err());
    }
}
