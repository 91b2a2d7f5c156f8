//! An OpenID Connect issuer's signing keys (its JWKS), fetched from a URL or
//! read from a file, cached, and refreshed when a token names a key the
//! cache does not know; at most once per refresh interval (a minute), so a
//! flood of made-up `kid`s cannot turn into a flood of fetches.
//!
//! Only RSA keys (for RS256) and P-256 keys (for ES256) are kept; symmetric
//! keys in a published set are ignored, as are keys meant for encryption.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::AuthError;
use super::tokens::Claims;
use super::verify::base_validation;

/// The shortest time between two fetches of the key set.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// How long one fetch of the key set may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest key set document read.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// Where the key set is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    Url(url::Url),
    File(PathBuf),
}

impl JwksSource {
    /// An `http(s)://` URL, or else a file path.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        if text.starts_with("http://") || text.starts_with("https://") {
            let url = url::Url::parse(text).context("the JWKS URL is not valid")?;
            Ok(JwksSource::Url(url))
        } else {
            Ok(JwksSource::File(PathBuf::from(text)))
        }
    }
}

/// The configuration of an OpenID Connect issuer.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The exact `iss` of its tokens.
    pub issuer: String,
    /// The accepted `aud` values (one must match).
    pub audiences: Vec<String>,
    /// The `tid` tokens must carry, when set.
    pub tenant_id: Option<String>,
    pub jwks: JwksSource,
    pub leeway_secs: u64,
    pub refresh_interval: Duration,
}

/// A public key and the one algorithm it verifies.
#[derive(Clone)]
pub struct VerifyingKey {
    pub key: DecodingKey,
    pub algorithm: Algorithm,
}

/// The answer to "which key is this `kid`?".
pub enum KeyLookup {
    Found(VerifyingKey),
    Unknown,
    /// The key set could never be loaded.
    Unavailable,
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, VerifyingKey>,
    loaded: bool,
}

/// The issuer's keys, with rate-limited refresh.
pub struct KeySetCache {
    settings: OidcSettings,
    client: reqwest::Client,
    keys: Arc<RwLock<Arc<KeySet>>>,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for KeySetCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySetCache")
            .field("issuer", &self.settings.issuer)
            .field("jwks", &self.settings.jwks)
            .finish_non_exhaustive()
    }
}

impl KeySetCache {
    pub fn new(settings: OidcSettings) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .context("cannot build the HTTP client for the JWKS")?;
        Ok(Self {
            settings,
            client,
            keys: Arc::new(RwLock::new(Arc::new(KeySet::default()))),
            last_fetch: tokio::sync::Mutex::new(None),
        })
    }

    /// The checks for a token verified with a key of `algorithm`.
    pub fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = base_validation(algorithm, self.settings.leeway_secs);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&self.settings.audiences);
        validation
    }

    /// Tokens from other tenants are refused when a tenant is configured.
    pub fn check_tenant(&self, claims: &Claims) -> Result<(), AuthError> {
        match &self.settings.tenant_id {
            Some(tenant) if claims.tid.as_deref() != Some(tenant.as_str()) => {
                Err(AuthError::Invalid("the token is for another tenant"))
            }
            _ => Ok(()),
        }
    }

    /// The key named `kid` for `algorithm`, refreshing the set once if it is
    /// not known (and the last fetch is old enough).
    pub async fn key(&self, kid: &str, algorithm: Algorithm) -> KeyLookup {
        if !matches!(algorithm, Algorithm::RS256 | Algorithm::ES256) {
            return KeyLookup::Unknown;
        }
        if let Some(key) = self.current().keys.get(kid) {
            return KeyLookup::Found(key.clone());
        }

        self.refresh_if_due().await;

        let keys = self.current();
        match keys.keys.get(kid) {
            Some(key) => KeyLookup::Found(key.clone()),
            None if keys.loaded => KeyLookup::Unknown,
            None => KeyLookup::Unavailable,
        }
    }

    /// Fetches the key set now, whatever the time of the last fetch.
    pub async fn refresh_now(&self) -> bool {
        let mut last_fetch = self.last_fetch.lock().await;
        *last_fetch = Some(Instant::now());
        self.fetch_and_store().await
    }

    async fn refresh_if_due(&self) {
        let mut last_fetch = self.last_fetch.lock().await;
        let due = last_fetch.is_none_or(|at| at.elapsed() >= self.settings.refresh_interval);
        if due {
            *last_fetch = Some(Instant::now());
            self.fetch_and_store().await;
        }
    }

    /// Fetches and stores the key set in a task of its own: a client that
    /// goes away must not cancel a fetch the rate limit has already counted.
    async fn fetch_and_store(&self) -> bool {
        let client = self.client.clone();
        let source = self.settings.jwks.clone();
        let keys = self.keys.clone();

        let task = tokio::spawn(async move {
            match fetch(&client, &source).await {
                Ok(fetched) => {
                    tracing::info!(
                        jwks.keys = fetched.len(),
                        "loaded the issuer's signing keys"
                    );
                    let set = KeySet {
                        keys: fetched,
                        loaded: true,
                    };
                    *keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
                    true
                }
                Err(error) => {
                    tracing::warn!(error.cause_chain = %format!("{error:#}"), "cannot load the JWKS");
                    false
                }
            }
        });
        task.await.unwrap_or(false)
    }

    fn current(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn fetch(
    client: &reqwest::Client,
    source: &JwksSource,
) -> anyhow::Result<HashMap<String, VerifyingKey>> {
    let bytes = match source {
        JwksSource::File(path) => tokio::fs::read(path)
            .await
            .with_context(|| format!("cannot read {}", path.display()))?,
        JwksSource::Url(url) => download(client, url).await?,
    };
    parse_key_set(&bytes)
}

async fn download(client: &reqwest::Client, url: &url::Url) -> anyhow::Result<Vec<u8>> {
    let response = client
        .get(url.clone())
        .send()
        .await
        .context("the JWKS request failed")?
        .error_for_status()
        .context("the JWKS endpoint answered with an error")?;
    let bytes = response.bytes().await.context("cannot read the JWKS")?;
    if bytes.len() > MAX_JWKS_BYTES {
        anyhow::bail!("the JWKS is larger than {MAX_JWKS_BYTES} bytes");
    }
    Ok(bytes.to_vec())
}

/// The usable keys of a JWKS document, by `kid`.
pub fn parse_key_set(bytes: &[u8]) -> anyhow::Result<HashMap<String, VerifyingKey>> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }

    let document: Document = serde_json::from_slice(bytes).context("the JWKS is not valid")?;
    let keys = document
        .keys
        .into_iter()
        .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, verifying_key(&jwk)?)))
        .collect();
    Ok(keys)
}

/// The key and its one algorithm, for signature keys of a supported type.
fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return None,
    };
    let declared = jwk.common.key_algorithm.map(|a| a.to_string());
    if declared.is_some_and(|declared| declared != format!("{algorithm:?}")) {
        return None;
    }

    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyingKey { key, algorithm })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_and_encryption_keys_are_ignored() {
        let document = br#"{"keys":[
            {"kty":"oct","kid":"hmac","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"sXch","e":"AQAB"},
            {"kty":"RSA","kid":"sig","use":"sig","n":"sXch","e":"AQAB"},
            {"kty":"EC","kid":"p384","crv":"P-384","x":"AA","y":"AA"},
            {"kty":"unknown","kid":"odd"}
        ]}"#;

        let keys = parse_key_set(document).unwrap();

        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["sig"]);
        assert_eq!(keys["sig"].algorithm, Algorithm::RS256);
    }

    #[test]
    fn a_key_declared_for_another_algorithm_is_ignored() {
        let document = br#"{"keys":[{"kty":"RSA","kid":"k","alg":"RS512","n":"sXch","e":"AQAB"}]}"#;

        assert!(parse_key_set(document).unwrap().is_empty());
    }

    #[test]
    fn sources_are_urls_or_files() {
        assert!(matches!(
            JwksSource::parse("http://127.0.0.1:1/keys").unwrap(),
            JwksSource::Url(_)
        ));
        assert_eq!(
            JwksSource::parse("/etc/keys.json").unwrap(),
            JwksSource::File(PathBuf::from("/etc/keys.json"))
        );
    }
}
