//! The U.are.U driver against the reader model over the in-memory USB transport: power-up, the
//! capture flow on the wire, every fault the model injects, and an unplug, replug and capture
//! again through the reconnecting handle.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jemput_drivers::uru4000::protocol::{reg, Mode, IMAGE_HEIGHT, IMAGE_WIDTH};
use jemput_drivers::uru4000::{
    device_info, replugging, Uru4000, UruConfig, UruError, UruFault, UruHandle, UruModelConfig,
    UruOp,
};
use jemput_drivers::{CaptureControl, Device, DeviceError, FingerprintScanner};

fn control(ms: u64) -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_millis(ms),
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

fn fast() -> UruConfig {
    UruConfig {
        timeout: Duration::from_millis(500),
        power_up: Duration::from_millis(500),
        poll: Duration::from_millis(10),
    }
}

fn reader(cfg: UruModelConfig) -> (Uru4000<jemput_drivers::usb::MemUsb>, UruHandle) {
    let info = device_info(cfg.vid, cfg.pid, Some(cfg.serial.clone()));
    let handle = UruHandle::new(cfg);
    let d = Uru4000::open(handle.transport().unwrap(), info, fast()).unwrap();
    (d, handle)
}

fn writes(h: &UruHandle, register: u16) -> Vec<Vec<u8>> {
    h.with(|m| {
        m.log()
            .iter()
            .filter_map(|op| match op {
                UruOp::WriteRegister(r, v) if *r == register => Some(v.clone()),
                _ => None,
            })
            .collect()
    })
}

#[test]
fn open_powers_the_reader_up_through_hwstat_and_waits_for_the_power_on_event() {
    let (d, h) = reader(UruModelConfig::default());
    assert_eq!(writes(&h, reg::HWSTAT), vec![vec![0x80]], "bit 7 set");
    assert_eq!(d.info().model, "DigitalPersona U.are.U 4000B / 4500");
    assert_eq!(d.info().driver, "uru4000");
    assert_eq!(d.info().serial.as_deref(), Some("SIMURU0001"));
}

#[test]
fn a_capture_sets_await_finger_then_capture_and_returns_a_384_by_290_image_at_512_ppi() {
    let (mut d, h) = reader(UruModelConfig::default());
    let img = d.capture(&control(2000)).unwrap();
    assert_eq!((img.width, img.height, img.ppi), (384, 290, 512));
    assert_eq!(img.pixels.len(), IMAGE_WIDTH * IMAGE_HEIGHT);
    let levels = {
        let mut seen = [false; 256];
        img.pixels.iter().for_each(|&p| seen[p as usize] = true);
        seen.iter().filter(|s| **s).count()
    };
    assert!(
        levels > 100,
        "a real 8-bit ridge image, not a flat fill: {levels} levels"
    );
    assert_eq!(
        writes(&h, reg::MODE),
        vec![
            vec![Mode::AwaitFingerOn.value()],
            vec![Mode::Capture.value()],
            vec![Mode::AwaitFingerOff.value()]
        ]
    );
    // A second capture is the next finger: a different image.
    let second = d.capture(&control(2000)).unwrap();
    assert_ne!(second.pixels, img.pixels);
    drop(d);
    assert_eq!(
        h.with(|m| m.mode()),
        Mode::Off,
        "dropping the driver switches the reader off"
    );
}

#[test]
fn a_stuck_unit_gets_its_low_nibble_written_back_and_powers_up_once_bit_1_is_set() {
    let cfg = UruModelConfig {
        faults: vec![UruFault::Stuck { reads: 3 }],
        ..UruModelConfig::default()
    };
    let (mut d, h) = reader(cfg);
    assert_eq!(writes(&h, reg::HWSTAT), vec![vec![0x04], vec![0x86]]);
    assert!(d.capture(&control(2000)).is_ok());
}

#[test]
fn no_finger_within_the_timeout_is_a_clear_error_and_leaves_the_reader_idle() {
    let cfg = UruModelConfig {
        faults: vec![UruFault::NoFinger { polls: u32::MAX }],
        ..UruModelConfig::default()
    };
    let (mut d, h) = reader(cfg);
    let begun = Instant::now();
    let err = d.capture(&control(150)).unwrap_err();
    assert!(begun.elapsed() >= Duration::from_millis(150));
    assert!(matches!(err, UruError::NoFinger(_)), "{err}");
    assert!(err.to_string().contains("place the finger"), "{err}");
    assert_eq!(h.with(|m| m.mode()), Mode::Init);
    // The fault was for one wait: the next finger comes.
    assert!(d.capture(&control(2000)).is_ok());
}

#[test]
fn a_late_finger_is_still_taken() {
    let cfg = UruModelConfig {
        faults: vec![UruFault::NoFinger { polls: 20 }],
        ..UruModelConfig::default()
    };
    let (mut d, _h) = reader(cfg);
    assert!(d.capture(&control(3000)).is_ok());
}

#[test]
fn cancel_stops_the_wait_for_a_finger() {
    let cfg = UruModelConfig {
        finger_after_polls: u32::MAX,
        ..UruModelConfig::default()
    };
    let (mut d, _h) = reader(cfg);
    let c = control(10_000);
    let flag = c.cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let begun = Instant::now();
    assert!(matches!(d.capture(&c), Err(UruError::Cancelled)));
    assert!(begun.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_fault_event_is_reported_with_what_to_do() {
    let cfg = UruModelConfig {
        faults: vec![UruFault::FaultEvent],
        ..UruModelConfig::default()
    };
    let (mut d, _h) = reader(cfg);
    let err = d.capture(&control(2000)).unwrap_err();
    assert!(matches!(err, UruError::DeviceFault { .. }), "{err}");
    assert!(err.to_string().contains("unplug it"), "{err}");
}

#[test]
fn a_short_image_transfer_is_an_error_naming_the_bytes() {
    let cfg = UruModelConfig {
        faults: vec![UruFault::ShortImage { bytes: 50_000 }],
        ..UruModelConfig::default()
    };
    let (mut d, _h) = reader(cfg);
    match d.capture(&control(2000)) {
        Err(UruError::ShortImage { got, want }) => assert_eq!((got, want), (50_000, 111_424)),
        other => panic!("{other:?}"),
    }
    assert!(d.capture(&control(2000)).is_ok(), "the next scan works");
}

#[test]
fn a_scrambled_image_is_refused_clearly_until_a_verified_descrambler_exists() {
    let cfg = UruModelConfig {
        faults: vec![UruFault::Scrambled],
        ..UruModelConfig::default()
    };
    let (mut d, _h) = reader(cfg);
    let err = d.capture(&control(2000)).unwrap_err();
    assert!(matches!(err, UruError::Scrambled { blocks: 2 }), "{err}");
    assert!(err.to_string().contains("no verified descrambler"), "{err}");
}

#[test]
fn progress_reports_the_image_transfer() {
    let (mut d, _h) = reader(UruModelConfig::default());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    d.set_transfer_progress(Some(Box::new(move |a, b| s.lock().unwrap().push((a, b)))));
    d.capture_finger(&control(2000)).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(0, 111_424), (111_424, 111_424)]
    );
}

#[test]
fn unplug_mid_transfer_is_disconnected_then_the_reader_is_found_again_after_a_replug() {
    let cfg = UruModelConfig::default();
    let info = device_info(cfg.vid, cfg.pid, Some(cfg.serial.clone()));
    let handle = UruHandle::new(cfg);
    let h = handle.clone();
    let mut r = replugging(move || h.transport(), info, fast()).unwrap();
    r.retry = Duration::from_millis(10);
    assert!(r.capture_finger(&control(2000)).is_ok());

    handle.inject(UruFault::UnplugMidTransfer);
    let err = r.capture_finger(&control(2000)).unwrap_err();
    assert!(matches!(err, DeviceError::Disconnected), "{err}");
    assert!(!r.is_connected());

    // Still unplugged: the capture looks for the reader until its timeout, then says so.
    let err = r.capture_finger(&control(100)).unwrap_err();
    assert!(matches!(err, DeviceError::Disconnected), "{err}");

    // Replugged while the capture waits: it powers the reader up again and takes the finger.
    let h = handle.clone();
    let replug = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        h.replug();
    });
    let img = r.capture_finger(&control(3000)).unwrap();
    replug.join().unwrap();
    assert_eq!((img.width, img.height), (384, 290));
    assert!(r.is_connected());
    let power_ups = writes(&handle, reg::HWSTAT)
        .iter()
        .filter(|v| v[0] & 0x80 != 0)
        .count();
    assert_eq!(
        power_ups, 2,
        "powered up at open and again after the replug"
    );
}

#[test]
fn an_image_read_in_several_bulk_transfers_arrives_whole_and_in_order() {
    use jemput_drivers::uru4000::protocol::{write_register, Event, RawImage, IMAGE_TRANSFER_LEN};
    use jemput_drivers::uru4000::UruModel;
    use jemput_drivers::usb::UsbFunction;

    // The model driven by hand as a host that reads the image 16 KiB at a time (libusb and the
    // kernel split a large transfer into URBs; over USB/IP each arrives separately).
    let mut m = UruModel::new(UruModelConfig::default());
    let mode = |m: &mut UruModel, v: Mode| {
        m.control(&write_register(reg::MODE), &[v.value()], 0)
            .unwrap();
    };
    // Power up as the driver does: HWSTAT bit 7 set, then the power-on event.
    m.control(&write_register(reg::HWSTAT), &[0x80], 0).unwrap();
    assert_eq!(
        Event::decode(&m.interrupt_in(0x81, 64).unwrap().unwrap()).unwrap(),
        Event::PoweredOn
    );
    mode(&mut m, Mode::AwaitFingerOn);
    let mut polls = 0;
    loop {
        polls += 1;
        assert!(polls < 100, "no finger-on event");
        if let Some(e) = m.interrupt_in(0x81, 64).unwrap() {
            if Event::decode(&e).unwrap() == Event::FingerOn {
                break;
            }
        }
    }
    mode(&mut m, Mode::Capture);
    let mut got = Vec::new();
    while let Some(part) = m.bulk_in(0x82, 16 * 1024).unwrap() {
        assert!(!part.is_empty() && part.len() <= 16 * 1024);
        got.extend_from_slice(&part);
    }
    assert_eq!(got.len(), IMAGE_TRANSFER_LEN);
    let raw = RawImage::decode(&got).unwrap();
    assert_eq!(raw.lines.len(), IMAGE_WIDTH * IMAGE_HEIGHT);
    // The same bytes as one whole read of the next capture would give: a print, not padding.
    let (lo, hi) = raw
        .lines
        .iter()
        .fold((255u8, 0u8), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    assert!(hi - lo > 100, "grey levels {lo}..{hi}");
}

/// The reader model's transport, except that the first `empty` interrupt reads complete with no
/// bytes: a zero-length packet, and what libusb reports for a poll that timed out in a usbmon
/// recording replayed by umockdev (the URB comes back with status -ENOENT, which libusb treats as
/// complete with 0 bytes when it did not cancel the transfer itself).
struct EmptyPolls<T> {
    inner: T,
    empty: usize,
}

impl<T: jemput_drivers::usb::UsbTransport> jemput_drivers::usb::UsbTransport for EmptyPolls<T> {
    fn claim_interface(&mut self, n: u8) -> Result<(), jemput_drivers::usb::UsbError> {
        self.inner.claim_interface(n)
    }
    fn release_interface(&mut self, n: u8) -> Result<(), jemput_drivers::usb::UsbError> {
        self.inner.release_interface(n)
    }
    fn control_in(
        &mut self,
        r: jemput_drivers::usb::ControlRequest,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, jemput_drivers::usb::UsbError> {
        self.inner.control_in(r, buf, timeout)
    }
    fn control_out(
        &mut self,
        r: jemput_drivers::usb::ControlRequest,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, jemput_drivers::usb::UsbError> {
        self.inner.control_out(r, data, timeout)
    }
    fn bulk_out(
        &mut self,
        ep: u8,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, jemput_drivers::usb::UsbError> {
        self.inner.bulk_out(ep, data, timeout)
    }
    fn bulk_in(
        &mut self,
        ep: u8,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, jemput_drivers::usb::UsbError> {
        self.inner.bulk_in(ep, buf, timeout)
    }
    fn interrupt_in(
        &mut self,
        ep: u8,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, jemput_drivers::usb::UsbError> {
        if self.empty > 0 {
            self.empty -= 1;
            return Ok(0);
        }
        self.inner.interrupt_in(ep, buf, timeout)
    }
    fn clear_halt(&mut self, ep: u8) -> Result<(), jemput_drivers::usb::UsbError> {
        self.inner.clear_halt(ep)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[test]
fn empty_interrupt_reads_are_no_event_yet_and_the_capture_goes_on() {
    let cfg = UruModelConfig::default();
    let info = device_info(cfg.vid, cfg.pid, Some(cfg.serial.clone()));
    let handle = UruHandle::new(cfg);
    let usb = EmptyPolls {
        inner: handle.transport().unwrap(),
        empty: 3,
    };
    let mut d = Uru4000::open(usb, info, fast()).unwrap();
    d.capture(&control(2000)).unwrap();
    assert_eq!(
        writes(&handle, reg::MODE)[..2],
        [
            vec![Mode::AwaitFingerOn.value()],
            vec![Mode::Capture.value()]
        ]
    );
}
