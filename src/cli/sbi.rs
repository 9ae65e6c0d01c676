//! `jemput sbi keygen` and `jemput sbi serve`: jemput as a MOSIP SBI device service (docs/sbi.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use jemput::outputs::{SbiDeviceOutput, SbiTrustedCaOutput};
use jemput_sbi_service::{keys, serve};

#[derive(Debug, Args)]
pub struct SbiArgs {
    #[command(subcommand)]
    pub command: SbiCommand,
}

#[derive(Debug, Subcommand)]
pub enum SbiCommand {
    /// Make a device-provider CA (if DIR has none) and a device key and certificate under it
    Keygen(KeygenArgs),
    /// Serve an SBI device service (MOSIPDISC, MOSIPDINFO, RCAPTURE, STREAM) on 127.0.0.1 until Ctrl-C
    Serve(ServeArgs),
    /// List the SBI device services on 127.0.0.1:4501–4600 and their devices (sbi:PORT/ID/SUBID)
    Devices(DevicesArgs),
    /// Capture through an SBI device (a slap gives its fingers): verified, then written to files
    Capture(CaptureArgs),
    /// The device-provider CAs this kit trusts (SBI answers signed under any other are refused)
    Trust(TrustArgs),
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    #[command(subcommand)]
    pub command: TrustCommand,
}

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust the CA certificate(s) of a PEM file (from `jemput sbi keygen` or the device's vendor)
    Add {
        #[arg(value_name = "CA.pem")]
        file: PathBuf,
    },
    /// List the trusted CAs
    List {
        /// Print the list as JSON
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a CA, named by the start of its SHA-256 (8 hex digits or more)
    Remove {
        #[arg(value_name = "SHA256")]
        sha256: String,
    },
}

/// The kit's trust directory of device-provider CA certificates (one `<sha256>.pem` each).
pub const TRUST_DIR: &str = jemput_kit::sbi::TRUST_DIR;

#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Print the list as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The device: sbi:PORT/DEVICEID/SUBID (from `jemput sbi devices`); sub-id 0 is a camera or a
    /// single-finger scanner, as the service's discovery says
    #[arg(value_name = "SELECTOR")]
    pub selector: jemput_sbi::client::SbiSelector,
    /// Also trust this device-provider CA certificate (PEM) for this capture; repeat for several
    /// (the kit's own trust store, `jemput sbi trust`, is always used)
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// A finger that is missing (as SBI names it, e.g. "Left RingFinger"); repeat for several
    #[arg(long = "exception", value_name = "FINGER")]
    pub exceptions: Vec<String>,
    /// A single-finger scanner (sub-id 0): the finger to take, as SBI names it (e.g.
    /// "Right IndexFinger"); default "UNKNOWN", no particular finger
    #[arg(long, value_name = "FINGER")]
    pub finger: Option<String>,
    /// The quality score the device should reach (1–100)
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub score: u8,
    /// Seconds the device may take
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub timeout: u64,
    /// Directory for the ISO records and images
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Print what was written as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Directory for ca.pem, ca-key.pem, device.pem, device-key.pem
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The device provider's name (the CA's organisation)
    #[arg(long, default_value = "jemput")]
    pub provider: String,
    /// The device's serial number (the device certificate's common name)
    #[arg(long, default_value = "JEMPUTDEVICE0001")]
    pub serial: String,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Each --device is one SBI device, numbered from 1 in the order given (after the two simulated \
ones of --sim): a fingerprint scanner (EF01, U.are.U) is a \"Finger\" device of sub type \
\"Single\" (deviceSubId 0, one finger per capture), a camera (PTP, UVC webcam) a \"Face\" device \
(\"Full face\", deviceSubId 0). The selectors are those of `jemput capture`: VID:PID[:SERIAL], \
usb:<port path>, a tty path, v4l2:/dev/videoN, or sim:<ef01|uru4000|ptp>[:n] for a device model \
started in-process. The service is certified L0 (software keys): give --keys DIR from \
`jemput sbi keygen` for a MOSIP registration client; without it a throw-away test CA signs.")]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (default: the first free one in 4501–4600)
    #[arg(long)]
    pub port: Option<u16>,
    /// Serve a simulated slap scanner and camera (devices 1 and 2)
    #[arg(long)]
    pub sim: bool,
    /// With --sim, a test and training aid: the simulated slap scanner gives finger N (position
    /// code 1–10) as a poor print in its first K captures of it, or in every capture without
    /// :K (a worn finger); repeat for several
    #[arg(long, value_name = "N[:K]", requires = "sim", value_parser = parse_poor_finger)]
    pub sim_poor_finger: Vec<(u8, u32)>,
    /// Serve this fingerprint scanner or camera (repeat for several; see below)
    #[arg(long = "device", value_name = "SELECTOR")]
    pub devices: Vec<jemput_drivers::Selector>,
    /// The driver of the serial devices among them when the port's USB id does not tell
    #[arg(long, value_name = "DRIVER", value_parser = super::select::driver_names())]
    pub driver: Option<String>,
    /// Line speed of the serial devices among them, when not their driver's usual one
    #[arg(long, value_name = "BAUD")]
    pub baud: Option<u32>,
    /// How finger records code their image: jpeg2000-lossless (a JP2 file, as MOSIP asks of
    /// registration devices) or wsq (0.75 bit per pixel, about a tenth of the size)
    #[arg(long, value_name = "CODING", default_value = "jpeg2000-lossless")]
    pub finger_image: jemput_sbi_service::records::FingerCoding,
    /// How face records code their image: jpeg2000-lossless (the photo's pixels in a JP2 file,
    /// as MOSIP asks of registration devices) or jpeg (the camera's own JPEG, several times
    /// smaller)
    #[arg(long, value_name = "CODING", default_value = "jpeg2000-lossless")]
    pub face_image: jemput_sbi_service::records::FaceCoding,
    /// Sign with the keys `jemput sbi keygen` made in DIR (default: a throw-away test CA)
    #[arg(long, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Print one JSON line {"port": N, "ca_cert": "PATH"} once listening
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &super::Global, a: SbiArgs) -> anyhow::Result<ExitCode> {
    let trust_dir = g.home_dir().join(TRUST_DIR);
    match a.command {
        SbiCommand::Keygen(k) => keygen(k),
        SbiCommand::Serve(s) => serve_cmd(s),
        SbiCommand::Devices(d) => devices(d),
        SbiCommand::Capture(c) => capture(&g.home_dir(), c),
        SbiCommand::Trust(t) => trust(&trust_dir, t.command),
    }
}

fn trust(dir: &std::path::Path, c: TrustCommand) -> anyhow::Result<ExitCode> {
    use jemput_sbi::trust;
    let row = |c: &trust::TrustedCa| SbiTrustedCaOutput {
        sha256: c.sha256.clone(),
        subject: c.subject.clone(),
        not_after: c.not_after.clone(),
        file: c.file.clone(),
    };
    match c {
        TrustCommand::Add { file } => {
            for c in trust::install(dir, &file)? {
                println!(
                    "trusted: {}  {}  (until {})",
                    &c.sha256[..16],
                    c.subject,
                    c.not_after
                );
            }
        }
        TrustCommand::List { json } => {
            let list: Vec<SbiTrustedCaOutput> = trust::list_dir(dir)?.iter().map(row).collect();
            if json {
                super::output::json(&list)?;
            } else if list.is_empty() {
                super::output::note(
                    "no device-provider CA is trusted yet: `jemput sbi trust add CA.pem`",
                );
            } else {
                for c in &list {
                    println!(
                        "{}  {}  (until {})",
                        &c.sha256[..16],
                        c.subject,
                        c.not_after
                    );
                }
            }
        }
        TrustCommand::Remove { sha256 } => {
            let c = trust::remove(dir, &sha256)?;
            println!("no longer trusted: {}  {}", &c.sha256[..16], c.subject);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn keygen(a: KeygenArgs) -> anyhow::Result<ExitCode> {
    let g = keys::keygen(&a.dir, &a.provider, &a.serial)?;
    if g.new_ca {
        println!("device-provider CA: {}", g.ca_cert.display());
    } else {
        println!("device-provider CA (kept): {}", g.ca_cert.display());
    }
    println!("device certificate: {}", g.device_cert.display());
    super::output::note(&format!(
        "on each kit: `jemput sbi trust add {}`; keep ca-key.pem offline",
        g.ca_cert.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `N[:K]` of `--sim-poor-finger`: a finger position code and how many captures of it are poor
/// (`u32::MAX` without `:K`: every one).
fn parse_poor_finger(s: &str) -> Result<(u8, u32), String> {
    let max = u32::MAX.to_string();
    let (finger, captures) = s.split_once(':').unwrap_or((s, &max));
    let finger: u8 = finger
        .trim()
        .parse()
        .ok()
        .filter(|f| (1..=10).contains(f))
        .ok_or_else(|| format!("{finger:?}: a finger position code, 1 (right thumb) to 10"))?;
    let captures: u32 = captures
        .trim()
        .parse()
        .map_err(|_| format!("{captures:?}: a number of captures"))?;
    Ok((finger, captures))
}

fn serve_cmd(a: ServeArgs) -> anyhow::Result<ExitCode> {
    if !a.sim && a.devices.is_empty() {
        anyhow::bail!(
            "nothing to serve: add --device SELECTOR for each fingerprint scanner or camera \
             (e.g. --device sim:ef01, `jemput devices` lists them), or --sim for the simulated \
             slap scanner and camera"
        );
    }
    // The devices are opened before anything listens: one that cannot be opened stops the
    // service with the reason, rather than being served as a device that never answers.
    let mut backends: Vec<Box<dyn serve::Backend>> = Vec::new();
    let mut names = Vec::new();
    if a.sim {
        let slap = jemput_sbi_service::sim::SimSlap {
            person_seed: 18,
            quality: 0.85,
            finger_image: a.finger_image,
        };
        backends.push(if a.sim_poor_finger.is_empty() {
            Box::new(slap)
        } else {
            Box::new(jemput_sbi_service::sim::SimSlapPoorFinger {
                slap,
                poor: a
                    .sim_poor_finger
                    .iter()
                    .map(|&(finger, captures)| (finger, captures.into()))
                    .collect(),
            })
        });
        backends.push(Box::new(jemput_sbi_service::sim::SimCamera {
            person_seed: 18,
            face_image: a.face_image,
        }));
        names.push("simulated slap scanner".to_string());
        names.push("simulated camera".to_string());
    }
    for sel in &a.devices {
        let serial = matches!(
            sel,
            jemput_drivers::Selector::Tty(_)
                | jemput_drivers::Selector::UsbId { .. }
                | jemput_drivers::Selector::UsbPort(_)
        );
        let options = jemput_drivers::registry::OpenOptions {
            driver: a.driver.clone().filter(|_| serial),
            baud: a.baud.filter(|_| serial),
            ..Default::default()
        };
        let codings = jemput_sbi_service::records::Codings {
            finger: a.finger_image,
            face: a.face_image,
        };
        let b = super::sbi_drivers::open(sel, &options, backends.len() + 1, codings)?;
        names.push(format!(
            "{sel}: {} {} ({} {})",
            b.bio_type(),
            b.device_sub_type(),
            b.make(),
            b.model()
        ));
        backends.push(b);
    }
    // The throw-away CA lives as long as the service.
    let tmp = tempfile::Builder::new().prefix("jemput-sbi-").tempdir()?;
    let dir = a.keys.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    if a.keys.is_none() {
        keys::keygen(&dir, "jemput test provider", "JEMPUTSIMSLAP0001")?;
    }
    let device_keys = keys::load(&dir)?;
    let ca_cert = dir.join(keys::CA_CERT);
    let provider = device_keys
        .provider()
        .unwrap_or_else(|| "jemput test provider".to_string());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = serve::bind(a.port).await.with_context(|| match a.port {
            Some(p) => format!("cannot listen on 127.0.0.1:{p}"),
            None => "no free port in 4501–4600 on 127.0.0.1".into(),
        })?;
        let port = listener.local_addr()?.port();
        let svc = serve::Service::new(port, device_keys.signer, &provider, backends);
        if a.json {
            super::output::json_line(&jemput::outputs::SbiServeOutput {
                port,
                ca_cert: ca_cert.clone(),
            })?;
        } else {
            println!("SBI device service on http://127.0.0.1:{port}/ (certification L0)");
            for (i, name) in names.iter().enumerate() {
                println!("  device {}: {name}", i + 1);
            }
            println!(
                "trust its CA on this kit with `jemput sbi trust add {}` (or --ca for one capture)",
                ca_cert.display()
            );
        }
        if a.keys.is_none() {
            super::output::note(
                "signing with a throw-away test CA made for this run: for a MOSIP registration \
                 client, make keys once with `jemput sbi keygen --dir DIR` and serve with --keys DIR",
            );
        }
        serve::serve(listener, svc, stop()).await?;
        anyhow::Ok(())
    })?;
    drop(tmp);
    Ok(ExitCode::SUCCESS)
}

async fn stop() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn devices(a: DevicesArgs) -> anyhow::Result<ExitCode> {
    let list = scan_devices()?;
    if a.json {
        super::output::json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        super::output::note("no SBI device service found on 127.0.0.1 (ports 4501–4600)");
        return Ok(ExitCode::SUCCESS);
    }
    print_devices(&list);
    Ok(ExitCode::SUCCESS)
}

/// Every sub-device of every SBI device service on the kit's loopback ports ([`PORTS_ENV`] narrows
/// them); a port where something else answers is noted on stderr.
///
/// [`PORTS_ENV`]: jemput_sbi::client::PORTS_ENV
pub(super) fn scan_devices() -> anyhow::Result<Vec<SbiDeviceOutput>> {
    let ports = jemput_sbi::client::ports()?;
    let scan = runtime()?.block_on(jemput_sbi::client::scan(
        ports,
        jemput_sbi::client::SCAN_TIMEOUT,
    ));
    let mut list = Vec::new();
    for (port, found) in &scan.services {
        for d in found {
            // Discovery's digital ID is unsigned by design: good for a listing, never for a capture.
            let id: Option<jemput_sbi::proto::DigitalId> =
                jemput_sbi::jws::unsigned_payload(&d.digital_id)
                    .and_then(|b| serde_json::from_slice(&b).ok());
            for sub in &d.device_sub_id {
                let bio_type = id.as_ref().map(|i| i.kind.clone()).unwrap_or_default();
                let role = sub
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .and_then(|n| jemput_kit::sbi::role(&bio_type, n));
                list.push(SbiDeviceOutput {
                    selector: format!("sbi:{port}/{}/{sub}", d.device_id),
                    port: *port,
                    device_id: d.device_id.clone(),
                    sub_id: sub.clone(),
                    bio_type,
                    device_sub_type: id
                        .as_ref()
                        .map(|i| i.device_sub_type.clone())
                        .unwrap_or_default(),
                    role: role.map(str::to_string),
                    make: id.as_ref().map(|i| i.make.clone()).unwrap_or_default(),
                    model: id.as_ref().map(|i| i.model.clone()).unwrap_or_default(),
                    serial: d.device_code.clone(),
                    status: d.device_status.clone(),
                    certification: d.certification.clone(),
                });
            }
        }
    }
    for (port, why) in &scan.others {
        super::output::note(&format!("port {port}: not an SBI device service ({why})"));
    }
    Ok(list)
}

/// The table of `jemput sbi devices`, also under `jemput devices`.
pub(super) fn print_devices(list: &[SbiDeviceOutput]) {
    println!(
        "{:<20} {:<7} {:<10} {:<14} {:<24} {:<20} STATUS",
        "SELECTOR", "TYPE", "SUBTYPE", "ROLE", "MAKE MODEL", "SERIAL"
    );
    for d in list {
        println!(
            "{:<20} {:<7} {:<10} {:<14} {:<24} {:<20} {} ({})",
            d.selector,
            d.bio_type,
            d.device_sub_type,
            d.role.as_deref().unwrap_or("-"),
            format!("{} {}", d.make, d.model),
            d.serial,
            d.status,
            d.certification
        );
    }
}

/// The kit's trust store (`<home>/sbi-trust/`) and the CA files given for one command; refused
/// when that trusts no CA at all, saying how to add one.
pub(super) fn kit_trust(
    home: &std::path::Path,
    extra: &[PathBuf],
) -> anyhow::Result<jemput_sbi::trust::TrustStore> {
    jemput_kit::sbi::trust_store(home, extra).map_err(|e| match e {
        jemput_kit::sbi::SbiDeviceError::NoTrustedCa => {
            anyhow::anyhow!("{e}, or --ca CA.pem for this capture")
        }
        e => e.into(),
    })
}

/// One registration capture of what `sel` names, a device of `bio_type` ("Face", "Finger"): a
/// face, a slap (sub-ids 1–3: its fingers less the exceptions), or from a single-finger scanner
/// (sub-id 0) the finger `finger` names ("UNKNOWN" when none).
pub(super) fn ask_for(
    sel: &jemput_sbi::client::SbiSelector,
    bio_type: &str,
    finger: Option<&str>,
    exceptions: Vec<String>,
    score: u8,
    timeout: std::time::Duration,
) -> jemput_sbi::client::CaptureAsk {
    let fingers = if bio_type == "Finger" && sel.sub_id == 0 {
        vec![finger
            .unwrap_or(jemput_sbi_service::serve::UNKNOWN_FINGER)
            .to_string()]
    } else {
        vec![]
    };
    jemput_sbi::client::CaptureAsk {
        port: sel.port,
        device_id: sel.device_id.clone(),
        bio_type: bio_type.into(),
        sub_id: sel.sub_id,
        fingers,
        exceptions,
        requested_score: score,
        timeout,
    }
}

/// What kind of device `sel` names: sub-ids 1–3 are a slap scanner's; for sub-id 0 (a camera or a
/// single-finger scanner) the service's discovery says ("Face" or "Finger").
pub(super) fn bio_type_of(
    runtime: &tokio::runtime::Runtime,
    sel: &jemput_sbi::client::SbiSelector,
) -> anyhow::Result<String> {
    if sel.sub_id != 0 {
        return Ok("Finger".into());
    }
    let found = runtime
        .block_on(jemput_sbi::client::discover(
            sel.port,
            jemput_sbi::client::SCAN_TIMEOUT,
        ))
        .with_context(|| format!("{sel}: no SBI device service answered discovery"))?;
    let dev = found
        .iter()
        .find(|d| d.device_id == sel.device_id && d.device_sub_id.iter().any(|s| s == "0"))
        .with_context(|| {
            format!(
                "{sel}: the device service on port {} lists no device {} with sub-id 0 \
                 (`jemput sbi devices` lists what it has)",
                sel.port, sel.device_id
            )
        })?;
    // Discovery's digital ID is unsigned: it only chooses what to ask for; the answer is checked.
    let id: jemput_sbi::proto::DigitalId = jemput_sbi::jws::unsigned_payload(&dev.digital_id)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .with_context(|| format!("{sel}: discovery gives no readable digital ID"))?;
    match id.kind.as_str() {
        "Face" | "Finger" => Ok(id.kind),
        other => anyhow::bail!("{sel}: a {other} device, which jemput cannot capture from"),
    }
}

fn capture(home: &std::path::Path, a: CaptureArgs) -> anyhow::Result<ExitCode> {
    let trust = kit_trust(home, &a.ca)?;
    let sel = &a.selector;
    let runtime = runtime()?;
    let bio_type = bio_type_of(&runtime, sel)?;
    if a.finger.is_some() && !(bio_type == "Finger" && sel.sub_id == 0) {
        anyhow::bail!("--finger is for a single-finger scanner (a Finger device of sub-id 0)");
    }
    let ask = ask_for(
        sel,
        &bio_type,
        a.finger.as_deref(),
        a.exceptions.clone(),
        a.score,
        std::time::Duration::from_secs(a.timeout),
    );
    let tx = jemput_sbi::client::new_transaction_id();
    let got = runtime
        .block_on(jemput_sbi::client::capture(&ask, &trust, &tx, ""))
        .with_context(|| format!("capture through {sel}"))?;
    std::fs::create_dir_all(&a.out_dir)
        .with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    let mut written = Vec::new();
    for b in &got {
        let name = b.bio_sub_type.clone().unwrap_or_else(|| "Face".into());
        let stem = name.replace(' ', "-").to_lowercase();
        // Named as `jemput capture` and the packet name them: the part of ISO/IEC 19794.
        let part = if b.bio_type == "Face" { 5 } else { 4 };
        let record = a.out_dir.join(format!("{stem}.iso19794-{part}"));
        let (image, jemput_quality) = if b.bio_type == "Face" {
            let rec = jemput_core::iso19794::read_face_record(&b.record)
                .with_context(|| format!("{name}: the ISO/IEC 19794-5 record"))?;
            let first = rec
                .images
                .first()
                .context("the face record holds no image")?;
            // A JPEG as the camera gave it; any other image (JPEG 2000 lossless, as MOSIP asks of
            // registration cameras) decoded and written losslessly as a PNG.
            let path = if first.format == jemput_core::iso19794::ImageFormat::Jpeg {
                let path = a.out_dir.join(format!("{stem}.jpg"));
                std::fs::write(&path, &first.image)?;
                path
            } else {
                let rgb = first
                    .rgb_pixels()
                    .with_context(|| format!("{name}: the image does not decode"))?;
                let path = a.out_dir.join(format!("{stem}.png"));
                rgb.save_with_format(&path, image::ImageFormat::Png)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                path
            };
            (path, None)
        } else {
            let (png, score) = finger_image(&name, &b.record)?;
            let path = a.out_dir.join(format!("{stem}.png"));
            std::fs::write(&path, png)?;
            (path, Some(score))
        };
        std::fs::write(&record, &b.record)?;
        written.push(jemput::outputs::SbiCaptureOutput {
            bio_sub_type: name,
            record,
            image,
            device_quality: b.quality_score,
            jemput_quality,
            hash: b.hash.clone(),
        });
    }
    if a.json {
        super::output::json(&written)?;
    } else {
        for w in &written {
            println!(
                "{:<18} device quality {:>5.1}  jemput-fq {:>4}  {}",
                w.bio_sub_type,
                w.device_quality,
                w.jemput_quality
                    .map(|q| q.to_string())
                    .unwrap_or_else(|| "-".into()),
                w.image.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A finger record's image as a PNG, with jemput's own quality score of it.
pub(super) fn finger_image(name: &str, record: &[u8]) -> anyhow::Result<(Vec<u8>, u8)> {
    use jemput_core::imaging::quality::{FingerQuality, JemputFq};
    let rec = jemput_core::iso19794::read_finger_record(record)
        .with_context(|| format!("{name}: the ISO/IEC 19794-4 record"))?;
    let rep = rec
        .images
        .first()
        .context("the finger record holds no image")?;
    // Any image a record may hold (WSQ, JPEG 2000, PNG, JPEG, raw), checked against its size.
    let grey = rep
        .grey_pixels()
        .with_context(|| format!("{name}: the image does not decode"))?;
    let score = JemputFq.score(&grey).score;
    let png = jemput_drivers::synth::png_gray_image(&grey);
    Ok((png, score))
}
