//! Authentication, authorization and throttling of Graph requests.
//!
//! Every request to the entity set must carry `Authorization: Bearer
//! {token}`, as on Graph. The [`require_token`] middleware, in this order:
//! 1. verifies the token ([`verify`]): a missing or bad one is a 401
//!    `InvalidAuthenticationToken` with `WWW-Authenticate: Bearer`;
//! 2. checks its permissions against the request ([`permissions`]): a
//!    token without a suitable one is a 403 naming those that would do;
//! 3. counts the request against the client's limits ([`throttle`]): too
//!    many is a 429 `TooManyRequests` with `Retry-After`.
//!
//! The health probes (`/healthz`, `/readyz`) need no token. Tokens, keys
//! and signatures are never logged nor echoed in error bodies: the errors
//! say what was wrong, not what was sent.

pub mod jwks;
pub mod keys;
pub mod permissions;
pub mod throttle;
pub mod tokens;
pub mod verify;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::startup::AppState;
use permissions::Access;
use throttle::{Throttle, ThrottleSettings};
use tokens::Claims;
use verify::{Trust, TrustSettings};

pub use keys::{KeySource, SigningKey};
pub use tokens::{GrantKind, LocalSigner, TokenRequest};

/// Paths that answer without a token.
const PUBLIC_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// Why a token was refused. The reasons are for the client; none of them
/// quotes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Access token is empty.")]
    Missing,
    #[error("Access token validation failure. The token is not a well-formed JWT.")]
    Malformed,
    #[error("Lifetime validation failed, the token is expired.")]
    Expired,
    #[error("Lifetime validation failed, the token is not yet valid.")]
    NotYetValid,
    #[error("Access token validation failure. The signing key is not known.")]
    UnknownKey,
    #[error("Access token validation failure: {0}.")]
    Invalid(&'static str),
    #[error("The keys to validate access tokens cannot be loaded now.")]
    KeysUnavailable,
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::KeysUnavailable => ApiError::ServiceUnavailable {
                message: error.to_string(),
                retry_after_secs: 30,
                cause: None,
            },
            _ => ApiError::Unauthenticated(error.to_string()),
        }
    }
}

/// Who sent a request, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant (`tid`).
    pub tenant_id: String,
    /// The client application (`appid`, or `azp` in v2.0 tokens).
    pub app_id: String,
    /// The permissions of `scp` and `roles` together.
    pub permissions: Vec<String>,
}

impl Principal {
    /// The principal of verified claims; a token that names no app cannot
    /// be told apart from others and is refused.
    pub fn from_claims(claims: Claims) -> Result<Self, AuthError> {
        let app_id = claims
            .appid
            .or(claims.azp)
            .filter(|id| !id.is_empty())
            .ok_or(AuthError::Invalid("the token names no application"))?;
        let mut permissions: Vec<String> = claims
            .scp
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        permissions.extend(claims.roles.unwrap_or_default());

        Ok(Self {
            tenant_id: claims.tid.unwrap_or_default(),
            app_id,
            permissions,
        })
    }
}

/// How requests are authenticated and throttled, as configured.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub trust: TrustSettings,
    pub throttle: ThrottleSettings,
}

/// The token verifier and the throttle, shared by all requests.
#[derive(Debug)]
pub struct Auth {
    pub trust: Trust,
    pub throttle: Throttle,
}

impl Auth {
    pub fn from_settings(settings: &AuthSettings) -> anyhow::Result<Self> {
        Ok(Self {
            trust: Trust::from_settings(&settings.trust)?,
            throttle: Throttle::new(settings.throttle.clone()),
        })
    }

    /// Authenticates, authorizes and throttles one request.
    pub async fn admit(
        &self,
        method: &axum::http::Method,
        headers: &HeaderMap,
    ) -> Result<Principal, ApiError> {
        let token = bearer_token(headers)?;
        let principal = self.trust.verify(token).await?;

        let access = Access::of_method(method);
        if !access.is_allowed_by(&principal.permissions) {
            return Err(ApiError::Forbidden(
                access.insufficient_privileges_message(),
            ));
        }

        self.throttle
            .admit(&principal.tenant_id, &principal.app_id, access)
            .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
        Ok(principal)
    }
}

/// The middleware in front of the Graph routes.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if PUBLIC_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }

    match state.auth.admit(request.method(), request.headers()).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

/// The token of `Authorization: Bearer {token}` (the scheme in any case).
/// More than one `Authorization` header is refused: a proxy that reads
/// another of them than this service does could disagree on the caller.
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::Malformed);
    }
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }

    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn two_authorization_headers_are_refused() {
        let mut headers = with_authorization("Bearer a.b.c");
        headers.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer x.y.z"),
        );
        assert!(bearer_token(&headers).is_err());
    }

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(
            bearer_token(&with_authorization("Bearer a.b.c")),
            Ok("a.b.c")
        );
        assert_eq!(
            bearer_token(&with_authorization("bearer  a.b.c ")),
            Ok("a.b.c")
        );
    }

    #[test]
    fn other_schemes_and_empty_tokens_count_as_missing() {
        for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "a.b.c"] {
            assert_eq!(
                bearer_token(&with_authorization(value)),
                Err(AuthError::Missing)
            );
        }
        assert_eq!(bearer_token(&HeaderMap::new()), Err(AuthError::Missing));
    }

    #[test]
    fn scp_and_roles_both_grant_permissions() {
        let claims = Claims {
            azp: Some("app".into()),
            scp: Some("A.Read  B.Read".into()),
            roles: Some(vec!["C.ReadWrite".into()]),
            ..Claims::default()
        };

        let principal = Principal::from_claims(claims).unwrap();

        assert_eq!(principal.app_id, "app");
        assert_eq!(principal.permissions, ["A.Read", "B.Read", "C.ReadWrite"]);
    }

    #[test]
    fn a_token_without_an_application_is_refused() {
        assert!(Principal::from_claims(Claims::default()).is_err());
    }
}
