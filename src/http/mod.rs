//! Graph's HTTP conventions: response headers and content types, request
//! ids, `Prefer`, JSON request bodies and the service root of `@odata`
//! URLs.

pub mod body;
pub mod connections;
pub mod entity_tag;
pub mod path;
pub mod prefer;
pub mod request_ids;
pub mod service_root;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The content type Graph answers JSON with.
pub const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;\
                              IEEE754Compatible=false;charset=utf-8";

/// A JSON response with Graph's content type.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPH_JSON));
    response
}
