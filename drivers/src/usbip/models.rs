//! The USB device models `jemput sim` can serve over USB/IP, by name. Adding a model is one entry
//! in [`USB_SIM_MODELS`] and one arm in [`start`].

use std::net::SocketAddr;

use super::server::{ServerError, UsbIpServer};
use crate::ptp::{PtpFault, PtpModel, PtpModelConfig};
use crate::registry::SimFault;
use crate::uru4000::{UruFault, UruModel, UruModelConfig};
use crate::usb::UsbDevice;

/// A USB model `jemput sim` knows: its name, the driver that talks to it, its faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbSimModel {
    pub name: &'static str,
    pub driver: &'static str,
    pub faults: &'static [SimFault],
}

static PTP_FAULTS: &[SimFault] = &[
    SimFault {
        name: "busy",
        help: "InitiateCapture answers DeviceBusy twice before it works",
    },
    SimFault {
        name: "store-full",
        help: "the memory card is full: InitiateCapture answers StoreFull",
    },
    SimFault {
        name: "cancel",
        help: "the camera cancels the first GetObject after 1000 bytes",
    },
    SimFault {
        name: "no-initiate-capture",
        help: "a body that captures only through vendor operations",
    },
];

static URU_FAULTS: &[SimFault] = &[
    SimFault {
        name: "no-finger",
        help: "the first finger arrives only after 200 event polls",
    },
    SimFault {
        name: "fault-event",
        help: "the first wait for a finger ends with a fault event",
    },
    SimFault {
        name: "short-image",
        help: "the first image transfer ends after 1000 bytes",
    },
    SimFault {
        name: "stuck",
        help: "HWSTAT reads 0x84 at power-up until the low nibble is written back",
    },
];

/// Every USB model, sorted by name.
pub static USB_SIM_MODELS: &[UsbSimModel] = &[
    UsbSimModel {
        name: "ptp",
        driver: "ptp",
        faults: PTP_FAULTS,
    },
    UsbSimModel {
        name: "uru4000",
        driver: "uru4000",
        faults: URU_FAULTS,
    },
];

/// The USB model called `name`.
pub fn usb_sim_model(name: &str) -> Option<&'static UsbSimModel> {
    USB_SIM_MODELS
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(name))
}

fn known_names() -> String {
    let names: Vec<_> = USB_SIM_MODELS.iter().map(|m| m.name).collect();
    names.join(", ")
}

/// How to start a USB model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbSimOptions {
    /// Where the USB/IP server listens (loopback; port 0 picks a free one).
    pub listen: SocketAddr,
    /// No delays (the camera's focus and write time): for tests.
    pub fast: bool,
    /// Which simulated person.
    pub index: u32,
    /// Fault names from [`UsbSimModel::faults`].
    pub faults: Vec<String>,
}

/// Why a USB model did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UsbSimError {
    #[error("unknown USB device model `{0}`; use one of: {known}", known = known_names())]
    UnknownModel(String),
    #[error("the {model} model has no fault `{fault}`")]
    UnknownFault { model: &'static str, fault: String },
    #[error(transparent)]
    Server(#[from] Box<ServerError>),
}

/// Starts the model `name` behind a USB/IP server.
pub fn start(name: &str, options: &UsbSimOptions) -> Result<UsbIpServer, UsbSimError> {
    let model = usb_sim_model(name).ok_or_else(|| UsbSimError::UnknownModel(name.into()))?;
    for f in &options.faults {
        if !model.faults.iter().any(|k| k.name == f) {
            return Err(UsbSimError::UnknownFault {
                model: model.name,
                fault: f.clone(),
            });
        }
    }
    let device: Box<dyn UsbDevice> = match model.name {
        "ptp" => Box::new(ptp(options)),
        "uru4000" => Box::new(uru4000(options)),
        other => unreachable!("{other} is listed in USB_SIM_MODELS without a start arm"),
    };
    UsbIpServer::start_boxed(options.listen, device).map_err(|e| UsbSimError::Server(Box::new(e)))
}

fn ptp(options: &UsbSimOptions) -> PtpModel {
    let base = PtpModelConfig::default();
    let mut cfg = PtpModelConfig {
        person_seed: 1 + u64::from(options.index),
        serial: format!("SIMPTP{:04}", options.index + 1),
        ..if options.fast { base.fast() } else { base }
    };
    for f in &options.faults {
        cfg.faults.push(match f.as_str() {
            "busy" => PtpFault::Busy { times: 2 },
            "store-full" => PtpFault::StoreFull,
            "cancel" => PtpFault::CancelTransfer { after: 1000 },
            _ => PtpFault::NoInitiateCapture {
                vendor_extension: 0x0000_000B,
                vendor_ops: vec![0x9008],
            },
        });
    }
    PtpModel::new(cfg)
}

fn uru4000(options: &UsbSimOptions) -> UruModel {
    let mut cfg = UruModelConfig {
        person_seed: 1 + u64::from(options.index),
        serial: format!("SIMURU{:04}", options.index + 1),
        ..UruModelConfig::default()
    };
    if options.fast {
        cfg.finger_after_polls = 0;
    }
    for f in &options.faults {
        cfg.faults.push(match f.as_str() {
            "no-finger" => UruFault::NoFinger { polls: 200 },
            "fault-event" => UruFault::FaultEvent,
            "short-image" => UruFault::ShortImage { bytes: 1000 },
            _ => UruFault::Stuck { reads: 2 },
        });
    }
    UruModel::new(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_model_starts_and_unknown_names_and_faults_are_refused() {
        for m in USB_SIM_MODELS {
            let opts = UsbSimOptions {
                listen: "127.0.0.1:0".parse().unwrap(),
                fast: true,
                index: 0,
                faults: m.faults.iter().map(|f| f.name.to_string()).collect(),
            };
            let srv = start(m.name, &opts).unwrap();
            assert_ne!(srv.address().port(), 0);
            assert_eq!(srv.busid(), "1-1");
        }
        let opts = UsbSimOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            fast: true,
            index: 0,
            faults: vec!["melt".into()],
        };
        assert!(matches!(
            start("ptp", &opts),
            Err(UsbSimError::UnknownFault { .. })
        ));
        assert!(matches!(
            start("scanner", &opts),
            Err(UsbSimError::UnknownModel(_))
        ));
    }
}
