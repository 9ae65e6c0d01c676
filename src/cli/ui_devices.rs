//! The devices of `jemput ui` without `--sim`: each role's device opened through the driver
//! registry, as `jemput visit capture` opens them — the selector given with `--camera`,
//! `--scanner`, `--pad` or `--gps`, else the first device the registry lists for the role. A role
//! with no device is shown as such on the station's device panel (its steps say so and offer an
//! exception); it never stops the station from starting. `--camera sbi:…` and `--scanner sbi:…`
//! open the kit's SBI camera and single-finger or slap scanner (`jemput_kit::sbi`), every answer
//! checked against the kit's trust store (`jemput sbi trust`): a single-finger scanner
//! (`sbi:PORT/ID/0`) is the station's ordinary scanner; a slap scanner's fingers are taken by
//! slaps, 4-4-2 (the station's slap pages, `station/src/pages/slaps.rs`).

use std::path::Path;

use jemput_core::imaging::face::FaceSettings;
use jemput_core::visit::Visit;
use jemput_drivers::registry::{self, Capability, OpenOptions, OpenedDevice};
use jemput_drivers::Selector;
use jemput_kit::visit::SessionDevices;
use jemput_station::devices::{DeviceSource, Opened, Role};

use super::select::AnySelector;

/// The selectors the operator gave, by role (`None`: the first the registry lists).
#[derive(Debug, Clone, Default)]
pub struct Hardware {
    pub camera: Option<AnySelector>,
    pub scanner: Option<AnySelector>,
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
        fn local(s: &Option<AnySelector>) -> Option<&Selector> {
            match s {
                Some(AnySelector::Local(s)) => Some(s),
                _ => None,
            }
        }
        match role {
            Role::Camera => local(&self.camera),
            Role::Scanner => local(&self.scanner),
            Role::Pad => self.pad.as_ref(),
            Role::Gps => self.gps.as_ref(),
        }
    }

    /// The SBI device the operator named for `role`, if any.
    fn sbi(&self, role: Role) -> Option<&jemput_sbi::client::SbiSelector> {
        match (role, &self.camera, &self.scanner) {
            (Role::Camera, Some(AnySelector::Sbi(s)), _) => Some(s),
            (Role::Scanner, _, Some(AnySelector::Sbi(s))) => Some(s),
            _ => None,
        }
    }

    /// Opens the SBI camera or fingerprint scanner `selector` names into `out`, checked against the
    /// kit's trust store at `home`; its name on the panel, or why it cannot be opened.
    fn open_sbi(
        home: &Path,
        role: Role,
        selector: &jemput_sbi::client::SbiSelector,
        out: &mut SessionDevices,
    ) -> Result<String, String> {
        let trust = super::sbi::kit_trust(home, &[]).map_err(|e| format!("{selector}: {e:#}"))?;
        let name =
            |i: &jemput_drivers::DeviceInfo| format!("{} {} at {selector}", i.driver, i.model);
        match role {
            Role::Camera => {
                let cam = jemput_kit::sbi::SbiCamera::open(selector, trust)
                    .map_err(|e| format!("{selector}: {e}"))?;
                let shown = name(jemput_drivers::Device::info(&cam));
                out.camera = Some(Box::new(cam));
                out.camera_calibration = None;
                Ok(shown)
            }
            Role::Scanner => {
                let scanner = jemput_kit::sbi::SbiFingerDevice::open(selector, trust)
                    .map_err(|e| format!("{selector}: {e}"))?;
                let shown = name(scanner.info());
                out.set_sbi_scanner(scanner);
                Ok(shown)
            }
            other => Err(format!("{selector}: an SBI device cannot be the {other:?}")),
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
            if let Some(selector) = self.sbi(role) {
                match Self::open_sbi(home, role, selector, &mut out.devices) {
                    Ok(name) => out.names.push((role, name)),
                    Err(why) => out.problems.push((role, why)),
                }
                continue;
            }
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
    use jemput_sbi_service::testing::TestService;

    #[test]
    fn each_role_opens_by_its_selector_and_a_wrong_one_is_a_problem_not_an_error() {
        let home = tempfile::tempdir().unwrap();
        let (visit, _) = jemput_kit::visit::sample::synthetic_visit(1, &Default::default());
        let hw = Hardware {
            camera: Some(AnySelector::Local("sim:ptp".parse().unwrap())),
            scanner: Some(AnySelector::Local("sim:ef01".parse().unwrap())),
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

    /// A kit home that trusts the CA at `ca`.
    fn home_trusting(ca: &Path) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        let trust_dir = home.path().join(jemput_kit::sbi::TRUST_DIR);
        std::fs::create_dir_all(&trust_dir).unwrap();
        std::fs::copy(ca, trust_dir.join("station-test.pem")).unwrap();
        home
    }

    /// `jemput ui --camera sbi:… --scanner sbi:…` (without --sim): the station's camera and slap
    /// scanner from an SBI device service (jemput's simulated one, in-process on loopback), opened
    /// only on a kit that trusts the service's CA; on one that trusts none each role is a problem
    /// on the panel saying how to trust it, never an error.
    #[test]
    fn sbi_selectors_open_the_kits_sbi_camera_and_slap_scanner() {
        let svc = TestService::sim(5);
        let port = svc.port;

        let (visit, _) = jemput_kit::visit::sample::synthetic_visit(1, &Default::default());
        let hw = Hardware {
            camera: Some(format!("sbi:{port}/2/0").parse().unwrap()),
            scanner: Some(format!("sbi:{port}/1/1").parse().unwrap()),
            pad: None,
            gps: None,
        };

        let untrusting = tempfile::tempdir().unwrap();
        let opened = hw.open(untrusting.path(), &visit, &FaceSettings::default());
        assert!(opened.devices.camera.is_none() && opened.devices.slap_scanner.is_none());
        for role in [Role::Camera, Role::Scanner] {
            let why = opened
                .problems
                .iter()
                .find(|(r, _)| *r == role)
                .map(|(_, w)| w.clone())
                .unwrap_or_else(|| panic!("{role:?}: {:?}", opened.problems));
            assert!(why.contains("jemput sbi trust add"), "{why}");
        }

        let home = home_trusting(&svc.ca_cert);
        let mut opened = hw.open(home.path(), &visit, &FaceSettings::default());
        assert!(opened.devices.camera.is_some(), "{:?}", opened.problems);
        assert!(
            opened.devices.slap_scanner.is_some(),
            "{:?}",
            opened.problems
        );
        assert!(opened.devices.scanner.is_none());
        let names: Vec<(Role, String)> = opened
            .names
            .iter()
            .filter(|(r, _)| matches!(r, Role::Camera | Role::Scanner))
            .cloned()
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            names[0].1.starts_with("sbi ") && names[0].1.ends_with(&format!("at sbi:{port}/2/0")),
            "{names:?}"
        );
        assert!(
            names[1].1.ends_with(&format!("at sbi:{port}/1/1")),
            "{names:?}"
        );
        // The camera opened is the SBI device: a photo from it, verified, with the device's score.
        let control = jemput_drivers::CaptureControl {
            timeout: std::time::Duration::from_secs(10),
            cancel: Default::default(),
        };
        let cam = opened.devices.camera.as_mut().unwrap();
        let photo = cam.capture_photo(&control).unwrap();
        assert!(photo.width > 0 && !photo.jpeg.is_empty());
        assert!(cam.last_device_quality().is_some());
    }

    /// `jemput ui --scanner sbi:PORT/ID/0`: a single-finger SBI scanner (jemput's own EF01
    /// device model behind the service, as `jemput sbi serve --device sim:ef01` serves it) is the
    /// station's ordinary scanner, the one its finger steps use: told the finger, it asks the
    /// device for that finger and keeps the device's score and original record.
    #[test]
    fn an_sbi_single_finger_scanner_is_the_stations_ordinary_scanner() {
        use jemput_drivers::{Device, FingerprintScanner};
        let backend = super::super::sbi_drivers::open(
            &"sim:ef01".parse().unwrap(),
            &OpenOptions::default(),
            1,
            Default::default(),
        )
        .unwrap();
        let svc = TestService::start(vec![backend]);
        let port = svc.port;
        let (visit, _) = jemput_kit::visit::sample::synthetic_visit(1, &Default::default());
        let hw = Hardware {
            scanner: Some(format!("sbi:{port}/1/0").parse().unwrap()),
            ..Hardware::default()
        };
        let home = home_trusting(&svc.ca_cert);
        let mut opened = hw.open(home.path(), &visit, &FaceSettings::default());
        assert!(opened.devices.slap_scanner.is_none());
        let scanner = opened
            .devices
            .scanner
            .as_mut()
            .unwrap_or_else(|| panic!("{:?}", opened.problems));
        assert_eq!(scanner.info().driver, "sbi");
        let name = &opened
            .names
            .iter()
            .find(|(r, _)| *r == Role::Scanner)
            .unwrap()
            .1;
        assert!(name.ends_with(&format!("at sbi:{port}/1/0")), "{name}");

        scanner.set_finger(7);
        let control = jemput_drivers::CaptureControl {
            timeout: std::time::Duration::from_secs(10),
            cancel: Default::default(),
        };
        let img = scanner.capture_finger(&control).unwrap();
        let record = scanner.last_record().expect("the device's record").to_vec();
        let rec = jemput_core::iso19794::read_finger_record(&record).unwrap();
        assert_eq!(rec.images[0].position.code(), 7, "the finger asked for");
        let decoded = rec.images[0].grey_pixels().unwrap();
        assert_eq!((decoded.width(), decoded.height()), (img.width, img.height));
        assert_eq!(decoded.into_raw(), img.pixels);
        assert_eq!(
            scanner.last_device_quality(),
            Some(f32::from(rec.images[0].quality[0].score))
        );
    }
}
