//! Building the application from settings, and serving it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::middleware;
use tokio::net::TcpListener;

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            public_url: None,
            max_body_bytes: 1024 * 1024,
            page_size: 1000,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn AuditStore>,
    pub settings: Arc<Settings>,
}

/// The whole application: routes and the layers around them.
///
/// The routes sit behind an outer router so that the path can be put in
/// its canonical spelling before they are matched.
pub fn build_app(state: AppState) -> Router {
    let routes = routes::router().with_state(state);
    Router::new()
        .fallback_service(routes)
        .layer(middleware::map_request(crate::http::path::canonical_path))
        .layer(middleware::from_fn(crate::http::request_ids::graph_headers))
}

/// Serves `app` on `listener` until the process is asked to stop.
pub async fn serve(listener: TcpListener, app: Router) -> anyhow::Result<()> {
    let address = listener
        .local_addr()
        .context("the listener has no address")?;
    tracing::info!(listen.address = %address, "serving remoteActionAudits");

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("the server stopped with an error")
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
