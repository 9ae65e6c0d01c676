//! `jemput export nist` and `jemput export inspect`: a sealed synthetic visit becomes an
//! ANSI/NIST-ITL 1-2011 Update 2015 transaction whose records carry exactly the packet's content,
//! and the reader refuses malformed files with a clear error.
//!
//! The independent oracle (Python `nistitl`, with NBIS WSQ through the `wsq` package) is in
//! tests/export_nist_oracle.rs.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use jemput_core::export::nist::{self, Record};
use jemput_core::packet::PacketFile;
use jemput_core::visit::*;
use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};
use predicates::prelude::*;

struct Sealed {
    _dir: tempfile::TempDir,
    office: Office,
    packet: PathBuf,
    visit: Visit,
    files: Vec<PacketFile>,
}

fn finger(n: u8) -> FingerPosition {
    FingerPosition::new(n).unwrap()
}

/// A synthetic visit with finger 3 amputated, 7 bandaged and 9 refused, sealed to a file.
fn sealed_visit(edit: impl FnOnce(&mut Visit, &mut Vec<PacketFile>)) -> Sealed {
    let opts = SampleOptions {
        category: Category::Lansia,
        finger_exceptions: vec![
            (finger(3), ExceptionReason::Amputated, Permanence::Permanent),
            (
                finger(7),
                ExceptionReason::BandagedOrInjured,
                Permanence::Temporary,
            ),
            (finger(9), ExceptionReason::Refused, Permanence::Temporary),
        ],
        ..Default::default()
    };
    let (mut visit, mut files) = synthetic_visit(42, &opts);
    edit(&mut visit, &mut files);
    let dir = tempfile::tempdir().unwrap();
    let PacketOnDisk {
        office,
        path: packet,
        ..
    } = packet_on_disk(&visit, &files, dir.path());
    Sealed {
        _dir: dir,
        office,
        packet,
        visit,
        files,
    }
}

fn export(s: &Sealed, out: &Path) -> serde_json::Value {
    let o = jemput()
        .args(["export", "nist", "--json"])
        .arg(&s.packet)
        .arg("--identity")
        .arg(&s.office.keys.identity_file)
        .arg("--out")
        .arg(out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&o).unwrap()
}

fn file<'a>(files: &'a [PacketFile], name: &str) -> &'a [u8] {
    &files.iter().find(|f| f.name == name).unwrap().bytes
}

fn text(r: &Record, n: u32) -> String {
    r.field(n)
        .unwrap_or_else(|| panic!("field {n} missing in type {}", r.record_type()))
        .as_text()
}

#[test]
fn a_sealed_visit_exports_to_the_records_the_mapping_documents() {
    let s = sealed_visit(|_, _| {});
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("visit.an2");
    let summary = export(&s, &out);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(summary["bytes"], bytes.len() as u64);
    let t = nist::parse(&bytes).unwrap();
    let types: Vec<u32> = t.records.iter().map(Record::record_type).collect();
    // Type-1, Type-2, 7 captured + 2 missing fingers (the refused one has no record), face, signature.
    assert_eq!(types, [1, 2, 14, 14, 14, 14, 14, 14, 14, 14, 14, 10, 8]);

    let t1 = &t.records[0];
    assert_eq!(text(t1, 2), "0502");
    assert_eq!(text(t1, 4), "KTPEL");
    assert_eq!(text(t1, 7), "DUKCAPIL");
    assert_eq!(text(t1, 8), "JEMPUT");
    let packet_id = s.packet.file_stem().unwrap().to_string_lossy().into_owned();
    assert_eq!(text(t1, 9), packet_id);
    assert_eq!(summary["tcn"], packet_id.as_str());
    assert_eq!(text(t1, 11), "19.69");
    assert_eq!(text(t1, 12), "19.69");

    // Type-2: the default profile's resident and visit fields.
    let t2 = &t.records[1];
    let ResidentRef::Nik(nik) = &s.visit.resident.reference else {
        panic!()
    };
    assert_eq!(text(t2, 2), "0");
    assert_eq!(&text(t2, 900), nik);
    assert_eq!(
        Some(text(t2, 18)),
        s.visit.resident.name.clone(),
        "2.018 is the resident's name"
    );
    let birth = s.visit.resident.birth_date.unwrap();
    assert_eq!(text(t2, 22), birth.strftime("%Y%m%d").to_string());
    assert_eq!(text(t2, 902), "lansia");
    assert_eq!(text(t2, 903), s.visit.id.to_string());
    let exceptions = t2.field(910).unwrap().subfields();
    assert_eq!(
        exceptions,
        vec![
            vec!["finger-03", "amputated", "permanent"],
            vec!["finger-07", "bandaged_or_injured", "temporary"],
            vec!["finger-09", "refused", "temporary"],
        ]
    );

    // Type-14 with images: FGP, size, 500 ppi, WSQ that decodes to the packet's PNG size.
    let captured: Vec<&Record> = t.records[2..11]
        .iter()
        .filter(|r| r.field(999).is_some())
        .collect();
    let fgps: Vec<String> = captured.iter().map(|r| text(r, 13)).collect();
    assert_eq!(fgps, ["1", "2", "4", "5", "6", "8", "10"]);
    for r in &captured {
        let fgp: u8 = text(r, 13).parse().unwrap();
        let Some(Slot::Captured(c)) = s.visit.captures.fingers.get(&finger(fgp)) else {
            panic!()
        };
        // Packets carry WSQ fingers: the Type-14 holds the packet's file byte for byte.
        assert_eq!(c.media_type, "image/x-wsq");
        let packet_wsq = file(&s.files, &c.file);
        let img = jemput_wsq::decode(packet_wsq).unwrap().image;
        assert_eq!(text(r, 3), "0", "live-scan plain");
        assert_eq!(text(r, 6), img.width.to_string());
        assert_eq!(text(r, 7), img.height.to_string());
        assert_eq!(text(r, 8), "1");
        assert_eq!(text(r, 9), "500");
        assert_eq!(text(r, 10), "500");
        assert_eq!(text(r, 11), "WSQ20");
        assert_eq!(text(r, 12), "8");
        assert_eq!(text(r, 992), "0", "T2C names the Type-2 IDC");
        assert_eq!(r.field(999).unwrap().value, packet_wsq);
        // 14.024: FRMP = FGP, the score, vendor id, product code (jemput-fq/1 → 1).
        let q = c.quality.as_ref().unwrap();
        assert_eq!(q.algorithm, "jemput-fq/1");
        assert_eq!(
            r.field(24).unwrap().subfields(),
            vec![vec![
                fgp.to_string(),
                q.score.to_string(),
                "0000".into(),
                "1".into()
            ]]
        );
        assert_eq!(text(r, 20), "quality algorithm jemput-fq/1");
    }
    assert_eq!(summary["fingers_compressed"].as_array().unwrap().len(), 0);

    // Amputated and bandaged fingers: a Type-14 with AMP and no image.
    let missing: Vec<(String, Vec<Vec<String>>)> = t.records[2..11]
        .iter()
        .filter(|r| r.field(999).is_none())
        .inspect(|r| {
            // CGA and BPX go only with an image (ANSI/NIST-ITL 1-2011 §8.14).
            assert!(r.field(11).is_none() && r.field(12).is_none());
        })
        .map(|r| (text(r, 13), r.field(18).unwrap().subfields()))
        .collect();
    assert_eq!(
        missing,
        vec![
            ("3".to_string(), vec![vec!["3".to_string(), "XX".into()]]),
            ("7".to_string(), vec![vec!["7".to_string(), "UP".into()]]),
        ]
    );

    // Type-10: the packet's JPEG, byte for byte.
    let face = &t.records[11];
    assert_eq!(text(face, 3), "FACE");
    assert_eq!(text(face, 11), "JPEGB");
    assert_eq!(
        text(face, 12),
        "SRGB",
        "the preferred colour space, not the legacy YCC"
    );
    assert_eq!(text(face, 13), "0", "SAP 0: unknown profile");
    assert_eq!(face.field(999).unwrap().value, file(&s.files, "face.jpg"));
    let jpeg = image::load_from_memory(file(&s.files, "face.jpg")).unwrap();
    assert_eq!(text(face, 6), jpeg.width().to_string());
    assert_eq!(text(face, 7), jpeg.height().to_string());

    // Type-8: the signature, 1 bit per pixel, ink = 1.
    let Record::Type8(sig) = &t.records[12] else {
        panic!()
    };
    let png = image::load_from_memory(file(&s.files, "signature.png"))
        .unwrap()
        .to_luma8();
    assert_eq!((sig.hll as u32, sig.vll as u32), png.dimensions());
    assert_eq!((sig.sig, sig.srt), (0, 0));
    assert_eq!(sig.data, nist::build::pack_binary(&png));
    assert!(sig.data.iter().any(|&b| b != 0), "some ink");

    // IDCs: Type-2 is 0, the images 1.. in file order, and CNT lists exactly that.
    let cnt = t1.field(3).unwrap().subfields();
    assert_eq!(cnt[0], vec!["1".to_string(), "12".into()]);
    for (i, r) in t.records.iter().enumerate().skip(1) {
        assert_eq!(
            cnt[i],
            vec![r.record_type().to_string(), (i - 1).to_string()]
        );
    }
}

#[test]
fn png_fingers_in_the_packet_are_compressed_to_wsq_at_export() {
    let mut png_size = (0, 0);
    let s = sealed_visit(|visit, files| {
        let Some(Slot::Captured(c)) = visit.captures.fingers.get_mut(&finger(1)) else {
            panic!()
        };
        let at = files.iter().position(|f| f.name == c.file).unwrap();
        let img = jemput_wsq::decode(&files[at].bytes).unwrap().image;
        png_size = (img.width, img.height);
        files[at] = PacketFile {
            name: "finger-01.png".into(),
            bytes: jemput_kit::visit::synth::png_gray(img.width, img.height, &img.pixels),
        };
        c.file = "finger-01.png".into();
        c.media_type = "image/png".into();
    });
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("v.an2");
    let summary = export(&s, &out);
    assert_eq!(summary["fingers_compressed"], serde_json::json!([1]));
    let t = nist::parse(&std::fs::read(&out).unwrap()).unwrap();
    let r1 = t
        .records
        .iter()
        .find(|r| r.record_type() == 14 && text(r, 13) == "1")
        .unwrap();
    assert_eq!(text(r1, 11), "WSQ20");
    let wsq = &r1.field(999).unwrap().value;
    let back = jemput_wsq::decode(wsq).unwrap().image;
    assert_eq!((back.width, back.height), png_size);
    assert_eq!(
        (text(r1, 6), text(r1, 7)),
        (png_size.0.to_string(), png_size.1.to_string())
    );
    // 0.75 bpp: about 15:1, never near lossless.
    let ratio = (png_size.0 * png_size.1) as f64 / wsq.len() as f64;
    assert!((8.0..40.0).contains(&ratio), "ratio {ratio}");
}

#[test]
fn inspect_json_lists_every_record_and_field() {
    let s = sealed_visit(|_, _| {});
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("v.an2");
    export(&s, &out);
    let o = jemput()
        .args(["export", "inspect", "--json"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&o).unwrap();
    assert_eq!(v["version"], "0502");
    let recs = v["records"].as_array().unwrap();
    assert_eq!(recs.len(), 13);
    assert!(recs[0]["idc"].is_null(), "Type-1 has no IDC");
    let fgp = recs[2]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["tag"] == "14.013")
        .unwrap();
    assert_eq!(fgp["name"], "FGP");
    assert_eq!(fgp["subfields"][0][0], "1");
    let data = recs[11]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["tag"] == "10.999")
        .unwrap();
    assert_eq!(data["data_bytes"], file(&s.files, "face.jpg").len() as u64);
    assert_eq!(recs[12]["type8"]["srt"], 0);
    // The human form names the fields too.
    jemput()
        .args(["export", "inspect"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("14.013 FGP  1").and(predicate::str::contains("AMP")));
}

#[test]
fn malformed_files_are_refused_with_what_is_wrong() {
    let s = sealed_visit(|_, _| {});
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("v.an2");
    export(&s, &out);
    let good = std::fs::read(&out).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "empty file"),
        (b"hello world".to_vec(), "1.001"),
        (good[..good.len() - 100].to_vec(), "truncated"),
        ([good.as_slice(), b"junk"].concat(), "after the last record"),
    ];
    for (bytes, want) in cases {
        let f = d.path().join("bad.an2");
        std::fs::write(&f, &bytes).unwrap();
        jemput()
            .args(["export", "inspect"])
            .arg(&f)
            .assert()
            .failure()
            .stderr(
                predicate::str::contains("not a valid ANSI/NIST-ITL transaction")
                    .and(predicate::str::contains(want)),
            );
    }
}

#[test]
fn export_refuses_to_overwrite_and_writes_nothing_on_a_wrong_key() {
    let s = sealed_visit(|_, _| {});
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("v.an2");
    std::fs::write(&out, b"keep me").unwrap();
    jemput()
        .args(["export", "nist"])
        .arg(&s.packet)
        .arg("--identity")
        .arg(&s.office.keys.identity_file)
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");

    let other = office();
    let out2 = d.path().join("v2.an2");
    jemput()
        .args(["export", "nist"])
        .arg(&s.packet)
        .arg("--identity")
        .arg(&other.keys.identity_file)
        .arg("--out")
        .arg(&out2)
        .assert()
        .failure()
        .stderr(predicate::str::contains("wrong key"));
    assert!(!out2.exists());
}

#[test]
fn export_profile_prints_the_built_in_profile() {
    let o = jemput()
        .args(["export", "profile"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(o).unwrap();
    assert_eq!(text, nist::profile::DEFAULT_PROFILE);
    let p = nist::Profile::parse(&text).unwrap();
    assert_eq!((p.tot.as_str(), p.dai.as_str()), ("KTPEL", "DUKCAPIL"));
}

#[test]
fn a_profile_file_changes_type1_and_type2() {
    let s = sealed_visit(|_, _| {});
    let d = tempfile::tempdir().unwrap();
    let profile = d.path().join("p.toml");
    std::fs::write(
        &profile,
        "tot = \"CIVREG\"\ndai = \"DKB01\"\nori = \"KAB7408\"\nnsr = \"19.69\"\nntr = \"19.69\"\n\
         face_sap = \"1\"\nquality_vendor_id = \"00ff\"\n\
         [[type2]]\nfield = 30\nvalue = \"resident.nik\"\n\
         [[type2]]\nfield = 31\nliteral = \"JEMPUT BOLA\"\n",
    )
    .unwrap();
    let out = d.path().join("v.an2");
    jemput()
        .args(["export", "nist"])
        .arg(&s.packet)
        .arg("--identity")
        .arg(&s.office.keys.identity_file)
        .arg("--profile")
        .arg(&profile)
        .args(["--ori", "KAB7409"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("no product code"));
    let t = nist::parse(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(text(&t.records[0], 4), "CIVREG");
    assert_eq!(text(&t.records[0], 7), "DKB01");
    assert_eq!(text(&t.records[0], 8), "KAB7409");
    let t2 = &t.records[1];
    let fields: Vec<u32> = match t2 {
        Record::Tagged { fields, .. } => fields.iter().map(|f| f.number).collect(),
        _ => panic!(),
    };
    assert_eq!(fields, [1, 2, 30, 31]);
    assert_eq!(text(t2, 31), "JEMPUT BOLA");
    // No product code for the synthetic quality algorithm in this profile: no 14.024.
    assert!(t.records[2].field(24).is_none());

    // A bad override is refused before anything is opened.
    jemput()
        .args(["export", "nist"])
        .arg(&s.packet)
        .arg("--identity")
        .arg(&s.office.keys.identity_file)
        .args(["--tot", "NOT-LETTERS"])
        .arg("--out")
        .arg(d.path().join("x.an2"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("tot"));
}

#[test]
fn non_ascii_text_is_declared_and_control_characters_never_act_as_separators() {
    let s = sealed_visit(|visit, _| {
        visit.resident.name = Some("Ni Made Ayu Ñoman".into());
        visit.place.description = "Desa\u{1d}Contoh\u{1c}\tRT 3".into();
    });
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("v.an2");
    export(&s, &out);
    let t = nist::parse(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        t.records[0].field(15).unwrap().subfields(),
        vec![vec!["3".to_string(), "UTF-8".into()]],
        "1.015 DCS declares UTF-8"
    );
    assert_eq!(text(&t.records[1], 18), "Ni Made Ayu Ñoman");
    assert_eq!(text(&t.records[1], 905), "Desa Contoh  RT 3");
}

#[test]
fn a_document_only_visit_exports_type1_and_type2_only() {
    let opts = SampleOptions {
        category: Category::Dokumen,
        ..Default::default()
    };
    let (visit, files) = synthetic_visit(5, &opts);
    let d = tempfile::tempdir().unwrap();
    let PacketOnDisk {
        office,
        path: packet,
        ..
    } = packet_on_disk(&visit, &files, d.path());
    let out = d.path().join("v.an2");
    jemput()
        .args(["export", "nist"])
        .arg(&packet)
        .arg("--identity")
        .arg(&office.keys.identity_file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("fingers: 0 with image"));
    let t = nist::parse(&std::fs::read(&out).unwrap()).unwrap();
    let types: Vec<u32> = t.records.iter().map(Record::record_type).collect();
    assert_eq!(types, [1, 2]);
    assert_eq!(text(&t.records[1], 902), "dokumen");
    assert!(t.records[0].field(15).is_none(), "all ASCII: no DCS");
}

/// Wraps `image` (coded as `format`, `w` × `h`) in an ISO/IEC 19794-4 record for finger `pos`,
/// adds it to the packet beside the capture's WSQ (as an SBI scanner's capture keeps it), and
/// returns its name.
fn keep_original(
    visit: &mut Visit,
    files: &mut Vec<PacketFile>,
    pos: u8,
    format: jemput_core::iso19794::ImageFormat,
    (w, h, ppi): (u16, u16, u16),
    image: Vec<u8>,
) {
    use jemput_core::iso19794::{write_finger_record, FingerCode, FingerImage, FingerRecord};
    let Some(Slot::Captured(c)) = visit.captures.fingers.get_mut(&finger(pos)) else {
        panic!("finger {pos} is not captured")
    };
    let rep = FingerImage::new(FingerCode::new(pos).unwrap(), format, w, h, ppi, image);
    let name = format!("finger-{pos:02}.iso19794-4");
    files.push(PacketFile {
        name: name.clone(),
        bytes: write_finger_record(&FingerRecord::new(vec![rep])).unwrap(),
    });
    c.extra_files.push(name);
}

#[test]
fn with_fingers_original_the_devices_own_image_goes_in_the_type14_as_it_was_coded() {
    use jemput_core::iso19794::ImageFormat;
    let mut wsq1 = Vec::new();
    let mut raw4 = Vec::new();
    let mut png2 = Vec::new();
    let mut jp2_8 = Vec::new();
    let s = sealed_visit(|visit, files| {
        let gray = |visit: &Visit, files: &[PacketFile], pos: u8| {
            let Some(Slot::Captured(c)) = visit.captures.fingers.get(&finger(pos)) else {
                panic!()
            };
            jemput_wsq::decode(file(files, &c.file)).unwrap().image
        };
        // Finger 1: the device's WSQ, coded differently from the packet's (another bit rate).
        let img = gray(visit, files, 1);
        wsq1 = jemput_wsq::encode(
            &img,
            &jemput_wsq::EncodeOptions {
                bitrate: 2.25,
                ppi: Some(500),
                restart_interval: None,
            },
        )
        .unwrap();
        let size = (img.width as u16, img.height as u16, 500);
        keep_original(visit, files, 1, ImageFormat::Wsq, size, wsq1.clone());
        // Finger 2: PNG, at 1000 ppi.
        let img = gray(visit, files, 2);
        png2 = jemput_kit::visit::synth::png_gray(img.width, img.height, &img.pixels);
        let size = (img.width as u16, img.height as u16, 1000);
        keep_original(visit, files, 2, ImageFormat::Png, size, png2.clone());
        // Finger 8: JPEG 2000 lossless, as jemput's own SBI service sends it.
        let img = gray(visit, files, 8);
        jp2_8 = jemput_j2k::encode(
            img.width,
            img.height,
            jemput_j2k::Colour::Grey,
            &img.pixels,
            jemput_j2k::Container::Jp2,
        )
        .unwrap();
        let size = (img.width as u16, img.height as u16, 500);
        keep_original(
            visit,
            files,
            8,
            ImageFormat::Jpeg2000Lossless,
            size,
            jp2_8.clone(),
        );
        // Finger 4: uncompressed 8-bit samples.
        let img = gray(visit, files, 4);
        raw4 = img.pixels.clone();
        let size = (img.width as u16, img.height as u16, 500);
        keep_original(visit, files, 4, ImageFormat::Raw, size, raw4.clone());
        // Finger 5: lossy JPEG, which the export does not carry.
        keep_original(
            visit,
            files,
            5,
            ImageFormat::Jpeg,
            (8, 8, 500),
            vec![0xFF, 0xD8],
        );
    });
    let d = tempfile::tempdir().unwrap();
    let type14 = |out: &Path| {
        let t = nist::parse(&std::fs::read(out).unwrap()).unwrap();
        t.records
            .into_iter()
            .filter(|r| r.record_type() == 14 && r.field(999).is_some())
            .map(|r| (text(&r, 13).parse::<u8>().unwrap(), r))
            .collect::<std::collections::BTreeMap<u8, Record>>()
    };

    // The default takes the packet's WSQ for every finger, originals or not.
    let out = d.path().join("packet.an2");
    let summary = export(&s, &out);
    assert_eq!(summary["fingers_original"], serde_json::json!([]));
    for (pos, r) in type14(&out) {
        assert_eq!(text(&r, 11), "WSQ20", "finger {pos}");
        let Some(Slot::Captured(c)) = s.visit.captures.fingers.get(&finger(pos)) else {
            panic!()
        };
        assert_eq!(r.field(999).unwrap().value, file(&s.files, &c.file));
    }

    let out = d.path().join("original.an2");
    let o = jemput()
        .args(["export", "nist", "--json", "--fingers", "original"])
        .arg(&s.packet)
        .arg("--identity")
        .arg(&s.office.keys.identity_file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let summary: serde_json::Value = serde_json::from_slice(&o.get_output().stdout).unwrap();
    assert_eq!(summary["fingers_original"], serde_json::json!([1, 2, 4, 8]));
    let notes = summary["notes"].to_string();
    assert!(
        notes.contains("finger 5: finger-05.iso19794-4 holds a jpeg image")
            && notes.contains("the packet's finger-05.wsq is used"),
        "{notes}"
    );
    assert!(
        notes.contains("finger 6: no original ISO/IEC 19794-4 record in the packet"),
        "{notes}"
    );
    let t = type14(&out);
    let (r1, r2, r4, r5, r8) = (&t[&1], &t[&2], &t[&4], &t[&5], &t[&8]);
    assert_eq!(
        (text(r8, 11), &r8.field(999).unwrap().value),
        ("JP2L".into(), &jp2_8)
    );
    assert_eq!(
        (text(r1, 11), &r1.field(999).unwrap().value),
        ("WSQ20".into(), &wsq1)
    );
    assert_eq!(
        (text(r2, 11), &r2.field(999).unwrap().value),
        ("PNG".into(), &png2)
    );
    assert_eq!((text(r2, 9), text(r2, 16)), ("1000".into(), "1000".into()));
    assert_eq!(
        (text(r4, 11), text(r4, 12), &r4.field(999).unwrap().value),
        ("NONE".into(), "8".into(), &raw4)
    );
    let w4: usize = text(r4, 6).parse().unwrap();
    let h4: usize = text(r4, 7).parse().unwrap();
    assert_eq!(w4 * h4, raw4.len());
    // The JPEG one fell back to the packet's WSQ.
    assert_eq!(text(r5, 11), "WSQ20");
    assert_eq!(
        &r5.field(999).unwrap().value,
        file(&s.files, "finger-05.wsq")
    );
}
