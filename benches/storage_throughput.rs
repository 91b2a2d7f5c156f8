//! Storage benchmark: import rate, then GET-by-id and PATCH throughput
//! through one and two service nodes sharing one database.
//!
//! ```text
//! cargo bench --bench storage_throughput -- FILE [DATABASE_URL]
//! ```
//!
//! Without arguments (as `cargo test --all-targets` runs it) it only prints
//! its usage. FILE is a JSON Lines file of audits (see `BENCHMARKS.md` for how to
//! make one). Without a database URL the store is SQLite in a temporary
//! directory; with one, PostgreSQL in a fresh schema, dropped afterwards.
//! Nodes run in this process, each with its own store and connection
//! pool, on loopback ports; 16 clients spread their requests over them.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use remote_action_audits::storage::AuditStore;
use remote_action_audits::storage::postgres::{PostgresOptions, PostgresStore};
use remote_action_audits::storage::sqlite::SqliteStore;

const CLIENTS: usize = 16;
const RUN: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    // `cargo test --all-targets` runs benchmarks without arguments: there
    // is nothing to measure then.
    let Some(file) = args.first().map(PathBuf::from) else {
        println!("usage: storage_throughput FILE [DATABASE_URL]");
        return Ok(());
    };
    let database = Database::new(args.get(1).cloned()).await?;

    let store = database.open().await?;
    let started = Instant::now();
    let summary = remote_action_audits::import::import_file(store.as_ref(), &file).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}: import of {} audits in {seconds:.1} s: {:.0} audits/s",
        database.name(),
        summary.imported,
        summary.imported as f64 / seconds
    );

    let ids = Arc::new(read_ids(&file)?);
    let key_dir = tempfile::tempdir()?;
    let client = common::authorized_client(key_dir.path())?;
    for nodes in [1, 2] {
        let mut addresses = Vec::new();
        for _ in 0..nodes {
            addresses.push(common::serve(database.open().await?, key_dir.path()).await?);
        }
        for kind in [Kind::Get, Kind::Patch] {
            let rate = drive(&client, &addresses, &ids, kind).await;
            println!(
                "{}: {kind:?} by id, {nodes} node(s): {rate:.0} requests/s",
                database.name()
            );
        }
    }
    database.remove().await
}

/// The ids of the audits in `file`.
fn read_ids(file: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(file)?;
    let ids = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|audit| audit["id"].as_str().map(str::to_owned))
        .collect();
    Ok(ids)
}

/// Where the benchmark keeps its data.
enum Database {
    Sqlite(tempfile::TempDir),
    Postgres { base: String, schema: String },
}

impl Database {
    async fn new(url: Option<String>) -> anyhow::Result<Self> {
        let Some(base) = url else {
            return Ok(Database::Sqlite(tempfile::tempdir()?));
        };
        let schema = format!("raa_bench_{}", uuid::Uuid::new_v4().simple());
        execute(&base, &format!("CREATE SCHEMA {schema}")).await?;
        Ok(Database::Postgres { base, schema })
    }

    fn name(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "SQLite",
            Database::Postgres { .. } => "PostgreSQL",
        }
    }

    async fn open(&self) -> anyhow::Result<Arc<dyn AuditStore>> {
        match self {
            Database::Sqlite(dir) => Ok(Arc::new(SqliteStore::open(dir.path(), false)?)),
            Database::Postgres { base, schema } => {
                let mut url = url::Url::parse(base)?;
                url.query_pairs_mut()
                    .append_pair("options", &format!("-csearch_path={schema}"));
                let options = PostgresOptions {
                    url: url.to_string(),
                    pool_size: 16,
                    timeout: Duration::from_secs(30),
                };
                Ok(Arc::new(PostgresStore::connect(&options).await?))
            }
        }
    }

    async fn remove(&self) -> anyhow::Result<()> {
        match self {
            Database::Sqlite(_) => Ok(()),
            Database::Postgres { base, schema } => {
                execute(base, &format!("DROP SCHEMA {schema} CASCADE")).await
            }
        }
    }
}

async fn execute(url: &str, statement: &str) -> anyhow::Result<()> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(connection);
    client.batch_execute(statement).await?;
    drop(client);
    let _ = connection.await;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Get,
    Patch,
}

/// Requests per second that `CLIENTS` clients get over `RUN`.
async fn drive(
    client: &reqwest::Client,
    addresses: &[String],
    ids: &Arc<Vec<String>>,
    kind: Kind,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + RUN;
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let base = addresses[c % addresses.len()].clone();
        let (ids, done, client) = (ids.clone(), done.clone(), client.clone());
        clients.push(tokio::spawn(async move {
            let mut n = c * 7919;
            while Instant::now() < deadline {
                n = (n + 104_729) % ids.len();
                let url = format!("{base}/{}", ids[n]);
                let request = match kind {
                    Kind::Get => client.get(url),
                    Kind::Patch => client
                        .patch(url)
                        .header("content-type", "application/json")
                        .body(format!(r#"{{"userName": "bench {n}"}}"#)),
                };
                if request.send().await.is_ok_and(|r| r.status().is_success()) {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for client in clients {
        let _ = client.await;
    }
    done.load(Ordering::Relaxed) as f64 / RUN.as_secs_f64()
}
