//! The access keys SigV4 accepts.
//!
//! Configured keys come from `OPENLIFT_ACCESS_KEY_ID`/`OPENLIFT_SECRET_ACCESS_KEY`
//! or the config file. With none configured, the first start generates a pair
//! and writes it to `<data-dir>/credentials` (mode 0600) in the AWS shared
//! credentials format, so the AWS CLI and SDKs can use the file directly
//! (`AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials`). Secrets never reach logs:
//! every type holding one redacts it in `Debug`.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rand::Rng;
use serde::Deserialize;

/// One access key and its secret.
#[derive(Clone, Deserialize, PartialEq, Eq)]
pub struct CredentialEntry {
    /// The access key ID (not secret).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl fmt::Debug for CredentialEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialEntry")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// The name of the generated credentials file inside the data dir.
pub const CREDENTIALS_FILE: &str = "credentials";

/// Why credentials could not be loaded or generated.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Reading or writing the credentials file failed.
    #[error("credentials file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file exists but holds no usable key pair.
    #[error("credentials file {0} has no aws_access_key_id/aws_secret_access_key pair")]
    Malformed(PathBuf),
}

/// Where the credentials in effect came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Given by configuration.
    Configured,
    /// Read from the data dir, generated on an earlier start.
    Stored(PathBuf),
    /// Generated now and written to this file.
    Generated(PathBuf),
}

/// The configured credentials, or else the stored ones, or else a new generated pair.
///
/// Blocking file I/O: call it before starting the runtime or from `spawn_blocking`.
pub fn resolve(
    configured: Vec<CredentialEntry>,
    data_dir: &Path,
) -> Result<(Vec<CredentialEntry>, Origin), CredentialsError> {
    if !configured.is_empty() {
        return Ok((configured, Origin::Configured));
    }
    let path = data_dir.join(CREDENTIALS_FILE);
    let io = |source| CredentialsError::Io { path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let entry = parse_shared_credentials(&text).ok_or_else(|| CredentialsError::Malformed(path.clone()))?;
            Ok((vec![entry], Origin::Stored(path)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).map_err(io)?;
            let entry = generate();
            let mut file =
                std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(io)?;
            write!(
                file,
                "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                entry.access_key_id, entry.secret_access_key
            )
            .and_then(|()| file.sync_all())
            .map_err(io)?;
            Ok((vec![entry], Origin::Generated(path)))
        }
        Err(e) => Err(io(e)),
    }
}

/// A new random key pair in AWS's shapes: a 20-character key ID starting with
/// `AKIA`, a 40-character secret.
pub fn generate() -> CredentialEntry {
    const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rngs::OsRng;
    let mut pick = |alphabet: &[u8], n: usize| -> String {
        (0..n).map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())])).collect()
    };
    CredentialEntry {
        access_key_id: format!("AKIA{}", pick(KEY_ALPHABET, 16)),
        secret_access_key: pick(SECRET_ALPHABET, 40),
    }
}

/// The first key pair of an AWS shared credentials file.
fn parse_shared_credentials(text: &str) -> Option<CredentialEntry> {
    let value = |name: &str| {
        text.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == name).then(|| value.trim().to_owned())
        })
    };
    Some(CredentialEntry {
        access_key_id: value("aws_access_key_id")?,
        secret_access_key: value("aws_secret_access_key")?,
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn configured_credentials_win_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let entry = CredentialEntry { access_key_id: "AKIDEXAMPLE".into(), secret_access_key: "s".into() };
        let (creds, origin) = resolve(vec![entry.clone()], dir.path()).unwrap();
        assert_eq!((creds, origin), (vec![entry], Origin::Configured));
        assert!(!dir.path().join(CREDENTIALS_FILE).exists());
    }

    #[test]
    fn first_start_generates_a_private_file_and_later_starts_reuse_it() {
        let dir = tempfile::tempdir().unwrap();
        let (first, origin) = resolve(vec![], dir.path()).unwrap();
        let path = dir.path().join(CREDENTIALS_FILE);
        assert_eq!(origin, Origin::Generated(path.clone()));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(first[0].access_key_id.starts_with("AKIA") && first[0].access_key_id.len() == 20);
        assert_eq!(first[0].secret_access_key.len(), 40);
        let (second, origin) = resolve(vec![], dir.path()).unwrap();
        assert_eq!(origin, Origin::Stored(path));
        assert_eq!(first, second);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let entry = generate();
        let shown = format!("{entry:?}");
        assert!(!shown.contains(&entry.secret_access_key));
        assert!(shown.contains(&entry.access_key_id));
    }

    #[test]
    fn a_file_without_a_key_pair_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CREDENTIALS_FILE), "[default]\n").unwrap();
        assert!(matches!(resolve(vec![], dir.path()), Err(CredentialsError::Malformed(_))));
    }
}
