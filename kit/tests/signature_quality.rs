//! The signature quality score `jemput-sigq/1` (`jemput_core::imaging::signature::quality`) on
//! the synthetic signatures the pen pad model writes (`jemput_drivers::synth`). They live with the
//! kit because the generator is the drivers' and the shared formats never compile a device crate.

use jemput_core::imaging::signature::{quality, PenPoint, PenTrace};
use jemput_kit::devices::pen_trace;

/// A synthetic signature as the kit records it.
fn signature(seed: u64, name: &str) -> PenTrace {
    pen_trace(jemput_drivers::synth::signature_trace(seed, name))
}

/// A trace of `points` on the synthetic pad's area.
fn pad_trace(points: Vec<PenPoint>) -> PenTrace {
    PenTrace {
        points,
        ..signature(1, "x")
    }
}

fn point(x: u32, y: u32, pressure: u32, t_ms: u32) -> PenPoint {
    PenPoint {
        x,
        y,
        pressure,
        t_ms,
        touching: pressure > 0,
    }
}

#[test]
fn quality_ranks_a_line_below_a_signature() {
    let pad = signature(1, "x");
    let line = pad_trace(
        (0..=80)
            .map(|i| {
                point(
                    pad.extent_x / 10 + i * pad.extent_x / 100,
                    pad.extent_y / 2,
                    600,
                    i * 5,
                )
            })
            .collect(),
    );
    let line_q = quality(&line);
    assert!(line_q.score > 0 && line_q.score < 50, "{line_q:?}");
    for (seed, name) in [
        (1, "Siti Aminah"),
        (2, "Budi"),
        (3, "Wayan Sudarsana Putra"),
        (4, ""),
    ] {
        let sig = signature(seed, name);
        let q = quality(&sig);
        assert!(q.score >= 85, "{name:?}: {q:?}");
        assert!(q.score > line_q.score);
    }
}

#[test]
fn quality_never_falls_as_more_of_the_signature_is_kept() {
    for seed in 1..6 {
        let sig = signature(seed, "Siti Aminah");
        let mut prev = 0;
        for keep in (0..=sig.points.len()).step_by(sig.points.len() / 12 + 1) {
            let q = quality(&pad_trace(sig.points[..keep].to_vec())).score;
            assert!(q >= prev, "seed {seed}: {keep} points score {q} < {prev}");
            prev = q;
        }
    }
}
