//! The limits that keep the server up: connections, idle time, header
//! size, requests in progress and the request timeout.

use std::sync::Arc;
use std::time::Duration;

use remote_action_audits::auth::jwks::{JwksSource, OidcSettings};
use remote_action_audits::auth::tokens::GRAPH_AUDIENCE;
use remote_action_audits::auth::verify::TrustSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::{TestApp, graph_error, spawn_app_with, valid_claims};

/// Guards against a hang; no test depends on how long anything takes.
const HANG_GUARD: Duration = Duration::from_secs(30);

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = stream.read_to_end(&mut received);
    let _ = tokio::time::timeout(HANG_GUARD, read)
        .await
        .expect("the server kept the connection");
    String::from_utf8_lossy(&received).into_owned()
}

/// Sends one request and reads the head of its response.
async fn exchange(stream: &mut TcpStream, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = vec![0u8; 4096];
    let read = tokio::time::timeout(HANG_GUARD, stream.read(&mut buffer)).await;
    let count = read.expect("no response").unwrap();
    String::from_utf8_lossy(&buffer[..count]).into_owned()
}

#[tokio::test]
async fn a_connection_over_the_limit_gets_a_503() {
    let app = spawn_app_with(|settings| settings.limits.max_connections = 1).await;
    let mut first = connect(&app).await;
    let answer = exchange(&mut first, "GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let mut second = connect(&app).await;
    let refused = read_to_close(&mut second).await;

    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("retry-after: 1"), "{refused}");
    assert!(
        refused.contains(r#""code":"ServiceUnavailable""#),
        "{refused}"
    );
}

#[tokio::test]
async fn a_silent_connection_is_closed() {
    let app = spawn_app_with(|settings| {
        settings.limits.idle_timeout = Duration::from_secs(1);
        settings.limits.request_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = connect(&app).await;

    let received = read_to_close(&mut stream).await;

    assert!(!received.contains("200 OK"), "{received}");
}

#[tokio::test]
async fn an_oversized_request_head_is_refused() {
    let app = spawn_app_with(|settings| settings.limits.max_header_bytes = 8192).await;
    let mut stream = connect(&app).await;
    let padding = "x".repeat(20_000);

    let answer = exchange(
        &mut stream,
        &format!("GET /healthz HTTP/1.1\r\nhost: test\r\nx-padding: {padding}\r\n\r\n"),
    )
    .await;

    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
}

/// A JWKS endpoint that holds each fetch until released, so that a request
/// stays in progress for as long as a test needs.
struct HeldIssuer {
    url: String,
    fetch_started: Arc<Notify>,
    release: Arc<Notify>,
}

impl HeldIssuer {
    async fn spawn() -> HeldIssuer {
        let fetch_started = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let (started, released) = (fetch_started.clone(), release.clone());
        let router = axum::Router::new().route(
            "/keys",
            axum::routing::get(move || async move {
                started.notify_one();
                released.notified().await;
                r#"{"keys":[]}"#
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        HeldIssuer {
            url,
            fetch_started,
            release,
        }
    }

    fn trust(&self) -> TrustSettings {
        TrustSettings::Oidc(OidcSettings {
            issuer: "https://issuer.test".into(),
            audiences: vec![GRAPH_AUDIENCE.into()],
            tenant_id: None,
            jwks: JwksSource::parse(&self.url).unwrap(),
            leeway_secs: 60,
            refresh_interval: Duration::from_secs(60),
        })
    }
}

/// A token the held issuer will be asked about.
fn rs256_token() -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("held".into());
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rsa-1-private.pem"
    ));
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem.unwrap()).unwrap();
    jsonwebtoken::encode(&header, &valid_claims(), &key).unwrap()
}

#[tokio::test]
async fn requests_over_the_limit_in_progress_are_shed_with_a_503() {
    let issuer = HeldIssuer::spawn().await;
    let app = spawn_app_with(|settings| {
        settings.auth.trust = issuer.trust();
        settings.limits.max_concurrent_requests = 1;
    })
    .await;
    let token = rs256_token();
    let held = tokio::spawn({
        let (client, url, token) = (
            app.anonymous.clone(),
            app.url("/beta/deviceManagement/remoteActionAudits"),
            token.clone(),
        );
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    issuer.fetch_started.notified().await;

    let shed = graph_error(app.list_with(&token).await).await;

    assert_eq!(
        (shed.status, shed.code.as_str()),
        (503, "ServiceUnavailable")
    );
    assert_eq!(shed.headers["retry-after"], "1");
    issuer.release.notify_one();
    assert_eq!(held.await.unwrap(), 401);
}

#[tokio::test]
async fn a_request_past_its_timeout_gets_a_graph_error() {
    let issuer = HeldIssuer::spawn().await;
    let app = spawn_app_with(|settings| {
        settings.auth.trust = issuer.trust();
        settings.limits.request_timeout = Duration::from_secs(1);
    })
    .await;

    let response = app.list_with(&rs256_token()).await;

    let error = graph_error(response).await;
    assert_eq!((error.status, error.code.as_str()), (408, "RequestTimeout"));
}
