//! Everything that can go wrong talking SBI, worded so the operator knows what to do next.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SbiError {
    #[error("SBI device service on port {port} did not answer in time; check it is running, or restart it")]
    Timeout { port: u16 },
    #[error("SBI device service on port {port} is unreachable: {why}")]
    Unreachable { port: u16, why: String },
    #[error("port {port} answered HTTP {status}, not as an SBI device service")]
    HttpStatus { port: u16, status: u16 },
    #[error("the SBI answer is not valid: {0}")]
    Garbage(String),
    #[error("the device reported error {code}: {info}")]
    Device { code: String, info: String },
    #[error("the {what} of the answer is not signed; refused (only signed captures are kept)")]
    Unsigned { what: &'static str },
    #[error("the {what} signature is bad: {why}; refused")]
    BadSignature { what: &'static str, why: String },
    #[error("the device certificate is not trusted: {0}; the kit trusts only device-provider CAs the office approved")]
    Untrusted(String),
    #[error("replayed or stale answer refused: {0}")]
    Replayed(String),
    #[error(
        "the hash chain is broken at biometric {index}: expected {expected}, got {got}; refused"
    )]
    ChainBroken {
        index: usize,
        expected: String,
        got: String,
    },
    #[error("asked for {asked} biometrics, the device returned {got}; nothing kept")]
    TooFew { asked: usize, got: usize },
    #[error("key or certificate: {0}")]
    Key(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
