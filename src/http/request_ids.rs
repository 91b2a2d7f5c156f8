//! Request ids, Graph's standard response headers and the request log.
//!
//! Every response carries a fresh `request-id`, the `client-request-id` the
//! client sent (or the request id when it sent none) and `OData-Version`.
//! The ids are kept in a task-local for the duration of the request, so the
//! error body can quote them wherever the error is raised.
//!
//! This middleware also writes the one log line of each request, and turns
//! any error response that did not come from [`ApiError`] (a timeout, a
//! framework rejection) into a Graph error body.
//!
//! [`ApiError`]: crate::error::ApiError

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::{ErrorReport, error_response};

tokio::task_local! {
    static CURRENT: RequestIds;
}

/// The two ids Graph returns with every response.
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    pub client_request_id: String,
}

impl RequestIds {
    /// The ids of the request this task is serving, if any.
    pub fn current() -> Option<RequestIds> {
        CURRENT.try_with(Clone::clone).ok()
    }

    fn for_request(headers: &HeaderMap) -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_plain_id(v))
            .map_or_else(|| request_id.clone(), str::to_owned);
        Self {
            request_id,
            client_request_id,
        }
    }
}

/// A client request id that can be echoed and logged as it is: 1 to 128
/// letters, digits and `-_.:{}` (GUIDs in any common form). Anything else
/// is ignored, as if none was sent.
fn is_plain_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:{}".contains(c))
}

/// Adds Graph's headers, normalises stray error bodies and logs the request.
pub async fn graph_headers(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let ids = RequestIds::for_request(request.headers());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();

    let mut response = CURRENT
        .scope(ids.clone(), graph_error_body(request, next))
        .await;

    let headers = response.headers_mut();
    for (name, value) in [
        ("request-id", &ids.request_id),
        ("client-request-id", &ids.client_request_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    headers.insert("odata-version", HeaderValue::from_static("4.0"));

    log_request(&method, &path, &response, &ids, started);
    response
}

async fn graph_error_body(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<ErrorReport>().is_some()
    {
        return response;
    }

    // An error from a layer or the framework: give it Graph's shape.
    let code = match status.as_u16() {
        408 => "RequestTimeout",
        413 => "RequestEntityTooLarge",
        503 => "ServiceUnavailable",
        s if s >= 500 => "UnknownError",
        _ => "BadRequest",
    };
    let message = status.canonical_reason().unwrap_or("The request failed.");
    let mut rewritten = error_response(status, code, message);
    if let Some(retry_after) = response.headers().get(header::RETRY_AFTER) {
        rewritten
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after.clone());
    }
    rewritten.extensions_mut().insert(ErrorReport {
        code,
        internal: None,
    });
    rewritten
}

fn log_request(
    method: &axum::http::Method,
    path: &str,
    response: &Response,
    ids: &RequestIds,
    started: Instant,
) {
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let report = response.extensions().get::<ErrorReport>();
    let error_code = report.map(|r| r.code);

    match report.and_then(|r| r.internal.as_deref()) {
        Some(cause) => tracing::error!(
            request.id = %ids.request_id,
            client_request.id = %ids.client_request_id,
            http.method = %method,
            http.path = path,
            http.status = status,
            duration_ms,
            error.code = error_code,
            error.cause_chain = cause,
            "request failed"
        ),
        None => tracing::info!(
            request.id = %ids.request_id,
            client_request.id = %ids.client_request_id,
            http.method = %method,
            http.path = path,
            http.status = status,
            duration_ms,
            error.code = error_code,
            "request served"
        ),
    }
}
