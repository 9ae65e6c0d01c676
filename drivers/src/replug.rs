//! A device that survives a replug, for any driver behind the [`Camera`] or
//! [`FingerprintScanner`] traits: when a capture fails with [`DeviceError::Disconnected`] the
//! driver is dropped, and the next capture opens the device again through `reopen` (by its
//! selector, never by the old bus address), waiting up to that capture's timeout for it to come
//! back. Transfer progress set on it reaches every driver it opens; a calibration goes to the
//! connected driver the same way.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::calibration::{CameraCalibration, CameraSettings, DeviceCalibration, Prompt};
use crate::{
    Camera, CaptureControl, Device, DeviceError, DeviceInfo, FingerImage, FingerprintScanner,
    FrameMeta, Photo, PreviewStats, TransferProgress,
};

/// Opens the device again (for example by its selector).
pub type Reopen<D> = Box<dyn FnMut() -> Result<D, DeviceError> + Send>;

/// A driver that is opened again after an unplug.
pub struct Replugging<D> {
    reopen: Reopen<D>,
    info: DeviceInfo,
    device: Option<D>,
    /// Where the drivers' transfer progress goes (each driver gets a forwarder to it).
    progress: Arc<Mutex<Option<TransferProgress>>>,
    /// How often to look for the device while it is away.
    pub retry: Duration,
}

impl<D> std::fmt::Debug for Replugging<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replugging")
            .field("info", &self.info)
            .field("connected", &self.device.is_some())
            .finish_non_exhaustive()
    }
}

impl<D: Device> Replugging<D> {
    /// Wraps the open `device`; `reopen` finds it again after an unplug.
    pub fn new(device: D, reopen: Reopen<D>) -> Self {
        Replugging {
            info: device.info().clone(),
            reopen,
            device: Some(device),
            progress: Arc::default(),
            retry: Duration::from_millis(200),
        }
    }

    /// Whether the device is connected now (as far as the last capture knows).
    pub fn is_connected(&self) -> bool {
        self.device.is_some()
    }

    /// A progress callback that forwards to the one set on this wrapper (if any).
    fn forwarder(&self) -> TransferProgress {
        let to = self.progress.clone();
        Box::new(move |done, total| {
            if let Some(p) = to.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                p(done, total);
            }
        })
    }

    /// Sets where transfer progress goes, for this driver and every one opened after a replug;
    /// `install` hands a forwarder to a driver.
    fn set_progress(
        &mut self,
        progress: Option<TransferProgress>,
        install: fn(&mut D, Option<TransferProgress>),
    ) {
        let on = progress.is_some();
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = progress;
        let forward = on.then(|| self.forwarder());
        if let Some(d) = self.device.as_mut() {
            install(d, forward);
        }
    }

    /// Runs one capture, opening the device again first if it went away, within the capture's
    /// timeout; `install` gives a newly opened driver the progress forwarder.
    fn run<R>(
        &mut self,
        control: &CaptureControl,
        install: fn(&mut D, Option<TransferProgress>),
        capture: impl FnOnce(&mut D, &CaptureControl) -> Result<R, DeviceError>,
    ) -> Result<R, DeviceError> {
        let begun = Instant::now();
        let deadline = begun + control.timeout;
        while self.device.is_none() {
            if control.cancel.load(Ordering::SeqCst) {
                return Err(DeviceError::Cancelled);
            }
            match (self.reopen)() {
                Ok(mut d) => {
                    tracing::info!(info = ?self.info, "the device is back");
                    let on = self
                        .progress
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .is_some();
                    install(&mut d, on.then(|| self.forwarder()));
                    self.device = Some(d);
                }
                Err(e @ (DeviceError::Disconnected | DeviceError::Busy)) => {
                    if Instant::now() + self.retry >= deadline {
                        return Err(e);
                    }
                    std::thread::sleep(self.retry);
                }
                Err(e) => return Err(e),
            }
        }
        let left = control.timeout.saturating_sub(begun.elapsed());
        let control = CaptureControl {
            timeout: left.max(Duration::from_millis(1)),
            cancel: control.cancel.clone(),
        };
        let device = self.device.as_mut().expect("connected above");
        let result = capture(device, &control);
        if matches!(result, Err(DeviceError::Disconnected)) {
            tracing::warn!(info = ?self.info, "the device went away; it is looked for again at the next capture");
            self.device = None;
        }
        result
    }
}

impl<D> Device for Replugging<D> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
}

impl<D: Camera> Camera for Replugging<D> {
    fn capture_photo(&mut self, control: &CaptureControl) -> Result<Photo, DeviceError> {
        self.run(control, D::set_transfer_progress, |d, c| d.capture_photo(c))
    }
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        self.set_progress(progress, D::set_transfer_progress);
    }
    /// The connected camera's format (`None` while it is away).
    fn stream_format(&self) -> Option<String> {
        self.device.as_ref().and_then(D::stream_format)
    }
    fn last_device_quality(&self) -> Option<f32> {
        self.device.as_ref().and_then(D::last_device_quality)
    }
    fn preview(
        &mut self,
        frames: u64,
        control: &CaptureControl,
        each: &mut dyn FnMut(&FrameMeta),
    ) -> Result<PreviewStats, DeviceError> {
        self.run(control, D::set_transfer_progress, |d, c| {
            d.preview(frames, c, each)
        })
    }
    fn live_jpeg(
        &mut self,
        interval: std::time::Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Photo) -> bool,
    ) -> Result<u64, DeviceError> {
        self.run(control, D::set_transfer_progress, |d, c| {
            d.live_jpeg(interval, c, each)
        })
    }
    fn calibrate(
        &mut self,
        settings: &CameraSettings,
        control: &CaptureControl,
    ) -> Result<CameraCalibration, DeviceError> {
        self.run(control, D::set_transfer_progress, |d, c| {
            d.calibrate(settings, c)
        })
    }
}

impl<D: FingerprintScanner> FingerprintScanner for Replugging<D> {
    fn capture_finger(&mut self, control: &CaptureControl) -> Result<FingerImage, DeviceError> {
        self.run(control, D::set_transfer_progress, |d, c| {
            d.capture_finger(c)
        })
    }
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        self.set_progress(progress, D::set_transfer_progress);
    }
    fn calibrate(
        &mut self,
        control: &CaptureControl,
        prompt: &mut dyn FnMut(Prompt),
    ) -> Result<DeviceCalibration, DeviceError> {
        self.run(control, D::set_transfer_progress, |d, c| {
            d.calibrate(c, prompt)
        })
    }
}
