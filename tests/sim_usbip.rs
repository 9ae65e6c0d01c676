//! `jemput sim ptp --json`: the camera model served over USB/IP on loopback, reached by the
//! drivers crate's USB/IP client and driven by the real PTP driver; serial models keep their pty
//! lines alongside.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use jemput_drivers::ptp::{PtpCamera, PtpConfig, PtpEndpoints};
use jemput_drivers::usbip::{devlist, UsbIpClient};
use jemput_drivers::{Camera, CaptureControl};
use serde_json::Value;

mod common;
use common::{assert_success, Sim};

fn control() -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_secs(20),
        cancel: Arc::default(),
    }
}

#[test]
fn sim_ptp_json_names_a_loopback_usbip_server_that_a_driver_captures_through() {
    let sim = Sim::start(1, &["ptp", "--json", "--fast"]);
    let line = &sim.lines[0];
    assert_eq!(line["model"], "ptp");
    assert_eq!(line["transport"], "usbip");
    assert_eq!(line["busid"], "1-1");
    assert_eq!(line["usb_id"], "1209:0001");
    assert!(line.get("path").is_none(), "{line}");
    let addr = sim.address(0);
    assert!(addr.ip().is_loopback(), "{addr}");

    let list = devlist(addr).unwrap();
    assert_eq!(list[0].interfaces, vec![[6, 1, 1]]);
    let usb = UsbIpClient::import(addr, "1-1").unwrap();
    let mut cam = PtpCamera::open(usb, PtpEndpoints::default(), PtpConfig::default()).unwrap();
    let photo = cam.capture_photo(&control()).unwrap();
    assert!(photo.jpeg.starts_with(&[0xFF, 0xD8]));
    drop(cam);
    assert!(sim.stop(), "SIGTERM stops the server cleanly");
}

#[test]
fn a_ptp_fault_reaches_the_camera_over_usbip() {
    let sim = Sim::start(1, &["ptp", "--json", "--fast", "--fault", "store-full"]);
    assert_eq!(sim.lines[0]["faults"], serde_json::json!(["store-full"]));
    let usb = UsbIpClient::import(sim.address(0), "1-1").unwrap();
    let mut cam = PtpCamera::open(usb, PtpEndpoints::default(), PtpConfig::default()).unwrap();
    let err = cam.capture_photo(&control()).unwrap_err().to_string();
    assert!(err.to_lowercase().contains("full"), "{err}");
}

#[test]
fn serial_and_usb_models_run_side_by_side() {
    let sim = Sim::start(2, &["ef01", "ptp", "--json", "--fast"]);
    assert_eq!(sim.lines[0]["transport"], "pty");
    assert!(sim.lines[0]["path"].is_string());
    assert_eq!(sim.lines[1]["transport"], "usbip");
    assert!(sim.lines[1]["address"].is_string());
}

#[test]
fn one_fixed_port_for_two_usb_models_is_refused() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
        .args(["sim", "ptp", "ptp", "--listen", "127.0.0.1:3240"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("port 0"), "{err}");
}

#[test]
fn usbip_list_json_shows_what_sim_ptp_exports() {
    let sim = Sim::start(1, &["ptp", "--json", "--fast"]);
    let out = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
        .args(["usbip", "list", &sim.address(0).to_string(), "--json"])
        .output()
        .unwrap();
    assert_success(&out);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        list,
        serde_json::json!([{
            "busid": "1-1",
            "usb_id": "1209:0001",
            "speed": 3,
            "interfaces": ["06/01/01"],
        }])
    );
}

#[test]
fn usbip_attach_without_vhci_says_to_load_the_module() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
        .args(["usbip", "attach", "127.0.0.1:9", "--sysfs"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("modprobe vhci-hcd"), "{err}");
}

#[test]
fn sim_uru4000_json_serves_the_reader_that_the_uru4000_driver_captures_a_finger_from() {
    use jemput_drivers::uru4000::{device_info, Uru4000, UruConfig};
    use jemput_drivers::FingerprintScanner;

    let sim = Sim::start(1, &["uru4000", "--json", "--fast"]);
    let line = &sim.lines[0];
    assert_eq!(line["model"], "uru4000");
    assert_eq!(line["transport"], "usbip");
    assert_eq!(line["usb_id"], "05ba:000a");
    let addr = sim.address(0);
    let list = devlist(addr).unwrap();
    assert_eq!(list[0].interfaces, vec![[0xFF, 0xFF, 0xFF]]);
    let usb = UsbIpClient::import(addr, "1-1").unwrap();
    let info = device_info(0x05ba, 0x000a, Some("SIMURU0001".into()));
    let mut reader = Uru4000::open(usb, info, UruConfig::default()).unwrap();
    let img = reader.capture_finger(&control()).unwrap();
    assert_eq!((img.width, img.height), (384, 290));
    assert_eq!(img.pixels.len(), 384 * 290);
    // A synthetic print, not a blank transfer: the ridges make the grey levels spread.
    let (lo, hi) = img
        .pixels
        .iter()
        .fold((255u8, 0u8), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    assert!(hi - lo > 100, "grey levels {lo}..{hi}");
    drop(reader);
    assert!(sim.stop(), "SIGTERM stops the server cleanly");
}

#[test]
fn a_uru4000_fault_reaches_the_driver_over_usbip() {
    use jemput_drivers::uru4000::{device_info, Uru4000, UruConfig};
    use jemput_drivers::FingerprintScanner;

    let sim = Sim::start(
        1,
        &["uru4000", "--json", "--fast", "--fault", "short-image"],
    );
    let usb = UsbIpClient::import(sim.address(0), "1-1").unwrap();
    let info = device_info(0x05ba, 0x000a, None);
    let mut reader = Uru4000::open(usb, info, UruConfig::default()).unwrap();
    let err = reader.capture_finger(&control()).unwrap_err().to_string();
    assert!(err.contains("1000"), "{err}");
}
