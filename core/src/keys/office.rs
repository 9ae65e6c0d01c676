//! What the office keeps: the age identity that opens packets and the hub's signing key.

use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;

use super::{KeyError, SigningKey};
use crate::fsutil;

/// Files written by [`keygen`], in the output directory.
pub const IDENTITY_FILE: &str = "office.age";
pub const RECIPIENT_FILE: &str = "office.age.pub";
pub const HUB_KEY_FILE: &str = "hub.ed25519";
pub const HUB_PUBLIC_FILE: &str = "hub.pub";

/// What [`keygen`] made: paths and the public halves to configure on kits.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct OfficeKeys {
    /// Path of the age identity file (`AGE-SECRET-KEY-1…`); `age -d -i` reads it.
    pub identity_file: PathBuf,
    /// The matching recipient (`age1…`), for `jemput init --office-recipient`.
    pub recipient: String,
    /// Path of the hub's ed25519 signing key (PKCS#8 PEM).
    pub hub_key_file: PathBuf,
    /// The hub's public key, for `jemput init --hub-key`.
    pub hub_public_key: String,
}

/// Creates a new office identity and hub key in `out` (created if missing). Refuses to overwrite.
pub fn keygen(out: &Path) -> Result<OfficeKeys, KeyError> {
    let write_err = |path: PathBuf| move |source| KeyError::Write { path, source };
    fsutil::ensure_dir(out, 0o700).map_err(write_err(out.into()))?;
    for f in [IDENTITY_FILE, HUB_KEY_FILE] {
        let p = out.join(f);
        if p.exists() {
            return Err(KeyError::Write {
                path: p,
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "already exists; refusing to overwrite an office key",
                ),
            });
        }
    }
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let created = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
    let id_text = format!(
        "# created: {created}\n# public key: {recipient}\n{}\n",
        identity.to_string().expose_secret()
    );
    let id_path = out.join(IDENTITY_FILE);
    fsutil::write_atomic(&id_path, id_text.as_bytes(), 0o600)
        .map_err(write_err(id_path.clone()))?;
    let rp = out.join(RECIPIENT_FILE);
    fsutil::write_atomic(&rp, format!("{recipient}\n").as_bytes(), 0o644).map_err(write_err(rp))?;

    let hub = SigningKey::generate();
    let hub_path = out.join(HUB_KEY_FILE);
    hub.save(&hub_path)?;
    let hp = out.join(HUB_PUBLIC_FILE);
    let hub_public_key = hub.public().to_string();
    fsutil::write_atomic(&hp, format!("{hub_public_key}\n").as_bytes(), 0o644)
        .map_err(write_err(hp))?;
    Ok(OfficeKeys {
        identity_file: id_path,
        recipient,
        hub_key_file: hub_path,
        hub_public_key,
    })
}

/// Reads age X25519 identities from an identity file in the stock format (comments allowed).
pub fn load_identities(path: &Path) -> Result<Vec<age::x25519::Identity>, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })?;
    let ids: Vec<age::x25519::Identity> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.parse().map_err(|e: &str| KeyError::Malformed {
                path: path.into(),
                why: format!("{e} (expected AGE-SECRET-KEY-1… lines)"),
            })
        })
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(KeyError::Malformed {
            path: path.into(),
            why: "no AGE-SECRET-KEY-1… line".into(),
        });
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_writes_stock_identity_and_refuses_overwrite() {
        let d = tempfile::tempdir().unwrap();
        let k = keygen(d.path()).unwrap();
        let text = std::fs::read_to_string(&k.identity_file).unwrap();
        assert!(text.contains("AGE-SECRET-KEY-1"));
        assert!(text.contains(&format!("# public key: {}", k.recipient)));
        let ids = load_identities(&k.identity_file).unwrap();
        assert_eq!(ids[0].to_public().to_string(), k.recipient);
        assert!(keygen(d.path()).is_err());
    }
}
