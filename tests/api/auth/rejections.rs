//! Each way a token is refused: one test each.

use remote_action_audits::auth::tokens::{Claims, unix_now};
use remote_action_audits::auth::{LocalSigner, SigningKey};

use super::{AUDITS, assert_unauthenticated, graph_error, spawn_app, valid_claims};

#[tokio::test]
async fn a_valid_token_is_accepted() {
    let app = spawn_app().await;
    let token = app.sign(&valid_claims());

    let response = app.list_with(&token).await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_missing_token_is_refused() {
    let app = spawn_app().await;

    let response = app.anonymous.get(app.url(AUDITS)).send().await.unwrap();

    let error = graph_error(response).await;
    assert_eq!(error.status, 401);
    assert_eq!(error.code, "InvalidAuthenticationToken");
    assert_eq!(error.message, "Access token is empty.");
    assert_eq!(error.headers["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn another_scheme_is_refused() {
    let app = spawn_app().await;
    let token = app.sign(&valid_claims());

    let response = app
        .anonymous
        .get(app.url(AUDITS))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn a_malformed_token_is_refused() {
    let app = spawn_app().await;

    let response = app.list_with("not-a-jwt").await;

    assert_unauthenticated(response, "not-a-jwt").await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let now = unix_now();
    let token = app.sign(&Claims {
        iat: Some(now - 7200),
        nbf: Some(now - 7200),
        exp: Some(now - 3600),
        ..valid_claims()
    });

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let app = spawn_app().await;
    let now = unix_now();
    let token = app.sign(&Claims {
        nbf: Some(now + 3600),
        exp: Some(now + 7200),
        ..valid_claims()
    });

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused() {
    let app = spawn_app().await;
    let stranger = LocalSigner::new(SigningKey::generate());
    let token = stranger.sign(&valid_claims()).unwrap();

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_refused() {
    let app = spawn_app().await;
    let token = app.sign(&valid_claims());
    let forged_payload = app
        .sign(&Claims {
            scp: Some("Directory.ReadWrite.All".into()),
            ..valid_claims()
        })
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);

    let response = app.list_with(&tampered).await;

    assert_unauthenticated(response, &tampered).await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let app = spawn_app().await;
    let token = app.sign(&Claims {
        aud: Some("api://some-other-api".into()),
        ..valid_claims()
    });

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let app = spawn_app().await;
    let token = app.sign(&Claims {
        iss: Some("someone-else".into()),
        ..valid_claims()
    });

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn a_token_without_expiry_is_refused() {
    let app = spawn_app().await;
    let token = app.sign(&Claims {
        exp: None,
        ..valid_claims()
    });

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn an_unsigned_token_is_refused() {
    let app = spawn_app().await;
    let signed = app.sign(&valid_claims());
    let payload = signed.split('.').nth(1).unwrap();
    let header = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
    let token = format!("{header}.{payload}.");

    let response = app.list_with(&token).await;

    assert_unauthenticated(response, &token).await;
}

#[tokio::test]
async fn health_probes_need_no_token() {
    let app = spawn_app().await;

    let response = app.anonymous.get(app.url("/healthz")).send().await.unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn unknown_paths_need_a_token_too() {
    let app = spawn_app().await;

    let response = app
        .anonymous
        .get(app.url("/beta/users"))
        .send()
        .await
        .unwrap();

    assert_unauthenticated(response, "").await;
}

pub(crate) fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
