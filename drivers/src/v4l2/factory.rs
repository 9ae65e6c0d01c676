//! How the registry knows V4L2 video capture nodes (UVC webcams): their factory, recognising a
//! node by what QUERYCAP says it does, and opening one by its path (`v4l2:` selectors) at the
//! largest frame size within [`crate::factory::CameraOptions::max_size`]. A camera unplugged
//! mid-capture is opened again by the same path at the next capture (a `/dev/v4l/by-id/…` path
//! keeps its name across a replug; `/dev/videoN` may not). There is no V4L2 device model: the
//! VM tier uses the kernel's `vivid`.

use super::{V4l2Camera, V4l2Config};
use crate::factory::{Attempt, DeviceFactory, DriverOptions, Recognised, Seen, Target, Transport};
use crate::replug::Replugging;
use crate::{Capabilities, Capability, DeviceError, Selector};

/// V4L2 video capture nodes (UVC webcams).
#[derive(Debug)]
pub struct V4l2Factory;

impl DeviceFactory for V4l2Factory {
    fn name(&self) -> &'static str {
        "v4l2"
    }
    fn description(&self) -> &'static str {
        "V4L2 video capture node (UVC webcam)"
    }
    fn capability(&self) -> Capability {
        Capability::Camera
    }
    fn transport(&self) -> Transport {
        Transport::V4l2
    }
    fn recognise(&self, seen: &Seen<'_>) -> Option<Recognised> {
        let Seen::VideoNode {
            capture,
            card,
            driver,
        } = *seen
        else {
            return None;
        };
        // A node known not to capture video (a UVC camera's metadata node) is not a camera.
        if capture == Some(false) {
            return None;
        }
        Some(Recognised::named(match (card, driver) {
            (Some(card), Some(d)) => format!("V4L2 video capture: {card} ({d})"),
            (None, Some(d)) => format!("V4L2 video node ({d})"),
            _ => "V4L2 video node".to_string(),
        }))
    }
    fn open(&self, target: Target<'_>, options: &DriverOptions) -> Attempt {
        let Target::Selector(Selector::V4l2(path)) = target else {
            return Attempt::wrong_target(self.name(), &target);
        };
        let config = V4l2Config {
            max_size: options
                .camera
                .max_size
                .unwrap_or(V4l2Config::default().max_size),
            ..V4l2Config::default()
        };
        let again = path.clone();
        let camera = V4l2Camera::open(path, config.clone()).map(|camera| {
            let reopen = Box::new(move || {
                V4l2Camera::open(&again, config.clone()).map_err(DeviceError::from)
            });
            Capabilities::Camera(Box::new(Replugging::new(camera, reopen)))
        });
        Attempt::of(camera)
    }
}
