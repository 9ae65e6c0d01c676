//! `jemput demo`: the whole kit on embedded defaults — a throw-away office and kit, a handful of
//! synthetic visits (different categories, one with finger exceptions), sealed, verified, and one
//! opened with the office identity.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use age::secrecy::SecretString;
use clap::Args;
use jemput::outputs::DemoOutput;
use jemput_core::keys::office;
use jemput_core::packet;
use jemput_core::visit::{Category, ExceptionReason, FingerPosition, Permanence, ResidentRef};
use jemput_kit::draft_key as draft;
use jemput_kit::home::{InitOptions, KitHome};
use jemput_kit::seal;
use jemput_kit::visit::attempt::{AttemptEvent, CaptureObserver};
use jemput_kit::visit::location::FixOutcome;
use jemput_kit::visit::rig::SimRig;
use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep everything in DIR (reuses the kit and office already there)
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Number of visits
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub visits: u32,
    /// Seal only, do not start the embedded hub or upload (a blank-spot trip)
    #[arg(long)]
    pub offline: bool,
    /// Run the device models at true device speed (an EF01 image takes ~7 s at 57 600 baud)
    #[arg(long)]
    pub realtime: bool,
    /// stdout is one JSON object: kit_home, office_identity, packets, receipts, visits
    #[arg(long)]
    pub json: bool,
}

/// The passphrase of demo kits, unless JEMPUT_PASSPHRASE says otherwise.
pub const DEMO_PASSPHRASE: &str = "jemput-demo";

pub fn run(a: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let temp;
    let dir: &Path = match &a.keep {
        Some(d) => d,
        None => {
            temp = tempfile::Builder::new().prefix("jemput-demo-").tempdir()?;
            temp.path()
        }
    };
    let passphrase = SecretString::from(
        std::env::var("JEMPUT_PASSPHRASE").unwrap_or_else(|_| DEMO_PASSPHRASE.to_string()),
    );

    let office_dir = dir.join("office");
    let identity_file = office_dir.join(office::IDENTITY_FILE);
    let (recipient, hub_public) = if identity_file.exists() {
        let ids = office::load_identities(&identity_file)?;
        let hub = std::fs::read_to_string(office_dir.join(office::HUB_PUBLIC_FILE))?;
        (ids[0].to_public().to_string(), hub.trim().parse().ok())
    } else {
        let k = office::keygen(&office_dir)?;
        (k.recipient, Some(k.hub_public_key.parse()?))
    };

    let kit_dir = dir.join("kit");
    let home = match KitHome::open(&kit_dir) {
        Ok(h) => h,
        Err(jemput_kit::home::HomeError::NotInitialised(_)) => KitHome::init(
            &kit_dir,
            InitOptions {
                office_recipients: vec![recipient.clone()],
                hub_key: hub_public,
                operator: Some("op-demo".into()),
                passphrase: passphrase.clone(),
                work_factor: draft::DEFAULT_WORK_FACTOR,
            },
        )?,
        Err(e) => return Err(e.into()),
    };
    // Unless offline: an embedded hub serving HTTPS on loopback; the kit enrolls with a token
    // (pinning the hub's certificate and key) the first time, as a field kit would.
    // With --offline the same happens "at the office" before the trip, and then the hub goes away:
    // the visits are sealed in a blank spot, and `jemput hub serve` + `jemput upload` (or `agent`)
    // drain the queue later.
    let mut home = home;
    let hub_dir = dir.join("hub");
    let mut hub = {
        let handle = super::training::start_hub_and_enroll(dir, &mut home, &recipient)?;
        super::training::import_demo_worklist(dir, &hub_dir, a.visits)?;
        Some(handle)
    };
    // Sync before the trip (settings, worklist), then the offline policy decides whether visits
    // may start, as on a real kit.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut worklist = Vec::new();
    if hub.is_some() {
        let http = jemput_kit::sync::client::client_for(&home)?;
        let synced = runtime.block_on(jemput_kit::sync::sync(&mut home, &http))?;
        worklist = jemput_kit::sync::client::load_state(&home)?
            .map(|(_, b)| b.worklist)
            .unwrap_or_default();
        anyhow::ensure!(
            worklist.len() == synced.worklist_entries,
            "the demo worklist did not survive the sync"
        );
    }
    // The trip: with --offline the team leaves coverage here, so the hub stops answering.
    let mut enrolled_url = None;
    if a.offline {
        if let Some(h) = hub.take() {
            enrolled_url = Some(h.url.clone());
            h.shutdown()?;
        }
    }
    {
        let store = jemput_kit::store::Store::open(&home.root)?;
        jemput_kit::sync::status::check_new_visit(&home, &store)?;
    }
    let drafts = home.drafts()?;
    let identity = home.unlock_drafts(&passphrase)?;
    let (mut store, _) = seal::open_store(&home)?;
    let kit_key = home.kit_key()?.public();

    let seed0 = rand::random::<u32>() as u64;
    let mut packets = Vec::new();
    let mut lines = Vec::new();
    for i in 0..a.visits {
        let entry = worklist.get(i as usize);
        let category = entry
            .map(|e| e.category)
            .unwrap_or(super::training::CATEGORIES[i as usize % super::training::CATEGORIES.len()]);
        let mut opts = SampleOptions {
            category,
            operator: home
                .config
                .operator
                .clone()
                .unwrap_or_else(|| "op-demo".into()),
            ..Default::default()
        };
        if category == Category::Disabilitas {
            // One resident with missing fingers: recorded as exceptions, never a silent gap.
            for (code, reason, perm) in [
                (4, ExceptionReason::Amputated, Permanence::Permanent),
                (5, ExceptionReason::Amputated, Permanence::Permanent),
                (7, ExceptionReason::BandagedOrInjured, Permanence::Temporary),
            ] {
                opts.finger_exceptions.push((
                    FingerPosition::new(code).expect("1-10"),
                    reason,
                    perm,
                ));
            }
        }
        let seed = seed0 + u64::from(i);
        opts.biometrics_from_devices = category.records_biometrics();
        let (mut visit, files) = synthetic_visit(seed, &opts);
        if let Some(e) = entry {
            // Started from the worklist entry: its reference (no NIK known), name and place.
            visit.resident.reference = ResidentRef::Worklist(e.id.clone());
            visit.resident.name = Some(e.name.clone());
            visit.place.description = e.place();
        }
        // Captured file by file into the encrypted draft, as a real visit would be: documents from
        // the generator; the face through the PTP driver talking to the camera model over the
        // in-memory USB transport; fingers, signature and location through the real drivers
        // talking to device models on ptys.
        for f in &files {
            drafts.save_file(visit.id, &f.name, &f.bytes)?;
        }
        drafts.save_visit(&visit)?;
        let mut device_note = String::from("no devices (documents only)");
        if opts.biometrics_from_devices {
            let near = visit
                .place
                .location
                .map(|p| (p.lat, p.lon))
                .unwrap_or((-3.1, 121.1));
            let name = visit.resident.name.clone().unwrap_or_default();
            let skipped: Vec<FingerPosition> =
                opts.finger_exceptions.iter().map(|(p, _, _)| *p).collect();
            let rig = SimRig::start(seed, &name, near, a.realtime, &skipped);
            let report = rig.capture(
                &home.root,
                &mut visit,
                &drafts,
                opts.finger_exceptions.clone(),
                &home.config.capture,
                &home.config.face,
                &mut PrintFingerAttempts,
            )?;
            device_note = format!(
                "face: {}{}; fingers: {}; {}; signature: {}{}; {}",
                report.camera,
                score_note(visit.captures.face.as_ref()),
                report.scanner,
                report.fingers_summary(),
                report.pad,
                score_note(visit.captures.signature.as_ref()),
                match report.fix {
                    FixOutcome::Fix(p) => format!("GPS fix {:.4}, {:.4}", p.lat, p.lon),
                    FixOutcome::NoFix(why) => format!("GPS: no fix ({why})"),
                }
            );
        }
        let files_count = visit.referenced_files().len();
        let o = seal::seal_draft(&home, &mut store, &drafts, &identity, visit.id)?;
        packet::verify_file(&o.path, Some(&kit_key))?;
        lines.push(format!(
            "  {:<12} {:>2} files  {:>2} exceptions  {:>9}  {}\n      {device_note}",
            category.code(),
            files_count,
            visit.exception_count(),
            super::output::bytes(o.size),
            o.packet_id
        ));
        packets.push(o.path);
    }

    let mut receipts = Vec::new();
    let mut upload_line = match &enrolled_url {
        Some(url) => format!(
            "upload: none (--offline: sealed in a blank spot). Back in coverage, serve the hub again \
             with `jemput hub serve --data {} --listen {}` and drain the queue with \
             `jemput --home {} upload` (or `agent`)",
            hub_dir.display(),
            url.trim_start_matches("https://"),
            home.root.display()
        ),
        None => String::from("upload: none"),
    };
    if let Some(handle) = &hub {
        let pin: jemput_core::wire::pin::CertPin = home
            .config
            .hub_cert_sha256
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("the demo kit has no pinned hub certificate"))?
            .parse()?;
        let uploader = jemput_kit::upload::Uploader::new(
            jemput_kit::upload::parse_endpoint(&handle.url)?,
            &home.config.kit_id,
            home.kit_key()?,
            home.config.hub_key,
            jemput_kit::upload::UploadOptions {
                retention_hours: home.config.retention_hours,
                ..Default::default()
            },
        )
        .pin_certificate(&pin);
        let report =
            runtime.block_on(uploader.drain(&mut store, &jemput_kit::upload::NoProgress))?;
        let receipts_dir = dir.join("receipts");
        jemput_core::fsutil::ensure_dir(&receipts_dir, 0o700)?;
        for p in &report.packets {
            if let Some(bytes) = store.receipt_of(&p.packet_id)? {
                let path = receipts_dir.join(format!("{}.json", p.packet_id));
                jemput_core::fsutil::write_atomic(&path, &bytes, 0o644)?;
                receipts.push(path);
            }
        }
        let acked = report
            .packets
            .iter()
            .filter(|p| p.outcome == jemput_kit::upload::Outcome::Acknowledged)
            .count();
        anyhow::ensure!(
            acked == report.packets.len() && report.stopped.is_none(),
            "the demo hub did not acknowledge every packet: {:?}",
            report
        );
        upload_line = format!(
            "uploaded over TLS (pinned certificate) to the hub at {} ({}): {acked} receipts, each verified with the pinned hub key",
            handle.url, handle.hub_id
        );
    }
    let ids = office::load_identities(&identity_file)?;
    let opened = dir.join("opened").join(
        packets[0]
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let bytes = std::fs::read(&packets[0])?;
    let contents = packet::open_to_dir(&bytes, &ids, Some(&kit_key), &opened)?;

    if a.json {
        super::output::json(&DemoOutput {
            kit_home: home.root.clone(),
            office_identity: identity_file,
            packets,
            receipts,
            hub_url: hub.as_ref().map(|h| h.url.clone()).or(enrolled_url.clone()),
            hub_data: hub_dir.clone(),
            visits: a.visits,
            opened,
        })?;
    } else {
        println!(
            "jemput demo — kit {} at {}",
            home.config.kit_id,
            home.root.display()
        );
        println!("{} visits sealed and verified:", a.visits);
        for l in lines {
            println!("{l}");
        }
        println!(
            "opened {} with the office identity: {} files, inner signature and hashes verified",
            contents.manifest.packet_id,
            contents.files.len()
        );
        if !worklist.is_empty() {
            println!(
                "synced with the hub first: {} worklist entries (signed, verified with the pinned hub key); each visit started from one",
                worklist.len()
            );
        }
        println!("{upload_line}");
        match &a.keep {
            Some(d) => println!("everything kept in {}", d.display()),
            None => println!("throw-away directory removed (use --keep DIR to keep it)"),
        }
        println!("done in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints one line per finger attempt for the operator (Indonesian, then English); the face and
/// the signature show their kept score in the visit's summary line.
struct PrintFingerAttempts;

impl CaptureObserver for PrintFingerAttempts {
    fn attempt(&mut self, e: &AttemptEvent) {
        if e.finger().is_some() {
            super::output::note(&format!("  {}\n    {}", e.line_id(), e.line_en()));
        }
    }
}

/// `" (score 78, jemput-faceq/1)"` for a scored capture, else nothing.
fn score_note(slot: Option<&jemput_core::visit::Slot>) -> String {
    match slot {
        Some(jemput_core::visit::Slot::Captured(c)) => c
            .quality
            .as_ref()
            .map(|q| format!(" (score {}, {})", q.score, q.algorithm))
            .unwrap_or_default(),
        _ => String::new(),
    }
}
