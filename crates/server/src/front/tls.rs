//! The TLS side of the listen port (`server-sdk-protocol.md` sections 1.3 and 8.2).
//!
//! The C++ SDK always speaks TLS (1.2), even for a `ws://` URL, and accepts any
//! certificate; Go and C# use plain `ws://` or a trusted certificate. So the port offers
//! TLS 1.2 and 1.3 with the configured certificate (`--tls-cert`/`--tls-key`), or else a
//! self-signed one generated into `<data-dir>/tls/` on first start and reused afterwards.
//! ALPN offers `h2` and `http/1.1` so HTTPS API clients may use either.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Folder of the generated certificate inside the data dir.
pub const GENERATED_DIR: &str = "tls";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Only one of certificate and key was configured.
    #[error("a TLS certificate and its key must be configured together")]
    Incomplete,
    /// A file could not be read or written.
    #[error("TLS file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A PEM file holds no usable certificate or key.
    #[error("TLS file {path}: {message}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Generating the self-signed certificate failed.
    #[error("generating a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate and key.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Where the certificate in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertOrigin {
    /// The configured files.
    Configured(PathBuf),
    /// A self-signed certificate generated on an earlier start.
    Stored(PathBuf),
    /// A self-signed certificate generated now.
    Generated(PathBuf),
}

/// The rustls server configuration for the listen port.
///
/// Blocking file I/O: call it from `spawn_blocking`. `names` are the DNS names and IP
/// addresses a generated certificate is issued for.
pub fn server_config(
    cert: Option<&Path>,
    key: Option<&Path>,
    data_dir: &Path,
    names: Vec<String>,
) -> Result<(Arc<ServerConfig>, CertOrigin), TlsError> {
    let (cert_path, key_path, origin) = match (cert, key) {
        (Some(cert), Some(key)) => (cert.to_owned(), key.to_owned(), CertOrigin::Configured(cert.to_owned())),
        (None, None) => {
            let dir = data_dir.join(GENERATED_DIR);
            let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
            let origin = if cert.exists() && key.exists() {
                CertOrigin::Stored(cert.clone())
            } else {
                generate(&dir, &cert, &key, names)?;
                CertOrigin::Generated(cert.clone())
            };
            (cert, key, origin)
        }
        _ => return Err(TlsError::Incomplete),
    };
    let pem = |path: &Path, message: String| TlsError::Pem { path: path.to_owned(), message };
    let chain = CertificateDer::pem_file_iter(&cert_path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| pem(&cert_path, e.to_string()))?;
    if chain.is_empty() {
        return Err(pem(&cert_path, "no certificate found".into()));
    }
    let private_key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| pem(&key_path, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(config), origin))
}

fn generate(dir: &Path, cert: &Path, key: &Path, names: Vec<String>) -> Result<(), TlsError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let generated = rcgen::generate_simple_self_signed(names)?;
    let write = |path: &Path, mode: u32, text: &str| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(path)
            .map_err(io(path))?;
        file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(io(path))
    };
    write(key, 0o600, &generated.signing_key.serialize_pem())?;
    write(cert, 0o644, &generated.cert.pem())
}

/// The names a generated certificate covers: localhost, the loopback addresses, the listen
/// address when it is specific, and the host of the SDK endpoint URL.
pub fn certificate_names(listen: std::net::SocketAddr, sdk_endpoint: &str) -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if !listen.ip().is_unspecified() {
        names.push(listen.ip().to_string());
    }
    let authority = sdk_endpoint.split_once("://").map_or(sdk_endpoint, |(_, rest)| rest);
    let authority = authority.split(['/', '?']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    if !host.is_empty() {
        names.push(host.to_owned());
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_is_reused_on_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["localhost".to_owned()];
        let (_, first) = server_config(None, None, dir.path(), names.clone()).unwrap();
        assert!(matches!(first, CertOrigin::Generated(_)));
        let pem = std::fs::read(dir.path().join(GENERATED_DIR).join(CERT_FILE)).unwrap();
        let (config, second) = server_config(None, None, dir.path(), names).unwrap();
        assert!(matches!(second, CertOrigin::Stored(_)));
        assert_eq!(std::fs::read(dir.path().join(GENERATED_DIR).join(CERT_FILE)).unwrap(), pem);
        assert_eq!(config.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        let mode = std::fs::metadata(dir.path().join(GENERATED_DIR).join(KEY_FILE)).unwrap();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600);
    }

    #[test]
    fn configured_files_are_used_and_must_come_in_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let generated = rcgen::generate_simple_self_signed(vec!["gl.example.net".to_owned()]).unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, generated.cert.pem()).unwrap();
        std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
        let (_, origin) = server_config(Some(&cert), Some(&key), dir.path(), vec![]).unwrap();
        assert_eq!(origin, CertOrigin::Configured(cert.clone()));
        assert!(matches!(server_config(Some(&cert), None, dir.path(), vec![]), Err(TlsError::Incomplete)));
        assert!(matches!(server_config(Some(&key), Some(&key), dir.path(), vec![]), Err(TlsError::Pem { .. })));
    }

    #[test]
    fn certificate_names_cover_loopback_listen_address_and_endpoint_host() {
        let names = certificate_names("10.1.2.3:9080".parse().unwrap(), "wss://gl.example.net:7443/prod");
        assert_eq!(names, ["10.1.2.3", "127.0.0.1", "::1", "gl.example.net", "localhost"]);
        let names = certificate_names("0.0.0.0:9080".parse().unwrap(), "ws://[::1]:9080");
        assert_eq!(names, ["127.0.0.1", "::1", "localhost"]);
    }
}
