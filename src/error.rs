//! The one error type of the HTTP layer, and the Graph error body.
//!
//! Layers and their errors:
//! - the domain and the OData parser return their own small errors, which
//!   convert into [`ApiError::BadRequest`];
//! - storage returns [`StoreError`], mapped to statuses here and nowhere else;
//! - handlers return [`ApiError`], turned into a response by `IntoResponse`;
//! - startup and background work use `anyhow`.
//!
//! Every error response has Graph's shape:
//! `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
//! Internal details never reach the body; the request-logging middleware logs
//! them once, with the request id that the body also carries.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::request_ids::RequestIds;
use crate::storage::StoreError;

pub type ApiResult<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("Specified HTTP method is not allowed for the request target.")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("The request body is larger than the limit of {limit} bytes.")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("Too many requests: the limit for this client was reached.")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{message}")]
    ServiceUnavailable {
        message: String,
        retry_after_secs: u64,
        /// What the operator should read in the log; not shown to clients.
        cause: Option<String>,
    },
    #[error("{message}")]
    InsufficientStorage { message: String, cause: String },
    #[error("The request timed out.")]
    Timeout,
    #[error("An internal error occurred.")]
    Internal(#[source] anyhow::Error),
}

/// What a response carries for the request log when it was an error.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    pub code: &'static str,
    /// The cause chain of an internal error; never shown to the client.
    pub internal: Option<String>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::ServiceUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::InsufficientStorage { .. } => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The Graph error code, as Graph and Intune spell them.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Unauthenticated(_) => "InvalidAuthenticationToken",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "ResourceNotFound",
            ApiError::MethodNotAllowed => "Request_BadRequest",
            ApiError::Conflict(_) => "Conflict",
            ApiError::PreconditionFailed(_) => "PreconditionFailed",
            ApiError::PayloadTooLarge { .. } => "RequestEntityTooLarge",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::TooManyRequests { .. } => "TooManyRequests",
            ApiError::ServiceUnavailable { .. } => "ServiceUnavailable",
            ApiError::InsufficientStorage { .. } => "InsufficientStorage",
            ApiError::Timeout => "GatewayTimeout",
            ApiError::Internal(_) => "UnknownError",
        }
    }

    /// The 404 for an audit id that does not exist.
    pub fn audit_not_found(id: &str) -> Self {
        ApiError::NotFound(format!(
            "The remoteActionAudit with id '{id}' does not exist."
        ))
    }
}

impl From<crate::domain::InputError> for ApiError {
    fn from(error: crate::domain::InputError) -> Self {
        ApiError::BadRequest(error.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(id) => ApiError::audit_not_found(&id),
            StoreError::Conflict(id) => ApiError::Conflict(format!(
                "A remoteActionAudit with id '{id}' already exists."
            )),
            StoreError::VersionMismatch { .. } => ApiError::PreconditionFailed(
                "The entity tag in If-Match does not match the audit's current version.".into(),
            ),
            StoreError::Unavailable(cause) => ApiError::ServiceUnavailable {
                message: "The database is unavailable or busy. Try again later.".into(),
                retry_after_secs: 5,
                cause: Some(cause),
            },
            StoreError::ReadOnly(cause) => ApiError::ServiceUnavailable {
                message: "The database does not accept writes now; reads go on.".into(),
                retry_after_secs: 30,
                cause: Some(cause),
            },
            StoreError::Full(cause) => ApiError::InsufficientStorage {
                message: "The database has no room for the write; reads go on.".into(),
                cause,
            },
            StoreError::Other(error) => ApiError::Internal(error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let report = ErrorReport {
            code: self.code(),
            internal: match &self {
                ApiError::Internal(error) => Some(format!("{error:#}")),
                ApiError::ServiceUnavailable { cause, .. } => cause.clone(),
                ApiError::InsufficientStorage { cause, .. } => Some(cause.clone()),
                _ => None,
            },
        };

        let mut response = error_response(status, report.code, &self.to_string());
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthenticated(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooManyRequests { retry_after_secs }
            | ApiError::ServiceUnavailable {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response.extensions_mut().insert(report);
        response
    }
}

/// Builds a Graph error response. The `innerError` carries the ids of the
/// request being served, read from the task-local set by the middleware.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let ids = RequestIds::current();
    let date = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .unwrap_or_default();

    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": date,
                "request-id": ids.as_ref().map(|ids| ids.request_id.as_str()),
                "client-request-id": ids.as_ref().map(|ids| ids.client_request_id.as_str()),
            }
        }
    });
    crate::http::json_response(status, &body)
}
