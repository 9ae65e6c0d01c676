//! How the registry knows ISDV4 pen digitizers: their factory (the PNP ids of built-in
//! digitizers and the USB-serial bridges of stand-alone pads, opening on a port, which errors mean
//! "not an ISDV4 pad") and their device model's `sim:` entry with its faults.

use std::time::Duration;

use super::Isdv4ModelConfig;
use super::{ids, Handwriting, Isdv4, Isdv4Config, Isdv4Error, Isdv4Fault, Isdv4Model};
use crate::error::OpenError;
use crate::factory::{Attempt, DeviceFactory, DriverOptions, Recognised, Seen, Target, Transport};
use crate::sim::{unknown_fault, DeviceModel, ModelDevice, SimFault, SimOptions};
use crate::{Capabilities, Capability};

/// Wacom ISDV4 / W8001 serial pen digitizers (signature pads, TabletPC screens).
#[derive(Debug)]
pub struct Isdv4Factory;

static FAULTS: &[SimFault] = &[
    SimFault {
        name: "garbage",
        help: "junk bytes before every 7th pen packet (the driver resynchronises)",
    },
    SimFault {
        name: "no-reply",
        help: "the pad ignores the pen query",
    },
    SimFault {
        name: "truncate",
        help: "every 11th pen packet is cut short",
    },
    SimFault {
        name: "unplug",
        help: "the pad goes away after 50 pen packets",
    },
];

/// Who signs on the simulated pad, by `sim:isdv4:<n>`.
const SIGNERS: &[&str] = &[
    "Siti Aminah",
    "La Ode Rahman",
    "Wa Ode Nurhaya",
    "Andi Baso",
];

impl DeviceFactory for Isdv4Factory {
    fn name(&self) -> &'static str {
        "isdv4"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["w8001"]
    }
    fn description(&self) -> &'static str {
        "Wacom ISDV4/W8001 serial pen digitizer (signature pad)"
    }
    fn capability(&self) -> Capability {
        Capability::Signature
    }
    fn transport(&self) -> Transport {
        Transport::Serial {
            default_baud: 19_200,
        }
    }
    fn recognise(&self, seen: &Seen<'_>) -> Option<Recognised> {
        let Seen::SerialPort { usb, pnp_ids } = seen else {
            return None;
        };
        let by_usb = usb.and_then(|(vid, pid)| {
            ids::USB_SERIAL_IDS
                .iter()
                .find(|i| (i.vid, i.pid) == (vid, pid))
                .map(|i| Recognised::named(i.name))
        });
        by_usb.or_else(|| {
            pnp_ids.iter().find_map(|id| {
                let p = ids::PNP_IDS
                    .iter()
                    .find(|p| p.id.eq_ignore_ascii_case(id))?;
                Some(Recognised {
                    matched: p.name.into(),
                    baud: Some(p.baud),
                })
            })
        })
    }
    fn open(&self, target: Target<'_>, options: &DriverOptions) -> Attempt {
        let Target::Port(link) = target else {
            return Attempt::wrong_target(self.name(), &target);
        };
        let mut config = Isdv4Config {
            baud: options.baud,
            ..Isdv4Config::default()
        };
        if options.simulated {
            // The fast model plays a signature at once: no need to wait long for the pen to lift.
            config.idle_end = Duration::from_millis(400);
        }
        match Isdv4::new(link, config) {
            Ok(d) => Attempt::Opened(Capabilities::Signature(Box::new(d))),
            Err(
                e @ (Isdv4Error::NoReply { .. }
                | Isdv4Error::BadReply { .. }
                | Isdv4Error::BadCaps { .. }),
            ) => Attempt::NoAnswer(Box::new(e)),
            Err(e) => Attempt::failed(e),
        }
    }
    fn model(&self) -> Option<&dyn DeviceModel> {
        Some(self)
    }
}

impl DeviceModel for Isdv4Factory {
    fn model_name(&self) -> &'static str {
        "isdv4"
    }
    fn faults(&self) -> &'static [SimFault] {
        FAULTS
    }
    fn start(&self, options: &SimOptions) -> Result<ModelDevice, OpenError> {
        let mut model = Isdv4ModelConfig {
            handwriting: Handwriting::Signature {
                seed: 1 + u64::from(options.index),
                name: SIGNERS[options.index as usize % SIGNERS.len()].into(),
            },
            // `jemput sim` runs for a while: sign again for every new session.
            repeat_after: Some(Duration::from_secs(5)),
            ..Isdv4ModelConfig::default()
        };
        if options.fast {
            model = model.fast();
        }
        for name in &options.faults {
            model.faults.push(match name.as_str() {
                "garbage" => Isdv4Fault::Garbage { every: 7 },
                "no-reply" => Isdv4Fault::NoReply,
                "truncate" => Isdv4Fault::Truncate { every: 11 },
                "unplug" => Isdv4Fault::Unplug { after: 50 },
                other => return Err(unknown_fault("isdv4", other, FAULTS)),
            });
        }
        Ok(model.into())
    }
}

/// A pen pad model as the registry starts it (on a new pty): `sim:isdv4`, or a caller's own
/// (`registry::open_model`). On a pty the model outlives the driver closing the slave (and its
/// reads before the driver first opens it).
impl From<Isdv4ModelConfig> for ModelDevice {
    fn from(mut model: Isdv4ModelConfig) -> ModelDevice {
        model.survive_hangup = true;
        ModelDevice::Serial {
            baud: model.baud,
            run: Box::new(move |link| Box::new(Isdv4Model::spawn(link, model))),
        }
    }
}
