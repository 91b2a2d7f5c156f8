//! `GET /deviceManagement/remoteActionAudits` and its `/$count`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::ENTITY_SET_PATH;
use crate::domain::Rendering;
use crate::error::ApiResult;
use crate::http::json_response;
use crate::http::prefer::Preferences;
use crate::http::service_root::ServiceRoot;
use crate::startup::AppState;
use crate::storage::sql::ListQuery;

/// `GET /deviceManagement/remoteActionAudits`
pub async fn list(
    State(state): State<AppState>,
    root: ServiceRoot,
    preferences: Preferences,
) -> ApiResult<Response> {
    let query = ListQuery {
        limit: state.settings.page_size,
        ..ListQuery::default()
    }
    .with_order(Vec::new());
    let page = state.store.list(&query).await?;

    let rendering = Rendering {
        select: None,
        include_unknown_enum_members: preferences.include_unknown_enum_members,
    };
    let value: Vec<Value> = page
        .iter()
        .map(|stored| Value::Object(stored.audit.to_json(rendering)))
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        root.context(ENTITY_SET_PATH).into(),
    );
    body.insert("value".into(), Value::Array(value));

    let mut response = json_response(StatusCode::OK, &Value::Object(body));
    preferences.without_minimal().announce(&mut response);
    Ok(response)
}

/// `GET /deviceManagement/remoteActionAudits/$count`: a bare integer.
pub async fn count(State(state): State<AppState>) -> ApiResult<Response> {
    let count = state.store.count(&ListQuery::default()).await?;
    Ok((
        [("content-type", "text/plain;charset=utf-8")],
        count.to_string(),
    )
        .into_response())
}
