//! What can go wrong while a visit captures from its devices: the one error type of every capture
//! step and of what runs the steps, kept below them all so that no two of them import each other.

use jemput_drivers::DeviceError;

use super::draft::DraftError;

/// A capture step failed. What the visit captured before it is already in the encrypted draft.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    #[error("{what} failed: {source}")]
    Device {
        what: String,
        #[source]
        source: DeviceError,
    },
    #[error(transparent)]
    Draft(#[from] DraftError),
    #[error("compressing finger {finger} to WSQ failed: {source}")]
    Wsq {
        finger: u8,
        #[source]
        source: jemput_wsq::Error,
    },
    #[error(transparent)]
    Policy(#[from] jemput_core::visit::policy::PolicyError),
    #[error(transparent)]
    Face(#[from] jemput_core::imaging::face::FaceError),
    #[error("the signature scored {best_score} at best in {attempts} attempts, under the threshold {threshold} (jemput-sigq/1), and forced capture is off; ask the resident to sign again, or record a simple mark or the written name")]
    SignatureQuality {
        attempts: u32,
        best_score: u8,
        threshold: u8,
    },
    #[error("the best face photo of {attempts} attempts scored {score}, under the threshold {threshold} (jemput-faceq/1); failed checks: {}", if failed.is_empty() { "none (the threshold asks for headroom above every check)".to_string() } else { failed.join("; ") })]
    FaceChecks {
        attempts: u32,
        score: u8,
        threshold: u8,
        failed: Vec<String>,
    },
    #[error("{what}: the camera's photo is no readable JPEG ({why}); take it again")]
    UnreadablePhoto { what: String, why: String },
    #[error("no {device} to take the {step} with: connect one and choose it (`jemput devices` lists what is connected)")]
    NoDevice { step: String, device: &'static str },
    #[error("document photo {asked} cannot be taken before document photo {next}")]
    DocumentOutOfOrder { asked: u32, next: u32 },
    #[error(transparent)]
    DocumentException(#[from] jemput_core::visit::DocumentExceptionError),
}
