//! The store underneath: versions, the shared secret, migrations on start,
//! several nodes on one database, and the health endpoints. Each test runs
//! against whichever store the suite was started for.

use remote_action_audits::domain::{AuditInput, BodyKind, RemoteActionAudit};
use remote_action_audits::storage::{AuditStore, StoreError};

use crate::helpers::{TestDatabase, json_with_status, open_store, spawn_app, spawn_app_on};

const LOCK: &str = r#"{"id": "node-test", "action": "remoteLock", "actionState": "pending"}"#;

fn audit(body: &str) -> RemoteActionAudit {
    let input = AuditInput::parse(body.as_bytes(), BodyKind::Create, false).unwrap();
    input.into_new_audit().unwrap()
}

fn changes(body: &str) -> AuditInput {
    AuditInput::parse(body.as_bytes(), BodyKind::Update, false).unwrap()
}

#[tokio::test]
async fn versions_start_at_one_and_count_updates() {
    let database = TestDatabase::new();
    let store = open_store(database.dir.path()).await;

    let created = store.insert(&audit(LOCK)).await.unwrap();
    let first = store
        .update("node-test", &changes(r#"{"userName": "a"}"#), Some(1))
        .await
        .unwrap();
    let second = store
        .update("node-test", &changes(r#"{"userName": "b"}"#), None)
        .await
        .unwrap();

    assert_eq!((created.version, first.version, second.version), (1, 2, 3));
    assert_eq!(second.audit.user_name.as_deref(), Some("b"));
    let stored = store.get("node-test").await.unwrap().unwrap();
    assert_eq!(stored.version, 3);
}

#[tokio::test]
async fn stale_versions_and_taken_ids_are_refused() {
    let database = TestDatabase::new();
    let store = open_store(database.dir.path()).await;
    store.insert(&audit(LOCK)).await.unwrap();

    let taken = store.insert(&audit(LOCK)).await;
    let stale_update = store.update("node-test", &changes("{}"), Some(7)).await;
    let stale_delete = store.delete("node-test", Some(2)).await;
    let missing = store.delete("nobody", None).await;

    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert!(
        matches!(
            stale_update,
            Err(StoreError::VersionMismatch {
                expected: 7,
                current: 1
            })
        ),
        "{stale_update:?}"
    );
    assert!(matches!(
        stale_delete,
        Err(StoreError::VersionMismatch { .. })
    ));
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
    assert!(store.delete("node-test", Some(1)).await.is_ok());
    assert!(store.get("node-test").await.unwrap().is_none());
}

#[tokio::test]
async fn several_nodes_can_start_at_once_on_a_new_database() {
    let database = TestDatabase::new();
    let dir = database.dir.path();

    let stores = open_four_stores(dir).await;

    let first = stores[0].insert(&audit(LOCK)).await.unwrap();
    for store in &stores {
        let seen = store.get("node-test").await.unwrap();
        assert_eq!(seen.map(|s| s.audit), Some(first.audit.clone()));
    }
}

/// Four stores opened concurrently on the database of `dir`.
async fn open_four_stores(dir: &std::path::Path) -> Vec<std::sync::Arc<dyn AuditStore>> {
    // The schema standing for the database exists before the nodes start,
    // as a database does in production.
    crate::helpers::postgres_url_for(dir).await;

    let opening: Vec<_> = (0..4)
        .map(|_| {
            let dir = dir.to_path_buf();
            tokio::spawn(async move { open_store(&dir).await })
        })
        .collect();
    let mut stores = Vec::new();
    for handle in opening {
        stores.push(handle.await.expect("the store opens"));
    }
    stores
}

#[tokio::test]
async fn every_node_signs_with_the_same_secret() {
    let database = TestDatabase::new();
    let first = open_store(database.dir.path()).await;
    let second = open_store(database.dir.path()).await;

    let made = first.instance_secret().await.unwrap();
    let read = second.instance_secret().await.unwrap();

    assert_eq!(made.len(), 32);
    assert_eq!(made, read);
}

#[tokio::test]
async fn a_write_through_one_node_is_seen_at_once_through_another() {
    let database = TestDatabase::new();
    let a = spawn_app_on(database.dir.path(), |_| {}).await;
    let b = spawn_app_on(database.dir.path(), |_| {}).await;

    json_with_status(a.post_audit(LOCK).await, 201).await;
    let seen = json_with_status(b.get_audit("node-test").await, 200).await;
    json_with_status(
        b.patch_audit("node-test", r#"{"userName": "B"}"#).await,
        200,
    )
    .await;
    let updated = json_with_status(a.get_audit("node-test").await, 200).await;
    assert_eq!(a.delete_audit("node-test").await.status(), 204);
    let gone = b.get_audit("node-test").await.status();

    assert_eq!(seen["action"], "remoteLock");
    assert_eq!(updated["userName"], "B");
    assert_eq!(gone, 404);
    assert_eq!(b.count().await, 0);
}

#[tokio::test]
async fn a_list_through_one_node_shows_what_another_wrote() {
    let database = TestDatabase::new();
    let a = spawn_app_on(database.dir.path(), |_| {}).await;
    let b = spawn_app_on(database.dir.path(), |_| {}).await;
    a.import_sample().await;

    let page = json_with_status(b.get("/deviceManagement/remoteActionAudits").await, 200).await;

    let listed = page["value"].as_array().expect("a value array").len();
    assert_eq!(listed, 1000, "one full page of the 2000 sample audits");
    assert_eq!(b.count().await, 2000);
}

#[tokio::test]
async fn a_next_link_made_by_one_node_is_followed_on_another() {
    let database = TestDatabase::new();
    let a = spawn_app_on(database.dir.path(), |_| {}).await;
    let b = spawn_app_on(database.dir.path(), |_| {}).await;
    a.import_sample().await;
    let nodes = [&a, &b];

    let mut ids = std::collections::HashSet::new();
    let mut url = format!("{}/beta/deviceManagement/remoteActionAudits", a.address);
    for turn in 0.. {
        let node = nodes[turn % 2];
        // The link names the node that made it; send it to the other one.
        let path = url.split_once("/beta/").map(|(_, rest)| rest).unwrap();
        let response = node
            .client
            .get(format!("{}/beta/{path}", node.address))
            .header("prefer", "odata.maxpagesize=300")
            .send()
            .await
            .unwrap();
        let page = json_with_status(response, 200).await;
        for audit in page["value"].as_array().unwrap() {
            assert!(
                ids.insert(audit["id"].as_str().unwrap().to_owned()),
                "served twice"
            );
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }

    assert_eq!(ids.len(), 2000);
}

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;

    let anonymous = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let response = anonymous
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.text().await.unwrap(), "ok", "{path}");
    }
}
