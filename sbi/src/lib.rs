//! MOSIP's Secure Biometric Interface (SBI, also called MDS), specification 0.9.5, both ways:
//! the messages (`proto`), RS256 JWS with `x5c` (`jws`), the hash chain (`chain`), the kit's
//! trust store of device-provider CAs (`trust`), the checks every answer must pass (`verify`),
//! keys (`keys`), the client that finds and drives device services on 127.0.0.1:4501–4600
//! (`client`), and jemput's own device service (`serve`). The facts and their sources are in
//! docs/sbi.md.

pub mod chain;
pub mod client;
pub mod error;
pub mod jws;
pub mod keys;
pub mod proto;
pub mod records;
pub mod serve;
pub mod sim;
pub mod trust;
pub mod verify;

pub use error::SbiError;
