//! The command line: `serve`, `import`, and the options they share.
//!
//! Every option can also be set by an environment variable (`RAA_...`), so
//! a deployment can be configured without flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::startup::{self, AppState, Settings};
use crate::storage::AuditStore;
use crate::storage::postgres::{PostgresOptions, PostgresStore};
use crate::storage::sqlite::SqliteStore;
use crate::telemetry::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(name = "remote-action-audits", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Graph API.
    Serve(ServeArgs),
    /// Load audits from a JSON Lines file.
    Import(ImportArgs),
}

/// Where the data lives; shared by every subcommand.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "RAA_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Fsync every SQLite commit, so that a power cut loses nothing.
    #[arg(long, env = "RAA_SQLITE_SYNC_FULL")]
    pub sqlite_sync_full: bool,

    /// A postgres:// URL: keep the data in PostgreSQL instead of SQLite.
    #[arg(long, env = "RAA_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Most PostgreSQL connections this process keeps open.
    #[arg(long, env = "RAA_DATABASE_POOL_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: u32,

    /// Deadline of each PostgreSQL operation, connecting included ("5s", "500ms").
    #[arg(long, env = "RAA_DATABASE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub database_timeout: Duration,
}

impl StoreArgs {
    /// Opens the PostgreSQL store when a database URL is given, the SQLite
    /// store in the data directory otherwise.
    pub async fn open(&self) -> anyhow::Result<Arc<dyn AuditStore>> {
        let Some(url) = &self.database_url else {
            let store = SqliteStore::open(&self.data_dir, self.sqlite_sync_full)?;
            return Ok(Arc::new(store));
        };

        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            anyhow::bail!("the database URL must start with postgres:// or postgresql://");
        }
        let options = PostgresOptions {
            url: url.clone(),
            pool_size: self.database_pool_size as usize,
            timeout: self.database_timeout,
        };
        Ok(Arc::new(PostgresStore::connect(&options).await?))
    }
}

/// Parses a duration written as seconds ("5", "5s") or milliseconds ("500ms").
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.strip_suffix("ms") {
        Some(number) => (number, Duration::from_millis(1)),
        None => (
            text.strip_suffix('s').unwrap_or(text),
            Duration::from_secs(1),
        ),
    };
    let count: u32 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a duration such as 5s or 500ms"))?;
    if count == 0 {
        return Err("the duration must be more than zero".into());
    }
    Ok(unit * count)
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,

    /// Address and port to listen on.
    #[arg(long, env = "RAA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Public base URL for @odata links (e.g. https://audits.example.com).
    #[arg(long, env = "RAA_PUBLIC_URL")]
    public_url: Option<String>,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "RAA_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,

    /// Most audits in one page of a list.
    #[arg(long, env = "RAA_PAGE_SIZE", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    page_size: u64,

    /// Log line format.
    #[arg(long, env = "RAA_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Debug, Args)]
struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,

    /// A JSON Lines file, one remoteActionAudit per line ("-" for stdin).
    file: PathBuf,
}

/// Parses the command line and runs the subcommand.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Import(args) => import(args).await,
    };

    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    telemetry::init(args.log_format);
    if !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "refusing to listen on {}: without authentication the service only listens on \
             loopback",
            args.listen
        );
    }

    let store = args.store.open().await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let settings = Settings {
        listen: listener.local_addr()?,
        data_dir: args.store.data_dir.clone(),
        public_url: args.public_url,
        max_body_bytes: args.max_body_bytes,
        page_size: args.page_size,
    };
    eprintln!("listening on http://{}/beta", settings.listen);

    let state = AppState {
        store,
        settings: Arc::new(settings),
    };
    startup::serve(listener, startup::build_app(state)).await?;
    Ok(ExitCode::SUCCESS)
}

async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open().await?;
    let summary = crate::import::import_file(store.as_ref(), &args.file).await?;
    println!("{summary}");
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_in_seconds_or_milliseconds() {
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
