//! The HTTP surface. Every route answers at the root and under `/beta`, so
//! a Graph SDK's base URL is `http://HOST:PORT/beta`.

pub mod audits;

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::routing::get;

use crate::error::ApiError;
use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    let graph = audits::router();
    Router::new()
        .nest("/beta", graph.clone())
        .merge(graph)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .fallback(unknown_segment)
}

/// Ready when the database answers; a Graph 503 error otherwise. The
/// process being alive is `/healthz`'s question.
async fn ready(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.store.ping().await?;
    Ok("ok")
}

/// Graph's answer to a path it has no resource for.
async fn unknown_segment(OriginalUri(uri): OriginalUri) -> ApiError {
    let path = uri.path().strip_prefix("/beta").unwrap_or(uri.path());
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let known = ["deviceManagement", "remoteActionAudits"];
    let segment = segments
        .iter()
        .enumerate()
        .find(|(i, s)| known.get(*i).is_some_and(|k| k != *s))
        .or_else(|| segments.iter().enumerate().nth(3))
        .map_or("", |(_, s)| *s);

    let segment = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    ApiError::BadRequest(format!("Resource not found for the segment '{segment}'."))
}
