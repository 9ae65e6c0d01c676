//! The kit's trust store of device-provider CA certificates: a device certificate is trusted when
//! one of these CAs signed it and both are within their validity at the time of the check.

use std::path::Path;

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::SbiError;

/// Device-provider CA certificates (DER) the office approved.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    cas: Vec<Vec<u8>>,
}

impl TrustStore {
    pub fn new() -> Self {
        TrustStore::default()
    }

    /// Adds a CA certificate (DER); refused when it does not parse or is not a CA.
    pub fn add_der(&mut self, der: Vec<u8>) -> Result<(), SbiError> {
        let (_, c) = X509Certificate::from_der(&der)
            .map_err(|e| SbiError::Key(format!("CA certificate does not parse: {e}")))?;
        if !c.is_ca() {
            return Err(SbiError::Key(format!(
                "{} is not a CA certificate",
                c.subject()
            )));
        }
        self.cas.push(der);
        Ok(())
    }

    /// Adds every certificate of a PEM file.
    pub fn add_pem_file(&mut self, path: &Path) -> Result<(), SbiError> {
        let text =
            std::fs::read(path).map_err(|e| SbiError::Key(format!("{}: {e}", path.display())))?;
        let mut n = 0;
        for pem in x509_parser::pem::Pem::iter_from_buffer(&text) {
            let pem = pem.map_err(|e| SbiError::Key(format!("{}: {e}", path.display())))?;
            if pem.label == "CERTIFICATE" {
                self.add_der(pem.contents)?;
                n += 1;
            }
        }
        if n == 0 {
            return Err(SbiError::Key(format!(
                "{}: no PEM certificate in it",
                path.display()
            )));
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.cas.is_empty()
    }

    /// Whether a trusted CA issued `cert` (DER) and both are valid at `now` (Unix seconds).
    pub fn check(&self, cert: &[u8], now: i64) -> Result<(), SbiError> {
        let (_, leaf) = X509Certificate::from_der(cert)
            .map_err(|e| SbiError::Untrusted(format!("the certificate does not parse: {e}")))?;
        let valid = |c: &X509Certificate| {
            let v = c.validity();
            v.not_before.timestamp() <= now && now <= v.not_after.timestamp()
        };
        if !valid(&leaf) {
            return Err(SbiError::Untrusted(format!(
                "{} is not valid now (valid {} to {})",
                leaf.subject(),
                leaf.validity().not_before,
                leaf.validity().not_after
            )));
        }
        for der in &self.cas {
            let Ok((_, ca)) = X509Certificate::from_der(der) else {
                continue;
            };
            if ca.subject().as_raw() != leaf.issuer().as_raw() || !valid(&ca) {
                continue;
            }
            if leaf.verify_signature(Some(ca.public_key())).is_ok() {
                return Ok(());
            }
        }
        Err(SbiError::Untrusted(format!(
            "{} (issued by {}) was not issued by a CA in the trust store ({} CA{})",
            leaf.subject(),
            leaf.issuer(),
            self.cas.len(),
            if self.cas.len() == 1 { "" } else { "s" }
        )))
    }
}
