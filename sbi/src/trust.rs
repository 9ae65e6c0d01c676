//! The kit's trust store of device-provider CA certificates: a device certificate is trusted when
//! one of these CAs signed it and both are within their validity at the time of the check.

use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

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
        describe(&der, PathBuf::new())?;
        self.cas.push(der);
        Ok(())
    }

    /// Adds every certificate of a PEM file.
    pub fn add_pem_file(&mut self, path: &Path) -> Result<(), SbiError> {
        for der in read_pem_certs(path)? {
            self.add_der(der)?;
        }
        Ok(())
    }

    /// Every CA certificate of a kit's trust directory (`*.pem`, as [`install`] writes them);
    /// a directory that does not exist is an empty store.
    pub fn load_dir(dir: &Path) -> Result<TrustStore, SbiError> {
        let mut store = TrustStore::new();
        for file in pem_files(dir)? {
            store.add_pem_file(&file)?;
        }
        Ok(store)
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

/// A CA certificate in a kit's trust directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCa {
    /// SHA-256 of the certificate (DER), hex: its name in the directory.
    pub sha256: String,
    pub subject: String,
    /// The end of its validity, as the certificate says it (RFC 2822-like text of x509-parser).
    pub not_after: String,
    pub file: PathBuf,
}

/// The DER certificates of a PEM file (at least one).
fn read_pem_certs(path: &Path) -> Result<Vec<Vec<u8>>, SbiError> {
    let text =
        std::fs::read(path).map_err(|e| SbiError::Key(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(&text) {
        let pem = pem.map_err(|e| SbiError::Key(format!("{}: {e}", path.display())))?;
        if pem.label == "CERTIFICATE" {
            out.push(pem.contents);
        }
    }
    if out.is_empty() {
        return Err(SbiError::Key(format!(
            "{}: no PEM certificate in it",
            path.display()
        )));
    }
    Ok(out)
}

/// The `*.pem` files of `dir`, sorted; none when it does not exist.
fn pem_files(dir: &Path) -> Result<Vec<PathBuf>, SbiError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SbiError::Key(format!("{}: {e}", dir.display()))),
    };
    let mut files = Vec::new();
    for e in entries {
        let p = e
            .map_err(|e| SbiError::Key(format!("{}: {e}", dir.display())))?
            .path();
        if p.extension().is_some_and(|x| x == "pem") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// What a CA certificate (DER) is, refused when it does not parse or is not a CA.
fn describe(der: &[u8], file: PathBuf) -> Result<TrustedCa, SbiError> {
    let (_, c) = X509Certificate::from_der(der)
        .map_err(|e| SbiError::Key(format!("CA certificate does not parse: {e}")))?;
    if !c.is_ca() {
        return Err(SbiError::Key(format!(
            "{} is not a CA certificate (a device certificate is trusted through the CA that \
             issued it: add that one)",
            c.subject()
        )));
    }
    Ok(TrustedCa {
        sha256: hex::encode(Sha256::digest(der)),
        subject: c.subject().to_string(),
        not_after: c.validity().not_after.to_string(),
        file,
    })
}

fn pem_text(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Adds the CA certificates of the PEM file `pem` to the trust directory `dir`, each as
/// `<sha256>.pem`. Every certificate is checked first: if one is not a CA, nothing is written.
/// Adding a CA already there changes nothing.
pub fn install(dir: &Path, pem: &Path) -> Result<Vec<TrustedCa>, SbiError> {
    let mut found = Vec::new();
    for der in read_pem_certs(pem)? {
        let sha = hex::encode(Sha256::digest(&der));
        let ca = describe(&der, dir.join(format!("{sha}.pem")))?;
        found.push((ca, der));
    }
    jemput_core::fsutil::ensure_dir(dir, 0o755)
        .map_err(|e| SbiError::Key(format!("{}: {e}", dir.display())))?;
    for (ca, der) in &found {
        jemput_core::fsutil::write_atomic(&ca.file, pem_text(der).as_bytes(), 0o644)
            .map_err(|e| SbiError::Key(format!("{}: {e}", ca.file.display())))?;
    }
    Ok(found.into_iter().map(|(ca, _)| ca).collect())
}

/// The CA certificates of the trust directory `dir`.
pub fn list_dir(dir: &Path) -> Result<Vec<TrustedCa>, SbiError> {
    let mut out = Vec::new();
    for file in pem_files(dir)? {
        for der in read_pem_certs(&file)? {
            out.push(describe(&der, file.clone())?);
        }
    }
    Ok(out)
}

/// Removes the CA of `dir` whose SHA-256 starts with `prefix` (8 hex digits or more; exactly one
/// may match).
pub fn remove(dir: &Path, prefix: &str) -> Result<TrustedCa, SbiError> {
    let prefix = prefix.to_ascii_lowercase();
    if prefix.len() < 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SbiError::Key(format!(
            "{prefix:?}: give at least 8 hex digits of the CA's SHA-256 (jemput sbi trust list)"
        )));
    }
    let matching: Vec<TrustedCa> = list_dir(dir)?
        .into_iter()
        .filter(|c| c.sha256.starts_with(&prefix))
        .collect();
    match matching.as_slice() {
        [one] => {
            jemput_core::fsutil::remove_durable(&one.file)
                .map_err(|e| SbiError::Key(format!("{}: {e}", one.file.display())))?;
            Ok(one.clone())
        }
        [] => Err(SbiError::Key(format!(
            "no trusted CA's SHA-256 starts with {prefix} (jemput sbi trust list)"
        ))),
        _ => Err(SbiError::Key(format!(
            "{} trusted CAs' SHA-256 start with {prefix}: give more digits",
            matching.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `jemput sbi keygen` writes, made here with rcgen (ECDSA P-256 keys: the trust store
    /// checks issuers whatever the key type; RS256 signing is the device service's test).
    struct Made {
        ca_cert: PathBuf,
        device_cert: PathBuf,
    }

    fn make_ca_and_device(dir: &Path) -> Made {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(DnType::OrganizationName, "Vendor");
        ca.distinguished_name
            .push(DnType::CommonName, "Vendor device provider CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let dev_key = KeyPair::generate().unwrap();
        let mut dev = CertificateParams::new(Vec::<String>::new()).unwrap();
        dev.distinguished_name.push(DnType::CommonName, "SERIAL1");
        let dev_cert = dev.signed_by(&dev_key, &issuer).unwrap();
        let made = Made {
            ca_cert: dir.join("ca.pem"),
            device_cert: dir.join("device.pem"),
        };
        std::fs::write(&made.ca_cert, ca_cert.pem()).unwrap();
        std::fs::write(&made.device_cert, dev_cert.pem()).unwrap();
        made
    }

    #[test]
    fn a_ca_is_installed_listed_loaded_and_removed_and_a_device_cert_is_refused() {
        let keys = tempfile::tempdir().unwrap();
        let g = make_ca_and_device(keys.path());
        let dir = tempfile::tempdir().unwrap();
        let trust = dir.path().join("sbi-trust");
        assert!(TrustStore::load_dir(&trust).unwrap().is_empty());

        let err = install(&trust, &g.device_cert).unwrap_err().to_string();
        assert!(err.contains("not a CA certificate"), "{err}");
        assert!(list_dir(&trust).unwrap().is_empty(), "nothing written");

        let added = install(&trust, &g.ca_cert).unwrap();
        assert_eq!(added.len(), 1);
        assert!(added[0].subject.contains("Vendor"), "{:?}", added[0]);
        assert_eq!(install(&trust, &g.ca_cert).unwrap(), added, "idempotent");
        assert_eq!(list_dir(&trust).unwrap(), added);
        let store = TrustStore::load_dir(&trust).unwrap();
        let device = read_pem_certs(&g.device_cert).unwrap().remove(0);
        store
            .check(&device, jiff::Timestamp::now().as_second())
            .unwrap();

        assert!(remove(&trust, "abc").is_err(), "too short");
        let gone = remove(&trust, &added[0].sha256[..12]).unwrap();
        assert_eq!(gone, added[0]);
        assert!(TrustStore::load_dir(&trust).unwrap().is_empty());
    }
}
