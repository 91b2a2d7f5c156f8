//! The local signing key: a random HMAC secret that `serve` trusts and the
//! `token` subcommand signs with.
//!
//! By default it lives in `<data-dir>/signing-key`, created at first use
//! with owner-only permissions (0600). Several nodes can share one key by
//! pointing each at the same file (`RAA_SIGNING_KEY_FILE`) or by passing the
//! key itself (`RAA_SIGNING_KEY`).
//!
//! # Format
//!
//! ```text
//! signing-key = base64url(secret) [newline]    ; secret: 32 bytes or more
//! ```
//!
//! The key is never logged: its `Debug` prints a placeholder.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;

/// The name of the key file in the data directory.
pub const KEY_FILE_NAME: &str = "signing-key";

/// The fewest secret bytes accepted for HS256.
pub const MIN_SECRET_BYTES: usize = 32;

/// Where the local signing key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `<data-dir>/signing-key`, created when missing.
    DataDir(PathBuf),
    /// A file written by someone else, shared between nodes.
    File(PathBuf),
    /// The encoded key itself.
    Value(String),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::DataDir(dir) => f.debug_tuple("DataDir").field(dir).finish(),
            KeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            KeySource::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

/// An HMAC secret for HS256 tokens.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut secret = vec![0u8; MIN_SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        Self(secret)
    }

    /// Loads the key from `source`, creating the data directory's key file
    /// when it does not exist yet.
    pub fn load(source: &KeySource) -> anyhow::Result<Self> {
        match source {
            KeySource::DataDir(dir) => Self::load_or_create(dir),
            KeySource::File(path) => Self::read_file(path),
            KeySource::Value(text) => {
                Self::decode(text).context("the signing key given by value is not usable")
            }
        }
    }

    /// The key in `<dir>/signing-key`, created with mode 0600 if missing.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        let path = dir.join(KEY_FILE_NAME);

        let key = Self::generate();
        match key.write_new(&path) {
            Ok(()) => {
                tracing::info!(key.path = %path.display(), "created a new token signing key");
                Ok(key)
            }
            // Another process (or an earlier start) made it first: use that.
            Err(error) if error.kind() == ErrorKind::AlreadyExists => Self::read_file(&path),
            Err(error) => Err(error)
                .with_context(|| format!("cannot create the signing key {}", path.display())),
        }
    }

    /// Reads an existing key file.
    pub fn read_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the signing key {}", path.display()))?;
        warn_if_shared(path);
        Self::decode(&text)
            .with_context(|| format!("the signing key {} is not usable", path.display()))
    }

    /// Decodes the text form (base64, URL-safe or standard).
    pub fn decode(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        let secret = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .or_else(|_| STANDARD.decode(text))
            .map_err(|_| anyhow::anyhow!("it is not base64"))?;
        if secret.len() < MIN_SECRET_BYTES {
            anyhow::bail!(
                "it has {} bytes, fewer than {MIN_SECRET_BYTES}",
                secret.len()
            );
        }
        Ok(Self(secret))
    }

    /// The text form, as stored in the key file.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0)
    }

    pub(crate) fn secret(&self) -> &[u8] {
        &self.0
    }

    fn write_new(&self, path: &Path) -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(format!("{}\n", self.encode()).as_bytes())?;
        file.sync_all()
    }
}

/// A key file that others can read is a key others can sign with.
fn warn_if_shared(path: &Path) {
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    if metadata.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            key.path = %path.display(),
            "the token signing key is readable by other users; restrict it to its owner"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_dir_key_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();

        let first = SigningKey::load_or_create(dir.path()).unwrap();
        let second = SigningKey::load_or_create(dir.path()).unwrap();

        assert_eq!(first.secret(), second.secret());
        let mode = std::fs::metadata(dir.path().join(KEY_FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn short_or_garbled_keys_are_refused() {
        assert!(SigningKey::decode("c2hvcnQ").is_err());
        assert!(SigningKey::decode("not base64 at all!").is_err());
        assert!(SigningKey::decode(&SigningKey::generate().encode()).is_ok());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let key = SigningKey::generate();
        let source = KeySource::Value(key.encode());

        assert!(!format!("{key:?}").contains(&key.encode()));
        assert!(!format!("{source:?}").contains(&key.encode()));
    }
}
