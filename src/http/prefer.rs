//! The `Prefer` request header (RFC 7240) as Graph uses it.
//!
//! # Format
//!
//! ```text
//! Prefer: preference *( "," preference )     (the header may repeat)
//! preference = token [ "=" value ] *( ";" parameter )
//! ```
//!
//! Recognised: `return=minimal`, `return=representation`,
//! `include-unknown-enum-members`, and `odata.maxpagesize=N`. Unknown
//! preferences are ignored, as the RFC asks.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

/// The preferences this service honours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preferences {
    pub return_minimal: bool,
    pub include_unknown_enum_members: bool,
    pub max_page_size: Option<u64>,
}

impl Preferences {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut preferences = Preferences::default();
        let values = headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok());

        for preference in values.flat_map(|v| v.split(',')) {
            let token = preference.split(';').next().unwrap_or_default().trim();
            let (name, value) = match token.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
                None => (token, None),
            };

            match (name.to_ascii_lowercase().as_str(), value) {
                ("return", Some(v)) => {
                    preferences.return_minimal = v.eq_ignore_ascii_case("minimal")
                }
                ("include-unknown-enum-members", _) => {
                    preferences.include_unknown_enum_members = true;
                }
                ("odata.maxpagesize" | "maxpagesize", Some(v)) => {
                    preferences.max_page_size = v.parse().ok().filter(|n| *n > 0);
                }
                _ => {}
            }
        }
        preferences
    }
}

impl Preferences {
    /// The same preferences with `return=minimal` dropped, for responses
    /// that always carry a representation.
    pub fn without_minimal(self) -> Self {
        Self {
            return_minimal: false,
            ..self
        }
    }

    /// Adds `Preference-Applied` naming the preferences that were honoured.
    pub fn announce(&self, response: &mut Response) {
        let mut applied = Vec::new();
        if self.return_minimal {
            applied.push("return=minimal".to_owned());
        }
        if self.include_unknown_enum_members {
            applied.push("include-unknown-enum-members".to_owned());
        }
        if let Some(size) = self.max_page_size {
            applied.push(format!("odata.maxpagesize={size}"));
        }

        if let Ok(value) = HeaderValue::from_str(&applied.join(", "))
            && !applied.is_empty()
        {
            response.headers_mut().insert("preference-applied", value);
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Preferences {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Preferences::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Preferences {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("prefer", value.parse().unwrap());
        }
        Preferences::from_headers(&headers)
    }

    #[test]
    fn reads_every_preference() {
        let p = parse(&[
            "return=minimal, include-unknown-enum-members",
            "odata.maxpagesize=50",
        ]);
        assert!(p.return_minimal);
        assert!(p.include_unknown_enum_members);
        assert_eq!(p.max_page_size, Some(50));
    }

    #[test]
    fn ignores_what_it_does_not_know() {
        let p = parse(&["respond-async, odata.maxpagesize=zero, return=representation"]);
        assert_eq!(p, Preferences::default());
    }
}
