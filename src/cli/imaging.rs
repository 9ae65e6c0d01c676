//! `jemput imaging`: standard image encodings and checks: the WSQ codec (`jemput imaging wsq
//! encode|decode`), the face photo checks (`jemput imaging face check`) and the signature render
//! from a pen trace (`jemput imaging signature render`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use jemput::outputs::FaceCheckOutput;
use jemput_core::imaging::face::{Bound, FaceChecker, FaceContext, FacePhoto, FaceSettings};
use jemput_core::imaging::signature::{self, RenderOptions, SignatureTrace};

#[derive(Debug, Args)]
pub struct ImagingArgs {
    #[command(subcommand)]
    pub command: ImagingCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImagingCommand {
    /// WSQ fingerprint compression (FBI WSQ v3.1, interoperable with NIST's NBIS)
    Wsq(WsqArgs),
    /// Face photo checks (no face detector: see the README)
    Face(FaceArgs),
    /// Signature images from pen traces
    Signature(SignatureArgs),
}

#[derive(Debug, Args)]
pub struct FaceArgs {
    #[command(subcommand)]
    pub command: FaceCommand,
}

#[derive(Debug, Subcommand)]
pub enum FaceCommand {
    /// Check a face photo: size, aspect ratio, exposure, sharpness, plain backdrop and its colour.
    /// Exits 0 when every check passes, 1 when one fails
    Check(FaceCheckArgs),
}

#[derive(Debug, Args)]
pub struct FaceCheckArgs {
    /// The photo (JPEG, or PNG)
    pub input: PathBuf,
    /// The resident's year of birth: turns on the backdrop colour rule (odd red, even blue)
    #[arg(long, value_name = "YEAR")]
    pub birth_year: Option<i16>,
    /// The resident is a foreigner (the foreigner backdrop colour, orange by default)
    #[arg(long)]
    pub foreigner: bool,
    /// Thresholds from this kit's config (`[face]` in config.toml) instead of the defaults
    #[arg(long)]
    pub use_kit_config: bool,
    /// Print the checks as JSON (schemas/imaging-face-check.schema.json)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SignatureArgs {
    #[command(subcommand)]
    pub command: SignatureCommand,
}

#[derive(Debug, Subcommand)]
pub enum SignatureCommand {
    /// Render a pen trace (schemas/pen-trace.schema.json) as a PNG; stroke width follows pressure
    Render(RenderArgs),
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The pen trace (JSON)
    pub trace: PathBuf,
    /// The PNG to write (replaced atomically)
    pub output: PathBuf,
    /// Image width in pixels; the height follows the pad's aspect ratio
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(16..=8000))]
    pub width: u32,
    /// Stroke width in pixels at full pressure
    #[arg(long, default_value_t = 4.0, value_name = "PX")]
    pub max_stroke: f32,
    /// Stroke width in pixels at the lightest touch
    #[arg(long, default_value_t = 0.8, value_name = "PX")]
    pub min_stroke: f32,
}

#[derive(Debug, Args)]
pub struct WsqArgs {
    #[command(subcommand)]
    pub command: WsqCommand,
}

#[derive(Debug, Subcommand)]
pub enum WsqCommand {
    /// Compress an 8-bit grey image (PNG, or JPEG) to WSQ; colour images are converted to grey
    Encode(EncodeArgs),
    /// Decompress a WSQ file to an 8-bit grey PNG
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Image to compress
    pub input: PathBuf,
    /// WSQ file to write (replaced atomically)
    pub output: PathBuf,
    /// Bit rate in bits per pixel: 0.75 ≈ 15:1 (the FBI's setting), 2.25 ≈ 5:1
    #[arg(long, default_value_t = 0.75, value_name = "R")]
    pub bitrate: f32,
    /// Scan resolution written to the NIST_COM comment
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub ppi: u32,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// WSQ file to decompress
    pub input: PathBuf,
    /// PNG file to write (replaced atomically)
    pub output: PathBuf,
}

pub fn run(g: &super::Global, a: ImagingArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        ImagingCommand::Wsq(w) => match w.command {
            WsqCommand::Encode(e) => encode(e),
            WsqCommand::Decode(d) => decode(d),
        },
        ImagingCommand::Face(f) => match f.command {
            FaceCommand::Check(c) => face_check(c, g),
        },
        ImagingCommand::Signature(s) => match s.command {
            SignatureCommand::Render(r) => signature_render(r),
        },
    }
}

fn face_check(a: FaceCheckArgs, g: &super::Global) -> anyhow::Result<ExitCode> {
    let settings = if a.use_kit_config {
        g.open_home()?.config.face
    } else {
        FaceSettings::default()
    };
    let bytes =
        std::fs::read(&a.input).with_context(|| format!("cannot read {}", a.input.display()))?;
    let photo =
        FacePhoto::decode(&bytes).with_context(|| format!("cannot check {}", a.input.display()))?;
    let ctx = FaceContext {
        birth_year: a.birth_year,
        foreigner: a.foreigner,
    };
    let backdrop = settings
        .background
        .expected(&ctx)
        .map(|(c, why)| format!("#{:02x}{:02x}{:02x} ({why})", c[0], c[1], c[2]));
    let report = FaceChecker::new(&settings).run(&photo, &ctx);
    let passed = report.passed;
    let out = FaceCheckOutput {
        input: a.input,
        backdrop,
        report,
    };
    if a.json {
        super::output::json(&out)?;
    } else {
        println!(
            "{}: {} × {} px, {}",
            out.input.display(),
            out.report.width,
            out.report.height,
            if passed {
                "every check passed / semua lolos"
            } else {
                "a check FAILED / ada yang GAGAL"
            }
        );
        for c in &out.report.checks {
            let bound = match c.bound {
                Bound::AtLeast => "≥",
                Bound::AtMost => "≤",
            };
            println!(
                "  {:<4} {:<19} {:>10} {bound} {:<8} {}",
                if c.passed { "ok" } else { "FAIL" },
                c.check,
                number(c.value),
                number(c.threshold),
                c.unit
            );
            if !c.passed {
                println!("       {}\n       {}", c.message_id, c.message_en);
            }
        }
        match &out.backdrop {
            Some(b) => println!("  backdrop expected: {b}"),
            None => println!(
                "  backdrop colour not checked: no --birth-year (or the rule is off) / \
                 warna latar tidak diperiksa"
            ),
        }
        println!("  (no face detector: the checks measure the frame, not the face)");
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A measured value at a readable precision.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else if v.abs() < 1.0 {
        format!("{v:.4}")
    } else {
        format!("{v:.1}")
    }
}

fn signature_render(a: RenderArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&a.trace).with_context(|| format!("cannot read {}", a.trace.display()))?;
    let trace = SignatureTrace::parse(&bytes)
        .with_context(|| format!("cannot render {}", a.trace.display()))?;
    if !(a.min_stroke > 0.0 && a.max_stroke >= a.min_stroke && a.max_stroke <= 100.0) {
        anyhow::bail!(
            "stroke widths must satisfy 0 < --min-stroke ≤ --max-stroke ≤ 100 (got {} and {})",
            a.min_stroke,
            a.max_stroke
        );
    }
    let img = signature::render(
        &trace,
        &RenderOptions {
            width: a.width,
            min_stroke: a.min_stroke,
            max_stroke: a.max_stroke,
        },
    );
    write_atomically(&a.output, &signature::png(&img))?;
    println!(
        "wrote {}: {} × {} px from {} points ({}{})",
        a.output.display(),
        img.width(),
        img.height(),
        trace.points.len(),
        trace.kind.label_en(),
        trace
            .calibration_id
            .as_deref()
            .map(|c| format!(", calibration {c}"))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn encode(a: EncodeArgs) -> anyhow::Result<ExitCode> {
    let img = image::open(&a.input)
        .with_context(|| format!("cannot read {} as an image", a.input.display()))?;
    let grey = img.to_luma8();
    let (width, height) = grey.dimensions();
    let image = jemput_wsq::Image {
        width,
        height,
        ppi: Some(a.ppi),
        pixels: grey.into_raw(),
    };
    let options = jemput_wsq::EncodeOptions {
        bitrate: a.bitrate,
        ppi: Some(a.ppi),
        ..jemput_wsq::EncodeOptions::default()
    };
    let wsq = jemput_wsq::encode(&image, &options)
        .with_context(|| format!("cannot compress {}", a.input.display()))?;
    write_atomically(&a.output, &wsq)?;
    println!(
        "wrote {}: {width} × {height} px, {} ppi, {} bytes ({:.1}:1 at {} bpp)",
        a.output.display(),
        a.ppi,
        wsq.len(),
        image.pixels.len() as f64 / wsq.len() as f64,
        a.bitrate
    );
    Ok(ExitCode::SUCCESS)
}

fn decode(a: DecodeArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&a.input).with_context(|| format!("cannot read {}", a.input.display()))?;
    let d = jemput_wsq::decode(&bytes)
        .with_context(|| format!("{} is not a readable WSQ file", a.input.display()))?;
    let (w, h) = (d.image.width, d.image.height);
    let grey = image::GrayImage::from_raw(w, h, d.image.pixels)
        .context("decoded pixel count does not match the frame size")?;
    let mut png = std::io::Cursor::new(Vec::new());
    grey.write_to(&mut png, image::ImageFormat::Png)?;
    write_atomically(&a.output, png.get_ref())?;
    let ppi = d
        .image
        .ppi
        .map_or_else(|| "unknown".to_string(), |p| p.to_string());
    println!(
        "wrote {}: {w} × {h} px, {ppi} ppi (from {} bytes of WSQ)",
        a.output.display(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}
