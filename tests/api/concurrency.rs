//! Optimistic concurrency: entity tags and `If-Match`.

use reqwest::Method;

use crate::helpers::{TestApp, graph_error, header, json_with_status, spawn_app};

async fn app_with_audit() -> TestApp {
    let app = spawn_app().await;
    let created = app
        .post_audit(r#"{"id": "e1", "action": "remoteLock"}"#)
        .await;
    assert_eq!(header(&created, "etag"), "W/\"1\"");
    app
}

async fn patch_if_match(app: &TestApp, tag: &str, body: &str) -> reqwest::Response {
    app.request(Method::PATCH, &TestApp::audit_path("e1"))
        .header("content-type", "application/json")
        .header("if-match", tag)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_update_moves_the_entity_tag() {
    let app = app_with_audit().await;

    let updated = patch_if_match(&app, "W/\"1\"", r#"{"actionState": "done"}"#).await;
    let fetched = app.get_audit("e1").await;

    assert_eq!(header(&updated, "etag"), "W/\"2\"");
    assert_eq!(header(&fetched, "etag"), "W/\"2\"");
}

#[tokio::test]
async fn a_stale_tag_is_412_and_changes_nothing() {
    let app = app_with_audit().await;
    patch_if_match(&app, "*", r#"{"actionState": "done"}"#).await;

    let stale_update = patch_if_match(&app, "W/\"1\"", r#"{"actionState": "failed"}"#).await;
    let stale_delete = app
        .request(Method::DELETE, &TestApp::audit_path("e1"))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();

    graph_error(stale_update, 412, "PreconditionFailed").await;
    graph_error(stale_delete, 412, "PreconditionFailed").await;
    let current = json_with_status(app.get_audit("e1").await, 200).await;
    assert_eq!(current["actionState"], "done");
}

#[tokio::test]
async fn a_malformed_tag_is_400() {
    let app = app_with_audit().await;

    let response = patch_if_match(&app, "version-1", r#"{"actionState": "failed"}"#).await;

    let message = graph_error(response, 400, "BadRequest").await;
    assert!(message.contains("If-Match"), "{message}");
}

#[tokio::test]
async fn concurrent_updates_are_never_lost() {
    let app = app_with_audit().await;
    let names: Vec<String> = (0..20).map(|i| format!("device-{i}")).collect();

    let updates = names.iter().map(|name| {
        let body = format!(r#"{{"deviceDisplayName": "{name}"}}"#);
        let app = &app;
        async move { app.patch_audit("e1", &body).await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(updates).await;

    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let fetched = app.get_audit("e1").await;
    assert_eq!(
        header(&fetched, "etag"),
        "W/\"21\"",
        "one version per update"
    );
}
