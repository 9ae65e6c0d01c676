//! The hub's own TLS certificate and the listener that serves HTTPS with it.
//!
//! The certificate is self-signed (rcgen, ECDSA P-256) and kits do not trust it through any CA:
//! they pin its SHA-256 (of the DER encoding), learnt from the enrollment token. Its names
//! (`--san`) are there for browsers and other clients; a pinning kit ignores them, and ignores
//! the validity dates too (the pin is the whole trust decision).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::connlimit::{accept_tcp, ConnLimiter, Limited};
use crate::HubError;
use jemput_core::fsutil;

/// The hub certificate (PEM), in the data directory.
pub const CERT_FILE: &str = "hub-cert.pem";
/// The hub certificate's private key (PKCS#8 PEM, 0600), in the data directory.
pub const CERT_KEY_FILE: &str = "hub-cert.key";

/// How long a client may take over the TLS handshake before the hub drops the connection.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);
/// Handshakes finished but not yet taken by the server loop.
const ACCEPT_BACKLOG: usize = 64;

/// The SHA-256 of a certificate's DER encoding, as 64 lowercase hex digits: what kits pin.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The names a new certificate gets when none are given: `localhost`, `127.0.0.1`, `::1` and the
/// machine's host name (when it has a usable one).
pub fn default_sans() -> Vec<String> {
    let mut sans = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let h = h.trim();
        let usable = !h.is_empty()
            && h.len() <= 253
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
        if usable && !sans.iter().any(|s| s == h) {
            sans.push(h.to_string());
        }
    }
    sans
}

/// Creates the hub certificate and key in `data` with these subject alternative names; returns
/// the certificate's fingerprint. Refuses to overwrite an existing certificate or key (kits pin
/// it: replacing it cuts every enrolled kit off).
pub fn create_cert(data: &Path, sans: &[String]) -> Result<String, HubError> {
    for f in [CERT_FILE, CERT_KEY_FILE] {
        let p = data.join(f);
        if p.exists() {
            return Err(HubError::AlreadyInitialised { path: p });
        }
    }
    if sans.is_empty() {
        return Err(HubError::BadCertificate {
            path: data.join(CERT_FILE),
            why: "no subject alternative name given".into(),
        });
    }
    let bad = |why: String| HubError::BadCertificate {
        path: data.join(CERT_FILE),
        why,
    };
    let mut params = rcgen::CertificateParams::new(sans.to_vec())
        .map_err(|e| bad(format!("bad --san value: {e}")))?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "jemput hub");
    params.distinguished_name = dn;
    let year = jiff::Zoned::now().year();
    params.not_before = rcgen::date_time_ymd(i32::from(year) - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(i32::from(year) + 30, 1, 1);
    let key = rcgen::KeyPair::generate().map_err(|e| bad(format!("key generation: {e}")))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| bad(format!("signing: {e}")))?;
    // The key first, the certificate last: a certificate file means a complete pair.
    let key_path = data.join(CERT_KEY_FILE);
    fsutil::write_atomic(&key_path, key.serialize_pem().as_bytes(), 0o600)
        .map_err(HubError::io("write", &key_path))?;
    let cert_path = data.join(CERT_FILE);
    fsutil::write_atomic(&cert_path, cert.pem().as_bytes(), 0o644)
        .map_err(HubError::io("write", &cert_path))?;
    fsutil::sync_dir(data).map_err(HubError::io("sync", data))?;
    Ok(fingerprint(cert.der()))
}

/// The hub's certificate and key, loaded.
#[derive(Debug)]
pub struct HubCert {
    /// The certificate, DER.
    pub cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl HubCert {
    /// Loads the certificate and key from `data`.
    pub fn load(data: &Path) -> Result<HubCert, HubError> {
        let cert_path = data.join(CERT_FILE);
        if !cert_path.exists() {
            return Err(HubError::NoCertificate { path: data.into() });
        }
        let bad = |path: &Path, why: String| HubError::BadCertificate {
            path: path.into(),
            why,
        };
        let cert = CertificateDer::from_pem_file(&cert_path)
            .map_err(|e| bad(&cert_path, format!("not a PEM certificate: {e}")))?;
        let key_path = data.join(CERT_KEY_FILE);
        let key = PrivateKeyDer::from_pem_file(&key_path)
            .map_err(|e| bad(&key_path, format!("not a PEM private key: {e}")))?;
        Ok(HubCert { cert, key })
    }

    /// The fingerprint kits pin.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert)
    }

    /// A rustls server config presenting this certificate (HTTP/1.1 over TLS 1.2 or 1.3).
    pub fn server_config(&self) -> Result<rustls::ServerConfig, HubError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_no_client_auth()
                    .with_single_cert(vec![self.cert.clone()], self.key.clone_key())
            })
            .map_err(|e| HubError::BadCertificate {
                path: CERT_FILE.into(),
                why: e.to_string(),
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// A listener that hands the server only connections whose TLS handshake finished. Handshakes run
/// in their own tasks with a timeout, so a client that stalls in the handshake holds up nobody.
/// The connection caps apply before the handshake: a connection over a cap costs no handshake
/// slot, and is answered `503`/`429` over TLS (see [`crate::connlimit`]).
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    ready: tokio::sync::mpsc::Receiver<(Limited<TlsStream<TcpStream>>, SocketAddr)>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Wraps a bound TCP listener; must be called inside a tokio runtime.
    pub(crate) fn new(
        listener: TcpListener,
        config: rustls::ServerConfig,
        limiter: Arc<ConnLimiter>,
    ) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (tx, ready) = tokio::sync::mpsc::channel(ACCEPT_BACKLOG);
        let accept_task = tokio::spawn(async move {
            loop {
                let (tcp, peer) = accept_tcp(&listener).await;
                let acceptor = acceptor.clone();
                let permit = match limiter.try_acquire(peer.ip()) {
                    Ok(p) => p,
                    Err(r) => {
                        limiter.refuse(tcp, r, move |t| async move {
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(t))
                                .await
                                .map_err(|_| std::io::Error::other("TLS handshake timed out"))?
                        });
                        continue;
                    }
                };
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((Limited::new(tls, permit), peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            local,
            ready,
            accept_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = Limited<TlsStream<TcpStream>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accept task only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_certificate_loads_back_with_the_same_fingerprint_and_a_private_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let sans = vec!["localhost".to_string(), "10.0.0.2".into()];
        let fp = create_cert(dir.path(), &sans).unwrap();
        assert_eq!(fp.len(), 64);
        let loaded = HubCert::load(dir.path()).unwrap();
        assert_eq!(loaded.fingerprint(), fp);
        loaded.server_config().unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(CERT_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Never overwritten.
        assert!(matches!(
            create_cert(dir.path(), &sans),
            Err(HubError::AlreadyInitialised { .. })
        ));
        assert_eq!(HubCert::load(dir.path()).unwrap().fingerprint(), fp);
    }

    #[test]
    fn a_bad_san_or_a_missing_certificate_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = create_cert(dir.path(), &["hüb.example".into()]).unwrap_err();
        assert!(e.to_string().contains("--san"), "{e}");
        let e = HubCert::load(dir.path()).unwrap_err();
        assert!(matches!(e, HubError::NoCertificate { .. }), "{e}");
    }
}
