//! JSON request bodies: the media type is checked (415) and the size is
//! bounded (413) before a byte is parsed.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;

use crate::error::ApiError;
use crate::startup::AppState;

/// The raw bytes of a JSON request body.
pub struct JsonBody(pub Bytes);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "The Content-Type '{content_type}' is not supported: send 'application/json'."
            )));
        }

        let limit = state.settings.max_body_bytes;
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|error| {
                if is_length_limit(&error) {
                    ApiError::PayloadTooLarge { limit }
                } else {
                    ApiError::BadRequest(
                        "The request body could not be read: it ended early or its framing is \
                     malformed."
                            .into(),
                    )
                }
            })?;
        Ok(JsonBody(bytes))
    }
}

/// Whether reading the body failed on the size limit, as opposed to a
/// client that went away or sent malformed chunks.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

/// `application/json`, in UTF-8 (the only charset JSON bodies may use here).
fn is_json(content_type: &str) -> bool {
    let mut parts = content_type.split(';').map(str::trim);
    let media_type = parts.next().unwrap_or_default();
    let charset_ok = parts.all(|parameter| match parameter.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    });
    media_type.eq_ignore_ascii_case("application/json") && charset_ok
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn accepts_json_media_types_only() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/json;odata.metadata=minimal"));
        assert!(!is_json("application/json; charset=utf-16"));
        assert!(!is_json("application/vnd.other+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json(""));
    }
}
