//! Graph's HTTP conventions: routes, methods, headers and error bodies.

use reqwest::Method;

use crate::helpers::{graph_error, header, json_with_status, spawn_app, spawn_app_with};

#[tokio::test]
async fn other_methods_are_405_with_a_graph_error() {
    let app = spawn_app().await;
    let cases = [
        (Method::PUT, "/deviceManagement/remoteActionAudits"),
        (Method::DELETE, "/deviceManagement/remoteActionAudits"),
        (Method::POST, "/deviceManagement/remoteActionAudits/a1"),
        (Method::PUT, "/deviceManagement/remoteActionAudits/a1"),
        (Method::POST, "/deviceManagement/remoteActionAudits/$count"),
        (
            Method::DELETE,
            "/deviceManagement/remoteActionAudits/$count",
        ),
    ];

    for (method, path) in cases {
        let response = app.request(method.clone(), path).send().await.unwrap();
        let message = graph_error(response, 405, "Request_BadRequest").await;
        assert!(
            message.contains("not allowed"),
            "{method} {path}: {message}"
        );
    }
}

#[tokio::test]
async fn unknown_segments_are_named_in_the_error() {
    let app = spawn_app().await;

    let message = graph_error(app.get("/deviceManagement/wipes").await, 400, "BadRequest").await;

    assert_eq!(message, "Resource not found for the segment 'wipes'.");
}

#[tokio::test]
async fn every_route_also_answers_at_the_root() {
    let app = spawn_app().await;
    let root = format!("{}/deviceManagement/remoteActionAudits", app.address);

    let created = app
        .client
        .post(&root)
        .header("content-type", "application/json")
        .body(r#"{"id": "r1", "action": "rebootNow"}"#)
        .send()
        .await
        .unwrap();
    let listed = app.client.get(&root).send().await.unwrap();

    assert_eq!(header(&created, "location"), format!("{root}/r1"));
    let body = json_with_status(listed, 200).await;
    assert_eq!(
        body["@odata.context"],
        format!(
            "{}/$metadata#deviceManagement/remoteActionAudits",
            app.address
        )
    );
    assert_eq!(body["value"][0]["id"], "r1");
}

#[tokio::test]
async fn responses_carry_graphs_headers() {
    let app = spawn_app().await;

    for response in [
        app.get("/deviceManagement/remoteActionAudits").await,
        app.get("/deviceManagement/remoteActionAudits/missing")
            .await,
    ] {
        let request_id = header(&response, "request-id");
        assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "{request_id}");
        assert_eq!(header(&response, "client-request-id"), request_id);
        assert_eq!(header(&response, "odata-version"), "4.0");
        assert_eq!(
            header(&response, "content-type"),
            "application/json;odata.metadata=minimal;odata.streaming=true;\
             IEEE754Compatible=false;charset=utf-8"
        );
    }
}

#[tokio::test]
async fn request_ids_are_new_and_client_ids_are_echoed() {
    let app = spawn_app().await;
    let client_id = "6f1a0c9e-2b3d-4c5e-8f70-112233445566";

    let first = app
        .request(Method::GET, "/deviceManagement/remoteActionAudits/missing")
        .header("client-request-id", client_id)
        .send()
        .await
        .unwrap();
    let second = app.get("/deviceManagement/remoteActionAudits").await;

    assert_eq!(header(&first, "client-request-id"), client_id);
    assert_ne!(header(&first, "request-id"), header(&second, "request-id"));
    let body = json_with_status(first, 404).await;
    assert_eq!(body["error"]["innerError"]["client-request-id"], client_id);
    let date = body["error"]["innerError"]["date"].as_str().unwrap();
    assert_eq!(date.len(), "2024-09-19T11:52:23".len(), "{date}");
}

#[tokio::test]
async fn a_public_url_replaces_the_host_in_links() {
    let app = spawn_app_with(|settings| {
        settings.public_url = Some("https://audits.example.test/".into());
    })
    .await;

    let body = json_with_status(app.get("/deviceManagement/remoteActionAudits").await, 200).await;

    assert_eq!(
        body["@odata.context"],
        "https://audits.example.test/beta/$metadata#deviceManagement/remoteActionAudits"
    );
}

#[tokio::test]
async fn count_is_a_bare_integer() {
    let app = spawn_app().await;
    app.post_audit(r#"{"action": "rebootNow"}"#).await;

    let response = app.get("/deviceManagement/remoteActionAudits/$count").await;

    assert!(header(&response, "content-type").starts_with("text/plain"));
    assert_eq!(response.text().await.unwrap(), "1");
}

#[tokio::test]
async fn path_segments_match_without_regard_to_case() {
    let app = spawn_app().await;
    app.post_audit(r#"{"id": "Case-1", "action": "rebootNow"}"#)
        .await;

    let item = app.client.get(format!(
        "{}/BETA/DeviceManagement/remoteactionaudits/Case-1",
        app.address
    ));
    let count = app.client.get(format!(
        "{}/devicemanagement/RemoteActionAudits/$COUNT",
        app.address
    ));
    let other_key = app.get("/deviceManagement/remoteActionAudits/case-1").await;

    let body = json_with_status(item.send().await.unwrap(), 200).await;
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .contains("/beta/$metadata"),
        "{body}"
    );
    assert_eq!(count.send().await.unwrap().text().await.unwrap(), "1");
    graph_error(other_key, 404, "ResourceNotFound").await;
}

#[tokio::test]
async fn the_segment_past_the_key_is_named() {
    let app = spawn_app().await;

    let response = app
        .get("/deviceManagement/remoteActionAudits/a1/details")
        .await;

    let message = graph_error(response, 400, "BadRequest").await;
    assert_eq!(message, "Resource not found for the segment 'details'.");
}

#[tokio::test]
async fn a_client_request_id_that_could_bend_the_log_is_ignored() {
    let app = spawn_app().await;

    let response = app
        .request(Method::GET, "/deviceManagement/remoteActionAudits")
        .header("client-request-id", r#"a" http.status=500 x=""#)
        .send()
        .await
        .unwrap();

    assert_eq!(
        header(&response, "client-request-id"),
        header(&response, "request-id")
    );
}

#[tokio::test]
async fn the_page_size_applied_is_the_one_used() {
    let app = spawn_app_with(|settings| settings.page_size = 3).await;
    for i in 0..5 {
        app.post_audit(&format!(r#"{{"id": "p{i}", "action": "rebootNow"}}"#))
            .await;
    }

    let response = app
        .request(Method::GET, "/deviceManagement/remoteActionAudits")
        .header("prefer", "odata.maxpagesize=5000")
        .send()
        .await
        .unwrap();

    assert_eq!(
        header(&response, "preference-applied"),
        "odata.maxpagesize=3"
    );
    let body = json_with_status(response, 200).await;
    assert_eq!(body["value"].as_array().unwrap().len(), 3);
}
