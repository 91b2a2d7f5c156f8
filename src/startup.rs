//! Building the application from settings, and serving it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::StatusCode;
use axum::middleware;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::auth::throttle::ThrottleSettings;
use crate::auth::verify::TrustSettings;
use crate::auth::{self, Auth, AuthSettings, KeySource};
use crate::error::ApiError;
use crate::routes;
use crate::storage::AuditStore;

/// Everything the HTTP layer is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where `serve` listens.
    pub listen: SocketAddr,
    /// Where the SQLite file (and the token signing key) live.
    pub data_dir: PathBuf,
    /// The public base URL for `@odata` links, when behind a proxy.
    pub public_url: Option<String>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The most audits in one page of a list.
    pub page_size: u64,
    /// Which tokens are trusted, and the throttling limits.
    pub auth: AuthSettings,
    /// The limits that keep the server up.
    pub limits: ServerLimits,
}

/// The limits that keep slow or flooding clients from holding the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// The longest a request may take, body included (408 after it).
    pub request_timeout: Duration,
    /// How long a connection may stay silent, including a keep-alive
    /// connection between requests, before it is closed.
    pub idle_timeout: Duration,
    /// The largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// The most open connections; more are answered 503 and closed.
    pub max_connections: usize,
    /// The most requests in progress; more are answered 503 at once.
    pub max_concurrent_requests: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_header_bytes: 64 * 1024,
            max_connections: 1024,
            max_concurrent_requests: 256,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            public_url: None,
            max_body_bytes: 1024 * 1024,
            page_size: 1000,
            auth: AuthSettings {
                trust: TrustSettings::Local(KeySource::DataDir(PathBuf::from("data"))),
                throttle: ThrottleSettings::default(),
            },
            limits: ServerLimits::default(),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn AuditStore>,
    pub settings: Arc<Settings>,
    pub auth: Arc<Auth>,
}

impl AppState {
    /// The state for `settings`: loads (or creates) the local signing key,
    /// or prepares the issuer's key set.
    pub fn new(store: Arc<dyn AuditStore>, settings: Settings) -> anyhow::Result<Self> {
        let auth = Auth::from_settings(&settings.auth)?;
        Ok(Self {
            store,
            settings: Arc::new(settings),
            auth: Arc::new(auth),
        })
    }
}

/// The whole application: routes and the layers around them, outermost
/// last: request ids and the log line, the canonical path, load shedding,
/// the request timeout, then authentication in front of the routes.
///
/// The routes sit behind an outer router so that the path can be put in
/// its canonical spelling before they are matched.
pub fn build_app(state: AppState) -> Router {
    let limits = state.settings.limits.clone();
    let shed_load = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
            overloaded()
        }))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent_requests,
        ));

    let routes = routes::router()
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(shed_load)
        .with_state(state);
    Router::new()
        .fallback_service(routes)
        .layer(middleware::map_request(crate::http::path::canonical_path))
        .layer(middleware::from_fn(crate::http::request_ids::graph_headers))
}

/// The answer when every request slot is taken: come back in a second.
fn overloaded() -> ApiError {
    ApiError::ServiceUnavailable {
        message: "The service is handling too many requests. Try again shortly.".into(),
        retry_after_secs: 1,
        cause: None,
    }
}

/// Serves the application on `listener` until the process is asked to stop.
pub async fn serve(listener: TcpListener, state: AppState) -> anyhow::Result<()> {
    let address = listener
        .local_addr()
        .context("the listener has no address")?;
    tracing::info!(listen.address = %address, "serving remoteActionAudits");

    let limits = state.settings.limits.clone();
    let app = build_app(state);
    crate::http::connections::serve_connections(listener, app, &limits, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
