//! Minting tokens with the local signing key, for the `token` subcommand and
//! for tests.
//!
//! A local token looks like an Entra ID access token for Graph: issuer
//! [`LOCAL_ISSUER`], audience [`GRAPH_AUDIENCE`], and the claims `tid`,
//! `appid`, `azp`, `oid`, `sub`, `iat`, `nbf`, `exp`, plus the permissions in
//! `scp` (delegated) or `roles` (application).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::keys::{KeySource, SigningKey};
use super::permissions::CONFIGURATION_READ_WRITE;

/// The `iss` of local tokens.
pub const LOCAL_ISSUER: &str = "remote-action-audits";
/// The `aud` of local tokens: Microsoft Graph's resource URI.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// The `tid` of local tokens unless another tenant is asked for.
pub const LOCAL_TENANT_ID: &str = "00000000-0000-0000-0000-000000000001";
/// The `appid` of local tokens unless another app is asked for.
pub const LOCAL_APP_ID: &str = "00000000-0000-0000-0000-00000000a0d1";

/// How a token carries its permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// Permissions a user delegated to an app: the `scp` claim.
    Delegated,
    /// Permissions of the app itself: the `roles` claim.
    Application,
}

/// What a token should say.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub permissions: Vec<String>,
    pub kind: GrantKind,
    pub lifetime: Duration,
    pub tenant_id: String,
    pub app_id: String,
}

impl Default for TokenRequest {
    /// A delegated, read-write token for an hour.
    fn default() -> Self {
        Self {
            permissions: vec![CONFIGURATION_READ_WRITE.to_owned()],
            kind: GrantKind::Delegated,
            lifetime: Duration::from_secs(3600),
            tenant_id: LOCAL_TENANT_ID.to_owned(),
            app_id: LOCAL_APP_ID.to_owned(),
        }
    }
}

/// The claims of an access token that this service reads or writes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Claims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// Signs tokens with the local key.
#[derive(Debug, Clone)]
pub struct LocalSigner {
    key: SigningKey,
}

impl LocalSigner {
    pub fn new(key: SigningKey) -> Self {
        Self { key }
    }

    /// The signer for a data directory's key (created when missing).
    pub fn for_data_dir(data_dir: &Path) -> anyhow::Result<Self> {
        Self::from_source(&KeySource::DataDir(data_dir.to_owned()))
    }

    pub fn from_source(source: &KeySource) -> anyhow::Result<Self> {
        Ok(Self::new(SigningKey::load(source)?))
    }

    /// A token for `request`, valid from now.
    pub fn mint(&self, request: &TokenRequest) -> anyhow::Result<String> {
        let now = unix_now();
        let lifetime = i64::try_from(request.lifetime.as_secs()).context("lifetime too long")?;
        let object_id = uuid::Uuid::new_v4().to_string();
        let permissions = request.permissions.clone();

        let mut claims = Claims {
            iss: Some(LOCAL_ISSUER.to_owned()),
            aud: Some(GRAPH_AUDIENCE.into()),
            tid: Some(request.tenant_id.clone()),
            appid: Some(request.app_id.clone()),
            azp: Some(request.app_id.clone()),
            oid: Some(object_id.clone()),
            sub: Some(object_id),
            iat: Some(now),
            nbf: Some(now),
            exp: Some(now.saturating_add(lifetime)),
            ..Claims::default()
        };
        match request.kind {
            GrantKind::Delegated => claims.scp = Some(permissions.join(" ")),
            GrantKind::Application => claims.roles = Some(permissions),
        }
        self.sign(&claims)
    }

    /// Signs any claims as they are; tests use it for tokens that must fail.
    pub fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let key = EncodingKey::from_secret(self.key.secret());
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key)
            .context("cannot sign the token")
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses a token lifetime: a number and a unit, `s`, `m`, `h` or `d`
/// (`90s`, `30m`, `1h`, `7d`).
pub fn parse_lifetime(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.char_indices().last().map_or(0, |(at, _)| at);
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("'{text}' needs a unit: s, m, h or d (e.g. 1h)")),
    };

    let count: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a number followed by s, m, h or d"))?;
    count
        .checked_mul(seconds_per_unit)
        .filter(|seconds| *seconds > 0 && *seconds <= 366 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{text}' must be more than 0 and at most 366d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_take_a_unit() {
        assert_eq!(parse_lifetime("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_lifetime("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_lifetime("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_lifetime("7d"), Ok(Duration::from_secs(7 * 86_400)));
    }

    #[test]
    fn bad_lifetimes_are_refused() {
        for text in [
            "",
            "h",
            "10",
            "0h",
            "1y",
            "-1h",
            "1é",
            "999999999999999999d",
        ] {
            assert!(parse_lifetime(text).is_err(), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_lifetime_text_parses_or_is_refused_without_panic(text in "\\PC{0,12}") {
            let _ = parse_lifetime(&text);
        }
    }

    #[test]
    fn application_tokens_carry_roles_and_delegated_ones_scp() {
        let signer = LocalSigner::new(SigningKey::generate());
        let request = TokenRequest {
            kind: GrantKind::Application,
            ..TokenRequest::default()
        };

        let token = signer.mint(&request).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let claims: Claims = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();

        assert_eq!(
            claims.roles,
            Some(vec![CONFIGURATION_READ_WRITE.to_owned()])
        );
        assert_eq!(claims.scp, None);
    }
}
