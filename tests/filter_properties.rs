//! Property tests: random, token-soup and mutated `$filter` expressions go
//! through the parser, the SQL translation for both dialects and a real
//! SQLite store. Each must end in a result or a client error that points
//! inside the expression, never in a panic or a store failure.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use remote_action_audits::odata::filter::{self, to_sql};
use remote_action_audits::storage::AuditStore;
use remote_action_audits::storage::sql::{Dialect, ListQuery, SqlParams};
use remote_action_audits::storage::sqlite::SqliteStore;

const VALID: &[&str] = &[
    "actionState eq 'done' and requestDateTime ge 2026-10-01T00:00:00+02:00",
    "startswith(tolower(deviceDisplayName),'DESK') or endswith(userName,'.example')",
    "not (contains(deviceIMEI, '35') eq true) and deviceIMEI ne null",
    "action in ('remoteLock', microsoft.graph.remoteAction'factoryReset')",
    "managedDeviceId eq dbc496cb-8e81-473e-8bec-d7b03898d190 or id eq 'O''Brien'",
    "'pending' lt actionState and deviceActionCategory eq 'bulk'",
    "((userName eq null) or (userName gt '会議'))",
];

const TOKENS: &[&str] = &[
    "id",
    "deviceDisplayName",
    "userName",
    "action",
    "actionState",
    "requestDateTime",
    "deviceIMEI",
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "and",
    "or",
    "not",
    "in",
    "(",
    ")",
    ",",
    "'a'",
    "''",
    "'done'",
    "'delete'",
    "null",
    "true",
    "false",
    "startswith",
    "endswith",
    "contains",
    "tolower",
    "toupper",
    "2026-01-01T00:00:00Z",
    "dbc496cb-8e81-473e-8bec-d7b03898d190",
    "42",
    "microsoft.graph.actionState'done'",
    "'\u{10FFFF}'",
    "-",
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: Arc<SqliteStore>,
    _data: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let data = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(data.path(), false).unwrap());
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let lines = concat!(
            r#"{"id":"a","action":"remoteLock","actionState":"done","#,
            r#""requestDateTime":"2026-10-01T00:00:00Z","deviceDisplayName":"DESKTOP-1"}"#,
            "\n",
            r#"{"id":"b","action":"delete","actionState":"pending","#,
            r#""requestDateTime":"2026-09-01T00:00:00+09:00","userName":"会議室"}"#,
        );
        runtime.block_on(async {
            let mut reader = lines.as_bytes();
            remote_action_audits::import::import_lines(store.as_ref(), &mut reader, |_, r| {
                panic!("{r}")
            })
            .await
            .unwrap();
        });
        Fixture {
            runtime,
            store,
            _data: data,
        }
    })
}

/// Runs one expression all the way through and checks the outcome.
fn check(text: &str, include_unknown: bool) -> Result<(), TestCaseError> {
    match filter::parse(text, include_unknown) {
        Err(error) => {
            let length = text.chars().count();
            prop_assert!(!error.message.is_empty());
            prop_assert!(error.column >= 1 && error.column <= length.max(filter::MAX_LENGTH) + 1);
            let api: remote_action_audits::error::ApiError = error.into();
            prop_assert_eq!(api.status(), 400);
        }
        Ok(parsed) => {
            let mut postgres = SqlParams::new(Dialect::Postgres);
            to_sql(&parsed, &mut postgres);

            let fixture = fixture();
            let query = ListQuery {
                filter: Some(parsed),
                limit: 5,
                ..ListQuery::default()
            }
            .with_order(Vec::new());
            let listed = fixture.runtime.block_on(fixture.store.list(&query));
            prop_assert!(listed.is_ok(), "{text}: {listed:?}");
            let counted = fixture.runtime.block_on(fixture.store.count(&query));
            prop_assert!(counted.is_ok(), "{text}: {counted:?}");
        }
    }
    Ok(())
}

fn mutated() -> impl Strategy<Value = String> {
    (
        prop::sample::select(VALID),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        0..4u8,
        "\\PC{0,3}",
    )
        .prop_map(|(base, at, to, kind, insert)| {
            let chars: Vec<char> = base.chars().collect();
            let (a, b) = {
                let (a, b) = (at.index(chars.len() + 1), to.index(chars.len() + 1));
                (a.min(b), a.max(b))
            };
            let mut out: Vec<char> = match kind {
                0 => [&chars[..a], &chars[b..]].concat(),
                1 => [
                    &chars[..a],
                    &insert.chars().collect::<Vec<_>>(),
                    &chars[a..],
                ]
                .concat(),
                2 => [&chars[..b], &chars[a..b], &chars[b..]].concat(),
                _ => chars[a..b].to_vec(),
            };
            out.truncate(400);
            out.into_iter().collect()
        })
}

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|tokens| tokens.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,60}", unknown in any::<bool>()) {
        check(&text, unknown)?;
    }

    #[test]
    fn token_soup_never_panics(text in token_soup(), unknown in any::<bool>()) {
        check(&text, unknown)?;
    }

    #[test]
    fn mutated_expressions_never_panic(text in mutated(), unknown in any::<bool>()) {
        check(&text, unknown)?;
    }
}

#[test]
fn the_valid_seeds_parse_and_run() {
    for text in VALID {
        assert!(filter::parse(text, true).is_ok(), "{text}");
        check(text, true).unwrap();
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let text = format!("{}id eq 'a'{}", "not (".repeat(2000), ")".repeat(2000));
    let error = filter::parse(&text, false).unwrap_err();
    assert!(error.message.contains("characters long") || error.message.contains("nests"));
    let text = format!("{}id eq 'a'{}", "(".repeat(1000), ")".repeat(1000));
    assert!(
        filter::parse(&text, false)
            .unwrap_err()
            .message
            .contains("nests")
    );
}
