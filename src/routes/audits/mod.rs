//! `/deviceManagement/remoteActionAudits`: the Graph methods on the entity
//! set and on single audits.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::domain::{AuditInput, BodyKind, Rendering, StoredAudit};
use crate::error::{ApiError, ApiResult};
use crate::http::body::JsonBody;
use crate::http::entity_tag::{IfMatch, entity_tag};
use crate::http::json_response;
use crate::http::prefer::Preferences;
use crate::http::service_root::ServiceRoot;
use crate::odata::query::{QueryOptions, Resource};
use crate::startup::AppState;

pub mod list;

/// The entity set's path below the service root.
pub const ENTITY_SET_PATH: &str = "deviceManagement/remoteActionAudits";

pub fn router() -> Router<AppState> {
    let method_not_allowed = || async { ApiError::MethodNotAllowed };
    Router::new()
        .route(
            "/deviceManagement/remoteActionAudits",
            get(list::list)
                .post(create)
                .patch(update_by_body)
                .fallback(method_not_allowed),
        )
        .route(
            "/deviceManagement/remoteActionAudits/$count",
            get(list::count).fallback(method_not_allowed),
        )
        .route(
            "/deviceManagement/remoteActionAudits/{id}",
            get(get_one)
                .patch(update_by_path)
                .delete(delete)
                .fallback(method_not_allowed),
        )
}

/// `POST /deviceManagement/remoteActionAudits`
async fn create(
    State(state): State<AppState>,
    root: ServiceRoot,
    preferences: Preferences,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = parse_body(&body, BodyKind::Create, preferences)?;
    let audit = input.into_new_audit()?;

    let stored = state.store.insert(&audit).await?;

    let location = format!(
        "{}/{ENTITY_SET_PATH}/{}",
        root.0,
        encode_key(&stored.audit.id)
    );
    let mut response = entity_response(
        StatusCode::CREATED,
        &root,
        &stored,
        &QueryOptions::default(),
        preferences,
    );
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /deviceManagement/remoteActionAudits/{id}`
async fn get_one(
    State(state): State<AppState>,
    root: ServiceRoot,
    preferences: Preferences,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let options = QueryOptions::parse(
        raw.as_deref(),
        Resource::Entity,
        preferences.include_unknown_enum_members,
    )?;
    let stored = state
        .store
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::audit_not_found(&id))?;
    Ok(entity_response(
        StatusCode::OK,
        &root,
        &stored,
        &options,
        preferences.without_minimal(),
    ))
}

/// `PATCH /deviceManagement/remoteActionAudits/{id}`
async fn update_by_path(
    State(state): State<AppState>,
    root: ServiceRoot,
    preferences: Preferences,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = parse_body(&body, BodyKind::Update, preferences)?;
    if let Some(body_id) = input.id.as_deref().filter(|body_id| *body_id != id) {
        return Err(ApiError::BadRequest(format!(
            "The 'id' in the request body ('{body_id}') differs from the key in the URL \
             ('{id}'); an audit's id cannot be changed."
        )));
    }
    update(state, root, preferences, &id, input, if_match).await
}

/// `PATCH /deviceManagement/remoteActionAudits` with the audit's `id` in the
/// body: the form the Graph documentation's example request uses.
async fn update_by_body(
    State(state): State<AppState>,
    root: ServiceRoot,
    preferences: Preferences,
    if_match: IfMatch,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = parse_body(&body, BodyKind::Update, preferences)?;
    let Some(id) = input.id.clone() else {
        return Err(ApiError::BadRequest(
            "An update must name the audit: send PATCH \
             /deviceManagement/remoteActionAudits/{id}, or PATCH \
             /deviceManagement/remoteActionAudits with the audit's 'id' in the body."
                .into(),
        ));
    };
    update(state, root, preferences, &id, input, if_match).await
}

async fn update(
    state: AppState,
    root: ServiceRoot,
    preferences: Preferences,
    id: &str,
    input: AuditInput,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let stored = state
        .store
        .update(id, &input, if_match.expected_version())
        .await?;
    let options = QueryOptions::default();
    Ok(entity_response(
        StatusCode::OK,
        &root,
        &stored,
        &options,
        preferences,
    ))
}

/// `DELETE /deviceManagement/remoteActionAudits/{id}`
async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    state.store.delete(&id, if_match.expected_version()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads an audit from a request body, with the client's opt-in to
/// evolvable enum members.
fn parse_body(body: &[u8], kind: BodyKind, preferences: Preferences) -> ApiResult<AuditInput> {
    Ok(AuditInput::parse(
        body,
        kind,
        preferences.include_unknown_enum_members,
    )?)
}

/// One audit at the JSON root, or `204` when `return=minimal` was asked;
/// either way with its entity tag.
fn entity_response(
    status: StatusCode,
    root: &ServiceRoot,
    stored: &StoredAudit,
    options: &QueryOptions,
    preferences: Preferences,
) -> Response {
    // A page size means nothing for one entity, so it is not applied.
    let preferences = Preferences {
        max_page_size: None,
        ..preferences
    };

    let mut response = if preferences.return_minimal {
        StatusCode::NO_CONTENT.into_response()
    } else {
        json_response(status, &entity_body(root, stored, options, preferences))
    };
    preferences.announce(&mut response);
    response
        .headers_mut()
        .insert(header::ETAG, entity_tag(stored.version));
    response
}

fn entity_body(
    root: &ServiceRoot,
    stored: &StoredAudit,
    options: &QueryOptions,
    preferences: Preferences,
) -> Value {
    let rendering = Rendering {
        select: options.select.as_deref(),
        include_unknown_enum_members: preferences.include_unknown_enum_members,
    };
    let fragment = format!("{}/$entity", options.context_fragment(ENTITY_SET_PATH));
    let mut body = Map::new();
    body.insert("@odata.context".into(), root.context(&fragment).into());
    body.extend(stored.audit.to_json(rendering));
    Value::Object(body)
}

/// Percent-encodes an id for use as one path segment.
pub fn encode_key(id: &str) -> String {
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'/')
        .add(b'?')
        .add(b'<')
        .add(b'>');
    utf8_percent_encode(id, SEGMENT).to_string()
}
