//! Importing JSON Lines: the sample audits, bad lines, re-imports and
//! restarts.

use std::io::Cursor;
use std::process::Command;

use serde_json::Value;

use crate::helpers::{
    DOCS_UPDATE_BODY, TestDatabase, json_with_status, sample_audits, spawn_app, spawn_app_on,
    store_args,
};

#[tokio::test]
async fn the_sample_imports_once_whatever_the_number_of_runs() {
    let app = spawn_app().await;

    let first = app.import_sample().await;
    let second = app.import_sample().await;

    assert_eq!(
        (first.imported, first.already_present, first.rejected),
        (2000, 0, 0)
    );
    assert_eq!(
        (second.imported, second.already_present, second.rejected),
        (0, 2000, 0)
    );
    assert_eq!(app.count().await, 2000);
}

#[tokio::test]
async fn awkward_device_names_round_trip_exactly() {
    let app = spawn_app().await;
    app.import_sample().await;
    let awkward = |name: &str| {
        name.contains('"')
            || name.contains('\t')
            || name.contains('\'')
            || name.is_empty()
            || name.chars().count() >= 255
            || !name.is_ascii()
    };

    let mut checked = 0;
    for audit in sample_audits() {
        let Some(name) = audit["deviceDisplayName"].as_str() else {
            continue;
        };
        if !awkward(name) {
            continue;
        }
        let id = audit["id"].as_str().unwrap();
        let served = json_with_status(app.get_audit(id).await, 200).await;
        assert_eq!(served["deviceDisplayName"], Value::from(name), "{id}");
        assert_eq!(
            served["deviceOwnerUserPrincipalName"],
            audit["deviceOwnerUserPrincipalName"]
        );
        checked += 1;
    }

    assert!(
        checked > 100,
        "the sample has many awkward names; checked {checked}"
    );
}

#[tokio::test]
async fn sample_times_are_served_as_the_same_instants() {
    let app = spawn_app().await;
    app.import_sample().await;

    for audit in sample_audits().iter().step_by(97) {
        let served =
            json_with_status(app.get_audit(audit["id"].as_str().unwrap()).await, 200).await;
        let sent = audit["requestDateTime"].as_str().unwrap();
        let served_time = served["requestDateTime"].as_str().unwrap();
        assert!(served_time.ends_with('Z'), "{served_time}");
        assert_eq!(
            instant(sent),
            instant(served_time),
            "{sent} vs {served_time}"
        );
    }
}

fn instant(text: &str) -> i128 {
    let format = time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(text, &format)
        .unwrap()
        .unix_timestamp_nanos()
}

#[tokio::test]
async fn bad_lines_are_reported_and_the_rest_imported() {
    let app = spawn_app().await;
    let input = [
        r#"{"id": "ok-1", "action": "rebootNow"}"#,
        r#"{"id": "bad-1", "action": "Reboot"}"#,
        "",
        "{not json",
        r#"{"action": "rebootNow"}"#,
        r#"{"id": "ok-2", "action": "delete"}"#,
        r#"{"id": "ok-1", "action": "quickScan"}"#,
    ]
    .join("\n");

    let mut reports = Vec::new();
    let summary = remote_action_audits::import::import_lines(
        app.store.as_ref(),
        &mut Cursor::new(input),
        |line, reason| reports.push((line, reason.to_owned())),
    )
    .await
    .unwrap();

    assert_eq!(
        (summary.imported, summary.already_present, summary.rejected),
        (2, 1, 3)
    );
    let lines: Vec<u64> = reports.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [2, 4, 5]);
    assert!(
        reports[0].1.contains("'Reboot' was not found"),
        "{reports:?}"
    );
    assert!(reports[2].1.contains("needs an 'id'"), "{reports:?}");
    let first = json_with_status(app.get_audit("ok-1").await, 200).await;
    assert_eq!(
        first["action"], "rebootNow",
        "the first of a repeated id wins"
    );
}

#[tokio::test]
async fn the_import_command_reports_lines_and_a_summary() {
    let database = TestDatabase::new();
    let file = database.dir.path().join("audits.jsonl");
    std::fs::write(
        &file,
        "{\"id\": \"x\", \"action\": \"rebootNow\"}\n{\"id\": 5}\n",
    )
    .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_remote-action-audits"))
        .arg("import")
        .args(store_args(database.dir.path()).await)
        .arg(&file)
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "some lines were rejected; {stderr}"
    );
    assert!(
        stdout.contains("imported 1, already present 0, rejected 1"),
        "{stdout}"
    );
    assert!(
        stderr.contains("line 2: The property 'id' must be a string"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_documented_update_survives_a_restart() {
    let database = TestDatabase::new();
    let dir = &database.dir;
    let id = sample_audits()[1234]["id"].as_str().unwrap().to_owned();
    let app = spawn_app_on(dir.path(), |_| {}).await;
    app.import_sample().await;

    let updated = json_with_status(app.patch_audit(&id, DOCS_UPDATE_BODY).await, 200).await;
    drop(app);
    let restarted = spawn_app_on(dir.path(), |_| {}).await;

    let served = json_with_status(restarted.get_audit(&id).await, 200).await;
    assert_eq!(without_context(served), without_context(updated));
    assert_eq!(restarted.count().await, 2000);
}

/// The entity without `@odata.context`, whose host changes with the port.
fn without_context(mut entity: Value) -> Value {
    let context = entity.as_object_mut().unwrap().remove("@odata.context");
    assert!(context.is_some());
    entity
}

#[tokio::test]
async fn a_byte_order_mark_and_crlf_endings_are_accepted() {
    let app = spawn_app().await;
    let input = "\u{feff}{\"id\": \"b1\", \"action\": \"rebootNow\"}\r\n\
                 {\"id\": \"b2\", \"action\": \"quickScan\"}\r\n";

    let summary = remote_action_audits::import::import_lines(
        app.store.as_ref(),
        &mut Cursor::new(input),
        |line, reason| panic!("line {line} was rejected: {reason}"),
    )
    .await
    .unwrap();

    assert_eq!(summary.imported, 2);
    assert_eq!(
        json_with_status(app.get_audit("b2").await, 200).await["action"],
        "quickScan"
    );
}
