//! Bad bodies: each is a 400 (or 413/415) Graph error that names the
//! property and the problem, and nothing is written.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, graph_error, json_with_status, spawn_app, spawn_app_with};

const ORIGINAL: &str = r#"{"id": "a1", "action": "remoteLock", "actionState": "pending",
    "requestDateTime": "2024-01-02T03:04:05Z", "deviceDisplayName": "DESKTOP-1"}"#;

/// (body, words the message must hold)
const BAD_BODIES: &[(&str, &[&str])] = &[
    (r#"{"action": "remoteLock""#, &["not valid", "EOF"]),
    ("not json", &["not valid"]),
    (r#"["action"]"#, &["JSON object"]),
    (r#"{"action": 4}"#, &["'action'", "must be a string"]),
    (
        r#"{"deviceDisplayName": ["x"]}"#,
        &["'deviceDisplayName'", "an array"],
    ),
    (r#"{"deviceIMEI": true}"#, &["'deviceIMEI'", "a boolean"]),
    (
        r#"{"deviceActionDetails": []}"#,
        &["'deviceActionDetails'", "does not exist"],
    ),
    (
        r#"{"DeviceDisplayName": "x"}"#,
        &["'DeviceDisplayName'", "does not exist"],
    ),
    (
        r#"{"action": "FactoryReset"}"#,
        &["'action'", "'FactoryReset' was not found"],
    ),
    (
        r#"{"actionState": "PENDING"}"#,
        &["'actionState'", "'PENDING' was not found"],
    ),
    (
        r#"{"deviceActionCategory": "group"}"#,
        &["'deviceActionCategory'", "'group'"],
    ),
    (r#"{"action": null}"#, &["'action'", "cannot be null"]),
    (
        r#"{"requestDateTime": null}"#,
        &["'requestDateTime'", "cannot be null"],
    ),
    (
        r#"{"actionState": null}"#,
        &["'actionState'", "cannot be null"],
    ),
    (
        r#"{"deviceActionCategory": null}"#,
        &["'deviceActionCategory'", "cannot be null"],
    ),
    (
        r#"{"requestDateTime": "2024-01-19T13:38:22.169688"}"#,
        &["'requestDateTime'", "offset"],
    ),
    (
        r#"{"requestDateTime": "2024-01-19T13:38:22.12345678Z"}"#,
        &["more than 7"],
    ),
    (
        r#"{"requestDateTime": "yesterday"}"#,
        &["'yesterday'", "Edm.DateTimeOffset"],
    ),
    (
        r##"{"@odata.type": "#microsoft.graph.managedDevice"}"##,
        &["'@odata.type'"],
    ),
    (
        r#"{"userName": "a", "userName": "b"}"#,
        &["'userName'", "more than once"],
    ),
    (r#"{"deviceIMEI": "a\u0000b"}"#, &["'deviceIMEI'", "NUL"]),
];

async fn app_with_original() -> (TestApp, Value) {
    let app = spawn_app().await;
    let original = json_with_status(app.post_audit(ORIGINAL).await, 201).await;
    (app, original)
}

#[tokio::test]
async fn bad_update_bodies_are_refused_and_change_nothing() {
    let (app, original) = app_with_original().await;

    for (body, words) in BAD_BODIES {
        let message = graph_error(app.patch_audit("a1", body).await, 400, "BadRequest").await;
        for word in *words {
            assert!(message.contains(word), "{body}: {message}");
        }
    }

    let after = json_with_status(app.get_audit("a1").await, 200).await;
    assert_eq!(after, original);
}

#[tokio::test]
async fn bad_create_bodies_are_refused_and_write_nothing() {
    let (app, _) = app_with_original().await;

    for (body, words) in BAD_BODIES {
        let message = graph_error(app.post_audit(body).await, 400, "BadRequest").await;
        for word in *words {
            assert!(message.contains(word), "{body}: {message}");
        }
    }

    assert_eq!(app.count().await, 1);
}

#[tokio::test]
async fn a_create_needs_an_action() {
    let app = spawn_app().await;

    let message = graph_error(
        app.post_audit(r#"{"deviceIMEI": "1"}"#).await,
        400,
        "BadRequest",
    )
    .await;

    assert!(message.contains("'action' is required"), "{message}");
    assert_eq!(app.count().await, 0);
}

#[tokio::test]
async fn an_update_cannot_change_the_id() {
    let (app, original) = app_with_original().await;

    let response = app
        .patch_audit("a1", r#"{"id": "b2", "actionState": "done"}"#)
        .await;
    let same_id = app
        .patch_audit("a1", r#"{"id": "a1", "actionState": "failed"}"#)
        .await;

    let message = graph_error(response, 400, "BadRequest").await;
    assert!(
        message.contains("'b2'") && message.contains("'a1'"),
        "{message}"
    );
    assert_eq!(
        json_with_status(same_id, 200).await["actionState"],
        "failed"
    );
    assert_ne!(original["actionState"], "failed");
}

#[tokio::test]
async fn a_non_json_content_type_is_415() {
    let (app, original) = app_with_original().await;

    for (method, path) in [
        (
            Method::POST,
            "/deviceManagement/remoteActionAudits".to_owned(),
        ),
        (Method::PATCH, TestApp::audit_path("a1")),
    ] {
        for content_type in [
            "application/x-www-form-urlencoded",
            "application/json; charset=utf-16",
            "text/plain",
        ] {
            let response = app
                .request(method.clone(), &path)
                .header("content-type", content_type)
                .body(r#"{"actionState": "done", "action": "rebootNow"}"#)
                .send()
                .await
                .unwrap();
            let message = graph_error(response, 415, "UnsupportedMediaType").await;
            assert!(message.contains(content_type), "{message}");
        }

        let missing = app.request(method, &path).body("{}").send().await.unwrap();
        graph_error(missing, 415, "UnsupportedMediaType").await;
    }

    assert_eq!(
        json_with_status(app.get_audit("a1").await, 200).await,
        original
    );
    assert_eq!(app.count().await, 1);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app_with(|settings| settings.max_body_bytes = 512).await;
    let padding = "x".repeat(600);
    let body = format!(r#"{{"action": "rebootNow", "deviceDisplayName": "{padding}"}}"#);

    let message = graph_error(app.post_audit(&body).await, 413, "RequestEntityTooLarge").await;

    assert!(message.contains("512"), "{message}");
    assert_eq!(app.count().await, 0);
}

#[tokio::test]
async fn the_default_body_limit_is_one_mebibyte() {
    let app = spawn_app().await;
    let padding = "x".repeat(1024 * 1024);
    let body = format!(r#"{{"action": "rebootNow", "deviceDisplayName": "{padding}"}}"#);

    graph_error(app.post_audit(&body).await, 413, "RequestEntityTooLarge").await;
}

#[tokio::test]
async fn overlong_strings_are_refused() {
    let app = spawn_app().await;
    let name = "n".repeat(1025);
    let body = format!(r#"{{"action": "rebootNow", "deviceDisplayName": "{name}"}}"#);

    let message = graph_error(app.post_audit(&body).await, 400, "BadRequest").await;

    assert!(message.contains("longer than 1024"), "{message}");
}

#[tokio::test]
async fn a_malformed_chunked_body_is_400_not_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let token = crate::helpers::read_write_token(&app.data_dir);
    let request = format!(
        "POST /beta/deviceManagement/remoteActionAudits HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\nZZ\r\n"
    );

    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let read = stream.read(&mut answer).await.unwrap();

    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("could not be read"), "{answer}");
    assert_eq!(app.count().await, 0);
}
