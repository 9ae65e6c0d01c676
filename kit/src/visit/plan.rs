//! What a visit captures and how: the exceptions known before it starts, how long to wait for each
//! device, the capture policy, the face settings, the signature's kind and how many document
//! photos to take. A [`super::session::VisitSession`] follows one plan.

use std::time::Duration;

use jemput_core::imaging::face::FaceSettings;
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::policy::CapturePolicy;
use jemput_core::visit::{ExceptionReason, FingerPosition, Permanence};

/// What to capture and how long to wait for each capture.
#[derive(Debug, Clone)]
pub struct CapturePlan {
    /// Fingers recorded as exceptions instead of being captured.
    pub finger_exceptions: Vec<(FingerPosition, ExceptionReason, Permanence)>,
    /// Wait for a finger, a signature or a photo at most this long.
    pub timeout: Duration,
    /// Wait for a GPS fix at most this long (a fix is logged, never required).
    pub fix_timeout: Duration,
    /// Thresholds, attempts, keep-best, forcing, and the WSQ bit rate (the kit's `[capture]`).
    pub policy: CapturePolicy,
    /// What the face photo is held to and how it is stored.
    pub face: FaceSettings,
    /// What the operator said the resident will write on the pad.
    pub signature_kind: SignatureKind,
    /// Document photos to take with the camera (`document-1.jpg` …); 0 when there are none, or
    /// when they come from elsewhere.
    pub documents: u32,
}

impl Default for CapturePlan {
    /// The kit's default policy and face settings, a usual signature, no exceptions, no document
    /// photos; a minute per capture and ten seconds for a fix.
    fn default() -> Self {
        CapturePlan {
            finger_exceptions: Vec::new(),
            timeout: Duration::from_secs(60),
            fix_timeout: Duration::from_secs(10),
            policy: CapturePolicy::default(),
            face: FaceSettings::default(),
            signature_kind: SignatureKind::Signature,
            documents: 0,
        }
    }
}

impl CapturePlan {
    /// The exception planned for `pos`, if the finger is not to be captured.
    pub fn finger_exception(&self, pos: FingerPosition) -> Option<(&ExceptionReason, Permanence)> {
        self.finger_exceptions
            .iter()
            .find(|(p, _, _)| *p == pos)
            .map(|(_, reason, permanence)| (reason, *permanence))
    }
}
