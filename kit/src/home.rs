//! The kit home: where it is, what it holds, its config, and `init`.
//!
//! ```text
//! <home>/config.toml         kit id, office recipients, pinned hub key, limits
//! <home>/keys/kit.ed25519    the kit's signing key (PKCS#8 PEM, 0600)
//! <home>/keys/draft.key.age  the draft identity, encrypted to the operator passphrase (scrypt)
//! <home>/keys/draft.pub      the draft recipient
//! <home>/drafts/<visit>/     encrypted drafts of visits in progress
//! <home>/packets/            sealed packets (<packet id>.jpk)
//! <home>/quarantine/         packets that failed verification on disk
//! <home>/queue.sqlite        the upload queue
//! <home>/sync.json           the last sync document accepted from the hub (settings, worklist)
//! ```

use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::visit::Drafts;
use jemput_core::fsutil;
use jemput_core::keys::{self, KeyError, PublicKey, SigningKey};

pub const CONFIG_FILE: &str = "config.toml";
pub const KIT_KEY_FILE: &str = "kit.ed25519";

/// Where the kit home is: `--home`, else `$JEMPUT_HOME` (both arrive here as `explicit`), else the
/// XDG data directory (`$XDG_DATA_HOME/jemput`, usually `~/.local/share/jemput`).
pub fn resolve(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    match directories::BaseDirs::new() {
        Some(b) => b.data_dir().join("jemput"),
        None => PathBuf::from(".jemput"),
    }
}

/// The kit's settings, `config.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This kit's id, e.g. `kit-3f9a2c1b`; derived from the kit key at init.
    pub kit_id: String,
    /// Office age recipients (`age1…`) every packet is encrypted to.
    #[serde(default)]
    pub office_recipients: Vec<String>,
    /// The hub's ed25519 public key, pinned: receipts must verify with it.
    #[serde(default)]
    pub hub_key: Option<PublicKey>,
    /// Default operator id for new visits.
    #[serde(default)]
    pub operator: Option<String>,
    /// The hub's base URL (e.g. `http://10.0.0.2:8080`); `jemput upload` sends packets to its
    /// `/v1/uploads`. Unset until the kit is enrolled or told.
    #[serde(default)]
    pub hub_url: Option<String>,
    /// SHA-256 of the hub's TLS certificate (64 hex digits), pinned at enrollment: uploads to the
    /// hub over `https` accept exactly this certificate and no other.
    #[serde(default)]
    pub hub_cert_sha256: Option<String>,
    /// The id of the hub the kit enrolled with.
    #[serde(default)]
    pub hub_id: Option<String>,
    /// Hours an acknowledged packet's file is kept before it is purged (default 24, as MOSIP keeps
    /// one day). Nothing is purged without a verified receipt, whatever this says.
    #[serde(default = "default_retention_hours")]
    pub retention_hours: u32,
    #[serde(default)]
    pub limits: Limits,
    /// Local offline limits (`jemput config set max-days-since-sync 5`, …); each one the hub's
    /// sync document sets overrides the value here.
    #[serde(default)]
    pub policy: jemput_core::offline::OfflinePolicy,
    /// The capture policy: quality thresholds, attempts, keep-best and forced captures per
    /// modality, and the WSQ bit rate of fingerprints (MOSIP's defaults; `[capture]` here).
    #[serde(default)]
    pub capture: jemput_core::visit::policy::CapturePolicy,
    /// Face photo checks, the backdrop colour rule and the stored JPEG size (`[face]`).
    #[serde(default)]
    pub face: jemput_core::imaging::face::FaceSettings,
}

/// Hours an acknowledged packet is kept by default.
pub const DEFAULT_RETENTION_HOURS: u32 = 24;

fn default_retention_hours() -> u32 {
    DEFAULT_RETENTION_HOURS
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest packet the kit will seal, checked before sealing (MOSIP's server default is 5 MB;
    /// a full visit with synthetic captures and WSQ fingers is about 200 KB).
    #[serde(default = "default_max_packet")]
    pub max_packet_bytes: u64,
}

fn default_max_packet() -> u64 {
    16 * 1024 * 1024
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_packet_bytes: default_max_packet(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HomeError {
    #[error("no kit at {0}; create one with `jemput init --home {0} --office-recipient age1…` (or set JEMPUT_HOME)")]
    NotInitialised(PathBuf),
    #[error(
        "a kit already exists at {0}; use another --home, or `jemput config set` to change it"
    )]
    AlreadyInitialised(PathBuf),
    #[error("cannot read the kit config {path}: {source}")]
    ReadConfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the kit config {path} is corrupt: {why}\nfix the file by hand, or restore it from a backup; the packets and drafts are untouched")]
    CorruptConfig { path: PathBuf, why: String },
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// An opened kit home.
#[derive(Debug, Clone)]
pub struct KitHome {
    pub root: PathBuf,
    pub config: Config,
}

/// Options of `jemput init`.
#[derive(Debug)]
pub struct InitOptions {
    pub office_recipients: Vec<String>,
    pub hub_key: Option<PublicKey>,
    pub operator: Option<String>,
    pub passphrase: SecretString,
    /// scrypt work factor (log2 N) protecting the draft key.
    pub work_factor: u8,
}

impl KitHome {
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }
    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }
    pub fn drafts_dir(&self) -> PathBuf {
        self.root.join("drafts")
    }

    /// Creates a kit home: keys, config, queue, directories.
    pub fn init(root: &Path, opts: InitOptions) -> Result<KitHome, HomeError> {
        if root.join(CONFIG_FILE).exists() {
            return Err(HomeError::AlreadyInitialised(root.into()));
        }
        for r in &opts.office_recipients {
            keys::parse_recipient(r)?;
        }
        let io = |what, path: &Path| {
            let path = path.to_path_buf();
            move |source| HomeError::Io { what, path, source }
        };
        // Created 0700, or an existing directory tightened to it, before any secret is written.
        if let Some(mode) =
            fsutil::private_dir(root).map_err(io("make private (chmod 700)", root))?
        {
            tracing::warn!(
                "{} was open to other users (mode {mode:o}); it is now 0700",
                root.display()
            );
        }
        let keys_dir = root.join("keys");
        fsutil::ensure_dir(&keys_dir, 0o700).map_err(io("create", &keys_dir))?;
        fsutil::ensure_dir(&root.join("drafts"), 0o700).map_err(io("create", root))?;

        let kit_key = SigningKey::generate();
        kit_key.save(&keys_dir.join(KIT_KEY_FILE))?;
        crate::draft_key::create(&keys_dir, &opts.passphrase, opts.work_factor)?;
        let kit_id = format!("kit-{}", &hex::encode(kit_key.public().to_bytes())[..8]);
        let home = KitHome {
            root: root.into(),
            config: Config {
                kit_id,
                office_recipients: opts.office_recipients,
                hub_key: opts.hub_key,
                operator: opts.operator,
                hub_url: None,
                hub_cert_sha256: None,
                hub_id: None,
                retention_hours: DEFAULT_RETENTION_HOURS,
                limits: Limits::default(),
                policy: Default::default(),
                capture: Default::default(),
                face: Default::default(),
            },
        };
        crate::store::Store::open(root)?;
        // The config is written last: its presence marks a complete home.
        home.save_config()?;
        Ok(home)
    }

    /// Opens an existing kit home.
    pub fn open(root: &Path) -> Result<KitHome, HomeError> {
        let path = root.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(HomeError::NotInitialised(root.into()))
            }
            Err(source) => return Err(HomeError::ReadConfig { path, source }),
        };
        let config: Config = toml::from_str(&text).map_err(|e| HomeError::CorruptConfig {
            path: path.clone(),
            why: e.to_string(),
        })?;
        config
            .capture
            .validate()
            .map_err(|e| HomeError::CorruptConfig {
                path: path.clone(),
                why: e.to_string(),
            })?;
        for r in &config.office_recipients {
            keys::parse_recipient(r).map_err(|e| HomeError::CorruptConfig {
                path: path.clone(),
                why: e.to_string(),
            })?;
        }
        if let Some(pin) = &config.hub_cert_sha256 {
            pin.parse::<jemput_core::wire::pin::CertPin>()
                .map_err(|e| HomeError::CorruptConfig {
                    path: path.clone(),
                    why: format!("hub_cert_sha256: {e}"),
                })?;
        }
        Ok(KitHome {
            root: root.into(),
            config,
        })
    }

    pub fn save_config(&self) -> Result<(), HomeError> {
        let text = toml::to_string_pretty(&self.config).expect("config serialises");
        let path = self.config_path();
        fsutil::write_atomic(&path, text.as_bytes(), 0o600).map_err(|source| HomeError::Io {
            what: "write",
            path,
            source,
        })
    }

    pub fn kit_key(&self) -> Result<SigningKey, HomeError> {
        Ok(SigningKey::load(&self.keys_dir().join(KIT_KEY_FILE))?)
    }

    /// The drafts directory, writable without the passphrase.
    pub fn drafts(&self) -> Result<Drafts, HomeError> {
        Ok(Drafts::new(
            self.drafts_dir(),
            crate::draft_key::recipient(&self.keys_dir())?,
        ))
    }

    /// Unlocks the draft identity with the operator passphrase.
    pub fn unlock_drafts(
        &self,
        passphrase: &SecretString,
    ) -> Result<age::x25519::Identity, HomeError> {
        Ok(crate::draft_key::unlock(&self.keys_dir(), passphrase)?)
    }
}
