//! The bad-input catalogue for packets: every kind of damage gives a clear, specific error, and
//! `open` writes nothing when it fails.

mod common;

use common::*;
use jemput_core::keys::SigningKey;
use jemput_core::packet::{self, PacketError};

/// A reader that hands out at most `step` bytes per read, so that every boundary of the streaming
/// opener (prelude, age header and chunks, tar blocks, files) falls inside some read.
struct Dribble<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// `open` fails and writes nothing; the streaming check that keeps no file (the hub's, here fed
/// a few bytes per read) and `decrypt` fail with the same error.
fn open_fails_cleanly(bytes: &[u8], office: &Office) -> PacketError {
    let parent = tempfile::tempdir().unwrap();
    // Into directories that do not exist yet: those it makes for `out` go again on failure.
    let out = parent.path().join("opened").join("today").join("out");
    let err = packet::open_to_dir(bytes, &office.identities, None, &out).unwrap_err();
    let left: Vec<_> = std::fs::read_dir(parent.path()).unwrap().collect();
    assert!(left.is_empty(), "open left {left:?} behind after: {err}");
    let streamed = packet::check_contents(
        Dribble {
            data: bytes,
            step: 7,
        },
        &office.identities,
        None,
    )
    .unwrap_err();
    assert_eq!(streamed.to_string(), err.to_string());
    let decrypted = packet::decrypt(bytes, &office.identities, None).unwrap_err();
    assert_eq!(decrypted.to_string(), err.to_string());
    err
}

#[test]
fn a_good_packet_verifies_and_opens_with_every_file_intact() {
    let office = office();
    let kit = SigningKey::generate();
    let (visit, files) = small_visit();
    let sealed = seal_with(
        &kit,
        std::slice::from_ref(&office.keys.recipient),
        &visit,
        &files,
    );
    packet::verify(&sealed.bytes, Some(&kit.public())).unwrap();
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("out");
    let c =
        packet::open_to_dir(&sealed.bytes, &office.identities, Some(&kit.public()), &out).unwrap();
    assert_eq!(c.manifest.visit, visit);
    assert_eq!(
        std::fs::read(out.join("document-1.jpg")).unwrap(),
        files[0].bytes
    );
    for name in ["header.json", "manifest.json", "manifest.sig"] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
}

#[test]
fn every_flipped_byte_of_the_prelude_is_rejected() {
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let prelude_len = packet::parse_prelude(&sealed.bytes).unwrap().payload_offset;
    for i in 0..prelude_len {
        let mut b = sealed.bytes.clone();
        b[i] ^= 0x01;
        let e = packet::verify(&b, None).expect_err(&format!("flip at {i} verified"));
        assert!(
            matches!(
                e,
                PacketError::NotAPacket
                    | PacketError::UnknownVersion(_)
                    | PacketError::BadHeader(_)
                    | PacketError::BadOuterSignature
                    | PacketError::Truncated(_)
                    | PacketError::TruncatedPayload { .. }
                    | PacketError::TrailingBytes { .. }
            ),
            "flip at {i}: {e}"
        );
    }
    // A flip inside the signature or the JSON is named as tampering.
    let mut b = sealed.bytes.clone();
    b[prelude_len - 1] ^= 0x80;
    assert!(matches!(
        packet::verify(&b, None),
        Err(PacketError::BadOuterSignature)
    ));
    // And open refuses it without writing anything.
    assert!(matches!(
        open_fails_cleanly(&b, &office),
        PacketError::BadOuterSignature
    ));
}

#[test]
fn every_flipped_byte_of_the_payload_is_rejected_as_tampered() {
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let start = packet::parse_prelude(&sealed.bytes).unwrap().payload_offset;
    for i in start..sealed.bytes.len() {
        let mut b = sealed.bytes.clone();
        b[i] ^= 0x20;
        let e = packet::verify(&b, None).expect_err(&format!("flip at {i} verified"));
        assert!(matches!(e, PacketError::PayloadHash), "flip at {i}: {e}");
    }
}

#[test]
fn a_damaged_payload_under_a_valid_signature_fails_to_decrypt() {
    // The kit itself (or a bug) could sign a damaged payload; age's authentication still catches it.
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let start = packet::parse_prelude(&sealed.bytes).unwrap().payload_offset;
    let payload = &sealed.bytes[start..];
    for i in (0..payload.len()).step_by(97).chain([payload.len() - 1]) {
        let mut p = payload.to_vec();
        p[i] ^= 0x04;
        let b = resign(&kit, "kit-test", &office.keys.recipient, &p);
        let e = open_fails_cleanly(&b, &office);
        assert!(
            matches!(e, PacketError::Decrypt(_) | PacketError::WrongKey { .. }),
            "flip at payload byte {i}: {e}"
        );
    }
}

#[test]
fn truncation_at_any_offset_is_named() {
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let start = packet::parse_prelude(&sealed.bytes).unwrap().payload_offset;
    for n in (0..sealed.bytes.len()).step_by(13) {
        let e = packet::verify(&sealed.bytes[..n], None).unwrap_err();
        if n < start {
            assert!(
                matches!(e, PacketError::Truncated(_) | PacketError::NotAPacket),
                "cut at {n}: {e}"
            );
        } else {
            assert!(
                matches!(e, PacketError::TruncatedPayload { .. }),
                "cut at {n}: {e}"
            );
            assert!(e.to_string().starts_with("truncated payload"), "{e}");
        }
    }
    // A truncated payload that was (wrongly) signed as such still fails to decrypt.
    let payload = &sealed.bytes[start..];
    for cut in [payload.len() - 1, payload.len() - 17, payload.len() / 2] {
        let b = resign(&kit, "kit-test", &office.keys.recipient, &payload[..cut]);
        assert!(
            matches!(open_fails_cleanly(&b, &office), PacketError::Decrypt(_)),
            "cut {cut}"
        );
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let office = office();
    let kit = SigningKey::generate();
    let mut b = small_packet(&kit, &office).bytes;
    b.push(0);
    assert!(matches!(
        packet::verify(&b, None),
        Err(PacketError::TrailingBytes { .. })
    ));
}

#[test]
fn the_wrong_identity_is_named_with_key_ids() {
    let office = office();
    let other = common::office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let e = open_fails_cleanly(&sealed.bytes, &other);
    match &e {
        PacketError::WrongKey { packet, identity } => {
            assert_eq!(packet, &sealed.header.recipients[0]);
            assert_ne!(packet, identity);
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().starts_with("wrong key"));
}

#[test]
fn a_packet_from_another_kit_is_refused_when_the_kit_key_is_given() {
    let office = office();
    let kit = SigningKey::generate();
    let other_kit = SigningKey::generate();
    let sealed = small_packet(&other_kit, &office);
    let e = packet::verify(&sealed.bytes, Some(&kit.public())).unwrap_err();
    assert!(matches!(e, PacketError::WrongKit { .. }), "{e}");
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("o");
    assert!(
        packet::open_to_dir(&sealed.bytes, &office.identities, Some(&kit.public()), &out).is_err()
    );
    assert!(!out.exists());
}

#[test]
fn a_header_signed_by_another_key_than_it_names_is_tampered() {
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let p = packet::parse_prelude(&sealed.bytes).unwrap();
    // Swap the kit key in the header for another one, keep the signature.
    let mut h = p.header.clone();
    h.kit_key = SigningKey::generate().public();
    let hb = serde_json::to_vec(&h).unwrap();
    let mut b = packet::format::encode_prelude(&hb, &p.signature);
    b.extend_from_slice(&sealed.bytes[p.payload_offset..]);
    assert!(matches!(
        packet::verify(&b, None),
        Err(PacketError::BadOuterSignature)
    ));
}

#[test]
fn unknown_format_versions_are_named() {
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let mut b = sealed.bytes.clone();
    b[15] = b'7';
    let e = packet::verify(&b, None).unwrap_err();
    assert!(
        matches!(&e, PacketError::UnknownVersion(v) if v == "7"),
        "{e}"
    );
    assert!(e.to_string().contains("unknown packet format version"));
    // A v1 magic line with a header that claims another version.
    let p = packet::parse_prelude(&sealed.bytes).unwrap();
    let mut h: serde_json::Value = serde_json::from_slice(&p.header_bytes).unwrap();
    h["format_version"] = 2.into();
    let hb = serde_json::to_vec(&h).unwrap();
    let sig = kit.sign(jemput_core::keys::sign::OUTER_DOMAIN, &hb);
    let mut b = packet::format::encode_prelude(&hb, &sig);
    b.extend_from_slice(&sealed.bytes[p.payload_offset..]);
    assert!(matches!(packet::verify(&b, None), Err(PacketError::UnknownVersion(v)) if v == "2"));
}

fn raw_tar_entry(name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// A payload archive written by hand: manifest, signature, then `files`, whatever their names.
fn archive(manifest: &[u8], signature: &[u8], files: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut tar = raw_tar_entry(b"manifest.json", manifest);
    tar.extend(raw_tar_entry(b"manifest.sig", signature));
    for (name, data) in files {
        tar.extend(raw_tar_entry(name, data));
    }
    tar.extend([0u8; 1024]);
    tar
}

/// The files of decrypted contents, as `archive` takes them.
fn files_of(c: &packet::Contents) -> Vec<(&[u8], &[u8])> {
    c.files
        .iter()
        .map(|(n, d)| (n.as_bytes(), d.as_slice()))
        .collect()
}

#[test]
fn a_path_traversal_entry_is_refused_and_nothing_is_written() {
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    // Take the genuine archive and append an entry that climbs out of the output directory.
    let c = packet::decrypt(&sealed.bytes, &office.identities, None).unwrap();
    let mut files = files_of(&c);
    files.push((b"../evil.txt", b"pwned"));
    let tar = archive(&c.manifest_bytes, &c.signature, &files);
    let b = packet_around_id(&kit, &office.keys.recipient, &sealed.header.packet_id, &tar);
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("a").join("out");
    let e = packet::open_to_dir(&b, &office.identities, None, &out).unwrap_err();
    assert!(e.to_string().contains("path traversal"), "{e}");
    assert!(walk(parent.path()).is_empty());
    // Absolute paths and directories are refused the same way.
    for bad in [&b"/tmp/evil"[..], b"sub/dir.png"] {
        let t = archive(&c.manifest_bytes, &c.signature, &[(bad, b"x")]);
        let b = packet_around_id(&kit, &office.keys.recipient, &sealed.header.packet_id, &t);
        assert!(matches!(
            open_fails_cleanly(&b, &office),
            PacketError::BadArchive(_)
        ));
    }
}

#[test]
fn a_payload_file_named_like_jemputs_own_files_is_refused_and_nothing_is_written() {
    // A kit signs a manifest listing its own `header.json`: open must not let it stand in for the
    // real header it writes beside the files.
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let c = packet::decrypt(&sealed.bytes, &office.identities, None).unwrap();
    let fake = br#"{"kit_id":"kit-somebody-else"}"#;
    let mut manifest = c.manifest.clone();
    manifest.files.push(packet::FileEntry {
        name: "header.json".into(),
        media_type: "application/json".into(),
        size: fake.len() as u64,
        sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(fake)),
    });
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let sig = kit.sign(jemput_core::keys::sign::INNER_DOMAIN, &manifest_bytes);
    let mut files = files_of(&c);
    files.push((b"header.json", fake));
    let tar = archive(&manifest_bytes, &sig, &files);
    let b = packet_around_id(&kit, &office.keys.recipient, &sealed.header.packet_id, &tar);
    let e = open_fails_cleanly(&b, &office);
    assert!(
        matches!(&e, PacketError::BadArchive(w) if w.contains("reserved")),
        "{e}"
    );
}

#[test]
fn a_manifest_signed_by_another_key_fails_the_inner_signature() {
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let c = packet::decrypt(&sealed.bytes, &office.identities, None).unwrap();
    let forged =
        SigningKey::generate().sign(jemput_core::keys::sign::INNER_DOMAIN, &c.manifest_bytes);
    let tar = archive(&c.manifest_bytes, &forged, &files_of(&c));
    let b = packet_around_id(&kit, &office.keys.recipient, &sealed.header.packet_id, &tar);
    assert!(matches!(
        open_fails_cleanly(&b, &office),
        PacketError::BadInnerSignature
    ));
    // The outer signature's bytes cannot stand in for the inner one either (domain separation).
    let outer_style = kit.sign(jemput_core::keys::sign::OUTER_DOMAIN, &c.manifest_bytes);
    let tar = archive(&c.manifest_bytes, &outer_style, &files_of(&c));
    let b = packet_around_id(&kit, &office.keys.recipient, &sealed.header.packet_id, &tar);
    assert!(matches!(
        open_fails_cleanly(&b, &office),
        PacketError::BadInnerSignature
    ));
}

#[test]
fn a_changed_file_fails_its_hash_and_extra_or_missing_files_are_named() {
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let c = packet::decrypt(&sealed.bytes, &office.identities, None).unwrap();
    let build = |files: &[(&str, &[u8])]| {
        let files: Vec<(&[u8], &[u8])> = files.iter().map(|(n, d)| (n.as_bytes(), *d)).collect();
        let tar = archive(&c.manifest_bytes, &c.signature, &files);
        packet_around_id(&kit, &office.keys.recipient, &sealed.header.packet_id, &tar)
    };
    let (name, data) = &c.files[0];
    // The genuine content re-wrapped opens; so each failure below is the one change made.
    let parent = tempfile::tempdir().unwrap();
    packet::open_to_dir(
        &build(&[(name, data)]),
        &office.identities,
        None,
        &parent.path().join("ok"),
    )
    .unwrap();
    let mut changed = data.clone();
    changed[10] ^= 1;
    assert!(matches!(
        open_fails_cleanly(&build(&[(name, &changed)]), &office),
        PacketError::FileHash(n) if &n == name
    ));
    assert!(matches!(
        open_fails_cleanly(&build(&[]), &office),
        PacketError::MissingFile(n) if &n == name
    ));
    assert!(matches!(
        open_fails_cleanly(&build(&[(name, data), ("extra.png", b"x")]), &office),
        PacketError::UnlistedFile(n) if n == "extra.png"
    ));
}

#[test]
fn a_manifest_moved_into_another_packet_is_refused() {
    // Same kit, valid signatures, but the manifest names another packet id than the header.
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let c = packet::decrypt(&sealed.bytes, &office.identities, None).unwrap();
    let tar = archive(&c.manifest_bytes, &c.signature, &files_of(&c));
    let b = packet_around(&kit, &office.keys.recipient, &tar);
    let e = open_fails_cleanly(&b, &office);
    assert!(
        matches!(&e, PacketError::ManifestMismatch(w) if w.contains("packet id")),
        "{e}"
    );
}

#[test]
fn the_kit_cannot_open_its_own_packets() {
    // The kit holds its signing key and draft key; neither opens a packet sealed for the office.
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let draft_dir = tempfile::tempdir().unwrap();
    let pass = age::secrecy::SecretString::from("p".to_string());
    jemput_kit::draft_key::create(draft_dir.path(), &pass, 10).unwrap();
    let Ok(draft_id) = jemput_kit::draft_key::unlock(draft_dir.path(), &pass) else {
        panic!("unlock failed")
    };
    let e = packet::decrypt(&sealed.bytes, &[draft_id], None).unwrap_err();
    assert!(matches!(e, PacketError::WrongKey { .. }), "{e}");
}

#[test]
fn sealing_refuses_an_oversized_packet_before_encrypting() {
    let office = office();
    let kit = SigningKey::generate();
    let (visit, files) = small_visit();
    let e = packet::seal(
        &visit,
        &files,
        &packet::SealParams {
            kit_id: "kit-test",
            kit_key: &kit,
            recipients: std::slice::from_ref(&office.keys.recipient),
            max_packet_bytes: 4000,
        },
    )
    .unwrap_err();
    assert!(matches!(e, PacketError::TooLarge { max: 4000, .. }), "{e}");
    // The limit compares an estimate that is an upper bound of the real size, and a close one:
    // find the smallest limit that seals.
    let seals = |max: u64| {
        packet::seal(
            &visit,
            &files,
            &packet::SealParams {
                kit_id: "kit-test",
                kit_key: &kit,
                recipients: std::slice::from_ref(&office.keys.recipient),
                max_packet_bytes: max,
            },
        )
        .map(|s| s.bytes.len() as u64)
    };
    let (mut lo, mut hi) = (4000u64, 1 << 20);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if seals(mid).is_ok() {
            hi = mid
        } else {
            lo = mid
        }
    }
    let real = seals(hi).unwrap();
    assert!(hi >= real, "limit {hi} admitted a packet of {real} bytes");
    assert!(
        hi <= real + 2048,
        "estimate {hi} is far above the real size {real}"
    );
}

#[test]
fn sealing_an_incomplete_visit_lists_every_problem() {
    let office = office();
    let kit = SigningKey::generate();
    let (mut visit, files) = small_visit();
    visit.category = jemput_core::visit::Category::Lansia;
    visit.consent = None;
    let e = packet::seal(
        &visit,
        &files,
        &packet::SealParams {
            kit_id: "kit-test",
            kit_key: &kit,
            recipients: std::slice::from_ref(&office.keys.recipient),
            max_packet_bytes: 1 << 30,
        },
    )
    .unwrap_err();
    let PacketError::Incomplete(problems) = &e else {
        panic!("{e}")
    };
    // consent, face, 10 fingers, signature
    assert_eq!(problems.len(), 13, "{problems:#?}");
    assert!(e.to_string().contains("sidik jari 1"));
}

#[test]
fn sealing_with_no_recipient_is_a_clear_error() {
    let kit = SigningKey::generate();
    let (visit, files) = small_visit();
    let e = packet::seal(
        &visit,
        &files,
        &packet::SealParams {
            kit_id: "kit-test",
            kit_key: &kit,
            recipients: &[],
            max_packet_bytes: 1 << 30,
        },
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("no office recipient configured"),
        "{e}"
    );
}

#[test]
fn the_streaming_check_agrees_with_decrypt_and_keeps_no_file() {
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let c = packet::decrypt(&sealed.bytes, &office.identities, Some(&kit.public())).unwrap();
    for step in [1, 7, 512, 65_536, usize::MAX] {
        let v = packet::check_contents(
            Dribble {
                data: &sealed.bytes,
                step,
            },
            &office.identities,
            Some(&kit.public()),
        )
        .unwrap();
        assert_eq!(v.manifest, c.manifest);
        assert_eq!(v.manifest_bytes, c.manifest_bytes);
        assert_eq!(v.signature, c.signature);
        assert_eq!(v.prelude.header, sealed.header);
        let names: Vec<&String> = c.files.iter().map(|(n, _)| n).collect();
        assert_eq!(v.files.iter().collect::<Vec<_>>(), names);
    }
    // From a file, into a directory: the same bytes as decrypt's.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.jpk");
    std::fs::write(&path, &sealed.bytes).unwrap();
    let out = dir.path().join("out");
    packet::open_reader_to_dir(
        std::fs::File::open(&path).unwrap(),
        &office.identities,
        Some(&kit.public()),
        &out,
    )
    .unwrap();
    for (name, data) in &c.files {
        assert_eq!(&std::fs::read(out.join(name)).unwrap(), data, "{name}");
    }
    assert_eq!(
        std::fs::read(out.join("header.json")).unwrap(),
        c.prelude.header_bytes
    );
}

#[test]
fn the_streaming_check_names_damage_as_tampering_before_anything_decryption_saw() {
    // The hash of the payload is only known at its end, after age and the archive have read it:
    // a flip anywhere (age's header, a chunk, the last tag) must still be named as tampering, and
    // a cut or an extra byte by length, exactly as `verify` names them.
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let start = packet::parse_prelude(&sealed.bytes).unwrap().payload_offset;
    let check = |b: &[u8]| {
        packet::check_contents(Dribble { data: b, step: 13 }, &office.identities, None).unwrap_err()
    };
    for i in (start..sealed.bytes.len())
        .step_by(61)
        .chain([start, sealed.bytes.len() - 1])
    {
        let mut b = sealed.bytes.clone();
        b[i] ^= 0x20;
        let e = check(&b);
        assert!(matches!(e, PacketError::PayloadHash), "flip at {i}: {e}");
    }
    for n in [start, start + 1, start + 200, sealed.bytes.len() - 1] {
        let e = check(&sealed.bytes[..n]);
        assert!(
            matches!(e, PacketError::TruncatedPayload { .. }),
            "cut at {n}: {e}"
        );
    }
    let mut b = sealed.bytes.clone();
    b.extend_from_slice(b"x");
    assert!(matches!(check(&b), PacketError::TrailingBytes { .. }));
    // Everything else of the prelude is named as `verify` names it.
    for n in [0, 5, 17, 20, start - 1] {
        assert_eq!(
            check(&sealed.bytes[..n]).to_string(),
            packet::verify(&sealed.bytes[..n], None)
                .unwrap_err()
                .to_string(),
            "cut at {n}"
        );
    }
}

#[test]
fn a_packet_that_cannot_be_read_to_its_end_is_a_read_error() {
    struct Failing<'a>(&'a [u8]);
    impl std::io::Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("the disk went away"));
            }
            let n = buf.len().min(self.0.len()).min(100);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let start = packet::parse_prelude(&sealed.bytes).unwrap().payload_offset;
    for n in [start + 50, sealed.bytes.len() - 10, sealed.bytes.len()] {
        let e = packet::check_contents(Failing(&sealed.bytes[..n]), &office.identities, None)
            .unwrap_err();
        assert!(
            matches!(&e, PacketError::Read(io) if io.to_string() == "the disk went away"),
            "fails after {n} bytes: {e}"
        );
        let e = packet::verify_reader(Failing(&sealed.bytes[..n]), None).unwrap_err();
        assert!(matches!(e, PacketError::Read(_)), "{e}");
    }
}
