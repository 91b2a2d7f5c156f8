//! End-to-end tests of the OData query options on the real app, served on a
//! loopback port over the 2,000 sample audits. Expected results are computed
//! here from the same JSON Lines file with plain Rust predicates.

use std::collections::HashSet;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use remote_action_audits::domain::DateTimeOffset;
use remote_action_audits::domain::enums::{ACTION_STATE, EnumType, REMOTE_ACTION};
use serde_json::{Value, json};

use crate::helpers;

/// A running app with the sample imported, and the sample itself.
struct TestApp {
    base: String,
    client: reqwest::Client,
    rows: Vec<Value>,
    _app: helpers::TestApp,
}

async fn spawn_app() -> TestApp {
    let app = helpers::spawn_app().await;
    let summary = app.import_sample().await;
    assert_eq!(summary.imported, 2000);

    TestApp {
        base: format!("{}/beta", app.address),
        client: app.client.clone(),
        rows: helpers::sample_audits(),
        _app: app,
    }
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

impl TestApp {
    fn url(&self, query: &str) -> String {
        format!("{}/deviceManagement/remoteActionAudits{query}", self.base)
    }

    async fn get(&self, url: &str, prefer: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(url);
        if let Some(prefer) = prefer {
            request = request.header("prefer", prefer);
        }
        request.send().await.unwrap()
    }

    async fn get_json(&self, url: &str, prefer: Option<&str>) -> Value {
        let response = self.get(url, prefer).await;
        assert_eq!(response.status(), 200, "{url}");
        response.json().await.unwrap()
    }

    /// Follows next links from `url`, returning every id served in order
    /// and the number of pages.
    async fn walk(&self, url: &str, prefer: Option<&str>) -> (Vec<String>, usize) {
        let (mut ids, mut pages, mut next) = (Vec::new(), 0, Some(url.to_owned()));
        while let Some(url) = next {
            let page = self.get_json(&url, prefer).await;
            ids.extend(ids_of(&page));
            pages += 1;
            next = page["@odata.nextLink"].as_str().map(str::to_owned);
        }
        (ids, pages)
    }

    async fn filtered(&self, filter: &str, prefer: Option<&str>) -> Vec<String> {
        self.walk(&self.url(&format!("?$filter={}", encode(filter))), prefer)
            .await
            .0
    }

    async fn error(&self, url: &str) -> String {
        let response = self.get(url, None).await;
        assert_eq!(response.status(), 400, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "BadRequest");
        body["error"]["message"].as_str().unwrap().to_owned()
    }

    fn expected(&self, predicate: impl Fn(&Value) -> bool) -> Vec<String> {
        let mut ids: Vec<String> = self
            .rows
            .iter()
            .filter(|row| predicate(row))
            .map(|row| row["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }
}

fn ids_of(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The folded text of a string property, or `None` when null.
fn text(row: &Value, name: &str) -> Option<String> {
    row[name].as_str().map(str::to_lowercase)
}

fn member(enum_type: &EnumType, name: &str) -> i64 {
    enum_type
        .members
        .iter()
        .find(|m| m.name == name)
        .unwrap()
        .value
}

fn state(row: &Value) -> i64 {
    member(&ACTION_STATE, row["actionState"].as_str().unwrap())
}

fn action(row: &Value) -> i64 {
    member(&REMOTE_ACTION, row["action"].as_str().unwrap())
}

fn ticks(row: &Value) -> i64 {
    instant(row["requestDateTime"].as_str().unwrap())
}

fn instant(text: &str) -> i64 {
    DateTimeOffset::parse(text).unwrap().ticks()
}

/// OData's `eq` on a string: false for null, case-insensitive otherwise.
fn text_eq(row: &Value, name: &str, literal: &str) -> bool {
    text(row, name).is_some_and(|v| v == literal.to_lowercase())
}

type Predicate = Box<dyn Fn(&Value) -> bool>;

fn filter_table(first: &Value) -> Vec<(String, Predicate)> {
    let device = first["managedDeviceId"].as_str().unwrap().to_owned();
    let id = first["id"].as_str().unwrap().to_owned();
    let october = instant("2026-10-01T00:00:00Z");
    let noon = instant("2026-10-15T12:00:00Z");

    let mut table: Vec<(String, Predicate)> = vec![
        ("actionState eq 'done'".into(), Box::new(|r| state(r) == 4)),
        ("actionState ne 'done'".into(), Box::new(|r| state(r) != 4)),
        (
            "actionState gt 'pending'".into(),
            Box::new(|r| state(r) > 1),
        ),
        (
            "actionState ge microsoft.graph.actionState'active'".into(),
            Box::new(|r| state(r) >= 3),
        ),
        ("'failed' lt actionState".into(), Box::new(|r| state(r) > 5)),
        ("action lt 'rebootNow'".into(), Box::new(|r| action(r) < 8)),
        (
            "action le 'quickScan'".into(),
            Box::new(|r| action(r) <= 12),
        ),
        (
            "action eq 'remoteLock' or action eq 'factoryReset'".into(),
            Box::new(|r| action(r) == 4 || action(r) == 1),
        ),
        (
            "action in ('remoteLock', microsoft.graph.remoteAction'factoryReset')".into(),
            Box::new(|r| action(r) == 4 || action(r) == 1),
        ),
        (
            "not (actionState eq 'done')".into(),
            Box::new(|r| state(r) != 4),
        ),
        (
            "deviceActionCategory eq 'bulk'".into(),
            Box::new(|r| r["deviceActionCategory"] == "bulk"),
        ),
        (
            "requestDateTime ge 2026-10-01T00:00:00Z".into(),
            Box::new(move |r| ticks(r) >= october),
        ),
        (
            "requestDateTime ge 2026-10-01T09:00:00+09:00".into(),
            Box::new(move |r| ticks(r) >= october),
        ),
        (
            "requestDateTime lt 2026-10-15T07:00:00.0000000-05:00".into(),
            Box::new(move |r| ticks(r) < noon),
        ),
        (
            "actionState eq 'failed' and requestDateTime gt 2026-10-01T00:00:00Z \
             and requestDateTime le 2026-10-15T12:00:00Z"
                .into(),
            Box::new(move |r| state(r) == 5 && ticks(r) > october && ticks(r) <= noon),
        ),
        (
            "deviceDisplayName eq 'Emeka''s MacBook Pro'".into(),
            Box::new(|r| text_eq(r, "deviceDisplayName", "Emeka's MacBook Pro")),
        ),
        (
            "deviceDisplayName eq 'emeka''S macbook PRO'".into(),
            Box::new(|r| text_eq(r, "deviceDisplayName", "Emeka's MacBook Pro")),
        ),
        (
            "deviceDisplayName eq ''".into(),
            Box::new(|r| text_eq(r, "deviceDisplayName", "")),
        ),
        (
            "startswith(deviceDisplayName,'desktop-')".into(),
            Box::new(|r| text(r, "deviceDisplayName").is_some_and(|v| v.starts_with("desktop-"))),
        ),
        (
            "startswith(deviceDisplayName,'会議室')".into(),
            Box::new(|r| text(r, "deviceDisplayName").is_some_and(|v| v.starts_with("会議室"))),
        ),
        (
            "endswith(deviceDisplayName,'PRO')".into(),
            Box::new(|r| text(r, "deviceDisplayName").is_some_and(|v| v.ends_with("pro"))),
        ),
        (
            "contains(deviceDisplayName,'BÜRO')".into(),
            Box::new(|r| text(r, "deviceDisplayName").is_some_and(|v| v.contains("büro"))),
        ),
        (
            "contains(toupper(deviceDisplayName),'''s')".into(),
            Box::new(|r| text(r, "deviceDisplayName").is_some_and(|v| v.contains("'s"))),
        ),
        (
            "startswith(initiatedByUserPrincipalName,'helpdesk') eq false".into(),
            Box::new(|r| {
                !text(r, "initiatedByUserPrincipalName").is_some_and(|v| v.starts_with("helpdesk"))
            }),
        ),
        (
            "deviceIMEI eq null".into(),
            Box::new(|r| r["deviceIMEI"].is_null()),
        ),
        (
            "deviceIMEI ne null".into(),
            Box::new(|r| !r["deviceIMEI"].is_null()),
        ),
        (
            "userName ne 'helpdesk@fabrikam.example'".into(),
            Box::new(|r| !text_eq(r, "userName", "helpdesk@fabrikam.example")),
        ),
        (
            "not (userName eq 'HELPDESK@fabrikam.example')".into(),
            Box::new(|r| !text_eq(r, "userName", "helpdesk@fabrikam.example")),
        ),
        (
            "userName gt 'm'".into(),
            Box::new(|r| text(r, "userName").is_some_and(|v| v.as_str() > "m")),
        ),
        (
            "not (userName le 'm')".into(),
            Box::new(|r| text(r, "userName").is_none_or(|v| v.as_str() > "m")),
        ),
        (
            "tolower(userName) eq 'HELPDESK@FABRIKAM.EXAMPLE'".into(),
            Box::new(|r| text_eq(r, "userName", "helpdesk@fabrikam.example")),
        ),
        (
            "userName in ('helpdesk@fabrikam.example', null)".into(),
            Box::new(|r| {
                r["userName"].is_null() || text_eq(r, "userName", "helpdesk@fabrikam.example")
            }),
        ),
        (
            "bulkDeviceActionId ne null and deviceActionCategory eq 'bulk'".into(),
            Box::new(|r| !r["bulkDeviceActionId"].is_null() && r["deviceActionCategory"] == "bulk"),
        ),
        ("true".into(), Box::new(|_| true)),
        ("false or false".into(), Box::new(|_| false)),
    ];

    let guid_forms = [
        format!("managedDeviceId eq {device}"),
        format!("managedDeviceId eq '{device}'"),
        format!("managedDeviceId eq {}", device.to_uppercase()),
    ];
    for form in guid_forms {
        let device = device.clone();
        table.push((
            form,
            Box::new(move |r| text_eq(r, "managedDeviceId", &device)),
        ));
    }
    table.push((
        format!("id eq {id}"),
        Box::new(move |r| r["id"] == id.as_str()),
    ));
    table
}

#[tokio::test]
async fn every_filter_form_returns_what_the_data_says() {
    let app = spawn_app().await;

    for (filter, predicate) in filter_table(&app.rows[0]) {
        let expected = app.expected(predicate);
        let served = sorted(app.filtered(&filter, None).await);
        assert_eq!(served, expected, "{filter}");
    }
}

#[tokio::test]
async fn the_table_is_not_trivially_empty() {
    let app = spawn_app().await;

    let sizes: Vec<usize> = filter_table(&app.rows[0])
        .into_iter()
        .map(|(_, predicate)| app.expected(predicate).len())
        .collect();
    let nonempty = sizes.iter().filter(|n| **n > 0).count();
    assert!(nonempty >= sizes.len() - 1, "{sizes:?}");
}

#[tokio::test]
async fn members_after_the_sentinel_need_the_preference() {
    let app = spawn_app().await;
    let url = app.url(&format!("?$filter={}", encode("action eq 'delete'")));

    let message = app.error(&url).await;
    assert!(
        message.contains("include-unknown-enum-members"),
        "{message}"
    );

    let served = app
        .filtered("action eq 'delete'", Some("include-unknown-enum-members"))
        .await;
    let expected = app.expected(|r| r["action"] == "delete");
    assert_eq!(sorted(served), expected);
    assert!(!expected.is_empty());
}

#[tokio::test]
async fn bad_filters_are_400_with_the_column() {
    let app = spawn_app().await;
    let cases = [
        ("actionState eq 'Done'", "column 16: 'Done' is not a member"),
        ("nope eq 'x'", "column 1: 'nope' is not a property"),
        ("id eq", "column 6: expected a property"),
        (
            "requestDateTime ge 2026-01-01T00:00:00",
            "column 20: '2026-01-01T00:00:00'",
        ),
        (
            "length(id) eq 1",
            "column 1: 'length' is not a supported function",
        ),
        (
            "action eq 'unknownFutureValue'",
            "column 11: 'unknownFutureValue'",
        ),
    ];

    for (filter, expected) in cases {
        let message = app
            .error(&app.url(&format!("?$filter={}", encode(filter))))
            .await;
        assert!(message.contains(expected), "{filter}: {message}");
    }
}

#[tokio::test]
async fn select_narrows_the_audits_and_shows_in_the_context() {
    let app = spawn_app().await;

    let page = app
        .get_json(&app.url("?$select=id,action&$top=3"), None)
        .await;
    let context = page["@odata.context"].as_str().unwrap();
    assert!(
        context.ends_with("/beta/$metadata#deviceManagement/remoteActionAudits(id,action)"),
        "{context}"
    );
    for audit in page["value"].as_array().unwrap() {
        let keys: HashSet<&str> = audit
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys, HashSet::from(["@odata.type", "id", "action"]));
    }

    let id = app.rows[0]["id"].as_str().unwrap();
    let one = app
        .get_json(&app.url(&format!("/{id}?$select=deviceIMEI")), None)
        .await;
    assert!(
        one["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#deviceManagement/remoteActionAudits(deviceIMEI)/$entity")
    );
    assert!(one.get("action").is_none());
    assert!(one.get("deviceIMEI").is_some());

    let message = app
        .error(&app.url(&format!("/{id}?$filter=id%20eq%20'a'")))
        .await;
    assert!(message.contains("'$filter' is not supported"), "{message}");
    let message = app.error(&app.url("?$select=id,colour")).await;
    assert!(message.contains("'colour'"), "{message}");
    let message = app.error(&app.url("?$expand=device")).await;
    assert!(message.contains("navigation"), "{message}");
}

#[tokio::test]
async fn orderby_sorts_on_several_keys_with_id_breaking_ties() {
    let app = spawn_app().await;
    let url = app.url("?$orderby=deviceDisplayName,requestDateTime%20desc");

    let (served, _) = app.walk(&url, Some("odata.maxpagesize=300")).await;

    let mut rows: Vec<&Value> = app.rows.iter().collect();
    rows.sort_by(|a, b| {
        text(a, "deviceDisplayName")
            .cmp(&text(b, "deviceDisplayName"))
            .then(ticks(b).cmp(&ticks(a)))
            // The id tie-breaker follows the direction of the last key.
            .then(b["id"].as_str().cmp(&a["id"].as_str()))
    });
    let expected: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().into())
        .collect();
    assert_eq!(served, expected);
}

#[tokio::test]
async fn top_and_skip_select_a_window_across_pages() {
    let app = spawn_app().await;
    let all = app.expected(|_| true);

    let (window, _) = app
        .walk(&app.url("?$orderby=id&$skip=10&$top=5"), None)
        .await;
    assert_eq!(window, all[10..15].to_vec());

    let (served, pages) = app
        .walk(&app.url("?$top=250"), Some("odata.maxpagesize=100"))
        .await;
    assert_eq!(served, all[..250].to_vec());
    assert_eq!(pages, 3);

    let (none, _) = app.walk(&app.url("?$top=0"), None).await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn count_and_search() {
    let app = spawn_app().await;
    let done = app.expected(|r| r["actionState"] == "done").len();
    let filter = encode("actionState eq 'done'");

    let page = app
        .get_json(
            &app.url(&format!("?$count=true&$filter={filter}&$top=1")),
            None,
        )
        .await;
    assert_eq!(page["@odata.count"], json!(done));

    let response = app
        .get(&app.url(&format!("/$count?$filter={filter}")), None)
        .await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(response.text().await.unwrap(), done.to_string());

    let searched = [
        "deviceDisplayName",
        "userName",
        "initiatedByUserPrincipalName",
        "deviceOwnerUserPrincipalName",
        "deviceIMEI",
    ];
    let macbooks = app.expected(|r| {
        searched
            .iter()
            .any(|p| text(r, p).is_some_and(|v| v.contains("macbook")))
    });
    assert!(!macbooks.is_empty());
    let served = app.walk(&app.url("?$search=%22MacBook%22"), None).await.0;
    assert_eq!(sorted(served), macbooks);
    let counted = app
        .get(&app.url("/$count?search=%22MacBook%22"), None)
        .await;
    assert_eq!(counted.text().await.unwrap(), macbooks.len().to_string());

    let message = app.error(&app.url("/$count?$top=1")).await;
    assert!(
        message.contains("'$top' is not supported on /$count"),
        "{message}"
    );
}

#[tokio::test]
async fn walking_with_a_small_page_size_serves_every_audit_once() {
    let app = spawn_app().await;

    let response = app.get(&app.url(""), Some("odata.maxpagesize=100")).await;
    assert_eq!(
        response.headers()["preference-applied"],
        "odata.maxpagesize=100"
    );
    let first: Value = response.json().await.unwrap();
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(next.starts_with(&app.url("?$skiptoken=")), "{next}");

    let (served, pages) = app.walk(&app.url(""), Some("odata.maxpagesize=100")).await;
    assert_eq!(pages, 20);
    assert_eq!(served.len(), 2000);
    assert_eq!(served.iter().collect::<HashSet<_>>().len(), 2000);
}

#[tokio::test]
async fn a_walk_survives_inserts_and_deletes() {
    let app = spawn_app().await;
    let all = app.expected(|_| true);
    let prefer = Some("odata.maxpagesize=100");

    let first = app.get_json(&app.url("?$orderby=id"), prefer).await;
    let mut served = ids_of(&first);
    let mut next = first["@odata.nextLink"].as_str().map(str::to_owned);

    // Delete one audit already served and one not yet served; insert one
    // before the position and one after it.
    let deleted_later = all[1500].clone();
    for id in [&all[5], &deleted_later] {
        let response = app
            .client
            .delete(app.url(&format!("/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    for id in ["00000000-before", "zzzzzzzz-after"] {
        let body = json!({"id": id, "action": "remoteLock", "actionState": "pending",
            "requestDateTime": "2026-10-01T00:00:00Z"});
        let response = app
            .client
            .post(app.url(""))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }

    while let Some(url) = next {
        let page = app.get_json(&url, prefer).await;
        served.extend(ids_of(&page));
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }

    let unique: HashSet<&String> = served.iter().collect();
    assert_eq!(unique.len(), served.len(), "an audit was served twice");
    for id in all.iter().filter(|id| **id != deleted_later) {
        assert!(unique.contains(id), "{id} was never served");
    }
    assert!(!unique.contains(&deleted_later));
    assert!(unique.contains(&"zzzzzzzz-after".to_owned()));
    assert!(!unique.contains(&"00000000-before".to_owned()));
}

#[tokio::test]
async fn bad_skip_tokens_are_400() {
    let app = spawn_app().await;
    let filter = encode("actionState eq 'done'");
    let first = app
        .get_json(
            &app.url(&format!("?$filter={filter}")),
            Some("odata.maxpagesize=10"),
        )
        .await;
    let next = first["@odata.nextLink"].as_str().unwrap().to_owned();
    let token = next.split("$skiptoken=").nth(1).unwrap().to_owned();

    let mut tampered = token.clone().into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let cases = [
        app.url(&format!("?$filter={filter}&$skiptoken={tampered}")),
        app.url(&format!("?$filter={filter}&$skiptoken=not-a-token")),
        app.url(&format!("?$skiptoken={token}")),
        app.url(&format!("?$filter={filter}&$top=5&$skiptoken={token}")),
    ];
    for url in cases {
        let message = app.error(&url).await;
        assert!(message.contains("$skiptoken"), "{url}: {message}");
    }

    let same_options = app.get(&next, None).await;
    assert_eq!(same_options.status(), 200);
}

#[tokio::test]
async fn option_names_are_checked_and_the_dollar_is_optional() {
    let app = spawn_app().await;
    let filter = encode("actionState eq 'canceled'");

    let with = app
        .walk(&app.url(&format!("?$filter={filter}")), None)
        .await
        .0;
    let without = app
        .walk(&app.url(&format!("?filter={filter}")), None)
        .await
        .0;
    assert_eq!(with, without);
    assert_eq!(
        sorted(with),
        app.expected(|r| r["actionState"] == "canceled")
    );

    let message = app.error(&app.url("?$top=1&top=2")).await;
    assert!(message.contains("more than once"), "{message}");
    let message = app.error(&app.url("?$format=json")).await;
    assert!(message.contains("'$format' is not supported"), "{message}");
}

#[tokio::test]
async fn a_plus_in_the_query_string_is_a_space() {
    let app = spawn_app().await;
    let formed =
        "?$filter=actionState+eq+'canceled'+and+requestDateTime+ge+2026-10-01T09:00:00%2B09:00";
    let instant = |text: &str| DateTimeOffset::parse(text).unwrap().ticks();
    let since = instant("2026-10-01T09:00:00+09:00");

    let ids = app.walk(&app.url(formed), None).await.0;

    let expected = app.expected(|r| {
        r["actionState"] == "canceled" && instant(r["requestDateTime"].as_str().unwrap()) >= since
    });
    assert!(!expected.is_empty());
    assert_eq!(sorted(ids), expected);
}

#[tokio::test]
async fn case_is_ignored_character_by_character() {
    let app = helpers::spawn_app().await;
    for (id, name) in [("g1", "ΟΔΟΣΟΣ"), ("g2", "ΟΔΟΣ ΑΘΗΝΑ"), ("t1", "İSTANBUL")] {
        let body = json!({"id": id, "action": "rebootNow", "deviceDisplayName": name});
        helpers::json_with_status(app.post_audit(&body.to_string()).await, 201).await;
    }
    let ids = |filter: &str| {
        let url = format!(
            "/deviceManagement/remoteActionAudits?$filter={}&$orderby=id",
            encode(filter)
        );
        let app = &app;
        async move {
            let page = helpers::json_with_status(app.get(&url).await, 200).await;
            ids_of(&page)
        }
    };

    assert_eq!(ids("deviceDisplayName eq 'οδοσοσ'").await, ["g1"]);
    assert_eq!(
        ids("startswith(deviceDisplayName,'ΟΔΟΣ')").await,
        ["g1", "g2"]
    );
    assert_eq!(
        ids("startswith(deviceDisplayName,'οδοσ')").await,
        ["g1", "g2"]
    );
    assert_eq!(ids("deviceDisplayName eq 'istanbul'").await, ["t1"]);
    assert_eq!(ids("startswith(deviceDisplayName,'ist')").await, ["t1"]);
}
