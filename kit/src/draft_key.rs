//! The kit's draft key: an age X25519 identity that encrypts visits in progress.
//!
//! Anyone on the kit can *write* a draft (the recipient is public, `keys/draft.pub`); reading one back
//! needs the identity, whose secret sits in `keys/draft.key.age`, encrypted with age's scrypt
//! recipient to the operator passphrase. So a stolen laptop yields no biometrics without the
//! passphrase, and a crash mid-visit loses nothing: every capture is on disk, encrypted.

use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};

use jemput_core::fsutil;
use jemput_core::keys::KeyError;

/// File of the passphrase-protected draft identity, relative to the kit's `keys/` directory.
pub const SECRET_FILE: &str = "draft.key.age";
/// File of the draft recipient (public), relative to `keys/`.
pub const PUBLIC_FILE: &str = "draft.pub";
/// age's default scrypt work factor (log2 N), about a second on a laptop.
pub const DEFAULT_WORK_FACTOR: u8 = 18;

/// Creates a new draft key in `keys_dir`, protecting its secret with `passphrase`.
pub fn create(keys_dir: &Path, passphrase: &SecretString, work_factor: u8) -> Result<(), KeyError> {
    let identity = age::x25519::Identity::generate();
    let mut scrypt = age::scrypt::Recipient::new(passphrase.clone());
    scrypt.set_work_factor(work_factor);
    let secret = identity.to_string();
    let sealed = age::encrypt(&scrypt, secret.expose_secret().as_bytes())
        .map_err(|e| KeyError::Age(e.to_string()))?;
    let write = |name: &str, bytes: &[u8], mode| {
        let path = keys_dir.join(name);
        fsutil::write_atomic(&path, bytes, mode).map_err(|source| KeyError::Write { path, source })
    };
    write(SECRET_FILE, &sealed, 0o600)?;
    write(
        PUBLIC_FILE,
        format!("{}\n", identity.to_public()).as_bytes(),
        0o644,
    )
}

/// The draft recipient (public half), for writing drafts.
pub fn recipient(keys_dir: &Path) -> Result<age::x25519::Recipient, KeyError> {
    let path = keys_dir.join(PUBLIC_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| KeyError::Read {
        path: path.clone(),
        source,
    })?;
    text.trim().parse().map_err(|e: &str| KeyError::Malformed {
        path,
        why: e.to_string(),
    })
}

/// Unlocks the draft identity with the operator passphrase.
pub fn unlock(
    keys_dir: &Path,
    passphrase: &SecretString,
) -> Result<age::x25519::Identity, KeyError> {
    let path = keys_dir.join(SECRET_FILE);
    let sealed = std::fs::read(&path).map_err(|source| KeyError::Read {
        path: path.clone(),
        source,
    })?;
    let mut id = age::scrypt::Identity::new(passphrase.clone());
    id.set_max_work_factor(22);
    let secret = match age::decrypt(&id, &sealed) {
        Ok(s) => s,
        Err(age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys) => {
            return Err(KeyError::WrongPassphrase)
        }
        Err(e) => {
            return Err(KeyError::Malformed {
                path,
                why: e.to_string(),
            })
        }
    };
    let secret = String::from_utf8(secret).map_err(|_| KeyError::Malformed {
        path: path.clone(),
        why: "not UTF-8".into(),
    })?;
    secret
        .trim()
        .parse()
        .map_err(|e: &str| KeyError::Malformed {
            path,
            why: e.to_string(),
        })
}

/// The operator passphrase: `JEMPUT_PASSPHRASE`, else asked on the terminal.
pub fn passphrase_from_env_or_prompt(prompt: &str) -> Result<SecretString, KeyError> {
    if let Ok(p) = std::env::var("JEMPUT_PASSPHRASE") {
        return Ok(SecretString::from(p));
    }
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(KeyError::NoPassphrase);
    }
    rpassword::prompt_password(prompt)
        .map(SecretString::from)
        .map_err(|_| KeyError::NoPassphrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlock_needs_the_right_passphrase() {
        let d = tempfile::tempdir().unwrap();
        create(d.path(), &SecretString::from("benar".to_string()), 10).unwrap();
        let id = unlock(d.path(), &SecretString::from("benar".to_string())).unwrap();
        assert_eq!(
            id.to_public().to_string(),
            recipient(d.path()).unwrap().to_string()
        );
        // `Identity` has no `Debug`, so `unwrap_err` is not available.
        let Err(e) = unlock(d.path(), &SecretString::from("salah".to_string())) else {
            panic!("the wrong passphrase unlocked the draft key");
        };
        assert!(matches!(e, KeyError::WrongPassphrase), "{e}");
        // The secret file is an age file, not the identity in plaintext.
        let raw = std::fs::read(d.path().join(SECRET_FILE)).unwrap();
        assert!(raw.starts_with(b"age-encryption.org/v1"));
        assert!(!String::from_utf8_lossy(&raw).contains("AGE-SECRET-KEY-1"));
    }
}
