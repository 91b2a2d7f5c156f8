//! The service root that `@odata.context` and `@odata.nextLink` URLs start
//! with: the configured public URL, or else `http://` and the request's
//! `Host`, followed by `/beta` when the request came in under it.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::header;
use axum::http::request::Parts;

use crate::startup::AppState;

/// An absolute URL such as `http://127.0.0.1:8080/beta`, without a
/// trailing slash.
#[derive(Debug, Clone)]
pub struct ServiceRoot(pub String);

impl ServiceRoot {
    /// `{root}/$metadata#{fragment}`.
    pub fn context(&self, fragment: &str) -> String {
        format!("{}/$metadata#{fragment}", self.0)
    }
}

impl FromRequestParts<AppState> for ServiceRoot {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let base = match &state.settings.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .filter(|host| is_plain_authority(host))
                    .map_or_else(|| state.settings.listen.to_string(), str::to_owned);
                format!("http://{host}")
            }
        };

        // Nesting strips `/beta` from the URI the router sees; the original
        // one still has it.
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path(), |original| original.path());
        let versioned = path
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("/beta/"));
        Ok(ServiceRoot(if versioned {
            format!("{base}/beta")
        } else {
            base
        }))
    }
}

/// A host and optional port, with nothing that could bend the URL.
fn is_plain_authority(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
}
