//! The five Graph methods and their statuses and shapes.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{DOCS_UPDATE_BODY, TestApp, graph_error, header, json_with_status, spawn_app};

const LOCK: &str = r#"{"action": "remoteLock", "actionState": "pending",
    "requestDateTime": "2024-01-02T03:04:05+00:00", "deviceDisplayName": "DESKTOP-1"}"#;

async fn created_id(app: &TestApp, body: &str) -> String {
    let body = json_with_status(app.post_audit(body).await, 201).await;
    body["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn create_answers_201_with_the_entity_and_its_location() {
    let app = spawn_app().await;

    let response = app.post_audit(LOCK).await;

    let location = header(&response, "location");
    let body = json_with_status(response, 201).await;
    let id = body["id"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "the server makes a UUID: {id}"
    );
    assert_eq!(
        location,
        format!(
            "{}/beta/deviceManagement/remoteActionAudits/{id}",
            app.address
        )
    );
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/remoteActionAudits/$entity",
            app.address
        )
    );
    assert_eq!(body["@odata.type"], "#microsoft.graph.remoteActionAudit");
    assert_eq!(body["action"], "remoteLock");
    assert_eq!(body["actionState"], "pending");
    assert_eq!(body["requestDateTime"], "2024-01-02T03:04:05Z");
    assert_eq!(body["deviceActionCategory"], "single");
    assert_eq!(body["deviceIMEI"], Value::Null);
}

#[tokio::test]
async fn create_keeps_a_given_id_and_refuses_it_twice() {
    let app = spawn_app().await;
    let body = r#"{"id": "audit/1 é", "action": "rebootNow"}"#;

    assert_eq!(created_id(&app, body).await, "audit/1 é");
    let message = graph_error(app.post_audit(body).await, 409, "Conflict").await;

    assert!(message.contains("audit/1 é"), "{message}");
    let fetched = json_with_status(app.get_audit("audit/1 é").await, 200).await;
    assert_eq!(fetched["action"], "rebootNow");
}

#[tokio::test]
async fn get_returns_the_entity_at_the_root() {
    let app = spawn_app().await;
    let id = created_id(&app, LOCK).await;

    let body = json_with_status(app.get_audit(&id).await, 200).await;

    assert!(body.get("value").is_none(), "no wrapper: {body}");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["deviceDisplayName"], "DESKTOP-1");
    let context = body["@odata.context"].as_str().unwrap();
    assert!(
        context.ends_with("#deviceManagement/remoteActionAudits/$entity"),
        "{context}"
    );
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        14,
        "context, type and the 12 properties: {keys:?}"
    );
}

#[tokio::test]
async fn get_of_a_missing_id_is_a_404() {
    let app = spawn_app().await;

    let message = graph_error(
        app.get_audit("no-such-audit").await,
        404,
        "ResourceNotFound",
    )
    .await;

    assert!(message.contains("no-such-audit"), "{message}");
}

#[tokio::test]
async fn list_returns_every_audit_in_a_value_array() {
    let app = spawn_app().await;
    let first = created_id(&app, LOCK).await;
    let second = created_id(&app, r#"{"action": "quickScan"}"#).await;

    let body = json_with_status(app.get("/deviceManagement/remoteActionAudits").await, 200).await;

    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/remoteActionAudits",
            app.address
        )
    );
    let mut ids: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![first.as_str(), second.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(body["value"][0]["@odata.type"].is_string());
}

#[tokio::test]
async fn update_is_partial_and_returns_the_whole_entity() {
    let app = spawn_app().await;
    let id = created_id(&app, LOCK).await;

    let response = app
        .patch_audit(&id, r#"{"actionState": "done", "deviceIMEI": "12345"}"#)
        .await;

    let body = json_with_status(response, 200).await;
    assert_eq!(body["actionState"], "done");
    assert_eq!(body["deviceIMEI"], "12345");
    assert_eq!(
        body["deviceDisplayName"], "DESKTOP-1",
        "absent properties keep their value"
    );
    assert_eq!(body["action"], "remoteLock");
    let fetched = json_with_status(app.get_audit(&id).await, 200).await;
    assert_eq!(fetched, body);
}

#[tokio::test]
async fn update_can_set_a_nullable_property_to_null() {
    let app = spawn_app().await;
    let id = created_id(&app, LOCK).await;

    let body = json_with_status(
        app.patch_audit(&id, r#"{"deviceDisplayName": null}"#).await,
        200,
    )
    .await;

    assert_eq!(body["deviceDisplayName"], Value::Null);
}

#[tokio::test]
async fn update_with_return_minimal_answers_204() {
    let app = spawn_app().await;
    let id = created_id(&app, LOCK).await;

    let response = app
        .request(Method::PATCH, &TestApp::audit_path(&id))
        .header("content-type", "application/json")
        .header("prefer", "return=minimal")
        .body(r#"{"actionState": "failed"}"#)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 204);
    assert_eq!(header(&response, "preference-applied"), "return=minimal");
    assert!(response.text().await.unwrap().is_empty());
    let fetched = json_with_status(app.get_audit(&id).await, 200).await;
    assert_eq!(fetched["actionState"], "failed");
}

#[tokio::test]
async fn the_documented_collection_update_names_the_audit_in_its_body() {
    let app = spawn_app().await;
    let id = created_id(&app, LOCK).await;
    let mut body: Value = serde_json::from_str(DOCS_UPDATE_BODY).unwrap();
    body["id"] = json!(id);

    let response = app
        .client
        .patch(format!(
            "{}/deviceManagement/remoteActionAudits",
            app.address
        ))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();

    let updated = json_with_status(response, 200).await;
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["action"], "factoryReset");
    assert_eq!(updated["requestDateTime"], "2017-01-01T07:57:57.2481234Z");
    assert_eq!(updated["managedDeviceId"], "Managed Device Id value");
    assert_eq!(updated["deviceActionCategory"], "single");
}

#[tokio::test]
async fn a_collection_update_without_an_id_names_both_forms() {
    let app = spawn_app().await;

    let response = app
        .send_json(
            Method::PATCH,
            "/deviceManagement/remoteActionAudits",
            DOCS_UPDATE_BODY,
        )
        .await;

    let message = graph_error(response, 400, "BadRequest").await;
    assert!(message.contains("remoteActionAudits/{id}"), "{message}");
    assert!(message.contains("'id' in the body"), "{message}");
}

#[tokio::test]
async fn updates_of_unknown_ids_are_404_in_both_forms() {
    let app = spawn_app().await;

    let by_path = app
        .patch_audit("missing", r#"{"actionState": "done"}"#)
        .await;
    let by_body = app
        .send_json(
            Method::PATCH,
            "/deviceManagement/remoteActionAudits",
            r#"{"id": "missing", "actionState": "done"}"#,
        )
        .await;

    graph_error(by_path, 404, "ResourceNotFound").await;
    graph_error(by_body, 404, "ResourceNotFound").await;
    assert_eq!(app.count().await, 0, "an update never creates");
}

#[tokio::test]
async fn delete_answers_204_and_the_audit_is_gone() {
    let app = spawn_app().await;
    let id = created_id(&app, LOCK).await;

    let response = app.delete_audit(&id).await;

    assert_eq!(response.status(), 204);
    assert!(response.text().await.unwrap().is_empty());
    graph_error(app.get_audit(&id).await, 404, "ResourceNotFound").await;
    graph_error(app.delete_audit(&id).await, 404, "ResourceNotFound").await;
}

#[tokio::test]
async fn members_after_unknown_future_value_need_the_opt_in() {
    let app = spawn_app().await;
    let wipe = r#"{"id": "d1", "action": "delete"}"#;

    let refused = graph_error(app.post_audit(wipe).await, 400, "BadRequest").await;
    let accepted = app
        .request(Method::POST, "/deviceManagement/remoteActionAudits")
        .header("content-type", "application/json")
        .header("prefer", "include-unknown-enum-members")
        .body(wipe)
        .send()
        .await
        .unwrap();

    assert!(
        refused.contains("include-unknown-enum-members"),
        "{refused}"
    );
    assert_eq!(
        header(&accepted, "preference-applied"),
        "include-unknown-enum-members"
    );
    assert_eq!(json_with_status(accepted, 201).await["action"], "delete");
    let plain = json_with_status(app.get_audit("d1").await, 200).await;
    assert_eq!(plain["action"], "unknownFutureValue");
    let opted_in = app
        .request(Method::GET, &TestApp::audit_path("d1"))
        .header("prefer", "include-unknown-enum-members")
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(opted_in, 200).await["action"], "delete");
}

#[tokio::test]
async fn the_sentinel_is_refused_on_create_and_ignored_on_update() {
    let app = spawn_app().await;
    let id = created_id(&app, LOCK).await;

    let create = app.post_audit(r#"{"action": "unknownFutureValue"}"#).await;
    let update = app
        .patch_audit(
            &id,
            r#"{"action": "unknownFutureValue", "actionState": "done"}"#,
        )
        .await;

    graph_error(create, 400, "BadRequest").await;
    let updated = json_with_status(update, 200).await;
    assert_eq!(updated["action"], "remoteLock");
    assert_eq!(updated["actionState"], "done");
}

#[tokio::test]
async fn request_date_time_keeps_ticks_and_is_written_in_utc() {
    let app = spawn_app().await;
    let cases = [
        (
            "2017-01-01T00:03:07.1589002-08:00",
            "2017-01-01T08:03:07.1589002Z",
        ),
        (
            "2024-05-15T14:13:19.3769410Z",
            "2024-05-15T14:13:19.376941Z",
        ),
        ("2026-09-30T22:58:28.388+09:00", "2026-09-30T13:58:28.388Z"),
        ("2026-10-07T07:35:21+05:30", "2026-10-07T02:05:21Z"),
    ];

    for (sent, expected) in cases {
        let body = json!({"action": "rebootNow", "requestDateTime": sent}).to_string();
        let created = json_with_status(app.post_audit(&body).await, 201).await;
        let id = created["id"].as_str().unwrap();
        let fetched = json_with_status(app.get_audit(id).await, 200).await;
        assert_eq!(fetched["requestDateTime"], expected, "sent {sent}");
    }
}
