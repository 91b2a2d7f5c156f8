//! The test harness: a real app on an ephemeral loopback port with a fresh
//! database, and one method per kind of request.

use std::path::Path;
use std::sync::Arc;

use remote_action_audits::auth::verify::TrustSettings;
use remote_action_audits::auth::{KeySource, LocalSigner, TokenRequest};
use remote_action_audits::startup::{self, AppState, Settings};
use remote_action_audits::storage::AuditStore;
use remote_action_audits::storage::sqlite::SqliteStore;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tokio::task::JoinHandle;

/// The sample audits shipped beside the repository.
pub(crate) const SAMPLE_AUDITS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/audits-2k.jsonl"
);

/// The id and the body of the Graph documentation's update example.
pub(crate) const DOCS_UPDATE_BODY: &str = r##"{
  "@odata.type": "#microsoft.graph.remoteActionAudit",
  "deviceDisplayName": "Device Display Name value",
  "userName": "User Name value",
  "initiatedByUserPrincipalName": "Initiated By User Principal Name value",
  "action": "factoryReset",
  "requestDateTime": "2016-12-31T23:57:57.2481234-08:00",
  "deviceOwnerUserPrincipalName": "Device Owner User Principal Name value",
  "deviceIMEI": "Device IMEI value",
  "actionState": "pending",
  "managedDeviceId": "Managed Device Id value"
}"##;

pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) client: reqwest::Client,
    pub(crate) store: Arc<dyn AuditStore>,
    pub(crate) data_dir: std::path::PathBuf,
    _temp: Option<tempfile::TempDir>,
    server: JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the app on a fresh database.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app on a fresh database, with settings adjusted by `adjust`.
pub(crate) async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let data_dir = temp.path().to_path_buf();
    let mut app = spawn_app_on(&data_dir, adjust).await;
    app._temp = Some(temp);
    app
}

/// Starts the app on the database in `data_dir`, which outlives the app.
pub(crate) async fn spawn_app_on(data_dir: &Path, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let store: Arc<dyn AuditStore> =
        Arc::new(SqliteStore::open(data_dir, false).expect("the SQLite store opens"));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let listen = listener.local_addr().expect("a bound address");
    let mut settings = Settings {
        listen,
        data_dir: data_dir.to_path_buf(),
        ..Settings::default()
    };
    settings.auth.trust = TrustSettings::Local(KeySource::DataDir(data_dir.to_path_buf()));
    adjust(&mut settings);

    let state = AppState::new(store.clone(), settings).expect("the app state builds");
    let server = tokio::spawn(async move {
        let _ = startup::serve(listener, state).await;
    });

    TestApp {
        address: format!("http://{listen}"),
        client: authorized_client(data_dir),
        store,
        data_dir: data_dir.to_path_buf(),
        _temp: None,
        server,
    }
}

/// A read-write token signed with the data dir's key.
pub(crate) fn read_write_token(data_dir: &Path) -> String {
    let signer = LocalSigner::for_data_dir(data_dir).expect("the signing key loads");
    signer.mint(&TokenRequest::default()).expect("a token")
}

/// A client that sends a read-write token with every request.
fn authorized_client(data_dir: &Path) -> reqwest::Client {
    let token = read_write_token(data_dir);
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("Bearer {token}").parse().expect("a header value");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a client")
}

/// Logs stay silent unless `TEST_LOG` is set.
fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        remote_action_audits::telemetry::init(remote_action_audits::telemetry::LogFormat::Text);
    }
}

impl TestApp {
    /// A request to `path` under `/beta`.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}/beta{path}", self.address))
    }

    /// The URL of one audit under `/beta`, its id percent-encoded.
    pub(crate) fn audit_path(id: &str) -> String {
        let id = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC);
        format!("/deviceManagement/remoteActionAudits/{id}")
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("the request is sent")
    }

    pub(crate) async fn get_audit(&self, id: &str) -> Response {
        self.get(&Self::audit_path(id)).await
    }

    pub(crate) async fn post_audit(&self, body: &str) -> Response {
        self.send_json(Method::POST, "/deviceManagement/remoteActionAudits", body)
            .await
    }

    pub(crate) async fn patch_audit(&self, id: &str, body: &str) -> Response {
        self.send_json(Method::PATCH, &Self::audit_path(id), body)
            .await
    }

    pub(crate) async fn delete_audit(&self, id: &str) -> Response {
        let request = self.request(Method::DELETE, &Self::audit_path(id));
        request.send().await.expect("the request is sent")
    }

    pub(crate) async fn send_json(&self, method: Method, path: &str, body: &str) -> Response {
        self.request(method, path)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("the request is sent")
    }

    /// Imports the sample audits through the library's import path.
    pub(crate) async fn import_sample(&self) -> remote_action_audits::import::ImportSummary {
        let file = std::fs::File::open(SAMPLE_AUDITS).expect("the sample audits exist");
        let mut reader = std::io::BufReader::new(file);
        remote_action_audits::import::import_lines(self.store.as_ref(), &mut reader, |line, why| {
            panic!("sample line {line} was rejected: {why}")
        })
        .await
        .expect("the import runs")
    }

    pub(crate) async fn count(&self) -> u64 {
        let text = self
            .get("/deviceManagement/remoteActionAudits/$count")
            .await
            .text()
            .await;
        text.expect("a body").parse().expect("an integer")
    }
}

/// The JSON body of a response, after checking its status.
pub(crate) async fn json_with_status(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("a body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).expect("a JSON body")
}

/// Checks a Graph error response and returns its message.
pub(crate) async fn graph_error(response: Response, status: u16, code: &str) -> String {
    let request_id = header(&response, "request-id");
    let body = json_with_status(response, status).await;
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(
        error["innerError"]["request-id"],
        request_id.as_str(),
        "{body}"
    );
    assert!(error["innerError"]["date"].is_string(), "{body}");
    error["message"].as_str().expect("a message").to_owned()
}

pub(crate) fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("a text header").to_owned())
        .unwrap_or_default()
}

/// The sample audits as JSON values.
pub(crate) fn sample_audits() -> Vec<Value> {
    std::fs::read_to_string(SAMPLE_AUDITS)
        .expect("the sample audits exist")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}
