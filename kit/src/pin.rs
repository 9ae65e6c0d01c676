//! Pinning the hub's TLS certificate: the kit accepts exactly the certificate whose SHA-256 it
//! learnt at enrollment, and no other, whatever a CA says.
//!
//! [`PinnedVerifier`] is a rustls certificate verifier that compares the SHA-256 of the server's
//! end-entity certificate (DER) with the pin, and still checks the handshake signatures with the
//! certificate's key, so the server must hold the private key of the pinned certificate. Host
//! names and validity dates are not checked: the pin is the whole trust decision (the hub's
//! certificate is self-signed). With a pin, an `https` URL never falls back to the WebPKI roots.

use std::sync::{Arc, Mutex};

pub use jemput_core::wire::pin::{BadPin, CertPin, PinMismatch};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

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
