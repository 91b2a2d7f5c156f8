//! Query latency over loopback: loads N generated audits (first argument,
//! default 10000) into a fresh SQLite store, serves the app in-process and
//! prints p50/p99 latencies of the common list queries.
//!
//! ```text
//! cargo bench --bench query_latency -- 1000000
//! cargo bench --bench query_latency -- 10000000 audits-10m.jsonl
//! ```
//!
//! A second argument names a JSON Lines file made earlier by
//! `gen-audits.py`, instead of generating one. To load millions of audits
//! in reasonable time, the secondary indexes are dropped for the import and
//! built again after it (one sort each instead of millions of random
//! inserts); the schema queried is the same as the service's.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use remote_action_audits::storage::sqlite::SqliteStore;

const ROUNDS: usize = 200;
const PAGE: &str = "odata.maxpagesize=100";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let count: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let file = args.get(1).map(std::path::PathBuf::from);
    tokio::runtime::Runtime::new()?.block_on(run(count, file))
}

async fn run(count: u64, file: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let started = Instant::now();
    let store = Arc::new(SqliteStore::open(data.path(), false)?);
    let file = match file {
        Some(file) => file,
        None => generate(data.path(), count)?,
    };
    let indexes = drop_secondary_indexes(store.path())?;
    let summary = remote_action_audits::import::import_file(store.as_ref(), &file).await?;
    println!("{count} audits: {summary} in {:.1?}", started.elapsed());
    rebuild_indexes(store.path(), &indexes)?;
    println!("indexes built after {:.1?}", started.elapsed());

    let base = common::serve(store, data.path()).await?;
    let client = common::authorized_client(data.path())?;
    let filter = |f: &str| format!("{base}?$filter={}", encode(f));
    let scenarios = [
        (
            "state + time range, newest first",
            format!(
                "{}&$orderby=requestDateTime%20desc",
                filter(
                    "actionState eq 'done' and requestDateTime ge 2026-09-01T00:00:00Z \
                     and requestDateTime lt 2026-10-01T00:00:00Z"
                )
            ),
        ),
        (
            "startswith(deviceDisplayName)",
            filter("startswith(deviceDisplayName,'desktop-a')"),
        ),
        ("$search", format!("{base}?$search=%22macbook%22")),
        ("unfiltered page 1", base.clone()),
        ("unfiltered page 100", nth_page(&client, &base, 100).await?),
        (
            "/$count with filter",
            format!(
                "{base}/$count?$filter={}",
                encode("actionState eq 'failed'")
            ),
        ),
    ];

    for (name, url) in scenarios {
        let (p50, p99) = measure(&client, &url).await?;
        println!(
            "{name:<36} p50 {:>8.2} ms   p99 {:>8.2} ms",
            ms(p50),
            ms(p99)
        );
    }
    Ok(())
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Drops the secondary indexes of `audits`, returning their definitions.
fn drop_secondary_indexes(database: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let conn = rusqlite::Connection::open(database)?;
    let mut statement = conn.prepare(
        "SELECT name, sql FROM sqlite_master \
         WHERE type = 'index' AND tbl_name = 'audits' AND sql IS NOT NULL",
    )?;
    let indexes = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<Vec<(String, String)>, _>>()?;
    for (name, _) in &indexes {
        conn.execute_batch(&format!("DROP INDEX {name}"))?;
    }
    Ok(indexes)
}

fn rebuild_indexes(database: &std::path::Path, indexes: &[(String, String)]) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(database)?;
    conn.execute_batch("PRAGMA cache_size = -1048576")?;
    for (_, sql) in indexes {
        conn.execute_batch(sql)?;
    }
    Ok(())
}

fn generate(dir: &std::path::Path, count: u64) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join("audits.jsonl");
    let tool = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/tools/gen-audits.py");
    let status = std::process::Command::new("python3")
        .args([tool, "--count", &count.to_string(), "--seed", "7"])
        .stdout(std::fs::File::create(&path)?)
        .status()?;
    anyhow::ensure!(status.success(), "gen-audits.py failed");
    Ok(path)
}

/// The URL of page `n` of a walk, reached by following next links.
async fn nth_page(client: &reqwest::Client, base: &str, n: usize) -> anyhow::Result<String> {
    let mut url = base.to_owned();
    for _ in 1..n {
        let page: serde_json::Value = client
            .get(&url)
            .header("prefer", PAGE)
            .send()
            .await?
            .json()
            .await?;
        url = page["@odata.nextLink"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the walk ended before page {n}"))?
            .to_owned();
    }
    Ok(url)
}

async fn measure(client: &reqwest::Client, url: &str) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let response = client.get(url).header("prefer", PAGE).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        response.bytes().await?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok((times[ROUNDS / 2], times[ROUNDS * 99 / 100]))
}
