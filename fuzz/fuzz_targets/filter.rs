//! Fuzzes `$filter`: each input is sent as the `$filter` of a list request
//! through the real router and store, and any panic or 5xx answer is a
//! crash. A client's filter, however odd, must get 200 or a 4xx.
//!
//! This reaches the `$filter` parser wherever the list route calls it; to
//! fuzz the parser alone, call it directly in [`check`].

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use remote_action_audits::auth::KeySource;
use remote_action_audits::auth::verify::TrustSettings;
use remote_action_audits::routes;
use remote_action_audits::startup::{AppState, Settings};
use remote_action_audits::storage::sqlite::SqliteStore;
use tower::ServiceExt;

struct Target {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    _dir: tempfile::TempDir,
}

/// One runtime, store and router for the whole run.
fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(dir.path(), false).expect("a SQLite store");
        let mut settings = Settings {
            data_dir: dir.path().to_owned(),
            ..Settings::default()
        };
        settings.auth.trust = TrustSettings::Local(KeySource::DataDir(dir.path().to_owned()));
        let state = AppState::new(Arc::new(store), settings).expect("the app state");
        Target {
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime"),
            app: routes::router().with_state(state),
            _dir: dir,
        }
    })
}

fn check(text: &str) {
    let target = target();
    let query = percent_encode(text);
    let request = Request::get(format!("/deviceManagement/remoteActionAudits?$filter={query}"))
        .body(Body::empty())
        .expect("a request");

    let response = target
        .runtime
        .block_on(target.app.clone().oneshot(request))
        .expect("the router never fails");

    assert!(
        !response.status().is_server_error(),
        "$filter={text:?} got {}",
        response.status()
    );
}

/// Every byte outside the unreserved set, percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Ok(text) = std::str::from_utf8(data) {
            check(text);
        }
    });
}
