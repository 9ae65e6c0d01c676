//! jemput's own drivers behind its SBI device service (`jemput sbi serve --device SELECTOR`): a
//! fingerprint scanner (EF01, U.are.U) as a "Finger" / "Single" device, a camera (PTP, UVC) as a
//! "Face" / "Full face" device (docs/sbi.md §6). A webcam also gives the `STREAM` preview (its
//! live frames); a PTP camera and the scanners answer that they give none.
//!
//! The adapters live in the binary: the kit's crates never depend on the device service
//! (tests/architecture.rs). Each device is opened once when the service starts, kept behind a
//! mutex (one capture at a time; another asked meanwhile is answered "busy", 111) and opened again
//! by its selector after an unplug ([`Replugging`]). The service runs every capture on a blocking
//! thread (`spawn_blocking`), so a driver's blocking calls never hold a runtime thread.

use std::sync::{Mutex, TryLockError};
use std::time::Duration;

use jemput_drivers::registry::{self, Capabilities, OpenError, OpenOptions};
use jemput_drivers::replug::Replugging;
use jemput_drivers::{
    Camera, CaptureControl, Device, DeviceError, DeviceInfo, FingerprintScanner, Selector,
    NO_FINGER,
};
use jemput_sbi::proto;
use jemput_sbi_service::records;
use jemput_sbi_service::serve::{no_preview, Backend, CaptureFailure, Captured, UNKNOWN_FINGER};

type Scanner = Replugging<Box<dyn FingerprintScanner + Send>>;
type Cam = Replugging<Box<dyn Camera + Send>>;

/// Opens `selector` (`--driver` and `--baud` for a serial device) as an SBI device: a fingerprint
/// scanner or a camera; any other kind of device is refused, saying so.
pub fn open(
    selector: &Selector,
    options: &OpenOptions,
    index: usize,
    codings: records::Codings,
) -> anyhow::Result<Box<dyn Backend>> {
    let opened =
        registry::open(selector, options).map_err(|e| match super::select::hint_for(&e) {
            Some(hint) => anyhow::anyhow!("{e}\nhint: {hint}"),
            None => anyhow::Error::new(e),
        })?;
    let capability = opened.capability();
    let info = opened.info().clone();
    let serial = serial_of(&info, selector, index);
    let reopen_selector = selector.clone();
    let reopen_options = options.clone();
    // A `sim:` model lives inside the opened device: opening the selector again would start
    // another model, so a simulated device is not reopened (its unplug is final).
    let simulated = matches!(selector, Selector::Sim { .. });
    let reopen = move || -> Result<Capabilities, DeviceError> {
        if simulated {
            return Err(DeviceError::Disconnected);
        }
        registry::open(&reopen_selector, &reopen_options)
            .map(|d| d.into_capabilities())
            .map_err(open_error)
    };
    let backend: Box<dyn Backend> = match opened.into_capabilities() {
        Capabilities::Fingerprint(d) => {
            let reopen = Box::new(move || match reopen()? {
                Capabilities::Fingerprint(d) => Ok(d),
                _ => Err(DeviceError::Protocol(
                    "another kind of device answers at the selector now".into(),
                )),
            });
            Box::new(DriverBackend::<SingleFinger> {
                device: Mutex::new(Replugging::new(d, reopen)),
                info,
                serial,
                coding: codings.finger,
            })
        }
        Capabilities::Camera(d) => {
            let reopen = Box::new(move || match reopen()? {
                Capabilities::Camera(d) => Ok(d),
                _ => Err(DeviceError::Protocol(
                    "another kind of device answers at the selector now".into(),
                )),
            });
            Box::new(DriverBackend::<FaceCamera> {
                device: Mutex::new(Replugging::new(d, reopen)),
                info,
                serial,
                coding: codings.face,
            })
        }
        _ => anyhow::bail!(
            "{selector} is a {} ({} {}): an SBI device service serves fingerprint scanners and \
             cameras only",
            capability.noun(),
            info.driver,
            info.model
        ),
    };
    Ok(backend)
}

/// A device that cannot be opened again after an unplug, as the error its capture answers with:
/// still away (looked for again until the capture's timeout, then 110) unless it is busy or
/// refused. A device coming back may answer its driver's probe badly for a moment, so any other
/// failure to open counts as "still away" too (logged with `-vv`).
fn open_error(e: OpenError) -> DeviceError {
    match e {
        OpenError::Busy { .. } => DeviceError::Busy,
        OpenError::PermissionDenied { .. } => DeviceError::PermissionDenied,
        e => {
            tracing::debug!("the unplugged device does not open again yet: {e}");
            DeviceError::Disconnected
        }
    }
}

/// The device's serial number as its digital ID names it (`serialNo`, `deviceCode`): the one the
/// device reports, else one made of its driver, the service's device number and its selector.
fn serial_of(info: &DeviceInfo, selector: &Selector, index: usize) -> String {
    match info.serial.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => {
            let tail: String = selector
                .to_string()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            format!("JEMPUT-{}-{index}-{tail}", info.driver.to_uppercase())
        }
    }
}

/// The SBI error for a driver error: the specification's code that says what happened (its
/// "Error Codes" table) and an `errorInfo` with the code's message and the driver's own words.
pub fn failure(e: &DeviceError) -> CaptureFailure {
    let code = match e {
        // Nothing on the sensor before the timeout.
        DeviceError::Timeout(_, what) if *what == NO_FINGER => 101,
        DeviceError::Busy => 111,
        DeviceError::Timeout(..)
        | DeviceError::Disconnected
        | DeviceError::PermissionDenied
        | DeviceError::Cancelled
        | DeviceError::Io(_) => 110,
        _ => 102,
    };
    CaptureFailure {
        code,
        info: format!("{}: {e}", proto::error_text(code)),
    }
}

/// The device, or "busy" (111) while another capture holds it. A capture that panicked leaves the
/// driver as it was: the next one uses it (and meets whatever error it then gives).
fn take<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, CaptureFailure> {
    match m.try_lock() {
        Ok(g) => Ok(g),
        Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
        Err(TryLockError::WouldBlock) => Err(CaptureFailure {
            code: 111,
            info: format!("{}: another capture is running", proto::error_text(111)),
        }),
    }
}

fn technical(info: String) -> CaptureFailure {
    CaptureFailure {
        code: 102,
        info: format!("{}: {info}", proto::error_text(102)),
    }
}

/// A driver's device as an SBI device, whatever its kind: the device (one capture or preview at a
/// time), its identity, and what its [`Role`] makes of it. The SBI accessors are written once here.
struct DriverBackend<R: Role> {
    device: Mutex<Replugging<Box<R::Device>>>,
    info: DeviceInfo,
    serial: String,
    /// How its records code the image.
    coding: R::Coding,
}

/// What a kind of driver device is to SBI and how it captures and previews: all a
/// [`DriverBackend`] of that kind writes on its own.
trait Role: Send + Sync + 'static {
    /// The drivers' trait object it drives.
    type Device: ?Sized + Send;
    /// How its records code the image (`jemput sbi serve --finger-image` / `--face-image`).
    type Coding: Copy + Send + Sync;
    const BIO_TYPE: &'static str;
    const DEVICE_SUB_TYPE: &'static str;
    fn capture(
        device: &Mutex<Replugging<Box<Self::Device>>>,
        fingers: &[u8],
        control: &CaptureControl,
        coding: Self::Coding,
    ) -> Result<Vec<Captured>, CaptureFailure>;
    fn preview(
        device: &Mutex<Replugging<Box<Self::Device>>>,
        interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<(), CaptureFailure>;
}

impl<R: Role> Backend for DriverBackend<R> {
    fn bio_type(&self) -> &'static str {
        R::BIO_TYPE
    }
    fn device_sub_type(&self) -> &'static str {
        R::DEVICE_SUB_TYPE
    }
    fn make(&self) -> String {
        self.info.driver.clone()
    }
    fn model(&self) -> String {
        self.info.model.clone()
    }
    fn serial(&self) -> String {
        self.serial.clone()
    }
    /// `deviceSubId` 0: neither kind has sub-devices.
    fn sub_ids(&self) -> Vec<u8> {
        vec![0]
    }
    fn capture(
        &self,
        _sub_id: u8,
        fingers: &[u8],
        _exceptions: &[String],
        control: &CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        R::capture(&self.device, fingers, control, self.coding)
    }
    fn preview(
        &self,
        _sub_id: u8,
        interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<(), CaptureFailure> {
        R::preview(&self.device, interval, control, each)
    }
}

/// A single-finger scanner: "Finger", "Single", `deviceSubId` 0.
struct SingleFinger;

impl Role for SingleFinger {
    type Device = dyn FingerprintScanner + Send;
    type Coding = records::FingerCoding;
    const BIO_TYPE: &'static str = "Finger";
    const DEVICE_SUB_TYPE: &'static str = "Single";

    fn capture(
        device: &Mutex<Scanner>,
        fingers: &[u8],
        control: &CaptureControl,
        coding: records::FingerCoding,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        // The service hands a single-finger device exactly one finger (0: not named).
        let &[position] = fingers else {
            return Err(CaptureFailure {
                code: 109,
                info: format!("{}: one finger at a time", proto::error_text(109)),
            });
        };
        let img = {
            let mut dev = take(device)?;
            dev.capture_finger(control).map_err(|e| failure(&e))?
        };
        if img.pixels.len() != (img.width as usize) * (img.height as usize) {
            return Err(technical(format!(
                "the scanner returned {} bytes for a {} × {} image",
                img.pixels.len(),
                img.width,
                img.height
            )));
        }
        let quality = finger_quality(&img);
        let record = records::finger_record(&img, position, quality, coding).map_err(technical)?;
        Ok(vec![Captured {
            sub_type: Some(
                proto::finger_name(position)
                    .unwrap_or(UNKNOWN_FINGER)
                    .to_string(),
            ),
            record,
            quality: f32::from(quality),
        }])
    }

    /// None: jemput's scanner drivers give one image per capture, waiting for a finger each time
    /// (an EF01 takes about a second to send one over its serial link), not a live image.
    fn preview(
        _device: &Mutex<Scanner>,
        _interval: Duration,
        _control: &CaptureControl,
        _each: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<(), CaptureFailure> {
        Err(no_preview(
            "a single-finger scanner gives one image per capture, not a live image",
        ))
    }
}

/// jemput's own quality (`jemput-fq/1`, 0–100; not NFIQ) of the image as the scanner gave it,
/// before WSQ: the device quality a scanner without a score of its own reports.
fn finger_quality(img: &jemput_drivers::FingerImage) -> u8 {
    use jemput_core::imaging::quality::{FingerQuality, JemputFq};
    image::GrayImage::from_raw(img.width, img.height, img.pixels.clone())
        .map(|g| JemputFq.score(&g).score)
        .unwrap_or(0)
}

/// A camera: "Face", "Full face", `deviceSubId` 0.
struct FaceCamera;

impl Role for FaceCamera {
    type Device = dyn Camera + Send;
    type Coding = records::FaceCoding;
    const BIO_TYPE: &'static str = "Face";
    const DEVICE_SUB_TYPE: &'static str = "Full face";

    fn capture(
        device: &Mutex<Cam>,
        _fingers: &[u8],
        control: &CaptureControl,
        coding: records::FaceCoding,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        let (photo, device_quality) = {
            let mut dev = take(device)?;
            let photo = dev.capture_photo(control).map_err(|e| failure(&e))?;
            (photo, dev.last_device_quality())
        };
        let rgb = image::load_from_memory_with_format(&photo.jpeg, image::ImageFormat::Jpeg)
            .map_err(|e| {
                technical(format!(
                    "the camera's photo is not a JPEG that decodes: {e}"
                ))
            })?
            .to_rgb8();
        let quality = device_quality.unwrap_or_else(|| f32::from(face_quality(&rgb)));
        let record = records::face_record_photo(photo.jpeg, &rgb, coding).map_err(technical)?;
        Ok(vec![Captured {
            sub_type: None,
            record,
            quality,
        }])
    }

    /// The camera's live frames (a webcam's stream, `Camera::live_jpeg`), held for the preview; a
    /// camera without one (PTP: jemput's driver takes stills only) answers [`no_preview`].
    fn preview(
        device: &Mutex<Cam>,
        interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<(), CaptureFailure> {
        let mut dev = take(device)?;
        match dev.live_jpeg(interval, control, &mut |photo| each(photo.jpeg)) {
            Ok(_) => Ok(()),
            Err(DeviceError::NotSupported(_)) => Err(no_preview(&format!(
                "{} {} takes stills only",
                dev.info().driver,
                dev.info().model
            ))),
            Err(e) => Err(failure(&e)),
        }
    }
}

/// jemput's own face photo score (0–100, `FaceReport::quality_score`: the margin of the weakest
/// of the built-in checks at their default thresholds; not an ISO/IEC 29794-5 score).
fn face_quality(rgb: &image::RgbImage) -> u8 {
    use jemput_core::imaging::face::{FaceChecker, FaceContext, FacePhoto, FaceSettings};
    FaceChecker::new(&FaceSettings::default())
        .run(&FacePhoto::new(rgb.clone()), &FaceContext::default())
        .quality_score()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn driver_errors_map_to_the_specifications_codes() {
        let no_finger = DeviceError::Timeout(Duration::from_secs(5), NO_FINGER);
        assert_eq!(failure(&no_finger).code, 101);
        assert!(failure(&no_finger)
            .info
            .starts_with("Unable to detect a biometric object: timed out"));
        assert_eq!(failure(&DeviceError::Busy).code, 111);
        assert_eq!(failure(&DeviceError::Disconnected).code, 110);
        assert_eq!(
            failure(&DeviceError::Timeout(Duration::from_secs(5), "the photo")).code,
            110
        );
        let bad = failure(&DeviceError::BadData("a short image".into()));
        assert_eq!(bad.code, 102);
        assert!(bad.info.contains("a short image"), "{}", bad.info);
    }

    #[test]
    fn a_device_without_a_serial_gets_one_from_its_driver_and_selector() {
        let info = DeviceInfo {
            driver: "ef01".into(),
            model: "R307".into(),
            serial: None,
            firmware: None,
        };
        let sel: Selector = "sim:ef01".parse().unwrap();
        assert_eq!(serial_of(&info, &sel, 3), "JEMPUT-EF01-3-simef010");
        let info = DeviceInfo {
            serial: Some("AB12".into()),
            ..info
        };
        assert_eq!(serial_of(&info, &sel, 3), "AB12");
    }
}
