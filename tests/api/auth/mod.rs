//! Authentication, permissions, throttling and the server's limits, end to
//! end: tokens minted here with the test app's local key, or signed by a
//! test issuer, and the Graph errors they get.

mod limits;
mod oidc;
mod permissions;
mod rejections;
mod throttling;

use remote_action_audits::auth::tokens::{Claims, GRAPH_AUDIENCE, LOCAL_ISSUER, unix_now};
use remote_action_audits::auth::{GrantKind, LocalSigner, TokenRequest};
use remote_action_audits::domain::{AuditInput, BodyKind};
use serde_json::Value;

pub(crate) use crate::helpers::{TestApp, spawn_app, spawn_app_with};

pub(crate) const AUDITS: &str = "/beta/deviceManagement/remoteActionAudits";

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A delegated token from the local key with `permissions`.
    pub(crate) fn token(&self, permissions: &[&str]) -> String {
        self.token_for(permissions, GrantKind::Delegated, "app-1")
    }

    pub(crate) fn token_for(&self, permissions: &[&str], kind: GrantKind, app_id: &str) -> String {
        let request = TokenRequest {
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            kind,
            app_id: app_id.to_owned(),
            ..TokenRequest::default()
        };
        self.signer().mint(&request).unwrap()
    }

    /// Signs `claims` as they are with the local key.
    pub(crate) fn sign(&self, claims: &Claims) -> String {
        self.signer().sign(claims).unwrap()
    }

    pub(crate) fn signer(&self) -> LocalSigner {
        LocalSigner::for_data_dir(&self.data_dir).unwrap()
    }

    /// `GET` on the entity set with `token`.
    pub(crate) async fn list_with(&self, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(AUDITS))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Adds an audit through the store and returns its id.
    pub(crate) async fn seed_audit(&self) -> String {
        let body = br#"{"action":"factoryReset","actionState":"pending"}"#;
        let audit = AuditInput::parse(body, BodyKind::Create, false)
            .unwrap()
            .into_new_audit()
            .unwrap();
        self.store.insert(&audit).await.unwrap().audit.id
    }
}

/// Claims of a valid local read-write token, for tests to spoil.
pub(crate) fn valid_claims() -> Claims {
    let now = unix_now();
    Claims {
        iss: Some(LOCAL_ISSUER.into()),
        aud: Some(GRAPH_AUDIENCE.into()),
        tid: Some("tenant-1".into()),
        appid: Some("app-1".into()),
        scp: Some("DeviceManagementConfiguration.ReadWrite.All".into()),
        iat: Some(now),
        nbf: Some(now),
        exp: Some(now + 3600),
        ..Claims::default()
    }
}

/// The Graph error of a response: its status, code, message and headers.
pub(crate) struct GraphError {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

pub(crate) async fn graph_error(response: reqwest::Response) -> GraphError {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    let json: Value = serde_json::from_str(&body).unwrap();
    GraphError {
        status,
        code: json["error"]["code"].as_str().unwrap().to_owned(),
        message: json["error"]["message"].as_str().unwrap().to_owned(),
        headers,
        body,
    }
}

/// Asserts Graph's 401 for a refused token, and that the body does not
/// quote the token.
pub(crate) async fn assert_unauthenticated(response: reqwest::Response, token: &str) {
    let error = graph_error(response).await;

    assert_eq!(error.status, 401, "{}", error.body);
    assert_eq!(error.code, "InvalidAuthenticationToken");
    assert_eq!(error.headers["www-authenticate"], "Bearer");
    if !token.is_empty() {
        assert!(!error.body.contains(token), "the body quotes the token");
        let signature = token.rsplit('.').next().unwrap();
        assert!(signature.is_empty() || !error.body.contains(signature));
    }
}
