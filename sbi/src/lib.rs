//! MOSIP's Secure Biometric Interface (SBI, also called MDS), specification 0.9.5, the client's
//! side: the messages (`proto`), RS256 JWS verification with `x5c` (`jws`), the hash chain
//! (`chain`), the kit's trust store of device-provider CAs (`trust`), the checks every answer must
//! pass (`verify`), and the client that finds and drives device services on 127.0.0.1:4501–4600
//! (`client`). No web server: the kit uses this crate. jemput's own device service (`jemput sbi
//! serve`) is the `jemput-sbi-service` crate. The facts and their sources are in docs/sbi.md.

pub mod chain;
pub mod client;
pub mod error;
pub mod jws;
pub mod proto;
pub mod trust;
pub mod verify;

pub use error::SbiError;
