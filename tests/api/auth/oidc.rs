//! Trusting an OpenID Connect issuer: RS256 and ES256 tokens checked
//! against its key set, served by a JWKS server on 127.0.0.1 that the test
//! starts, or read from a file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use remote_action_audits::auth::jwks::{JwksSource, OidcSettings};
use remote_action_audits::auth::tokens::{Claims, GRAPH_AUDIENCE};
use remote_action_audits::auth::verify::TrustSettings;

use super::{AUDITS, TestApp, assert_unauthenticated, spawn_app_with, valid_claims};

const ISSUER: &str = "https://issuer.test/tenant-1/v2.0";
const TENANT: &str = "tenant-1";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// A JWKS endpoint whose document the test can change, counting fetches.
#[derive(Clone)]
struct Issuer {
    url: String,
    document: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
    /// How long the endpoint takes to answer, in milliseconds.
    delay_ms: Arc<AtomicUsize>,
}

impl Issuer {
    async fn spawn(fixture_name: &str) -> Issuer {
        let issuer = Issuer {
            url: String::new(),
            document: Arc::new(Mutex::new(read_fixture(fixture_name))),
            fetches: Arc::new(AtomicUsize::new(0)),
            delay_ms: Arc::new(AtomicUsize::new(0)),
        };
        let router = axum::Router::new()
            .route("/keys", axum::routing::get(serve_keys))
            .with_state(issuer.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Issuer { url, ..issuer }
    }

    fn publish(&self, fixture_name: &str) {
        *self.document.lock().unwrap() = read_fixture(fixture_name);
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn serve_keys(State(issuer): State<Issuer>) -> String {
    issuer.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = issuer.delay_ms.load(Ordering::SeqCst) as u64;
    tokio::time::sleep(Duration::from_millis(delay)).await;
    issuer.document.lock().unwrap().clone()
}

async fn spawn_trusting(jwks: JwksSource, refresh_interval: Duration) -> TestApp {
    spawn_app_with(|settings| {
        settings.auth.trust = TrustSettings::Oidc(OidcSettings {
            issuer: ISSUER.into(),
            audiences: vec![GRAPH_AUDIENCE.into()],
            tenant_id: Some(TENANT.into()),
            jwks,
            leeway_secs: 60,
            refresh_interval,
        });
    })
    .await
}

/// An app that trusts the issuer's keys from the fixture JWKS file.
async fn spawn_trusting_the_fixture_keys() -> TestApp {
    spawn_trusting(
        JwksSource::File(fixture("jwks.json")),
        Duration::from_secs(60),
    )
    .await
}

fn issuer_claims() -> Claims {
    Claims {
        iss: Some(ISSUER.into()),
        tid: Some(TENANT.into()),
        ..valid_claims()
    }
}

fn sign(algorithm: Algorithm, kid: &str, key: &EncodingKey, claims: &Claims) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn rs256(kid: &str, key_fixture: &str, claims: &Claims) -> String {
    let key = EncodingKey::from_rsa_pem(read_fixture(key_fixture).as_bytes()).unwrap();
    sign(Algorithm::RS256, kid, &key, claims)
}

fn es256(kid: &str, claims: &Claims) -> String {
    let key = EncodingKey::from_ec_pem(read_fixture("ec-1-private.pem").as_bytes()).unwrap();
    sign(Algorithm::ES256, kid, &key, claims)
}

fn jwks_url(issuer: &Issuer) -> JwksSource {
    JwksSource::parse(&issuer.url).unwrap()
}

#[tokio::test]
async fn an_rs256_token_is_checked_against_the_jwks_url() {
    let issuer = Issuer::spawn("jwks.json").await;
    let app = spawn_trusting(jwks_url(&issuer), Duration::from_secs(60)).await;
    let token = rs256("rsa-1", "rsa-1-private.pem", &issuer_claims());

    let response = app.list_with(&token).await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_es256_token_is_checked_against_a_jwks_file() {
    let app = spawn_trusting_the_fixture_keys().await;
    let token = es256("ec-1", &issuer_claims());

    let response = app.list_with(&token).await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_token_for_another_tenant_is_refused() {
    let app = spawn_trusting_the_fixture_keys().await;
    let token = rs256(
        "rsa-1",
        "rsa-1-private.pem",
        &Claims {
            tid: Some("tenant-2".into()),
            ..issuer_claims()
        },
    );

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn an_hmac_token_keyed_with_the_public_key_is_refused() {
    let app = spawn_trusting_the_fixture_keys().await;
    let public_pem = read_fixture("rsa-1-public.pem");
    let key = EncodingKey::from_secret(public_pem.as_bytes());
    let token = sign(Algorithm::HS256, "rsa-1", &key, &issuer_claims());

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn a_token_whose_algorithm_does_not_match_its_key_is_refused() {
    let app = spawn_trusting_the_fixture_keys().await;
    let token = es256("rsa-1", &issuer_claims());

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn a_token_signed_by_the_issuer_for_another_audience_is_refused() {
    let app = spawn_trusting_the_fixture_keys().await;
    let token = rs256(
        "rsa-1",
        "rsa-1-private.pem",
        &Claims {
            aud: Some("api://another".into()),
            ..issuer_claims()
        },
    );

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn an_unknown_kid_refreshes_at_most_once_per_interval() {
    let issuer = Issuer::spawn("jwks.json").await;
    let app = spawn_trusting(jwks_url(&issuer), Duration::from_secs(60)).await;
    let token = rs256("rsa-2", "rsa-2-private.pem", &issuer_claims());

    assert_unauthenticated(app.list_with(&token).await, &token).await;
    assert_unauthenticated(app.list_with(&token).await, &token).await;

    assert_eq!(issuer.fetches(), 1);
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_the_refresh() {
    let issuer = Issuer::spawn("jwks.json").await;
    let app = spawn_trusting(jwks_url(&issuer), Duration::ZERO).await;
    let old = rs256("rsa-1", "rsa-1-private.pem", &issuer_claims());
    assert_eq!(app.list_with(&old).await.status(), 200);

    issuer.publish("jwks-rotated.json");
    let new = rs256("rsa-2", "rsa-2-private.pem", &issuer_claims());

    assert_eq!(app.list_with(&new).await.status(), 200);
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn a_client_that_hangs_up_does_not_cancel_the_refresh() {
    let issuer = Issuer::spawn("jwks.json").await;
    let interval = Duration::from_secs(2);
    let app = spawn_trusting(jwks_url(&issuer), interval).await;
    let old = rs256("rsa-1", "rsa-1-private.pem", &issuer_claims());
    assert_eq!(app.list_with(&old).await.status(), 200);

    // The next refresh is due; the key set now answers slowly, and the
    // first client to ask for the new key gives up before it does.
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    issuer.publish("jwks-rotated.json");
    issuer.delay_ms.store(1000, Ordering::SeqCst);
    let new = rs256("rsa-2", "rsa-2-private.pem", &issuer_claims());
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let gave_up = impatient
        .get(app.url(AUDITS))
        .bearer_auth(&new)
        .send()
        .await;
    assert!(
        gave_up.is_err(),
        "the impatient client should have timed out"
    );

    // Within the same interval no new fetch is allowed, so the key is only
    // known if the abandoned fetch still completed.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.list_with(&new).await.status(), 200);
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn an_unreachable_key_set_is_a_503_not_a_401() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/keys", listener.local_addr().unwrap());
    drop(listener);
    let app = spawn_trusting(JwksSource::parse(&url).unwrap(), Duration::from_secs(60)).await;
    let token = rs256("rsa-1", "rsa-1-private.pem", &issuer_claims());

    let response = app.list_with(&token).await;

    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
}
