//! Running the service as a separate process on a chosen store.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use std::sync::OnceLock;

use remote_action_audits::auth::{LocalSigner, SigningKey, TokenRequest};
use serde_json::Value;

/// The signing key every service of this test run is given through
/// `RAA_SIGNING_KEY`, as nodes that share a key are.
fn shared_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate().encode())
}

/// This machine's PostgreSQL unless `RAA_TEST_DATABASE_URL` names another.
pub(crate) fn postgres_url() -> String {
    std::env::var("RAA_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "postgres://root@127.0.0.1:5432/test".to_owned())
}

/// Where a test's service keeps its data.
pub(crate) enum Store {
    Sqlite(PathBuf),
    /// A database URL and the schema it is confined to.
    Postgres {
        url: String,
        schema: String,
    },
}

impl Store {
    /// A fresh schema of its own on the test PostgreSQL.
    pub(crate) async fn fresh_postgres() -> Self {
        let schema = format!("raa_fault_{}", uuid::Uuid::new_v4().simple());
        execute(&postgres_url(), &format!("CREATE SCHEMA {schema}")).await;
        let mut url = url::Url::parse(&postgres_url()).expect("a database URL");
        url.query_pairs_mut()
            .append_pair("options", &format!("-csearch_path={schema}"));
        Store::Postgres {
            url: url.to_string(),
            schema,
        }
    }

    /// The `host:port` of a PostgreSQL store's server.
    pub(crate) fn host_and_port(&self) -> String {
        let Store::Postgres { url, .. } = self else {
            panic!("only a PostgreSQL store has a server");
        };
        let url = url::Url::parse(url).expect("a database URL");
        let host = url.host_str().expect("a database host");
        format!("{host}:{}", url.port().unwrap_or(5432))
    }

    /// The same PostgreSQL store, reached on another loopback port.
    pub(crate) fn through_port(&self, port: u16) -> Store {
        let Store::Postgres { url, schema } = self else {
            panic!("only a PostgreSQL store has a port");
        };
        let mut url = url::Url::parse(url).expect("a database URL");
        url.set_host(Some("127.0.0.1")).expect("a host");
        url.set_port(Some(port)).expect("a port");
        Store::Postgres {
            url: url.to_string(),
            schema: schema.clone(),
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Store::Sqlite(dir) => vec!["--data-dir".into(), dir.display().to_string()],
            Store::Postgres { url, .. } => vec!["--database-url".into(), url.clone()],
        }
    }

    /// Drops the schema of a PostgreSQL store.
    pub(crate) async fn remove(&self) {
        if let Store::Postgres { schema, .. } = self {
            execute(&postgres_url(), &format!("DROP SCHEMA {schema} CASCADE")).await;
        }
    }
}

/// Runs statements on a connection of their own.
pub(crate) async fn execute(url: &str, statements: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL accepts a connection");
    let connection = tokio::spawn(connection);
    client
        .batch_execute(statements)
        .await
        .expect("the statements run");
    drop(client);
    let _ = connection.await;
}

/// The service running as a child process; killed when dropped.
pub(crate) struct Server {
    child: Child,
    endpoint: Endpoint,
}

/// Where a running service answers.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) base: String,
}

impl std::ops::Deref for Server {
    type Target = Endpoint;

    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Server {
    /// Starts `serve` on a free loopback port with `extra` options.
    pub(crate) fn start(store: &Store, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_remote-action-audits"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(store.args())
            .args(extra)
            .env("RAA_SIGNING_KEY", shared_key())
            .env("RAA_THROTTLE_DISABLED", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the service starts");

        let stderr = child.stderr.take().expect("a stderr pipe");
        let mut lines = BufReader::new(stderr).lines();
        let base = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("listening on ").map(str::to_owned))
            .expect("the service says where it listens");

        // Keep draining stderr so that the service never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            endpoint: Endpoint { base },
        }
    }

    /// Kills the process at once (SIGKILL) and waits for it to be gone.
    pub(crate) fn kill(mut self) {
        self.child.kill().expect("the service can be killed");
        self.child.wait().expect("the service is reaped");
    }
}

impl Endpoint {
    /// A path outside `/beta`, such as `/readyz`.
    pub(crate) fn root_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches("/beta"))
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn audit_url(&self, id: &str) -> String {
        self.url(&format!("/deviceManagement/remoteActionAudits/{id}"))
    }

    /// Creates the audit `id`; `Err` when no answer came at all.
    pub(crate) async fn create(
        &self,
        client: &reqwest::Client,
        id: &str,
    ) -> reqwest::Result<reqwest::Response> {
        client
            .post(self.url("/deviceManagement/remoteActionAudits"))
            .header("content-type", "application/json")
            .body(audit_body(id))
            .send()
            .await
    }

    /// Sets the user name of the audit `id`.
    pub(crate) async fn rename(
        &self,
        client: &reqwest::Client,
        id: &str,
        user_name: &str,
    ) -> reqwest::Result<reqwest::Response> {
        client
            .patch(self.audit_url(id))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "userName": user_name }).to_string())
            .send()
            .await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client with a read-write token for the services of this run, that
/// gives up on a request after 30 s: a service that hangs fails the test
/// instead of stalling it.
pub(crate) fn client() -> reqwest::Client {
    let key = SigningKey::decode(shared_key()).expect("the shared key decodes");
    let token = LocalSigner::new(key)
        .mint(&TokenRequest::default())
        .expect("a token");
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("Bearer {token}").parse().expect("a header value");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("a client")
}

/// A minimal valid audit with the given id.
pub(crate) fn audit_body(id: &str) -> String {
    format!(r#"{{"id": "{id}", "action": "remoteLock", "actionState": "pending"}}"#)
}

/// Checks that a response is a Graph error with `code`, leaking nothing
/// about the database behind it.
pub(crate) fn assert_graph_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    let text = body.to_string().to_lowercase();
    for internal in ["postgres", "tokio", "sqlite", "127.0.0.1", "5432"] {
        assert!(
            !text.contains(internal),
            "the error leaks '{internal}': {body}"
        );
    }
}

/// Polls `url` until it answers 200, at most `attempts` times, half a
/// second apart; returns whether it did.
pub(crate) async fn wait_until_ok(client: &reqwest::Client, url: &str, attempts: u32) -> bool {
    for _ in 0..attempts {
        if let Ok(response) = client.get(url).send().await
            && response.status() == 200
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    false
}

/// Checks that a service whose database came back is ready again by
/// itself, and serves the audit `before` and a new write.
pub(crate) async fn assert_recovered(client: &reqwest::Client, server: &Endpoint) {
    assert!(
        wait_until_ok(client, &server.root_url("/readyz"), 60).await,
        "ready again"
    );
    let read = client.get(server.audit_url("before")).send().await.unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(server.create(client, "after").await.unwrap().status(), 201);
}
