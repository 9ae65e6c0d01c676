//! Pinning the hub's TLS certificate: the kit accepts exactly the certificate whose SHA-256 it
//! learnt at enrollment, and no other, whatever a CA says.
//!
//! [`PinnedVerifier`] is a rustls certificate verifier that compares the SHA-256 of the server's
//! end-entity certificate (DER) with the pin, and still checks the handshake signatures with the
//! certificate's key, so the server must hold the private key of the pinned certificate. Host
//! names and validity dates are not checked: the pin is the whole trust decision (the hub's
//! certificate is self-signed). With a pin, an `https` URL never falls back to the WebPKI roots.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// The SHA-256 of a certificate's DER encoding, 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CertPin(String);

impl CertPin {
    /// The pin of a DER certificate.
    pub fn of(der: &[u8]) -> CertPin {
        CertPin(hex::encode(Sha256::digest(der)))
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertPin({})", self.0)
    }
}

/// A certificate fingerprint that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a certificate SHA-256: give 64 hex digits (colons allowed), as `jemput hub serve` prints it")]
pub struct BadPin(pub String);

impl FromStr for CertPin {
    type Err = BadPin;

    fn from_str(s: &str) -> Result<CertPin, BadPin> {
        let t = s.trim();
        let t = t.strip_prefix("sha256:").unwrap_or(t);
        let hex: String = t.chars().filter(|&c| c != ':').collect();
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(CertPin(hex.to_ascii_lowercase()))
        } else {
            Err(BadPin(s.into()))
        }
    }
}

/// The server presented another certificate than the pinned one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the hub's TLS certificate is not the pinned one: expected SHA-256 {expected}, the server presented {presented}. Someone may be intercepting the connection, or the hub's certificate changed: check with the office before enrolling again")]
pub struct PinMismatch {
    /// The pinned fingerprint.
    pub expected: CertPin,
    /// What the server presented.
    pub presented: CertPin,
}

/// Accepts exactly one certificate (by SHA-256) and checks the handshake signatures with it.
#[derive(Debug)]
pub struct PinnedVerifier {
    pin: CertPin,
    algorithms: WebPkiSupportedAlgorithms,
    mismatch: Arc<Mutex<Option<PinMismatch>>>,
}

impl PinnedVerifier {
    /// The last mismatch seen, if any (taken: a later call returns `None` until another).
    pub fn take_mismatch(&self) -> Option<PinMismatch> {
        self.mismatch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = CertPin::of(end_entity);
        if presented == self.pin {
            return Ok(ServerCertVerified::assertion());
        }
        let m = PinMismatch {
            expected: self.pin.clone(),
            presented,
        };
        let message = m.to_string();
        *self.mismatch.lock().unwrap_or_else(|p| p.into_inner()) = Some(m);
        Err(rustls::Error::General(message))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// An HTTP client that trusts only the pinned certificate on `https` URLs, with the verifier to
/// ask about a refused certificate.
pub fn pinned_client(
    builder: reqwest::ClientBuilder,
    pin: &CertPin,
) -> (reqwest::Client, Arc<PinnedVerifier>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedVerifier {
        pin: pin.clone(),
        algorithms: provider.signature_verification_algorithms,
        mismatch: Arc::default(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let http = builder
        .use_preconfigured_tls(config)
        .build()
        .expect("the HTTP client builds with a rustls config");
    (http, verifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_from_hex_with_or_without_colons_and_a_prefix() {
        let hex = "AB".repeat(32);
        let p: CertPin = hex.parse().unwrap();
        assert_eq!(p.as_str(), "ab".repeat(32));
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(colons.parse::<CertPin>().unwrap(), p);
        assert_eq!(format!("sha256:{hex}").parse::<CertPin>().unwrap(), p);
        assert!("ab".repeat(31).parse::<CertPin>().is_err());
        assert!("zz".repeat(32).parse::<CertPin>().is_err());
        assert_eq!(CertPin::of(b"x").as_str().len(), 64);
    }
}
