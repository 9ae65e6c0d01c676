//! How the registry knows NMEA-0183 GPS receivers: their factory (the USB ids receivers show up
//! with, and opening on a port: a receiver needs no initialisation, so it is recognised by
//! listening for one valid sentence) and their device model's `sim:gps` entry with its faults.

use std::time::{Duration, Instant};

use super::protocol::{self, LineReader};
use super::{ids, NmeaConfig, NmeaFault, NmeaGps, NmeaModel, NmeaModelConfig};
use crate::error::OpenError;
use crate::factory::{Attempt, DeviceFactory, DriverOptions, Recognised, Seen, Target, Transport};
use crate::sim::{unknown_fault, DeviceModel, ModelDevice, SimFault, SimOptions};
use crate::transport::{LinkError, PortLink, SerialLink};
use crate::{Capabilities, Capability};

/// NMEA-0183 GPS receivers (location source).
#[derive(Debug)]
pub struct NmeaFactory;

/// How long the probe listens for one valid NMEA sentence (receivers talk at least once a second).
pub const NMEA_PROBE: Duration = Duration::from_millis(2_500);

static FAULTS: &[SimFault] = &[
    SimFault {
        name: "bad-checksum",
        help: "every 3rd sentence has a wrong checksum",
    },
    SimFault {
        name: "cold-start",
        help: "no fix for the first 10 epochs",
    },
    SimFault {
        name: "garbage",
        help: "junk and a cut-off sentence before every 2nd epoch",
    },
    SimFault {
        name: "silent",
        help: "the receiver writes nothing",
    },
];

/// Listens on `link` until one NMEA sentence with a valid checksum arrives, or `within`.
fn hears_nmea(link: &mut PortLink, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let mut reader = LineReader::new();
    let mut buf = [0u8; 256];
    let mut rejected = 0;
    loop {
        match link.read_some(&mut buf, deadline) {
            Ok(n) => {
                for line in reader.push(&buf[..n]) {
                    if protocol::parse(&line).is_ok() {
                        return Ok(());
                    }
                    rejected += 1;
                }
            }
            Err(LinkError::Timeout(_)) => {
                return Err(format!(
                    "no NMEA sentence within {within:?} ({rejected} lines rejected, {} bytes of noise); \
                     check the cable and the baud rate (most receivers use 4800 or 9600: --baud)",
                    reader.dropped()
                ))
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

impl DeviceFactory for NmeaFactory {
    fn name(&self) -> &'static str {
        "nmea"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["gps"]
    }
    fn description(&self) -> &'static str {
        "NMEA-0183 GPS receiver (location source)"
    }
    fn capability(&self) -> Capability {
        Capability::Location
    }
    fn transport(&self) -> Transport {
        Transport::Serial {
            default_baud: NmeaConfig::default().baud,
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
        ids::USB_IDS
            .iter()
            .find(|i| (i.vid, i.pid) == (*vid, *pid))
            .map(|i| Recognised {
                matched: i.name.into(),
                baud: Some(i.baud),
            })
    }
    fn open(&self, target: Target<'_>, options: &DriverOptions) -> Attempt {
        let Target::Port(mut link) = target else {
            return Attempt::wrong_target(self.name(), &target);
        };
        // A receiver needs no initialisation, so opening proves nothing: listen for a sentence.
        if let Err(why) = link.set_baud(options.baud) {
            return Attempt::failed(why);
        }
        if let Err(why) = hears_nmea(&mut link, NMEA_PROBE) {
            return Attempt::NoAnswer(why.into());
        }
        let config = NmeaConfig { baud: options.baud };
        match NmeaGps::new(link, config) {
            Ok(d) => Attempt::Opened(Capabilities::Location(Box::new(d))),
            Err(e) => Attempt::failed(e),
        }
    }
    fn model(&self) -> Option<&dyn DeviceModel> {
        Some(self)
    }
}

impl DeviceModel for NmeaFactory {
    fn model_name(&self) -> &'static str {
        "gps"
    }
    fn faults(&self) -> &'static [SimFault] {
        FAULTS
    }
    fn start(&self, options: &SimOptions) -> Result<ModelDevice, OpenError> {
        let mut model = NmeaModelConfig::default();
        // Each index a village further east along the coast.
        model.lon += 0.01 * f64::from(options.index);
        if options.fast {
            model = model.fast();
        }
        for name in &options.faults {
            match name.as_str() {
                "bad-checksum" => model.faults.push(NmeaFault::BadChecksum { every: 3 }),
                "cold-start" => model.no_fix_epochs = 10,
                "garbage" => model.faults.push(NmeaFault::Garbage { every: 2 }),
                "silent" => model.faults.push(NmeaFault::Silent),
                other => return Err(unknown_fault("gps", other, FAULTS)),
            }
        }
        Ok(model.into())
    }
}

/// A GPS receiver model as the registry starts it (on a new pty): `sim:gps`, or a caller's own
/// (`registry::open_model`). On a pty the model outlives the driver closing the slave (and its
/// reads before the driver first opens it).
impl From<NmeaModelConfig> for ModelDevice {
    fn from(mut model: NmeaModelConfig) -> ModelDevice {
        model.survive_hangup = true;
        ModelDevice::Serial {
            baud: model.baud,
            run: Box::new(move |link| Box::new(NmeaModel::spawn(link, model))),
        }
    }
}
