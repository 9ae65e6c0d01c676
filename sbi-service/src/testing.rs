//! The SBI device service in the calling process, for tests (feature `testing`): one way to start
//! it on loopback under real keys, whether the test is synchronous (the kit's devices, the
//! station's) or a `#[tokio::test]` (the client's own tests). The service runs on a runtime of its
//! own, so it never depends on, nor blocks, the test's; it stops when dropped.
//!
//! A test that wants the service as a technician runs it (`jemput sbi serve`, a separate process)
//! uses the binary instead (`tests/common/sbi.rs`).

use std::path::{Path, PathBuf};

use jemput_sbi::client::SbiSelector;
use jemput_sbi::trust::TrustStore;

use crate::keys;
use crate::serve::{Backend, Fault, Service};
use crate::sim::{SimCamera, SimSlap};

/// The provider named in the keys made for a service started without keys of its own.
pub const PROVIDER: &str = "jemput Test Provider";

/// A device service on 127.0.0.1:`port`, until dropped.
pub struct TestService {
    pub port: u16,
    /// The directory of the keys it signs with (`keys::CA_CERT` in it is [`Self::ca_cert`]).
    pub keys_dir: PathBuf,
    /// The device-provider CA its answers are signed under.
    pub ca_cert: PathBuf,
    /// The keys made for it, when none were given.
    _made: Option<tempfile::TempDir>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for TestService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestService")
            .field("port", &self.port)
            .field("ca_cert", &self.ca_cert)
            .finish_non_exhaustive()
    }
}

/// The devices of `jemput sbi serve --sim` for the resident `person_seed`: the simulated slap
/// scanner (device 1; here its prints of quality 0.8, a device score of 80) and camera (device 2).
pub fn sim_backends(person_seed: u64) -> Vec<Box<dyn Backend>> {
    vec![
        Box::new(SimSlap {
            person_seed,
            quality: 0.8,
            finger_image: Default::default(),
        }),
        Box::new(SimCamera {
            person_seed,
            face_image: Default::default(),
        }),
    ]
}

impl TestService {
    /// The simulated slap scanner and camera ([`sim_backends`]) under fresh keys.
    pub fn sim(person_seed: u64) -> TestService {
        Self::start(sim_backends(person_seed))
    }

    /// `backends` (devices 1, 2, … in order) under fresh keys of [`PROVIDER`].
    pub fn start(backends: Vec<Box<dyn Backend>>) -> TestService {
        Self::start_with(None, backends, Fault::None)
    }

    /// `backends` signed with the keys in `keys_dir` (made by [`keys::keygen`]; `None`: fresh
    /// ones), its answers spoilt as `fault` says.
    ///
    /// # Panics
    /// When the keys cannot be made or read, or no port can be bound: a test cannot go on.
    pub fn start_with(
        keys_dir: Option<&Path>,
        backends: Vec<Box<dyn Backend>>,
        fault: Fault,
    ) -> TestService {
        let (made, keys_dir) = match keys_dir {
            Some(dir) => (None, dir.to_path_buf()),
            None => {
                let dir = tempfile::tempdir().expect("a temporary directory for the keys");
                keys::keygen(dir.path(), PROVIDER, "JEMPUTTEST0001").expect("test keys");
                let path = dir.path().to_path_buf();
                (Some(dir), path)
            }
        };
        let k = keys::load(&keys_dir).expect("the test service's keys");
        let provider = k.provider().unwrap_or_else(|| PROVIDER.into());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the test service's runtime");
        // Bound here (not with `block_on`), so that a test already inside a runtime can start it.
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking socket");
        let port = listener.local_addr().expect("the bound port").port();
        let listener = {
            let _in = runtime.enter();
            tokio::net::TcpListener::from_std(listener).expect("the listener on the runtime")
        };
        let svc = Service::new(port, k.signer, &provider, backends).with_fault(fault);
        runtime.spawn(crate::serve::serve(listener, svc, std::future::pending()));
        TestService {
            port,
            ca_cert: keys_dir.join(keys::CA_CERT),
            keys_dir,
            _made: made,
            runtime: Some(runtime),
        }
    }

    /// The selector of its device `device_id`, sub-device `sub_id` (`sbi:PORT/ID/SUB`).
    pub fn selector(&self, device_id: u8, sub_id: u8) -> SbiSelector {
        SbiSelector {
            port: self.port,
            device_id: device_id.to_string(),
            sub_id,
        }
    }

    /// A trust store of its CA alone.
    pub fn trust(&self) -> TrustStore {
        trust_of(&self.ca_cert)
    }
}

/// A trust store of the CA certificate at `ca` alone.
///
/// # Panics
/// When `ca` is no CA certificate.
pub fn trust_of(ca: &Path) -> TrustStore {
    let mut t = TrustStore::new();
    t.add_pem_file(ca).expect("a CA certificate");
    t
}

impl Drop for TestService {
    fn drop(&mut self) {
        // Without waiting: a test inside a runtime of its own may drop it.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
