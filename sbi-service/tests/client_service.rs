//! The SBI client against jemput's device service over real HTTP on loopback: a good capture
//! verifies, and every way an answer can be wrong (unsigned, wrongly signed, untrusted, replayed,
//! chain broken, fewer fingers, garbage, a hang, a server that is not SBI) is refused with its
//! own error. The devices behind the service here are a test backend with fixed records; the
//! simulated slap scanner with real ISO records is tested through the binary (tests/sbi.rs).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use jemput_sbi::client::{self, CaptureAsk};
use jemput_sbi::trust::TrustStore;
use jemput_sbi::{proto, SbiError};
use jemput_sbi_service::keys;
use jemput_sbi_service::serve::{self, Backend, CaptureFailure, Captured, Fault};
use jemput_sbi_service::testing::{trust_of, TestService};

/// A slap scanner whose "record" of a finger is a few bytes naming it.
struct FixedSlap;

impl Backend for FixedSlap {
    fn bio_type(&self) -> &'static str {
        "Finger"
    }
    fn device_sub_type(&self) -> &'static str {
        "Slap"
    }
    fn make(&self) -> String {
        "test".into()
    }
    fn model(&self) -> String {
        "fixed".into()
    }
    fn serial(&self) -> String {
        "TESTSLAP00000001".into()
    }
    fn sub_ids(&self) -> Vec<u8> {
        vec![1, 2, 3]
    }
    fn capture(
        &self,
        _sub_id: u8,
        fingers: &[u8],
        _exceptions: &[String],
        _control: &jemput_drivers::CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        Ok(fingers
            .iter()
            .map(|f| Captured {
                sub_type: proto::finger_name(*f).map(str::to_string),
                record: format!("record of finger {f}").into_bytes(),
                quality: 60.0 + *f as f32,
            })
            .collect())
    }
}

struct Keys {
    _dir: tempfile::TempDir,
    good: PathBuf,
    other: PathBuf,
}

/// Two key directories made once: the trusted provider's and an untrusted one's.
fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        let other = dir.path().join("other");
        keys::keygen(&good, "Trusted Provider", "TESTSLAP00000001").unwrap();
        keys::keygen(&other, "Unknown Provider", "TESTSLAP00000001").unwrap();
        Keys {
            _dir: dir,
            good,
            other,
        }
    })
}

fn trust() -> TrustStore {
    trust_of(&keys().good.join(keys::CA_CERT))
}

/// A service of [`FixedSlap`] signing with the keys in `dir`, showing `fault`.
fn start(dir: &std::path::Path, fault: Fault) -> TestService {
    TestService::start_with(Some(dir), vec![Box::new(FixedSlap)], fault)
}

fn left_slap(port: u16) -> CaptureAsk {
    CaptureAsk {
        port,
        device_id: "1".into(),
        bio_type: "Finger".into(),
        sub_id: 1,
        fingers: vec![],
        exceptions: vec!["Left RingFinger".into()],
        requested_score: 40,
        timeout: Duration::from_secs(5),
    }
}

async fn capture_with(
    fault: Fault,
) -> Result<Vec<jemput_sbi::verify::VerifiedBiometric>, SbiError> {
    let svc = start(&keys().good, fault);
    let port = svc.port;
    client::capture(
        &left_slap(port),
        &trust(),
        &client::new_transaction_id(),
        "",
    )
    .await
}

#[tokio::test]
async fn a_left_slap_with_one_exception_gives_three_verified_fingers_chained() {
    let got = capture_with(Fault::None).await.unwrap();
    let names: Vec<_> = got.iter().filter_map(|b| b.bio_sub_type.clone()).collect();
    assert_eq!(
        names,
        ["Left IndexFinger", "Left MiddleFinger", "Left LittleFinger"]
    );
    assert_eq!(got[0].record, b"record of finger 7");
    assert_eq!(got[0].quality_score, 67.0);
    assert_eq!(got[0].digital_id.device_sub_type, "Slap");
    // The chain: each hash follows the one before, from the empty string's hash.
    let mut prev = jemput_sbi::chain::first_previous_hash();
    for b in &got {
        prev = jemput_sbi::chain::next_hash(&prev, &b.record).unwrap();
        assert_eq!(b.hash, prev);
    }
}

#[tokio::test]
async fn discovery_and_device_info_answer_and_info_is_signed_by_the_device() {
    let svc = start(&keys().good, Fault::None);
    let port = svc.port;
    let d = client::discover(port, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].device_sub_id, ["1", "2", "3"]);
    assert_eq!(d[0].certification, "L0");
    assert_eq!(d[0].callback_id, format!("http://127.0.0.1:{port}/"));
    let i = client::info(port, Duration::from_secs(2)).await.unwrap();
    let v = jemput_sbi::jws::verify(&i[0].device_info, "deviceInfo").unwrap();
    trust()
        .check(&v.signer_cert, jiff::Timestamp::now().as_second())
        .unwrap();
    let info: proto::DeviceInfo = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(info.device_status, "Ready");
}

#[tokio::test]
async fn an_untrusted_device_certificate_is_refused() {
    let svc = start(&keys().other, Fault::None);
    let port = svc.port;
    let e = client::capture(&left_slap(port), &trust(), "tx-1", "")
        .await
        .unwrap_err();
    assert!(matches!(e, SbiError::Untrusted(_)), "{e}");
}

#[tokio::test]
async fn a_broken_chain_is_refused() {
    let e = capture_with(Fault::BrokenChain).await.unwrap_err();
    assert!(matches!(e, SbiError::ChainBroken { index: 1, .. }), "{e}");
}

#[tokio::test]
async fn fewer_fingers_than_asked_are_refused() {
    let e = capture_with(Fault::FewerFingers).await.unwrap_err();
    assert!(matches!(e, SbiError::TooFew { asked: 3, got: 2 }), "{e}");
}

#[tokio::test]
async fn a_stale_timestamp_or_another_transaction_is_refused_as_replayed() {
    let e = capture_with(Fault::Stale).await.unwrap_err();
    assert!(matches!(e, SbiError::Replayed(_)), "{e}");
    let e = capture_with(Fault::OtherTransaction).await.unwrap_err();
    assert!(matches!(e, SbiError::Replayed(_)), "{e}");
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_data_is_refused() {
    let e = capture_with(Fault::Unsigned).await.unwrap_err();
    assert!(matches!(e, SbiError::Unsigned { what: "data" }), "{e}");
    let e = capture_with(Fault::BadSignature).await.unwrap_err();
    assert!(
        matches!(e, SbiError::BadSignature { what: "data", .. }),
        "{e}"
    );
}

#[tokio::test]
async fn the_device_refuses_a_bad_transaction_id_an_unknown_device_and_too_many_fingers() {
    let svc = start(&keys().good, Fault::None);
    let port = svc.port;
    let e = client::capture(&left_slap(port), &trust(), "not valid!", "")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, SbiError::Device { code, .. } if code == "112"),
        "{e}"
    );
    let mut ask = left_slap(port);
    ask.device_id = "9".into();
    let e = client::capture(&ask, &trust(), "tx-2", "")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, SbiError::Device { code, .. } if code == "106"),
        "{e}"
    );
    let mut ask = left_slap(port);
    ask.sub_id = 0;
    let e = client::capture(&ask, &trust(), "tx-3", "")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, SbiError::Device { code, .. } if code == "109"),
        "{e}"
    );
}

/// A TCP server that answers every connection with `answer` (or, with `None`, reads and never
/// answers); returns its port.
async fn raw_server(answer: Option<&'static str>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                match answer {
                    Some(a) => {
                        let _ = s.write_all(a.as_bytes()).await;
                        let _ = s.shutdown().await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    port
}

const GARBAGE: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"biomet";
const NOT_SBI: &str =
    "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nnope!";

#[tokio::test]
async fn garbage_a_hang_and_a_non_sbi_server_each_get_a_clear_error() {
    let garbage = raw_server(Some(GARBAGE)).await;
    let e = client::capture(&left_slap(garbage), &trust(), "tx-4", "")
        .await
        .unwrap_err();
    assert!(matches!(e, SbiError::Garbage(_)), "{e}");
    let hang = raw_server(None).await;
    let started = std::time::Instant::now();
    let e = client::discover(hang, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(e, SbiError::Timeout { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let other = raw_server(Some(NOT_SBI)).await;
    let e = client::discover(other, Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(matches!(e, SbiError::HttpStatus { status: 405, .. }), "{e}");
}

#[tokio::test]
async fn a_scan_finds_the_service_and_names_what_else_answered() {
    let svc = start(&keys().good, Fault::None);
    let sbi = svc.port;
    let other = raw_server(Some(NOT_SBI)).await;
    let hang = raw_server(None).await;
    // Ephemeral ports lie far apart and other tests' servers may sit between them: scan each.
    for p in [sbi, other, hang] {
        let s = client::scan(p..=p, Duration::from_millis(400)).await;
        assert_eq!(s.services.len(), usize::from(p == sbi), "port {p}: {s:?}");
        assert_eq!(s.others.len(), usize::from(p != sbi), "port {p}: {s:?}");
    }
    // A closed port is neither.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = client::scan(closed..=closed, Duration::from_millis(400)).await;
    assert!(s.services.is_empty() && s.others.is_empty(), "{s:?}");
}

/// A single-finger scanner whose "record" names the finger it was given; it keeps the timeout
/// of its last capture, takes `pause` over each capture, and fails with `fail` when given one.
struct FixedSingle {
    pause: Duration,
    fail: Option<CaptureFailure>,
    last_timeout: std::sync::Mutex<Option<Duration>>,
    cancelled: std::sync::Mutex<bool>,
}

impl FixedSingle {
    fn new() -> Self {
        FixedSingle {
            pause: Duration::ZERO,
            fail: None,
            last_timeout: std::sync::Mutex::new(None),
            cancelled: std::sync::Mutex::new(false),
        }
    }
}

impl Backend for FixedSingle {
    fn bio_type(&self) -> &'static str {
        "Finger"
    }
    fn device_sub_type(&self) -> &'static str {
        "Single"
    }
    fn make(&self) -> String {
        "test".into()
    }
    fn model(&self) -> String {
        "single".into()
    }
    fn serial(&self) -> String {
        "TESTSINGLE000001".into()
    }
    fn sub_ids(&self) -> Vec<u8> {
        vec![0]
    }
    fn capture(
        &self,
        _sub_id: u8,
        fingers: &[u8],
        _exceptions: &[String],
        control: &jemput_drivers::CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        *self.last_timeout.lock().unwrap() = Some(control.timeout);
        // Paused as a device waiting for a finger would be: until the pause ends or the capture
        // is cancelled.
        let begun = std::time::Instant::now();
        while begun.elapsed() < self.pause {
            if control.cancel.load(std::sync::atomic::Ordering::SeqCst) {
                *self.cancelled.lock().unwrap() = true;
                return Err(CaptureFailure {
                    code: 110,
                    info: "cancelled".into(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(f) = &self.fail {
            return Err(f.clone());
        }
        Ok(fingers
            .iter()
            .map(|f| Captured {
                sub_type: Some(
                    proto::finger_name(*f)
                        .unwrap_or(serve::UNKNOWN_FINGER)
                        .to_string(),
                ),
                record: format!("record of finger {f}").into_bytes(),
                quality: 55.0,
            })
            .collect())
    }
}

/// A service with `backend` as device 1, signing with the trusted keys.
fn start_with(backend: std::sync::Arc<FixedSingle>) -> TestService {
    struct Shared(std::sync::Arc<FixedSingle>);
    impl Backend for Shared {
        fn bio_type(&self) -> &'static str {
            self.0.bio_type()
        }
        fn device_sub_type(&self) -> &'static str {
            self.0.device_sub_type()
        }
        fn make(&self) -> String {
            self.0.make()
        }
        fn model(&self) -> String {
            self.0.model()
        }
        fn serial(&self) -> String {
            self.0.serial()
        }
        fn sub_ids(&self) -> Vec<u8> {
            self.0.sub_ids()
        }
        fn capture(
            &self,
            sub_id: u8,
            fingers: &[u8],
            exceptions: &[String],
            control: &jemput_drivers::CaptureControl,
        ) -> Result<Vec<Captured>, CaptureFailure> {
            self.0.capture(sub_id, fingers, exceptions, control)
        }
    }
    TestService::start_with(
        Some(&keys().good),
        vec![Box::new(Shared(backend))],
        Fault::None,
    )
}

fn single(port: u16, fingers: &[&str], exceptions: &[&str]) -> CaptureAsk {
    CaptureAsk {
        port,
        device_id: "1".into(),
        bio_type: "Finger".into(),
        sub_id: 0,
        fingers: fingers.iter().map(|s| s.to_string()).collect(),
        exceptions: exceptions.iter().map(|s| s.to_string()).collect(),
        requested_score: 40,
        timeout: Duration::from_secs(7),
    }
}

fn code_of(e: &SbiError) -> &str {
    match e {
        SbiError::Device { code, .. } => code,
        _ => panic!("not a device error: {e}"),
    }
}

#[tokio::test]
async fn a_single_finger_device_gives_the_finger_asked_for_or_unknown() {
    let backend = std::sync::Arc::new(FixedSingle::new());
    let svc = start_with(backend.clone());
    let port = svc.port;
    let got = client::capture(&single(port, &["Right Thumb"], &[]), &trust(), "tx-s1", "")
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].bio_sub_type.as_deref(), Some("Right Thumb"));
    assert_eq!(got[0].record, b"record of finger 1");
    assert_eq!(got[0].digital_id.device_sub_type, "Single");
    // The request's timeout (milliseconds) reaches the device.
    assert_eq!(
        *backend.last_timeout.lock().unwrap(),
        Some(Duration::from_secs(7))
    );
    for fingers in [&["UNKNOWN"][..], &[]] {
        let got = client::capture(&single(port, fingers, &[]), &trust(), "tx-s2", "")
            .await
            .unwrap();
        assert_eq!(
            got[0].bio_sub_type.as_deref(),
            Some("UNKNOWN"),
            "{fingers:?}"
        );
        assert_eq!(got[0].record, b"record of finger 0");
    }
}

#[tokio::test]
async fn a_single_finger_device_refuses_two_fingers_an_excepted_one_or_a_slap_with_109() {
    let svc = start_with(std::sync::Arc::new(FixedSingle::new()));
    let port = svc.port;
    for ask in [
        single(port, &["Right Thumb", "Left Thumb"], &[]),
        single(port, &["Right Thumb"], &["Right Thumb"]),
        single(port, &["Right Palm"], &[]),
        CaptureAsk {
            sub_id: 1,
            ..single(port, &[], &[])
        },
    ] {
        let e = client::capture(&ask, &trust(), "tx-s3", "")
            .await
            .unwrap_err();
        assert_eq!(code_of(&e), "109", "{ask:?}: {e}");
    }
}

#[tokio::test]
async fn a_device_failure_reaches_the_client_with_its_code_and_reason() {
    let backend = FixedSingle {
        fail: Some(CaptureFailure {
            code: 110,
            info: "Device is not ready: the device was disconnected".into(),
        }),
        ..FixedSingle::new()
    };
    let svc = start_with(std::sync::Arc::new(backend));
    let port = svc.port;
    let e = client::capture(&single(port, &[], &[]), &trust(), "tx-s4", "")
        .await
        .unwrap_err();
    match &e {
        SbiError::Device { code, info } => {
            assert_eq!(code, "110");
            assert_eq!(info, "Device is not ready: the device was disconnected");
        }
        _ => panic!("{e}"),
    }
}

/// A second capture while the first one runs is answered "busy" (111) at once, and discovery
/// says "Busy" meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_busy_with_a_capture_answers_busy() {
    let backend = FixedSingle {
        pause: Duration::from_millis(1500),
        ..FixedSingle::new()
    };
    let svc = start_with(std::sync::Arc::new(backend));
    let port = svc.port;
    let first = tokio::spawn(async move {
        client::capture(&single(port, &[], &[]), &trust(), "tx-s5", "").await
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let d = client::discover(port, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(d[0].device_status, "Busy");
    let begun = std::time::Instant::now();
    let e = client::capture(&single(port, &[], &[]), &trust(), "tx-s6", "")
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "111", "{e}");
    assert!(begun.elapsed() < Duration::from_millis(800));
    assert!(first.await.unwrap().is_ok());
}

/// A client that gives up (its connection closed) cancels the capture: the device stops waiting
/// and takes the next capture at once instead of answering "busy" until the first one's timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_cancels_its_capture() {
    let backend = std::sync::Arc::new(FixedSingle {
        pause: Duration::from_secs(20),
        ..FixedSingle::new()
    });
    let svc = start_with(backend.clone());
    let port = svc.port;
    let first = tokio::spawn(async move {
        client::capture(&single(port, &[], &[]), &trust(), "tx-c1", "").await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.abort();
    let begun = std::time::Instant::now();
    while !*backend.cancelled.lock().unwrap() {
        assert!(
            begun.elapsed() < Duration::from_secs(5),
            "the capture was not cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let d = client::discover(port, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(d[0].device_status, "Ready");
}
