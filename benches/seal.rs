//! Seal and open a ~2.5 MB visit, side by side with the stock `age` CLI encrypting the same
//! plaintext to the same recipient plus an fsync. Run: `cargo bench --bench seal`
//! (needs `age` on PATH for the comparison; figures go in BENCHMARKS.md).

use std::io::Write;
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jemput_core::keys::{office, SigningKey};
use jemput_core::packet::{self, PacketFile, SealParams};
use jemput_kit::store::Store;
use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};

/// A full synthetic visit padded with document photos to about 2.5 MB of files.
fn visit_2_5mb() -> (jemput_core::visit::Visit, Vec<PacketFile>) {
    let mut docs = 0;
    loop {
        let (v, f) = synthetic_visit(
            42,
            &SampleOptions {
                documents: docs,
                ..Default::default()
            },
        );
        let total: usize = f.iter().map(|f| f.bytes.len()).sum();
        if total >= 2_500_000 || docs >= 40 {
            eprintln!("bench visit: {} files, {total} bytes", f.len());
            return (v, f);
        }
        docs += 1;
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let keys = office::keygen(&dir.path().join("office")).unwrap();
    let ids = office::load_identities(&keys.identity_file).unwrap();
    let kit = SigningKey::generate();
    let (visit, files) = visit_2_5mb();
    let recipients = vec![keys.recipient.clone()];
    let params = SealParams {
        kit_id: "kit-bench",
        kit_key: &kit,
        recipients: &recipients,
        max_packet_bytes: 1 << 30,
    };
    let sample = packet::seal(&visit, &files, &params).unwrap();
    let tar = {
        let p = packet::parse_prelude(&sample.bytes).unwrap();
        age::decrypt(&ids[0], &sample.bytes[p.payload_offset..]).unwrap()
    };
    eprintln!(
        "bench plaintext (tar): {} bytes; packet: {} bytes",
        tar.len(),
        sample.bytes.len()
    );

    let mut g = c.benchmark_group("seal_2_5mb");
    g.sample_size(20);
    g.throughput(Throughput::Elements(1));
    // Decomposition, to see where the time goes.
    g.bench_function("jemput_seal_in_memory", |b| {
        b.iter(|| packet::seal(&visit, &files, &params).unwrap())
    });
    let plain = dir.path().join("plain.jpk");
    g.bench_function("write_fsync_rename_dirsync_only", |b| {
        b.iter(|| jemput_core::fsutil::write_atomic(&plain, &sample.bytes, 0o600).unwrap())
    });
    let store_root = dir.path().join("kit");
    let mut store = Store::open(&store_root).unwrap();
    // The kit's path (`kit::seal_draft` without the draft): the payload streamed into the packet
    // file as it is encrypted, then fdatasync, rename, directory fsync, queue row.
    g.bench_function("jemput_seal_fsync_queue", |b| {
        b.iter(|| {
            let prepared = packet::prepare(&visit, &files, &params).unwrap();
            let id = prepared.packet_id().to_string();
            store
                .commit_packet_with(&id, |file| {
                    let (header, size) = prepared.write_to(file).unwrap();
                    let mut meta = jemput_kit::seal::meta_of(&header);
                    meta.size = size;
                    Ok::<_, jemput_kit::store::StoreError>(meta)
                })
                .unwrap();
        })
    });
    // The previous path, kept for comparison: seal in memory, then write the bytes.
    g.bench_function("jemput_seal_in_memory_then_write_fsync_queue", |b| {
        b.iter(|| {
            let s = packet::seal(&visit, &files, &params).unwrap();
            let mut meta = jemput_kit::seal::meta_of(&s.header);
            meta.size = s.bytes.len() as u64;
            store.commit_packet(&meta, &s.bytes).unwrap();
        })
    });
    let age_ok = Command::new("age").arg("--version").output().is_ok();
    if age_ok {
        let out = dir.path().join("age-out.age");
        g.bench_function("age_cli_encrypt_fsync", |b| {
            b.iter(|| {
                let mut child = Command::new("age")
                    .arg("-r")
                    .arg(&keys.recipient)
                    .arg("-o")
                    .arg(&out)
                    .stdin(Stdio::piped())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(&tar).unwrap();
                assert!(child.wait().unwrap().success());
                std::fs::File::open(&out).unwrap().sync_all().unwrap();
            })
        });
    } else {
        eprintln!("SKIPPED age_cli_encrypt_fsync: the `age` CLI is not installed");
    }
    g.finish();

    let mut g = c.benchmark_group("open_2_5mb");
    g.sample_size(20);
    let mut n = 0u32;
    g.bench_function("jemput_verify_decrypt_extract", |b| {
        b.iter(|| {
            n += 1;
            let out = dir.path().join(format!("opened-{n}"));
            packet::open_to_dir(&sample.bytes, &ids, Some(&kit.public()), &out).unwrap();
        })
    });
    g.bench_function("jemput_verify_outer_only", |b| {
        b.iter(|| packet::verify(&sample.bytes, Some(&kit.public())).unwrap())
    });
    // The hub's opening before a receipt: every check, streaming from the file, no file kept.
    let file = dir.path().join("sample.jpk");
    std::fs::write(&file, &sample.bytes).unwrap();
    g.bench_function("jemput_check_contents_streaming", |b| {
        b.iter(|| {
            let f = std::fs::File::open(&file).unwrap();
            packet::check_contents(f, &ids, Some(&kit.public())).unwrap()
        })
    });
    g.bench_function("jemput_decrypt_in_memory", |b| {
        b.iter(|| packet::decrypt(&sample.bytes, &ids, Some(&kit.public())).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
