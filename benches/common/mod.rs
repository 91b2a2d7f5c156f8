//! What the benchmarks share: serving the app in-process and a client that
//! may call it.

use std::path::Path;
use std::sync::Arc;

use remote_action_audits::auth::verify::TrustSettings;
use remote_action_audits::auth::{KeySource, LocalSigner, TokenRequest};
use remote_action_audits::startup::{self, AppState, Settings};
use remote_action_audits::storage::AuditStore;

/// Serves `store` on a free loopback port, trusting tokens signed with the
/// key in `key_dir` and without throttling, which would cut a measurement
/// short. Returns the entity set's URL.
pub(crate) async fn serve(store: Arc<dyn AuditStore>, key_dir: &Path) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let mut settings = Settings {
        listen: listener.local_addr()?,
        data_dir: key_dir.to_owned(),
        ..Settings::default()
    };
    settings.auth.trust = TrustSettings::Local(KeySource::DataDir(key_dir.to_owned()));
    settings.auth.throttle.enabled = false;

    let base = format!(
        "http://{}/beta/deviceManagement/remoteActionAudits",
        settings.listen
    );
    let state = AppState::new(store, settings)?;
    tokio::spawn(startup::serve(listener, state));
    Ok(base)
}

/// A client that sends a read-write token signed with the key in `key_dir`.
pub(crate) fn authorized_client(key_dir: &Path) -> anyhow::Result<reqwest::Client> {
    let token = LocalSigner::for_data_dir(key_dir)?.mint(&TokenRequest::default())?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse()?,
    );
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}
