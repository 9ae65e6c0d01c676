//! Fuzzes the readers of face photos and pen traces that come from files and devices:
//! `FacePhoto::decode` + the face checks, and `SignatureTrace::parse` + `render`.
//!
//! Invariants: every measured value is finite and a report passes exactly when each check does;
//! a parsed trace writes back to JSON that parses to the same trace; a render has the requested
//! width and a height within 8 … 4 × width.
#![no_main]

use jemput_core::imaging::face::{FaceChecker, FaceContext, FacePhoto, FaceSettings};
use jemput_core::imaging::signature::{render, RenderOptions, SignatureTrace};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(photo) = FacePhoto::decode(data) {
        let ctx = FaceContext {
            birth_year: Some(1981),
            foreigner: false,
        };
        let r = FaceChecker::new(&FaceSettings::default()).run(&photo, &ctx);
        assert!(r.checks.iter().all(|c| c.value.is_finite()));
        assert_eq!(r.passed, r.checks.iter().all(|c| c.passed));
    }
    if let Ok(trace) = SignatureTrace::parse(data) {
        let again = SignatureTrace::parse(&trace.to_json()).expect("written traces parse");
        assert_eq!(again, trace);
        let opts = RenderOptions {
            width: 64,
            ..Default::default()
        };
        let img = render(&trace, &opts);
        assert_eq!(img.width(), 64);
        assert!((8..=256).contains(&img.height()));
    }
});
