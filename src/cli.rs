//! The command line: `serve`, `import`, and the options they share.
//!
//! Every option can also be set by an environment variable (`RAA_...`), so
//! a deployment can be configured without flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::startup::{self, AppState, Settings};
use crate::storage::AuditStore;
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
}

impl StoreArgs {
    pub fn open(&self) -> anyhow::Result<Arc<dyn AuditStore>> {
        let store = SqliteStore::open(&self.data_dir, self.sqlite_sync_full)?;
        Ok(Arc::new(store))
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,

    /// Address and port to listen on (a host name such as localhost works).
    #[arg(long, env = "RAA_LISTEN", default_value = "127.0.0.1:8080", value_parser = socket_address)]
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

/// An address and port, or a host name and port resolved to its first
/// address.
fn socket_address(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;

    let mut addresses = text
        .to_socket_addrs()
        .map_err(|e| format!("'{text}' is not HOST:PORT: {e}"))?;
    addresses
        .next()
        .ok_or_else(|| format!("'{text}' resolves to no address"))
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

    let store = args.store.open()?;
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
    let store = args.store.open()?;
    let summary = crate::import::import_file(store.as_ref(), &args.file).await?;
    println!("{summary}");
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
