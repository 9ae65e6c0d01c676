//! Device-provider CA and device keys (`jemput sbi keygen`): RSA-2048 keys (the specification's
//! RS256 and its "RSA ≥ 2048"), X.509 certificates issued with rcgen, PEM files in one directory:
//! `ca.pem` (what an office adds to its kits' trust store), `ca-key.pem`, `device.pem`,
//! `device-key.pem`.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256,
};
use rsa::pkcs8::EncodePrivateKey;

use jemput_sbi::SbiError;

use crate::sign::Signer;

pub const CA_CERT: &str = "ca.pem";
pub const CA_KEY: &str = "ca-key.pem";
pub const DEVICE_CERT: &str = "device.pem";
pub const DEVICE_KEY: &str = "device-key.pem";

fn key_err(e: impl std::fmt::Display) -> SbiError {
    SbiError::Key(e.to_string())
}

/// A fresh RSA-2048 key as rcgen's key pair (ring signs with it).
fn new_rsa_key() -> Result<KeyPair, SbiError> {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(key_err)?;
    let der = key.to_pkcs8_der().map_err(key_err)?;
    KeyPair::from_pkcs8_der_and_sign_algo(&der.as_bytes().into(), &PKCS_RSA_SHA256).map_err(key_err)
}

/// Sets a certificate's validity: from yesterday (a kit's clock may lag) for `years` years.
fn validity(params: &mut CertificateParams, years: i16) {
    let from = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date()
        .yesterday()
        .unwrap_or(jiff::civil::date(2024, 1, 1));
    params.not_before =
        rcgen::date_time_ymd(from.year().into(), from.month() as u8, from.day() as u8);
    params.not_after = rcgen::date_time_ymd(
        (from.year() + years).into(),
        from.month() as u8,
        from.day().min(28) as u8,
    );
}

/// The device key and its certificate chain as the device service signs with them.
#[derive(Debug)]
pub struct DeviceKeys {
    pub signer: Signer,
    /// The device certificate (DER).
    pub device_cert: Vec<u8>,
    /// The CA certificate (DER) that issued it.
    pub ca_cert: Vec<u8>,
}

impl DeviceKeys {
    /// The device provider the device certificate names (its organisation, as `keygen --provider`
    /// wrote it), for the digital ID's `deviceProvider`.
    pub fn provider(&self) -> Option<String> {
        let (_, cert) = x509_parser::parse_x509_certificate(&self.device_cert).ok()?;
        let org = cert
            .subject()
            .iter_organization()
            .next()?
            .as_str()
            .ok()?
            .trim()
            .to_string();
        (!org.is_empty()).then_some(org)
    }
}

/// What `keygen` wrote.
#[derive(Debug)]
pub struct Generated {
    pub ca_cert: PathBuf,
    pub device_cert: PathBuf,
    /// Whether the CA was made now (false: an existing CA in the directory issued the device key).
    pub new_ca: bool,
}

/// Makes `dir`'s device key and certificate for `serial`, issued by the CA in `dir` (made first,
/// for `provider`, if `ca.pem` and `ca-key.pem` are not there yet).
pub fn keygen(dir: &Path, provider: &str, serial: &str) -> Result<Generated, SbiError> {
    std::fs::create_dir_all(dir)?;
    let ca_cert = dir.join(CA_CERT);
    let ca_key_path = dir.join(CA_KEY);
    let new_ca = !(ca_cert.exists() && ca_key_path.exists());
    let (ca_pem, ca_key) = if new_ca {
        let key = new_rsa_key()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, provider);
        dn.push(DnType::CommonName, format!("{provider} device provider CA"));
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut params, 10);
        let cert = params.self_signed(&key).map_err(key_err)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        std::fs::write(&ca_cert, cert.pem())?;
        (cert.pem(), key)
    } else {
        let pem = std::fs::read_to_string(&ca_cert)?;
        let key = KeyPair::from_pem_and_sign_algo(
            &std::fs::read_to_string(&ca_key_path)?,
            &PKCS_RSA_SHA256,
        )
        .map_err(key_err)?;
        (pem, key)
    };
    let issuer = Issuer::from_ca_cert_der(&pem_der(&ca_pem)?.into(), ca_key).map_err(key_err)?;
    let key = new_rsa_key()?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, provider);
    dn.push(DnType::CommonName, serial);
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    validity(&mut params, 1);
    let cert = params.signed_by(&key, &issuer).map_err(key_err)?;
    let device_cert = dir.join(DEVICE_CERT);
    write_private(&dir.join(DEVICE_KEY), &key.serialize_pem())?;
    std::fs::write(&device_cert, cert.pem())?;
    Ok(Generated {
        ca_cert,
        device_cert,
        new_ca,
    })
}

/// Loads the device key, its certificate and the CA's from a `keygen` directory.
pub fn load(dir: &Path) -> Result<DeviceKeys, SbiError> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).map_err(|e| {
            SbiError::Key(format!(
                "{}: {e} (make it with `jemput sbi keygen --dir {}`)",
                dir.join(name).display(),
                dir.display()
            ))
        })
    };
    let device_cert = pem_der(&read(DEVICE_CERT)?)?;
    let ca_cert = pem_der(&read(CA_CERT)?)?;
    let key =
        KeyPair::from_pem_and_sign_algo(&read(DEVICE_KEY)?, &PKCS_RSA_SHA256).map_err(key_err)?;
    let signer = Signer::new(key.serialized_der(), vec![device_cert.clone()])?;
    Ok(DeviceKeys {
        signer,
        device_cert,
        ca_cert,
    })
}

/// The DER of the first PEM certificate in `pem`.
pub fn pem_der(pem: &str) -> Result<Vec<u8>, SbiError> {
    let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| SbiError::Key(format!("not a PEM certificate: {e}")))?;
    Ok(p.contents)
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, pem: &str) -> Result<(), SbiError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(pem.as_bytes())?;
    f.sync_all()?;
    Ok(())
}
