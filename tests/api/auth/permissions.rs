//! Every route and method against a token with each permission, with none
//! and with the wrong one, as delegated (`scp`) and application (`roles`)
//! tokens.

use remote_action_audits::auth::GrantKind;
use remote_action_audits::auth::permissions::{
    CONFIGURATION_READ, CONFIGURATION_READ_WRITE, MANAGED_DEVICES_READ, MANAGED_DEVICES_READ_WRITE,
};
use reqwest::Method;

use super::{AUDITS, TestApp, graph_error, spawn_app};

const READ_PERMISSIONS: [&str; 4] = [
    CONFIGURATION_READ,
    CONFIGURATION_READ_WRITE,
    MANAGED_DEVICES_READ,
    MANAGED_DEVICES_READ_WRITE,
];
const WRITE_PERMISSIONS: [&str; 2] = [CONFIGURATION_READ_WRITE, MANAGED_DEVICES_READ_WRITE];

/// One request of the matrix and the status it gets when permitted.
struct Call {
    method: Method,
    path: String,
    body: Option<String>,
    success: u16,
}

impl Call {
    fn is_write(&self) -> bool {
        self.method != Method::GET
    }
}

/// The calls on every route, each against an audit of its own so that a
/// permitted delete or update always finds its target.
async fn calls(app: &TestApp) -> Vec<Call> {
    let updated = app.seed_audit().await;
    let updated_by_body = app.seed_audit().await;
    let deleted = app.seed_audit().await;
    let read = app.seed_audit().await;
    let call = |method, path: String, body: Option<String>, success| Call {
        method,
        path,
        body,
        success,
    };

    vec![
        call(Method::GET, AUDITS.into(), None, 200),
        call(Method::GET, format!("{AUDITS}/$count"), None, 200),
        call(Method::GET, format!("{AUDITS}/{read}"), None, 200),
        call(
            Method::POST,
            AUDITS.into(),
            Some(r#"{"action":"remoteLock"}"#.into()),
            201,
        ),
        call(
            Method::PATCH,
            format!("{AUDITS}/{updated}"),
            Some(r#"{"actionState":"done"}"#.into()),
            200,
        ),
        call(
            Method::PATCH,
            AUDITS.into(),
            Some(format!(
                r#"{{"id":"{updated_by_body}","actionState":"done"}}"#
            )),
            200,
        ),
        call(Method::DELETE, format!("{AUDITS}/{deleted}"), None, 204),
        // The same entity set without the /beta prefix.
        call(
            Method::GET,
            "/deviceManagement/remoteActionAudits".into(),
            None,
            200,
        ),
    ]
}

async fn send(app: &TestApp, call: &Call, token: &str) -> reqwest::Response {
    let mut request = app
        .anonymous
        .request(call.method.clone(), app.url(&call.path))
        .bearer_auth(token);
    if let Some(body) = &call.body {
        request = request
            .header("content-type", "application/json")
            .body(body.clone());
    }
    request.send().await.unwrap()
}

async fn check_matrix(permissions: &[&str], kind: GrantKind) {
    let app = spawn_app().await;
    let token = app.token_for(permissions, kind, "matrix-app");

    for call in calls(&app).await {
        let allowed = if call.is_write() {
            permissions.iter().any(|p| WRITE_PERMISSIONS.contains(p))
        } else {
            permissions.iter().any(|p| READ_PERMISSIONS.contains(p))
        };

        let response = send(&app, &call, &token).await;

        let what = format!(
            "{} {} with {permissions:?} ({kind:?})",
            call.method, call.path
        );
        if allowed {
            assert_eq!(response.status().as_u16(), call.success, "{what}");
        } else {
            let error = graph_error(response).await;
            assert_eq!(
                (error.status, error.code.as_str()),
                (403, "Forbidden"),
                "{what}"
            );
            assert!(
                error.message.contains("This request needs one of:"),
                "{what}"
            );
        }
    }
}

async fn check_both_kinds(permissions: &[&str]) {
    check_matrix(permissions, GrantKind::Delegated).await;
    check_matrix(permissions, GrantKind::Application).await;
}

#[tokio::test]
async fn configuration_read_reads_only() {
    check_both_kinds(&[CONFIGURATION_READ]).await;
}

#[tokio::test]
async fn configuration_read_write_reads_and_writes() {
    check_both_kinds(&[CONFIGURATION_READ_WRITE]).await;
}

#[tokio::test]
async fn managed_devices_read_reads_only() {
    check_both_kinds(&[MANAGED_DEVICES_READ]).await;
}

#[tokio::test]
async fn managed_devices_read_write_reads_and_writes() {
    check_both_kinds(&[MANAGED_DEVICES_READ_WRITE]).await;
}

#[tokio::test]
async fn no_permission_does_nothing() {
    check_both_kinds(&[]).await;
}

#[tokio::test]
async fn a_wrong_permission_does_nothing() {
    check_both_kinds(&["User.Read", "DeviceManagementApps.ReadWrite.All"]).await;
}

#[tokio::test]
async fn a_read_token_is_told_which_permissions_would_write() {
    let app = spawn_app().await;
    let token = app.token(&[CONFIGURATION_READ]);

    let response = app
        .anonymous
        .delete(app.url(&format!("{AUDITS}/some-id")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    let error = graph_error(response).await;
    assert_eq!(error.status, 403);
    assert_eq!(
        error.message,
        "Insufficient privileges to complete the operation. This request needs one of: \
         DeviceManagementConfiguration.ReadWrite.All, \
         DeviceManagementManagedDevices.ReadWrite.All."
    );
}
