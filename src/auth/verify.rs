//! Checking bearer tokens: the signature, the algorithm, the lifetime, the
//! issuer, the audience and the tenant.
//!
//! Two kinds of trust:
//! - [`Trust::Local`]: HS256 tokens signed with the local key;
//! - [`Trust::Oidc`]: RS256 and ES256 tokens of an OpenID Connect issuer
//!   such as Entra ID, checked against its key set ([`super::jwks`]).
//!
//! Each key accepts exactly one algorithm, the one of its own type, so an
//! HS256 token is never checked against a public key, and `alg: none`
//! (which `jsonwebtoken` cannot even parse) never gets through.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::jwks::{KeyLookup, KeySetCache, OidcSettings};
use super::keys::{KeySource, SigningKey};
use super::tokens::{Claims, GRAPH_AUDIENCE, LOCAL_ISSUER};
use super::{AuthError, Principal};

/// The allowance for clocks that disagree, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;

/// Which tokens the service trusts, as configured.
#[derive(Debug, Clone)]
pub enum TrustSettings {
    /// Tokens signed with the local key (the zero-setup default).
    Local(KeySource),
    /// Tokens of an OpenID Connect issuer.
    Oidc(OidcSettings),
}

/// Verifies bearer tokens and says who sent them.
pub enum Trust {
    Local {
        key: DecodingKey,
        validation: Validation,
    },
    Oidc(KeySetCache),
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::Local { .. } => f.write_str("Trust::Local"),
            Trust::Oidc(cache) => f.debug_tuple("Trust::Oidc").field(cache).finish(),
        }
    }
}

impl Trust {
    /// Loads the local key or prepares the key set cache.
    pub fn from_settings(settings: &TrustSettings) -> anyhow::Result<Self> {
        match settings {
            TrustSettings::Local(source) => Ok(Self::local(&SigningKey::load(source)?)),
            TrustSettings::Oidc(oidc) => Ok(Trust::Oidc(KeySetCache::new(oidc.clone())?)),
        }
    }

    /// Trust in tokens signed with `key`.
    pub fn local(key: &SigningKey) -> Self {
        let mut validation = base_validation(Algorithm::HS256, DEFAULT_LEEWAY_SECS);
        validation.set_issuer(&[LOCAL_ISSUER]);
        validation.set_audience(&[GRAPH_AUDIENCE]);
        Trust::Local {
            key: DecodingKey::from_secret(key.secret()),
            validation,
        }
    }

    /// Checks `token` and returns its principal.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;

        let claims = match self {
            Trust::Local { key, validation } => decode(token, key, validation)?,
            Trust::Oidc(cache) => {
                let kid = header.kid.as_deref().ok_or(AuthError::UnknownKey)?;
                let key = match cache.key(kid, header.alg).await {
                    KeyLookup::Found(key) => key,
                    KeyLookup::Unknown => return Err(AuthError::UnknownKey),
                    KeyLookup::Unavailable => return Err(AuthError::KeysUnavailable),
                };
                if key.algorithm != header.alg {
                    return Err(AuthError::Invalid("the algorithm does not match the key"));
                }
                let claims = decode(token, &key.key, &cache.validation(key.algorithm))?;
                cache.check_tenant(&claims)?;
                claims
            }
        };
        Principal::from_claims(claims)
    }

    /// Fetches the issuer's key set ahead of the first request; for local
    /// trust there is nothing to fetch.
    pub async fn prefetch(&self) -> bool {
        match self {
            Trust::Local { .. } => true,
            Trust::Oidc(cache) => cache.refresh_now().await,
        }
    }
}

/// The checks every token gets: one algorithm, `exp`, `nbf`, `iss`, `aud`.
pub(crate) fn base_validation(algorithm: Algorithm, leeway_secs: u64) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.algorithms = vec![algorithm];
    validation.leeway = leeway_secs;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation
}

fn decode(token: &str, key: &DecodingKey, validation: &Validation) -> Result<Claims, AuthError> {
    use jsonwebtoken::errors::ErrorKind;

    jsonwebtoken::decode::<Claims>(token, key, validation)
        .map(|data| data.claims)
        .map_err(|error| match error.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidSignature => AuthError::Invalid("the signature is not valid"),
            ErrorKind::InvalidAlgorithm => AuthError::Invalid("the algorithm is not accepted"),
            ErrorKind::InvalidIssuer => AuthError::Invalid("the issuer is not trusted"),
            ErrorKind::InvalidAudience => AuthError::Invalid("the audience is not this service"),
            ErrorKind::MissingRequiredClaim(_) => AuthError::Invalid("a required claim is missing"),
            _ => AuthError::Malformed,
        })
}
