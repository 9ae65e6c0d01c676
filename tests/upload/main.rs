//! `jemput upload` end to end: against the independent Node.js tus reference server (`@tus/server`
//! with `@tus/file-store`), through a proxy that cuts the connection mid-chunk, and against a small
//! fake hub that signs receipts (good or forged) and injects `409`, `460`, `413` and `401`.
//!
//! The Node.js peer (Node.js 20.19 or later, and
//! `npm install --prefix /opt/jemput-test @tus/server@2.4.5 @tus/file-store@2.1.1`, which
//! `scripts/install-test-peers` does; or point `JEMPUT_TUS_NODE_MODULES` at another
//! `node_modules`): without it the tests against it are skipped with a `SKIPPED` line on stderr,
//! or fail under `JEMPUT_REQUIRE_PEERS=1` (as in CI).

#[path = "../common/mod.rs"]
mod common;
mod fake_hub;
mod peer;
mod proxy;
#[allow(dead_code)] // the kill and load tests use the rest of it
mod shaper;

mod agent;
mod busy;
mod chunk_limit;
mod cli;
mod events;
mod inner_checks;
mod lost_bytes;
mod receipts;
mod reference_server;
mod refusals;
mod rt_events;
mod shaped;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use jemput_core::backoff::Backoff;
use jemput_core::keys::{PublicKey, SigningKey};
use jemput_kit::store::Store;
use jemput_kit::upload::{parse_endpoint, NoProgress, UploadOptions, UploadReport, Uploader};

// ---------------------------------------------------------------------------------------------
// The kit side: a store with packets sealed by a test kit key.

struct Kit {
    _dir: tempfile::TempDir,
    root: PathBuf,
    key: SigningKey,
    key_file: PathBuf,
    office: Office,
}

impl Kit {
    fn new() -> Kit {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("kit");
        let key = SigningKey::generate();
        let key_file = dir.path().join("kit.ed25519");
        key.save(&key_file).unwrap();
        Kit {
            _dir: dir,
            root,
            key,
            key_file,
            office: office(),
        }
    }

    /// Another copy of the kit key (the uploader takes one).
    fn key_copy(&self) -> SigningKey {
        SigningKey::load(&self.key_file).unwrap()
    }

    fn store(&self) -> Store {
        Store::open(&self.root).unwrap()
    }

    /// Seals a visit whose document is `payload` bytes of noise and queues it; returns its id.
    fn queue_packet(&self, payload: usize) -> String {
        let (visit, files) = noise_visit(payload, 0x9e37_79b9);
        let recipients = [self.office.keys.recipient.clone()];
        let sealed = seal_with(&self.key, &recipients, &visit, &files);
        queue_sealed(&self.root, &sealed);
        sealed.header.packet_id
    }

    fn packet_bytes(&self, id: &str) -> Vec<u8> {
        std::fs::read(self.root.join("packets").join(format!("{id}.jpk"))).unwrap()
    }

    /// Drains the queue once to `endpoint` (at most 3 attempts per packet), pinning `hub_key`;
    /// the store after it and the report.
    async fn drain(&self, endpoint: &str, hub_key: Option<PublicKey>) -> (Store, UploadReport) {
        let mut store = self.store();
        let report = self
            .uploader(endpoint, hub_key, 3)
            .drain(&mut store, &NoProgress)
            .await
            .unwrap();
        (store, report)
    }

    fn uploader(&self, endpoint: &str, hub_key: Option<PublicKey>, attempts: u32) -> Uploader {
        let key = self.key_copy();
        Uploader::new(
            parse_endpoint(endpoint).unwrap(),
            "kit-test",
            key,
            hub_key,
            UploadOptions {
                max_attempts: attempts,
                backoff: Backoff {
                    base: Duration::from_millis(20),
                    max: Duration::from_millis(100),
                },
                retention_hours: 24,
            },
        )
    }
}
