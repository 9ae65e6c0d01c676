//! The independent oracle for `jemput export nist`: Python `nistitl` (idemia, an ANSI/NIST-ITL
//! parser written without reference to jemput) parses the transaction; its records, IDCs, field
//! values and image bytes must equal what the packet holds and what jemput's reader sees. NBIS's
//! WSQ decoder (the `wsq` package) decodes every Type-14 image to the size its HLL/VLL state.
//!
//! Needs `python3` with `nistitl`, `wsq` and Pillow (`scripts/install-test-peers` installs them);
//! without them the test is skipped with a `SKIPPED` line on stderr, or fails under
//! `JEMPUT_REQUIRE_PEERS=1` (as in CI).

mod common;

use std::process::Command;

use common::*;
use jemput_core::export::nist::{self, Record};
use jemput_core::visit::*;
use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};
use sha2::{Digest, Sha256};

const SCRIPT: &str = r#"
import hashlib, io, json, sys
import nistitl
import wsq  # registers the NBIS WSQ codec with Pillow
from PIL import Image

data = open(sys.argv[1], 'rb').read()
msg = nistitl.Message()
msg.parse(data)
out = {'reencoded_equal': msg.NIST == data, 'records': []}
for r in msg:
    if isinstance(r, nistitl.AsciiRecord):
        fields = {}
        for f in r._fields:
            raw = f.NIST
            value = raw[raw.index(b':') + 1:]
            if f.tag == 999:
                fields['999'] = {'sha256': hashlib.sha256(value).hexdigest(), 'len': len(value)}
                if r.type == 14:
                    img = Image.open(io.BytesIO(value))
                    fields['999']['nbis_size'] = list(img.size)
                    img.load()
            else:
                fields[str(f.tag)] = value.decode('latin-1')
        out['records'].append({'type': r.type, 'fields': fields})
    else:
        sig, srt, isr, hll, vll, rest = r.unpack('!BBBHH')
        out['records'].append({'type': r.type, 'idc': int(r.IDC), 'sig': sig, 'srt': srt,
                               'isr': isr, 'hll': hll, 'vll': vll,
                               'sha256': hashlib.sha256(rest).hexdigest()})
print(json.dumps(out))
"#;

/// Whether python3 has nistitl, wsq and Pillow; without them the test is skipped visibly (fails
/// under `JEMPUT_REQUIRE_PEERS=1`).
#[track_caller]
fn need_python_peer() -> bool {
    jemput_testkit::python_modules(
        &["nistitl", "wsq", "PIL"],
        "python3 -m pip install nistitl wsq, or scripts/install-test-peers",
    )
}

/// What nistitl (with the wsq plug-in and Pillow) reads of the ANSI/NIST file at `path`: its
/// records and whether its own re-encoding gives the same bytes (`SCRIPT`).
fn nistitl_reads(path: &std::path::Path) -> serde_json::Value {
    let run = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "nistitl failed on jemput's file: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).unwrap()
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[test]
fn nistitl_reads_what_jemput_writes_record_for_record() {
    if !need_python_peer() {
        return;
    }
    let opts = SampleOptions {
        category: Category::Disabilitas,
        finger_exceptions: vec![(
            FingerPosition::new(6).unwrap(),
            ExceptionReason::Amputated,
            Permanence::Permanent,
        )],
        ..Default::default()
    };
    let (visit, files) = synthetic_visit(1234, &opts);
    let d = tempfile::tempdir().unwrap();
    let PacketOnDisk {
        office,
        path: packet,
        packet_id,
    } = packet_on_disk(&visit, &files, d.path());
    let out = d.path().join("visit.an2");
    jemput()
        .args(["export", "nist"])
        .arg(&packet)
        .arg("--identity")
        .arg(&office.keys.identity_file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let bytes = std::fs::read(&out).unwrap();
    let ours = nist::parse(&bytes).unwrap();

    let theirs = nistitl_reads(&out);
    // nistitl recomputes LEN and CNT when it writes: equal bytes mean it agrees with ours.
    assert_eq!(
        theirs["reencoded_equal"], true,
        "nistitl re-encodes differently"
    );
    let recs = theirs["records"].as_array().unwrap();
    assert_eq!(recs.len(), ours.records.len());
    assert_eq!(
        recs.len(),
        2 + 10 + 1 + 1,
        "Type-1, Type-2, 10 fingers, face, signature"
    );

    for (r, t) in ours.records.iter().zip(recs) {
        assert_eq!(t["type"], r.record_type());
        match r {
            Record::Tagged { fields, .. } => {
                let tf = t["fields"].as_object().unwrap();
                assert_eq!(tf.len(), fields.len(), "fields of type {}", r.record_type());
                for f in fields {
                    let v = &tf[&f.number.to_string()];
                    if f.number == 999 {
                        assert_eq!(v["sha256"], sha(&f.value));
                        if r.record_type() == 14 {
                            let size = [
                                r.field(6).unwrap().as_text().parse::<u64>().unwrap(),
                                r.field(7).unwrap().as_text().parse::<u64>().unwrap(),
                            ];
                            assert_eq!(v["nbis_size"], serde_json::json!(size));
                        }
                    } else {
                        assert_eq!(v, &f.as_text(), "{}.{:03}", r.record_type(), f.number);
                    }
                }
            }
            Record::Type8(s) => {
                assert_eq!(t["idc"], s.idc);
                assert_eq!((t["sig"].clone(), t["srt"].clone()), (0.into(), 0.into()));
                assert_eq!(t["hll"], s.hll);
                assert_eq!(t["vll"], s.vll);
                assert_eq!(t["sha256"], sha(&s.data));
            }
        }
    }

    // The values nistitl read are the packet's: TCN, NIK, the face JPEG and the amputation.
    let field = |i: usize, n: &str| recs[i]["fields"][n].as_str().unwrap().to_string();
    assert_eq!(field(0, "9"), packet_id);
    assert_eq!(field(0, "2"), "0502");
    let ResidentRef::Nik(nik) = &visit.resident.reference else {
        panic!()
    };
    assert_eq!(&field(1, "900"), nik);
    let face = files.iter().find(|f| f.name == "face.jpg").unwrap();
    assert_eq!(recs[12]["fields"]["999"]["sha256"], sha(&face.bytes));
    assert_eq!(field(12, "3"), "FACE");
    let amp = recs[2..12]
        .iter()
        .find(|r| r["fields"].get("18").is_some())
        .unwrap();
    assert_eq!(amp["fields"]["18"], "6\u{1f}XX");
    assert_eq!(amp["fields"]["13"], "6");
}

/// With `--fingers original`, the devices' own images (here a WSQ coded at another bit rate, a
/// PNG and a JPEG 2000 lossless JP2 as jemput's SBI service sends, each in an ISO/IEC 19794-4
/// record beside the packet's WSQ) are what nistitl reads in the Type-14s, with the CGA that
/// names their coding, and Pillow (NBIS's decoder for WSQ, OpenJPEG for JPEG 2000) decodes each
/// to the size the record states.
#[test]
fn nistitl_reads_the_devices_original_finger_images() {
    use jemput_core::iso19794::{
        write_finger_record, FingerCode, FingerImage, FingerRecord, ImageFormat,
    };
    if !need_python_peer() {
        return;
    }
    let (mut visit, mut files) = synthetic_visit(77, &SampleOptions::default());
    let mut originals = Vec::new();
    for (pos, format) in [
        (1u8, ImageFormat::Wsq),
        (2, ImageFormat::Png),
        (3, ImageFormat::Jpeg2000Lossless),
    ] {
        let position = FingerPosition::new(pos).unwrap();
        let Some(Slot::Captured(c)) = visit.captures.fingers.get_mut(&position) else {
            panic!()
        };
        let wsq = &files.iter().find(|f| f.name == c.file).unwrap().bytes;
        let img = jemput_wsq::decode(wsq).unwrap().image;
        let bytes = match format {
            ImageFormat::Wsq => jemput_wsq::encode(
                &img,
                &jemput_wsq::EncodeOptions {
                    bitrate: 2.25,
                    ppi: Some(500),
                    restart_interval: None,
                },
            )
            .unwrap(),
            ImageFormat::Jpeg2000Lossless => jemput_j2k::encode(
                img.width,
                img.height,
                jemput_j2k::Colour::Grey,
                &img.pixels,
                jemput_j2k::Container::Jp2,
            )
            .unwrap(),
            _ => jemput_kit::visit::synth::png_gray(img.width, img.height, &img.pixels),
        };
        let rep = FingerImage::new(
            FingerCode::new(pos).unwrap(),
            format,
            img.width as u16,
            img.height as u16,
            500,
            bytes.clone(),
        );
        let name = format!("finger-{pos:02}.iso19794-4");
        files.push(jemput_core::packet::PacketFile {
            name: name.clone(),
            bytes: write_finger_record(&FingerRecord::new(vec![rep])).unwrap(),
        });
        c.extra_files.push(name);
        originals.push((pos, format, bytes, (img.width, img.height)));
    }
    let d = tempfile::tempdir().unwrap();
    let on_disk = packet_on_disk(&visit, &files, d.path());
    let out = d.path().join("original.an2");
    jemput()
        .args(["export", "nist", "--fingers", "original"])
        .arg(&on_disk.path)
        .arg("--identity")
        .arg(&on_disk.office.keys.identity_file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let theirs = nistitl_reads(&out);
    assert_eq!(theirs["reencoded_equal"], true);
    let recs = theirs["records"].as_array().unwrap();
    for (pos, format, bytes, (w, h)) in originals {
        let r = recs
            .iter()
            .find(|r| {
                r["type"] == 14
                    && r["fields"]["13"].as_str().and_then(|s| s.parse().ok()) == Some(pos)
            })
            .unwrap_or_else(|| panic!("no Type-14 of finger {pos}"));
        let cga = match format {
            ImageFormat::Wsq => "WSQ20",
            ImageFormat::Jpeg2000Lossless => "JP2L",
            _ => "PNG",
        };
        assert_eq!(r["fields"]["11"], cga, "finger {pos}");
        assert_eq!(r["fields"]["999"]["sha256"], sha(&bytes), "finger {pos}");
        assert_eq!(
            r["fields"]["999"]["nbis_size"],
            serde_json::json!([w, h]),
            "finger {pos}"
        );
    }
}
