//! Independently of jemput's own checks: the simulated device service's answers and the requests
//! jemput's client builds validate against MOSIP's compliance-toolkit schemas (Python
//! `jsonschema`), every JWS verifies with PyJWT and `cryptography` against the CA, and the hash
//! chain recomputes in Python (`tests/peers/sbi_check.py`).

use std::path::Path;
use std::time::Duration;

use jemput_sbi::client::CaptureAsk;
use jemput_sbi_service::serve::{self, Service};
use jemput_sbi_service::{keys, sim};

const INSTALL: &str = "pip install jsonschema pyjwt cryptography (scripts/install-test-peers)";

fn ask(bio_type: &str, device_id: &str, sub_id: u8, exceptions: &[&str]) -> CaptureAsk {
    CaptureAsk {
        port: 0,
        device_id: device_id.into(),
        bio_type: bio_type.into(),
        sub_id,
        fingers: vec![],
        exceptions: exceptions.iter().map(|s| s.to_string()).collect(),
        requested_score: 40,
        timeout: Duration::from_secs(10),
    }
}

/// Runs the Python check against a simulated service showing `fault`; its exit and stdout.
async fn python_check(fault: serve::Fault) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    keys::keygen(dir.path(), "Peer Test Provider", "PEERSLAP0001").unwrap();
    let listener = serve::bind(Some(0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let k = keys::load(dir.path()).unwrap();
    let backends: Vec<Box<dyn serve::Backend>> = vec![
        Box::new(sim::SimSlap {
            person_seed: 7,
            quality: 0.8,
            finger_image: Default::default(),
        }),
        Box::new(sim::SimCamera {
            person_seed: 7,
            face_image: Default::default(),
        }),
    ];
    let svc = Service::new(port, k.signer, "Peer Test Provider", backends).with_fault(fault);
    tokio::spawn(serve::serve(listener, svc, std::future::pending()));

    // The 4-4-2 of one transaction (a missing left ring finger), then the face.
    let tx = jemput_sbi::client::new_transaction_id();
    let requests: Vec<_> = [
        ask("Finger", "1", 1, &["Left RingFinger"]),
        ask("Finger", "1", 2, &[]),
        ask("Finger", "1", 3, &[]),
        ask("Face", "2", 0, &[]),
    ]
    .iter()
    .map(|a| a.request(&tx, ""))
    .collect();
    let req_file = dir.path().join("requests.json");
    std::fs::write(&req_file, serde_json::to_vec(&requests).unwrap()).unwrap();
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mosip-sbi");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/sbi_check.py");
    let ca = dir.path().join(keys::CA_CERT);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(ca)
            .arg(schemas)
            .arg(req_file)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.success(), format!("{stdout}\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_and_the_client_requests_pass_mosips_schemas_pyjwt_and_a_python_chain() {
    if !jemput_testkit::python_modules(&["jsonschema", "jwt", "cryptography"], INSTALL) {
        return;
    }
    let (ok, stdout) = python_check(serve::Fault::None).await;
    assert!(ok, "{stdout}");
    // 3 + 4 + 2 fingers and one face, each checked.
    assert!(stdout.contains("10 biometrics checked"), "{stdout}");
    assert_eq!(stdout.matches("ok jws data").count(), 10, "{stdout}");
}

/// The Python check is not a rubber stamp: a broken chain and a bad signature fail it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_check_catches_a_broken_chain_and_a_bad_signature() {
    if !jemput_testkit::python_modules(&["jsonschema", "jwt", "cryptography"], INSTALL) {
        return;
    }
    let (ok, out) = python_check(serve::Fault::BrokenChain).await;
    assert!(!ok && out.contains("FAIL hash chain"), "{out}");
    let (ok, out) = python_check(serve::Fault::BadSignature).await;
    assert!(
        !ok && out.contains("FAIL data: Signature verification failed"),
        "{out}"
    );
}
