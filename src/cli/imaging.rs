//! `jemput imaging`: standard image encodings. For now the WSQ codec: `jemput imaging wsq encode`
//! (PNG → WSQ) and `jemput imaging wsq decode` (WSQ → PNG).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct ImagingArgs {
    #[command(subcommand)]
    pub command: ImagingCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImagingCommand {
    /// WSQ fingerprint compression (FBI WSQ v3.1, interoperable with NIST's NBIS)
    Wsq(WsqArgs),
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

pub fn run(a: ImagingArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        ImagingCommand::Wsq(w) => match w.command {
            WsqCommand::Encode(e) => encode(e),
            WsqCommand::Decode(d) => decode(d),
        },
    }
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
