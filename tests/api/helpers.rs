//! The test harness: a real app on an ephemeral loopback port with a fresh
//! database, and one method per kind of request.
//!
//! The suite runs against SQLite by default. With `RAA_TEST_DATABASE_URL`
//! set to a `postgres://` URL it runs against PostgreSQL instead: each data
//! directory stands for its own schema in that database, so tests stay
//! apart and a restart on the same directory finds the same data.

use std::path::Path;
use std::sync::Arc;

use remote_action_audits::auth::verify::TrustSettings;
use remote_action_audits::auth::{KeySource, LocalSigner, TokenRequest};
use remote_action_audits::startup::{self, AppState, Settings};
use remote_action_audits::storage::AuditStore;
use remote_action_audits::storage::postgres::{PostgresOptions, PostgresStore};
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
    /// A client that sends a read-write token with every request.
    pub(crate) client: reqwest::Client,
    /// A client that sends no token.
    pub(crate) anonymous: reqwest::Client,
    pub(crate) store: Arc<dyn AuditStore>,
    pub(crate) data_dir: std::path::PathBuf,
    _database: Option<TestDatabase>,
    server: JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A fresh database owned by one test: a temporary directory and, on
/// PostgreSQL, the schema standing for it, dropped with it.
pub(crate) struct TestDatabase {
    pub(crate) dir: tempfile::TempDir,
}

impl TestDatabase {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(url) = postgres_url() else { return };
        let schema = schema_for(self.dir.path());

        // Drop runs inside the test's runtime, which cannot be blocked on;
        // a thread of its own runs the statement.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            // A failed test may leave a transaction open on this schema;
            // the schema is then left behind rather than waited for.
            let statement =
                format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE");
            runtime.block_on(execute(&url, &statement));
        });
        let _ = dropped.join();
    }
}

/// The PostgreSQL URL the suite runs against, if any.
pub(crate) fn postgres_url() -> Option<String> {
    std::env::var("RAA_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The schema standing for `data_dir` on PostgreSQL.
fn schema_for(data_dir: &Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("raa_test_{hex}")
}

/// `url` with every session confined to `schema`.
fn url_in_schema(url: &str, schema: &str) -> String {
    let mut url = url::Url::parse(url).expect("RAA_TEST_DATABASE_URL is a URL");
    url.query_pairs_mut()
        .append_pair("options", &format!("-csearch_path={schema}"));
    url.to_string()
}

/// Runs one statement on its own connection.
async fn execute(url: &str, statement: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL accepts a connection");
    let connection = tokio::spawn(connection);
    client
        .batch_execute(statement)
        .await
        .expect("the statement runs");
    drop(client);
    let _ = connection.await;
}

/// The database URL for `data_dir` on PostgreSQL (its schema created).
pub(crate) async fn postgres_url_for(data_dir: &Path) -> Option<String> {
    let url = postgres_url()?;
    let schema = schema_for(data_dir);
    execute(&url, &format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await;
    Some(url_in_schema(&url, &schema))
}

/// Opens the store the suite runs against, on the database of `data_dir`.
pub(crate) async fn open_store(data_dir: &Path) -> Arc<dyn AuditStore> {
    let Some(url) = postgres_url_for(data_dir).await else {
        return Arc::new(SqliteStore::open(data_dir, false).expect("the SQLite store opens"));
    };
    let options = PostgresOptions {
        url,
        pool_size: 4,
        timeout: std::time::Duration::from_secs(10),
    };
    let store = PostgresStore::connect(&options).await;
    Arc::new(store.expect("the PostgreSQL store opens"))
}

/// The command-line options that select the database of `data_dir`.
pub(crate) async fn store_args(data_dir: &Path) -> Vec<String> {
    match postgres_url_for(data_dir).await {
        Some(url) => vec!["--database-url".into(), url],
        None => vec!["--data-dir".into(), data_dir.display().to_string()],
    }
}

/// Starts the app on a fresh database.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app on a fresh database, with settings adjusted by `adjust`.
pub(crate) async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::new();
    let mut app = spawn_app_on(database.dir.path(), adjust).await;
    app._database = Some(database);
    app
}

/// Starts the app on the database of `data_dir`, which outlives the app.
pub(crate) async fn spawn_app_on(data_dir: &Path, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let store = open_store(data_dir).await;

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
        anonymous: reqwest::Client::new(),
        store,
        data_dir: data_dir.to_path_buf(),
        _database: None,
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
