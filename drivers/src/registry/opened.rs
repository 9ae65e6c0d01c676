//! An opened device ([`OpenedDevice`]): the capability its driver offers, asked for as the one a
//! caller needs, where it is, how its driver was chosen, and the device model behind a `sim:`
//! selector.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use super::factories;
use crate::calibration::{CameraCalibration, CameraSettings, DeviceCalibration, Prompt};
use crate::error::NotCapable;
use crate::sim::SimModel;
use crate::{
    Camera, Capabilities, Capability, CaptureControl, Device, DeviceError, DeviceInfo, FingerImage,
    FingerprintScanner, Fix, FrameMeta, LocationSource, PenTrace, Photo, PreviewStats,
    SignaturePad, TransferProgress,
};

/// How the driver of an opened device was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Identified {
    /// A `sim:` selector names its model.
    Sim,
    /// `--driver` named it.
    Hint,
    /// The port's USB or PNP id is in one driver's table only.
    IdTable,
    /// The device answered a probe.
    Probe,
    /// The device's own description says what it is (a V4L2 node's capabilities).
    DeviceClass,
    /// An SBI device service's discovery lists it (`sbi:` selectors; no jemput driver involved).
    SbiDiscovery,
}

/// An opened device: the driver behind its capability, where it is, and (for `sim:`) the device
/// model it talks to, which lives exactly as long as the device.
#[derive(Debug)]
pub struct OpenedDevice {
    // Declared before `sim`: the driver leaves the device idle on drop while the model still runs.
    pub(super) device: Capabilities,
    pub(super) path: PathBuf,
    pub(super) identified: Identified,
    pub(super) sim: Option<SimModel>,
}

impl OpenedDevice {
    pub fn info(&self) -> &DeviceInfo {
        self.device.info()
    }
    /// Where the driver talks to the device: the tty (a pty for serial `sim:`), the USB selector,
    /// the V4L2 node, or `memory:<model>`.
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn capability(&self) -> Capability {
        self.device.capability()
    }
    pub fn identified_by(&self) -> Identified {
        self.identified
    }
    /// The device model behind a `sim:` selector.
    pub fn sim(&self) -> Option<&SimModel> {
        self.sim.as_ref()
    }
    pub fn capabilities(&mut self) -> &mut Capabilities {
        &mut self.device
    }

    fn not(&self, wanted: Capability) -> NotCapable {
        NotCapable {
            path: self.path.clone(),
            driver: self.info().driver.clone(),
            has: self.capability(),
            wanted,
            sim: factories()
                .iter()
                .filter(|f| f.capability() == wanted)
                .find_map(|f| f.model())
                .map_or("", |m| m.model_name()),
        }
    }

    pub fn scanner(&mut self) -> Result<&mut (dyn FingerprintScanner + Send), NotCapable> {
        let err = self.not(Capability::Fingerprint);
        match &mut self.device {
            Capabilities::Fingerprint(d) => Ok(d.as_mut()),
            _ => Err(err),
        }
    }

    pub fn pad(&mut self) -> Result<&mut (dyn SignaturePad + Send), NotCapable> {
        let err = self.not(Capability::Signature);
        match &mut self.device {
            Capabilities::Signature(d) => Ok(d.as_mut()),
            _ => Err(err),
        }
    }

    pub fn location(&mut self) -> Result<&mut (dyn LocationSource + Send), NotCapable> {
        let err = self.not(Capability::Location);
        match &mut self.device {
            Capabilities::Location(d) => Ok(d.as_mut()),
            _ => Err(err),
        }
    }

    /// The device as the capability it offers, owning all it needs: the device model behind a
    /// `sim:` selector runs until the device is dropped. For a caller that keeps devices by what
    /// they do (a visit's camera, scanner, pad and receiver).
    pub fn into_capabilities(self) -> Capabilities {
        let model = self.sim;
        match self.device {
            Capabilities::Fingerprint(d) => Capabilities::Fingerprint(Box::new(WithModel {
                device: d,
                _model: model,
            })),
            Capabilities::Signature(d) => Capabilities::Signature(Box::new(WithModel {
                device: d,
                _model: model,
            })),
            Capabilities::Location(d) => Capabilities::Location(Box::new(WithModel {
                device: d,
                _model: model,
            })),
            Capabilities::Camera(d) => Capabilities::Camera(Box::new(WithModel {
                device: d,
                _model: model,
            })),
        }
    }

    pub fn camera(&mut self) -> Result<&mut (dyn Camera + Send), NotCapable> {
        let err = self.not(Capability::Camera);
        match &mut self.device {
            Capabilities::Camera(d) => Ok(d.as_mut()),
            _ => Err(err),
        }
    }
}

/// A device and the model it talks to, if any: dropped in that order, so the driver leaves the
/// device idle while the model still runs.
struct WithModel<D> {
    device: D,
    _model: Option<SimModel>,
}

impl<D: Device> Device for WithModel<D> {
    fn info(&self) -> &DeviceInfo {
        self.device.info()
    }
}

impl<D: FingerprintScanner> FingerprintScanner for WithModel<D> {
    fn capture_finger(&mut self, control: &CaptureControl) -> Result<FingerImage, DeviceError> {
        self.device.capture_finger(control)
    }
    fn set_finger(&mut self, position: u8) {
        self.device.set_finger(position)
    }
    fn last_device_quality(&self) -> Option<f32> {
        self.device.last_device_quality()
    }
    fn last_record(&self) -> Option<&[u8]> {
        self.device.last_record()
    }
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        self.device.set_transfer_progress(progress)
    }
    fn calibrate(
        &mut self,
        control: &CaptureControl,
        prompt: &mut dyn FnMut(Prompt),
    ) -> Result<DeviceCalibration, DeviceError> {
        self.device.calibrate(control, prompt)
    }
}

impl<D: SignaturePad> SignaturePad for WithModel<D> {
    fn record_signature(&mut self, control: &CaptureControl) -> Result<PenTrace, DeviceError> {
        self.device.record_signature(control)
    }
    fn record_signature_live(
        &mut self,
        control: &CaptureControl,
        live: &mut dyn FnMut(&crate::captures::PenPoint, (u32, u32)),
    ) -> Result<PenTrace, DeviceError> {
        self.device.record_signature_live(control, live)
    }
    fn apply_calibration(&mut self, data: &serde_json::Value) -> Result<String, DeviceError> {
        self.device.apply_calibration(data)
    }
    fn calibrate(
        &mut self,
        control: &CaptureControl,
        prompt: &mut dyn FnMut(Prompt),
    ) -> Result<DeviceCalibration, DeviceError> {
        self.device.calibrate(control, prompt)
    }
}

impl<D: LocationSource> LocationSource for WithModel<D> {
    fn fix(&mut self, control: &CaptureControl) -> Result<Fix, DeviceError> {
        self.device.fix(control)
    }
}

impl<D: Camera> Camera for WithModel<D> {
    fn capture_photo(&mut self, control: &CaptureControl) -> Result<Photo, DeviceError> {
        self.device.capture_photo(control)
    }
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        self.device.set_transfer_progress(progress)
    }
    fn stream_format(&self) -> Option<String> {
        self.device.stream_format()
    }
    fn last_device_quality(&self) -> Option<f32> {
        self.device.last_device_quality()
    }
    fn preview(
        &mut self,
        frames: u64,
        control: &CaptureControl,
        each: &mut dyn FnMut(&FrameMeta),
    ) -> Result<PreviewStats, DeviceError> {
        self.device.preview(frames, control, each)
    }
    fn live_jpeg(
        &mut self,
        interval: std::time::Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Photo) -> bool,
    ) -> Result<u64, DeviceError> {
        self.device.live_jpeg(interval, control, each)
    }
    fn calibrate(
        &mut self,
        settings: &CameraSettings,
        control: &CaptureControl,
    ) -> Result<CameraCalibration, DeviceError> {
        self.device.calibrate(settings, control)
    }
}
