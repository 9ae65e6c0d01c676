//! How the registry knows EF01 modules: their factory (the USB-serial bridges they sit behind,
//! opening on a port, which errors mean "not an EF01 module") and their device model's `sim:`
//! entry with its faults.

use super::{ids, Ef01, Ef01Config, Ef01Error, Ef01Model, Fault, ModelOptions};
use crate::error::OpenError;
use crate::factory::{Attempt, DeviceFactory, DriverOptions, Recognised, Seen, Target, Transport};
use crate::sim::{unknown_fault, DeviceModel, ModelDevice, SimFault, SimOptions};
use crate::{Capabilities, Capability, FingerPosition};

/// EF01 serial fingerprint modules (ZFM-20, R30x, R50x, AS608).
#[derive(Debug)]
pub struct Ef01Factory;

static FAULTS: &[SimFault] = &[
    SimFault {
        name: "checksum",
        help: "the next image transfer has a damaged packet (the driver retries)",
    },
    SimFault {
        name: "garbage",
        help: "junk bytes before the next reply",
    },
    SimFault {
        name: "truncated",
        help: "the next image transfer is cut short mid-packet (the driver retries)",
    },
    SimFault {
        name: "unplug",
        help: "the module is unplugged during the next image transfer",
    },
    SimFault {
        name: "wrong-password",
        help: "the next password check fails",
    },
];

impl DeviceFactory for Ef01Factory {
    fn name(&self) -> &'static str {
        "ef01"
    }
    fn description(&self) -> &'static str {
        "EF01 serial fingerprint module (ZFM-20, R30x, R50x, AS608)"
    }
    fn capability(&self) -> Capability {
        Capability::Fingerprint
    }
    fn transport(&self) -> Transport {
        Transport::Serial {
            default_baud: 57_600,
        }
    }
    fn recognise(&self, seen: &Seen<'_>) -> Option<Recognised> {
        let Seen::SerialPort {
            usb: Some((vid, pid)),
            ..
        } = seen
        else {
            return None;
        };
        ids::bridge(*vid, *pid).map(|b| Recognised::named(b.chip))
    }
    fn open(&self, target: Target<'_>, options: &DriverOptions) -> Attempt {
        let Target::Port(link) = target else {
            return Attempt::wrong_target(self.name(), &target);
        };
        let config = Ef01Config {
            line_baud: options.baud,
            ..Ef01Config::default()
        };
        match Ef01::open_with(link, config) {
            Ok(d) => Attempt::Opened(Capabilities::Fingerprint(Box::new(d))),
            // Silence or bytes that are not EF01 frames: not a module (or not at this speed).
            Err(
                e @ (Ef01Error::Timeout { .. }
                | Ef01Error::Checksum { .. }
                | Ef01Error::Truncated { .. }
                | Ef01Error::UnexpectedReply { .. }),
            ) => Attempt::NoAnswer(Box::new(e)),
            Err(e) => Attempt::failed(e),
        }
    }
    fn model(&self) -> Option<&dyn DeviceModel> {
        Some(self)
    }
}

impl DeviceModel for Ef01Factory {
    fn model_name(&self) -> &'static str {
        "ef01"
    }
    fn faults(&self) -> &'static [SimFault] {
        FAULTS
    }
    fn start(&self, options: &SimOptions) -> Result<ModelDevice, OpenError> {
        let mut model = if options.fast {
            ModelOptions::fast()
        } else {
            ModelOptions::default()
        };
        model.person_seed = 1 + u64::from(options.index);
        model.first_finger = FingerPosition::new(2).expect("right index");
        for name in &options.faults {
            model.faults.push(match name.as_str() {
                "checksum" => Fault::ChecksumError { packet: 3 },
                "garbage" => Fault::Garbage(vec![0x00, 0x55, 0xEF, 0x13, 0x37]),
                "truncated" => Fault::TruncatedPacket { packet: 3 },
                "unplug" => Fault::UnplugMidTransfer { packet: 10 },
                "wrong-password" => Fault::WrongPassword,
                other => return Err(unknown_fault("ef01", other, FAULTS)),
            });
        }
        Ok(model.into())
    }
}

/// An EF01 module model as the registry starts it (on a new pty): `sim:ef01`, or a caller's own
/// (`registry::open_model`).
impl From<ModelOptions> for ModelDevice {
    fn from(model: ModelOptions) -> ModelDevice {
        ModelDevice::Serial {
            baud: model.baud,
            run: Box::new(move |link| Box::new(Ef01Model::spawn(link, model))),
        }
    }
}
