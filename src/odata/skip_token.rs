//! `$skiptoken`: where the next page of a list starts.
//!
//! A token holds a keyset position (the sort values of the last audit
//! served), how many audits were served so far (so that `$top` bounds the
//! whole walk), and a hash of the request's other query options. It is
//! signed with HMAC-SHA256 under the database's instance secret, so that any
//! node on the same database accepts it and nobody can forge or alter one.
//!
//! # Format
//!
//! ```text
//! token   = base64url(payload) "." base64url(hmac-sha256(secret, payload))
//! payload = JSON {"served": n, "position": [value...], "options": base64(hash)}
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::ApiError;
use crate::storage::sql::SqlValue;

/// The decoded content of a skip token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SkipToken {
    /// Audits served by earlier pages of this walk.
    pub served: u64,
    /// The sort values of the last audit served.
    pub position: Vec<SqlValue>,
    /// The fingerprint of the query options the walk was started with.
    options: String,
}

impl SkipToken {
    pub fn new(served: u64, position: Vec<SqlValue>, fingerprint: &[u8; 32]) -> Self {
        Self {
            served,
            position,
            options: URL_SAFE_NO_PAD.encode(fingerprint),
        }
    }

    /// The token as it appears in a next link.
    pub fn sign(&self, secret: &[u8]) -> String {
        let payload = serde_json::to_vec(self).unwrap_or_default();
        let signature = mac(secret, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// Checks `text` and decodes it. It must carry a valid signature, come
    /// from a request with the same other options, and hold a position with
    /// one value per sort key.
    pub fn verify(
        text: &str,
        secret: &[u8],
        fingerprint: &[u8; 32],
        sort_keys: usize,
    ) -> Result<Self, ApiError> {
        let invalid = || {
            ApiError::BadRequest(
                "The $skiptoken is not valid: use the @odata.nextLink of a previous response \
                 unchanged."
                    .into(),
            )
        };

        let (payload, signature) = text.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
        mac(secret, &payload)
            .verify_slice(&signature)
            .map_err(|_| invalid())?;
        let token: SkipToken = serde_json::from_slice(&payload).map_err(|_| invalid())?;

        if token.options != URL_SAFE_NO_PAD.encode(fingerprint) {
            return Err(ApiError::BadRequest(
                "The $skiptoken belongs to a request with other query options: keep every \
                 option of the @odata.nextLink as it is."
                    .into(),
            ));
        }
        if token.position.len() != sort_keys {
            return Err(invalid());
        }
        Ok(token)
    }
}

fn mac(secret: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(payload);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"secret";
    const OPTIONS: [u8; 32] = [7; 32];

    fn token() -> SkipToken {
        SkipToken::new(
            3,
            vec![SqlValue::Integer(5), SqlValue::Text("a".into())],
            &OPTIONS,
        )
    }

    #[test]
    fn round_trips() {
        let text = token().sign(SECRET);
        assert_eq!(
            SkipToken::verify(&text, SECRET, &OPTIONS, 2).unwrap(),
            token()
        );
    }

    #[test]
    fn refuses_tampering_other_options_and_other_secrets() {
        let text = token().sign(SECRET);
        let mut tampered = text.clone().into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();

        assert!(SkipToken::verify(&tampered, SECRET, &OPTIONS, 2).is_err());
        assert!(SkipToken::verify(&text, b"other", &OPTIONS, 2).is_err());
        assert!(SkipToken::verify(&text, SECRET, &[8; 32], 2).is_err());
        assert!(SkipToken::verify(&text, SECRET, &OPTIONS, 3).is_err());
        assert!(SkipToken::verify("garbage", SECRET, &OPTIONS, 2).is_err());
    }
}
