//! The devices of `jemput ui` without `--sim`: each role's device opened through the driver
//! registry, as `jemput visit capture` opens them — the selector given with `--camera`,
//! `--scanner`, `--pad` or `--gps`, else the first device the registry lists for the role. A role
//! with no device is shown as such on the station's device panel (its steps say so and offer an
//! exception); it never stops the station from starting.

use std::path::Path;

use jemput_core::imaging::face::FaceSettings;
use jemput_core::visit::Visit;
use jemput_drivers::registry::{self, Capability, OpenOptions, OpenedDevice};
use jemput_drivers::Selector;
use jemput_kit::visit::SessionDevices;
use jemput_station::devices::{DeviceSource, Opened, Role};

/// The selectors the operator gave, by role (`None`: the first the registry lists).
#[derive(Debug, Clone, Default)]
pub struct Hardware {
    pub camera: Option<Selector>,
    pub scanner: Option<Selector>,
    pub pad: Option<Selector>,
    pub gps: Option<Selector>,
}

fn capability(role: Role) -> Capability {
    match role {
        Role::Camera => Capability::Camera,
        Role::Scanner => Capability::Fingerprint,
        Role::Pad => Capability::Signature,
        Role::Gps => Capability::Location,
    }
}

impl Hardware {
    fn selector(&self, role: Role) -> Option<&Selector> {
        match role {
            Role::Camera => self.camera.as_ref(),
            Role::Scanner => self.scanner.as_ref(),
            Role::Pad => self.pad.as_ref(),
            Role::Gps => self.gps.as_ref(),
        }
    }

    /// Opens the device for `role`: by its selector, else the first listed device a driver of
    /// the role's capability recognises.
    fn open_role(&self, role: Role) -> Result<OpenedDevice, String> {
        let wanted = capability(role);
        let options = OpenOptions {
            wanted: Some(wanted),
            ..OpenOptions::default()
        };
        let selector = match self.selector(role) {
            Some(s) => s.clone(),
            None => {
                let found = registry::list();
                let d = found
                    .iter()
                    .find(|d| d.drivers.iter().any(|c| c.capability == wanted))
                    .ok_or_else(|| format!("no {} is connected", wanted.noun()))?;
                d.selector
                    .parse::<Selector>()
                    .map_err(|e| format!("{}: {e}", d.selector))?
            }
        };
        let opened = registry::open(&selector, &options).map_err(|e| format!("{selector}: {e}"))?;
        if opened.capability() != wanted {
            return Err(format!(
                "{selector} is a {}, not a {}",
                opened.capability().noun(),
                wanted.noun()
            ));
        }
        Ok(opened)
    }
}

impl DeviceSource for Hardware {
    fn open(&self, home: &Path, _visit: &Visit, _face: &FaceSettings) -> Opened {
        let mut out = Opened::default();
        for role in Role::ALL {
            let opened = match self.open_role(role) {
                Ok(d) => d,
                Err(why) => {
                    out.problems.push((role, why));
                    continue;
                }
            };
            let i = opened.info();
            let name = format!("{} {} on {}", i.driver, i.model, opened.path().display());
            // Each device alone, so one whose calibration is unusable leaves the others.
            match SessionDevices::from_opened(home, vec![opened]) {
                Ok(d) => {
                    out.devices.replace_with(d);
                    out.names.push((role, name));
                }
                Err(e) => out.problems.push((role, e.to_string())),
            }
        }
        out
    }

    fn realtime(&self) -> bool {
        true
    }

    fn simulated(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_opens_by_its_selector_and_a_wrong_one_is_a_problem_not_an_error() {
        let home = tempfile::tempdir().unwrap();
        let (visit, _) = jemput_kit::visit::sample::synthetic_visit(1, &Default::default());
        let hw = Hardware {
            camera: Some("sim:ptp".parse().unwrap()),
            scanner: Some("sim:ef01".parse().unwrap()),
            // A pad's selector given for the GPS receiver.
            gps: Some("sim:isdv4".parse().unwrap()),
            pad: Some("sim:isdv4".parse().unwrap()),
        };
        let opened = hw.open(home.path(), &visit, &FaceSettings::default());
        assert!(opened.devices.camera.is_some());
        assert!(opened.devices.scanner.is_some());
        assert!(opened.devices.pad.is_some());
        assert!(opened.devices.gps.is_none());
        let roles: Vec<Role> = opened.names.iter().map(|(r, _)| *r).collect();
        assert_eq!(roles, [Role::Camera, Role::Scanner, Role::Pad]);
        assert!(opened.names[1].1.starts_with("ef01 "), "{:?}", opened.names);
        let [(Role::Gps, why)] = opened.problems.as_slice() else {
            panic!("{:?}", opened.problems)
        };
        assert!(why.contains("sim:isdv4"), "{why}");
    }
}
