//! A throw-away kit with its office and a local hub, shared by `jemput demo` and
//! `jemput ui --sim` (the training kit): the office keys, a kit enrolled with a hub on loopback
//! (HTTPS, pinned), and a short synthetic worklist synced to the kit. Here, in the binary, since
//! the kit and the station never depend on the hub.

use std::path::Path;

use age::secrecy::SecretString;
use jemput_core::keys::office;
use jemput_core::visit::Category;
use jemput_kit::home::{InitOptions, KitHome};

/// The passphrase of a training kit (shown on the station's unlock page: it protects nothing
/// real).
pub const TRAINING_PASSPHRASE: &str = "latihan";
/// Residents on a training kit's worklist.
pub const TRAINING_ENTRIES: u32 = 5;

/// A training kit: its directory (removed on drop), the kit home in it and its running hub.
#[derive(Debug)]
pub struct TrainingKit {
    pub home: KitHome,
    pub hub: jemput_hub::HubHandle,
    // Dropped last: the hub stops before its directory goes.
    pub dir: tempfile::TempDir,
}

/// Makes a training kit in a new temporary directory: office keys, a kit (operator
/// `op-latihan`, passphrase [`TRAINING_PASSPHRASE`]), a local hub it enrolls with, and a
/// worklist of [`TRAINING_ENTRIES`] synthetic residents synced to it.
pub fn training_kit() -> anyhow::Result<TrainingKit> {
    let dir = tempfile::Builder::new()
        .prefix("jemput-latihan-")
        .tempdir()?;
    let keys = office::keygen(&dir.path().join("office"))?;
    let mut home = KitHome::init(
        &dir.path().join("kit"),
        InitOptions {
            office_recipients: vec![keys.recipient.clone()],
            hub_key: Some(keys.hub_public_key.parse()?),
            operator: Some("op-latihan".into()),
            passphrase: SecretString::from(TRAINING_PASSPHRASE.to_string()),
            work_factor: jemput_kit::draft_key::DEFAULT_WORK_FACTOR,
        },
    )?;
    let hub = start_hub_and_enroll(dir.path(), &mut home, &keys.recipient)?;
    import_demo_worklist(dir.path(), &dir.path().join("hub"), TRAINING_ENTRIES)?;
    let http = jemput_kit::sync::client::client_for(&home)?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(jemput_kit::sync::sync(&mut home, &http))?;
    Ok(TrainingKit { home, hub, dir })
}

/// The categories of the demo's visits and worklist entries, in turn.
pub const CATEGORIES: [Category; 7] = [
    Category::Lansia,
    Category::Disabilitas,
    Category::RumahSakit,
    Category::Dokumen,
    Category::Odgj,
    Category::Sakit,
    Category::Umum,
];

/// Starts the demo's hub (HTTPS on loopback, created on first use) and, unless the kit is already
/// registered there, enrolls the kit with a fresh token through the real `POST /v1/enroll`.
pub fn start_hub_and_enroll(
    dir: &Path,
    home: &mut KitHome,
    recipient: &str,
) -> anyhow::Result<jemput_hub::HubHandle> {
    let hub_dir = dir.join("hub");
    if !hub_dir.join(jemput_hub::CONFIG_FILE).exists() {
        jemput_hub::init_with(
            &hub_dir,
            &jemput_hub::InitOptions {
                sans: vec!["localhost".into(), "127.0.0.1".into()],
                office_recipients: vec![recipient.to_string()],
                // The office's key, which the kit was told to pin at `init`.
                hub_key: Some(dir.join("office").join(office::HUB_KEY_FILE)),
                postgres: None,
            },
        )?;
    }
    let mut config = jemput_hub::HubConfig::load(&hub_dir)?;
    if !config.office_recipients.iter().any(|r| r == recipient) {
        // A demo hub kept from before enrollment existed.
        config.office_recipients.push(recipient.to_string());
        config.save(&hub_dir)?;
    }
    let handle = jemput_hub::spawn_local_tls(&hub_dir)?;
    let registered = jemput_hub::Registry::open(&hub_dir)?
        .get(&home.config.kit_id)?
        .is_some_and(|k| !k.revoked);
    if registered && home.config.hub_cert_sha256 == handle.cert_sha256 {
        // Enrolled in an earlier run kept with --keep: only the port is new.
        home.config.hub_url = Some(handle.url.clone());
        home.save_config()?;
        return Ok(handle);
    }
    let cert = handle
        .cert_sha256
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the demo hub serves no certificate"))?;
    let issued = jemput_hub::Tokens::open(&hub_dir)?.issue(Some("demo kit"), 1, &cert)?;
    let token: jemput_core::wire::enroll::EnrollToken = issued.token.parse()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(jemput_kit::enroll::enroll(
        home,
        &handle.url,
        &token,
        jemput_kit::enroll::EnrollOptions::default(),
    ))?;
    Ok(handle)
}

/// Writes a small synthetic worklist CSV (one entry per visit, ids only: residents whose NIK the
/// office does not know) and imports it on the demo hub, as `jemput hub worklist import` does.
pub fn import_demo_worklist(dir: &Path, hub_dir: &Path, visits: u32) -> anyhow::Result<()> {
    const DESA: [&str; 4] = ["Lapadi", "Pujungan", "Long Bia", "Sungai Anai"];
    let mut csv = String::from("id,name,address,rt_rw,desa,category,notes\n");
    for i in 0..visits as usize {
        let category = CATEGORIES[i % CATEGORIES.len()];
        csv.push_str(&format!(
            "DEMO-{:03},Warga Contoh {},\"Jl. Contoh {}, rumah {}\",{:03}/{:03},{},{},warga contoh sintetis untuk latihan\n",
            i + 1,
            i + 1,
            i % 5 + 1,
            i + 1,
            i % 9 + 1,
            i % 4 + 1,
            DESA[i % DESA.len()],
            category.code()
        ));
    }
    let path = dir.join("worklist.csv");
    jemput_core::fsutil::write_atomic(&path, csv.as_bytes(), 0o644)?;
    let entries = jemput_core::worklist::parse_csv(csv.as_bytes())?;
    jemput_hub::kit_sync::save_worklist(
        hub_dir,
        &jemput_hub::kit_sync::StoredWorklist {
            imported_at: jiff::Timestamp::now(),
            source: path.display().to_string(),
            entries,
        },
    )?;
    Ok(())
}
