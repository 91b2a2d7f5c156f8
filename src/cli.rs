//! The command line: `serve`, `import`, `token`, and the options they share.
//!
//! Every option can also be set by an environment variable (`RAA_...`), so
//! a deployment can be configured without flags. The local signing key
//! itself is read only from the environment (`RAA_SIGNING_KEY`) or a file,
//! never from a flag, so that it does not show in the process list.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::auth::jwks::{DEFAULT_REFRESH_INTERVAL, JwksSource, OidcSettings};
use crate::auth::throttle::ThrottleSettings;
use crate::auth::tokens::{LOCAL_APP_ID, LOCAL_TENANT_ID, parse_lifetime};
use crate::auth::verify::{DEFAULT_LEEWAY_SECS, TrustSettings};
use crate::auth::{AuthSettings, GrantKind, KeySource, LocalSigner, TokenRequest};
use crate::startup::{self, AppState, ServerLimits, Settings};
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
    Serve(Box<ServeArgs>),
    /// Load audits from a JSON Lines file.
    Import(ImportArgs),
    /// Print a bearer token signed with the local signing key.
    Token(TokenArgs),
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

    #[command(flatten)]
    key: KeyArgs,

    #[command(flatten)]
    oidc: OidcArgs,

    #[command(flatten)]
    throttle: ThrottleArgs,

    #[command(flatten)]
    limits: LimitArgs,
}

/// Where the local signing key is, when not in the data directory.
#[derive(Debug, Args)]
struct KeyArgs {
    /// A signing key file shared by several nodes [default: <data-dir>/signing-key,
    /// created at first start]. RAA_SIGNING_KEY, if set, holds the key itself.
    #[arg(long, env = "RAA_SIGNING_KEY_FILE")]
    signing_key_file: Option<PathBuf>,
}

impl KeyArgs {
    fn source(&self, data_dir: &std::path::Path) -> KeySource {
        if let Ok(value) = std::env::var("RAA_SIGNING_KEY") {
            return KeySource::Value(value);
        }
        match &self.signing_key_file {
            Some(path) => KeySource::File(path.clone()),
            None => KeySource::DataDir(data_dir.to_owned()),
        }
    }
}

/// Trusting an OpenID Connect issuer (such as Entra ID) instead of the
/// local key.
#[derive(Debug, Args)]
struct OidcArgs {
    /// The issuer's exact `iss` (e.g. https://sts.windows.net/{tenant}/).
    #[arg(long, env = "RAA_OIDC_ISSUER", requires = "oidc_jwks")]
    oidc_issuer: Option<String>,

    /// The issuer's key set: a JWKS URL or a file.
    #[arg(long, env = "RAA_OIDC_JWKS", requires = "oidc_issuer")]
    oidc_jwks: Option<String>,

    /// The accepted audiences (comma-separated).
    #[arg(
        long,
        env = "RAA_OIDC_AUDIENCE",
        value_delimiter = ',',
        default_value = "https://graph.microsoft.com,00000003-0000-0000-c000-000000000000"
    )]
    oidc_audience: Vec<String>,

    /// The tenant (`tid`) tokens must be for.
    #[arg(long, env = "RAA_OIDC_TENANT_ID")]
    oidc_tenant_id: Option<String>,

    /// The clock skew allowed on `exp` and `nbf`, in seconds.
    #[arg(long, env = "RAA_TOKEN_CLOCK_SKEW_SECS", default_value_t = DEFAULT_LEEWAY_SECS,
          value_parser = clap::value_parser!(u64).range(0..=600))]
    token_clock_skew_secs: u64,
}

impl OidcArgs {
    fn trust(&self, key: KeySource) -> anyhow::Result<TrustSettings> {
        let (Some(issuer), Some(jwks)) = (&self.oidc_issuer, &self.oidc_jwks) else {
            return Ok(TrustSettings::Local(key));
        };
        Ok(TrustSettings::Oidc(OidcSettings {
            issuer: issuer.clone(),
            audiences: self.oidc_audience.clone(),
            tenant_id: self.oidc_tenant_id.clone(),
            jwks: JwksSource::parse(jwks)?,
            leeway_secs: self.token_clock_skew_secs,
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
        }))
    }
}

/// Throttling, per 20 seconds by default, as Intune does.
#[derive(Debug, Args)]
struct ThrottleArgs {
    /// Turn throttling off.
    #[arg(long, env = "RAA_THROTTLE_DISABLED")]
    throttle_disabled: bool,

    /// The window the limits below are counted over, in seconds.
    #[arg(long, env = "RAA_THROTTLE_WINDOW_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    throttle_window_secs: u64,

    /// Writes per window by one app in one tenant.
    #[arg(long, env = "RAA_THROTTLE_APP_WRITES", default_value_t = 200)]
    throttle_app_writes: u32,

    /// Writes per window by all apps of one tenant.
    #[arg(long, env = "RAA_THROTTLE_TENANT_WRITES", default_value_t = 400)]
    throttle_tenant_writes: u32,

    /// Requests per window by one app in one tenant.
    #[arg(long, env = "RAA_THROTTLE_APP_REQUESTS", default_value_t = 2000)]
    throttle_app_requests: u32,

    /// Requests per window by all apps of one tenant.
    #[arg(long, env = "RAA_THROTTLE_TENANT_REQUESTS", default_value_t = 4000)]
    throttle_tenant_requests: u32,
}

impl ThrottleArgs {
    fn settings(&self) -> ThrottleSettings {
        ThrottleSettings {
            enabled: !self.throttle_disabled,
            window: Duration::from_secs(self.throttle_window_secs),
            app_writes: self.throttle_app_writes,
            tenant_writes: self.throttle_tenant_writes,
            app_requests: self.throttle_app_requests,
            tenant_requests: self.throttle_tenant_requests,
        }
    }
}

/// Limits on connections and requests.
#[derive(Debug, Args)]
struct LimitArgs {
    /// The longest a request may take, in seconds.
    #[arg(long, env = "RAA_REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout_secs: u64,

    /// How long a connection may stay silent before it is closed, in seconds.
    #[arg(long, env = "RAA_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    idle_timeout_secs: u64,

    /// The largest request head (request line and headers), in bytes.
    #[arg(long, env = "RAA_MAX_HEADER_BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u64).range(8192..=1024 * 1024))]
    max_header_bytes: u64,

    /// The most open connections.
    #[arg(long, env = "RAA_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,

    /// The most requests in progress; more get 503 with Retry-After.
    #[arg(long, env = "RAA_MAX_CONCURRENT_REQUESTS", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_concurrent_requests: u64,
}

impl LimitArgs {
    fn settings(&self) -> ServerLimits {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        ServerLimits {
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_header_bytes: size(self.max_header_bytes),
            max_connections: size(self.max_connections),
            max_concurrent_requests: size(self.max_concurrent_requests),
        }
    }
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// The data directory whose signing key signs the token.
    #[arg(long, env = "RAA_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,

    #[command(flatten)]
    key: KeyArgs,

    /// A permission to grant (repeatable) [default:
    /// DeviceManagementConfiguration.ReadWrite.All].
    #[arg(long = "scope", value_name = "NAME")]
    scopes: Vec<String>,

    /// An application token (permissions in `roles`) instead of a delegated
    /// one (permissions in `scp`).
    #[arg(long)]
    app: bool,

    /// How long the token is valid: a number and s, m, h or d.
    #[arg(long, default_value = "1h", value_parser = parse_lifetime)]
    expires: Duration,

    /// The tenant (`tid`) of the token.
    #[arg(long, default_value = LOCAL_TENANT_ID)]
    tenant_id: String,

    /// The application (`appid`) of the token; throttling counts per app.
    #[arg(long, default_value = LOCAL_APP_ID)]
    app_id: String,
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
        Command::Serve(args) => serve(*args).await,
        Command::Import(args) => import(args).await,
        Command::Token(args) => token(args),
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
    let key = args.key.source(&args.store.data_dir);
    let auth = AuthSettings {
        trust: args.oidc.trust(key)?,
        throttle: args.throttle.settings(),
    };

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
        auth,
        limits: args.limits.settings(),
    };
    eprintln!("listening on http://{}/beta", settings.listen);

    let state = AppState::new(store, settings)?;
    if !state.auth.trust.prefetch().await {
        tracing::warn!("the issuer's keys could not be loaded; retrying on the first request");
    }
    startup::serve(listener, state).await?;
    Ok(ExitCode::SUCCESS)
}

fn token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let signer = LocalSigner::from_source(&args.key.source(&args.data_dir))?;
    let mut request = TokenRequest {
        kind: if args.app {
            GrantKind::Application
        } else {
            GrantKind::Delegated
        },
        lifetime: args.expires,
        tenant_id: args.tenant_id,
        app_id: args.app_id,
        ..TokenRequest::default()
    };
    if !args.scopes.is_empty() {
        request.permissions = args.scopes;
    }

    println!("{}", signer.mint(&request)?);
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
