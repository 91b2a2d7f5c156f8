//! Entity tags for optimistic concurrency.
//!
//! An audit's tag is its version, written `W/"N"`: every update bumps it.
//! Responses that carry one audit send it in `ETag`; `PATCH` and `DELETE`
//! honour `If-Match`, so that a client that read version N cannot overwrite
//! a change it has not seen (`412`).
//!
//! # Format
//!
//! ```text
//! If-Match: "*" | entity-tag *( "," entity-tag )
//! entity-tag = [ "W/" ] DQUOTE 1*DIGIT DQUOTE
//! ```

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};

use crate::error::ApiError;

/// The `ETag` header value for a version.
pub fn entity_tag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("W/\"{version}\"")).unwrap_or(HeaderValue::from_static("*"))
}

/// What `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IfMatch {
    /// No header, or `*` on an existing audit: no version check.
    #[default]
    Any,
    /// Proceed only if the current version is this one.
    Version(i64),
}

impl IfMatch {
    /// The version the store must find, if any.
    pub fn expected_version(&self) -> Option<i64> {
        match self {
            IfMatch::Any => None,
            IfMatch::Version(version) => Some(*version),
        }
    }

    fn parse(value: &str) -> Result<Self, ApiError> {
        let value = value.trim();
        if value == "*" {
            return Ok(IfMatch::Any);
        }

        let tag = value.strip_prefix("W/").unwrap_or(value);
        tag.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|t| t.parse::<i64>().ok())
            .map(IfMatch::Version)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "The If-Match header '{value}' is not an entity tag of this service, \
                     such as W/\"3\" or *."
                ))
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(header::IF_MATCH).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Ok(IfMatch::Any);
        };

        let text = value.to_str().map_err(|_| {
            ApiError::BadRequest("The If-Match header is not visible ASCII.".into())
        })?;
        IfMatch::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_weak_strong_and_any() {
        assert_eq!(IfMatch::parse("W/\"3\"").unwrap(), IfMatch::Version(3));
        assert_eq!(IfMatch::parse("\"12\"").unwrap(), IfMatch::Version(12));
        assert_eq!(IfMatch::parse("*").unwrap(), IfMatch::Any);
    }

    #[test]
    fn refuses_foreign_tags() {
        for value in ["3", "W/3", "\"abc\"", "W/\"\"", "\"1\", \"2\""] {
            assert!(IfMatch::parse(value).is_err(), "{value}");
        }
    }
}
