//! Size of a full visit packet: 10 synthetic fingers (WSQ at the default 0.75 bit rate), the face
//! JPEG, the signature PNG and its pen trace, sealed as a kit seals it — and the same visit with
//! the fingers as PNG, as packets were before WSQ. Goal: ≤ 300 KB with WSQ.
//!
//! Run: `cargo bench --bench packet_size` (a plain program, not criterion: the figure is a size,
//! not a time). `JEMPUT_BENCH_SEEDS=N` averages over N residents (default 5). Figures go in
//! BENCHMARKS.md.

use jemput_core::keys::{office, SigningKey};
use jemput_core::packet::{self, PacketFile, SealParams};
use jemput_core::visit::{FingerPosition, Slot, Visit};
use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};
use jemput_kit::visit::synth;

/// Goal for a full visit with WSQ fingers, bytes.
const GOAL: usize = 300_000;

/// The same visit with every finger stored as an 8-bit grey PNG of the same synthetic print.
fn with_png_fingers(
    seed: u64,
    opts: &SampleOptions,
    visit: &Visit,
    files: &[PacketFile],
) -> (Visit, Vec<PacketFile>) {
    let mut visit = visit.clone();
    let mut files: Vec<PacketFile> = files
        .iter()
        .filter(|f| !f.name.ends_with(".wsq"))
        .cloned()
        .collect();
    for (pos, slot) in visit.captures.fingers.iter_mut() {
        if let Slot::Captured(c) = slot {
            let img = synth::fingerprint(seed, jemput_kit::devices::finger_of(*pos), opts.quality);
            let name = format!("finger-{:02}.png", pos.code());
            files.push(PacketFile {
                name: name.clone(),
                bytes: synth::png_gray(img.width, img.height, &img.pixels),
            });
            c.file = name;
            c.media_type = "image/png".into();
        }
    }
    (visit, files)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let seeds: u64 = std::env::var("JEMPUT_BENCH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let keys = office::keygen(&dir.path().join("office")).expect("office keys");
    let kit = SigningKey::generate();
    let recipients = vec![keys.recipient.clone()];
    let params = SealParams {
        kit_id: "kit-bench",
        kit_key: &kit,
        recipients: &recipients,
        max_packet_bytes: 1 << 30,
    };
    let opts = SampleOptions::default();
    let (mut wsq_total, mut png_total, mut worst) = (0usize, 0usize, 0usize);
    println!("seed  fingers(WSQ)  face  signature+trace  packet(WSQ)  packet(PNG fingers)");
    for seed in 1..=seeds {
        let (visit, files) = synthetic_visit(seed, &opts);
        let size_of = |pred: &dyn Fn(&str) -> bool| -> usize {
            files
                .iter()
                .filter(|f| pred(&f.name))
                .map(|f| f.bytes.len())
                .sum()
        };
        let fingers = size_of(&|n| n.ends_with(".wsq"));
        let face = size_of(&|n| n == "face.jpg");
        let signature = size_of(&|n| n.starts_with("signature"));
        assert_eq!(
            files.iter().filter(|f| f.name.ends_with(".wsq")).count(),
            FingerPosition::all().count(),
            "a full visit has 10 WSQ fingers"
        );
        let wsq = packet::seal(&visit, &files, &params)
            .expect("seal")
            .bytes
            .len();
        let (pv, pf) = with_png_fingers(seed, &opts, &visit, &files);
        let png = packet::seal(&pv, &pf, &params).expect("seal").bytes.len();
        println!("{seed:>4}  {fingers:>12}  {face:>4}  {signature:>15}  {wsq:>11}  {png:>19}");
        wsq_total += wsq;
        png_total += png;
        worst = worst.max(wsq);
    }
    let n = seeds as usize;
    println!(
        "mean packet: {} bytes with WSQ fingers, {} bytes with PNG fingers ({:.1}x smaller); largest {} bytes; goal <= {GOAL}: {}",
        wsq_total / n,
        png_total / n,
        png_total as f64 / wsq_total as f64,
        worst,
        if worst <= GOAL { "met" } else { "NOT met" }
    );
}
