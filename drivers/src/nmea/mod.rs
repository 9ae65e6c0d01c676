//! NMEA-0183 GPS receivers as a location source: the sentence codec (GGA, RMC, checksums), the
//! driver that waits for a fix, the device model and the USB ids receivers show up with.
//!
//! Location is logged with a visit, never enforced: with no fix the visit records "no fix".

mod driver;
mod error;
pub mod factory;
pub mod ids;
mod model;
pub mod protocol;

pub use driver::{NmeaConfig, NmeaGps, NmeaStats, METRES_PER_HDOP};
pub use error::{NmeaError, SentenceError};
pub use factory::{NmeaFactory, NMEA_PROBE};
pub use model::{epoch_sentences, NmeaFault, NmeaModel, NmeaModelConfig, GARBAGE};

#[cfg(test)]
mod tests;
