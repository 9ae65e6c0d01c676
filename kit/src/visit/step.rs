//! The steps of a visit, in the order a visit takes them, with the stable ids a UI puts in its
//! URLs and the names messages use.

use std::fmt;
use std::str::FromStr;

use jemput_core::visit::FingerPosition;

use super::attempt::Subject;

/// One step of a visit, in the order a visit takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// A fix from the GPS receiver (never required).
    Location,
    /// The face photo, through the face checks.
    Face,
    /// One finger, through the capture policy (or the exception the plan has for it).
    Finger(FingerPosition),
    /// The signature (or the simple mark or written name the plan names).
    Signature,
    /// The `n`th document photo, 1-based.
    Document(u32),
}

impl Step {
    /// A stable id for URLs and logs: `location`, `face`, `finger-07`, `signature`, `document-1`.
    pub fn id(self) -> String {
        match self {
            Step::Location => "location".into(),
            Step::Face => "face".into(),
            Step::Finger(p) => format!("finger-{:02}", p.code()),
            Step::Signature => "signature".into(),
            Step::Document(n) => format!("document-{n}"),
        }
    }

    /// The kind of step it is (all the fingers are one kind, and all the document photos).
    pub fn kind(self) -> StepKind {
        match self {
            Step::Location => StepKind::Location,
            Step::Face => StepKind::Face,
            Step::Finger(_) => StepKind::Fingers,
            Step::Signature => StepKind::Signature,
            Step::Document(_) => StepKind::Documents,
        }
    }

    /// What the step captures, as an attempt names it (`None` for the location and the document
    /// photos, which have no exceptions and no attempts).
    pub fn subject(self) -> Option<Subject> {
        match self {
            Step::Face => Some(Subject::Face),
            Step::Finger(p) => Some(Subject::Finger(p)),
            Step::Signature => Some(Subject::Signature),
            Step::Location | Step::Document(_) => None,
        }
    }

    /// The device the step needs, as an error names it.
    pub(crate) fn device(self) -> &'static str {
        match self {
            Step::Location => "GPS receiver",
            Step::Face | Step::Document(_) => "camera",
            Step::Finger(_) => "fingerprint scanner",
            Step::Signature => "signature pad",
        }
    }
}

impl From<Subject> for Step {
    fn from(s: Subject) -> Self {
        match s {
            Subject::Face => Step::Face,
            Subject::Finger(p) => Step::Finger(p),
            Subject::Signature => Step::Signature,
        }
    }
}

/// In English, for messages: `face photo`, `finger 07 (right middle)`, `document photo 1`.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Location => write!(f, "location fix"),
            Step::Face => write!(f, "face photo"),
            Step::Finger(p) => write!(f, "finger {:02} ({})", p.code(), p.name_en()),
            Step::Signature => write!(f, "signature"),
            Step::Document(n) => write!(f, "document photo {n}"),
        }
    }
}

/// A kind of step, for running only some of a visit's steps (`jemput visit capture --only
/// fingers`): `location`, `face`, `fingers`, `signature`, `documents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepKind {
    Location,
    Face,
    Fingers,
    Signature,
    Documents,
}

impl StepKind {
    pub const ALL: [StepKind; 5] = [
        StepKind::Location,
        StepKind::Face,
        StepKind::Fingers,
        StepKind::Signature,
        StepKind::Documents,
    ];

    /// Its name on the command line and in URLs.
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Location => "location",
            StepKind::Face => "face",
            StepKind::Fingers => "fingers",
            StepKind::Signature => "signature",
            StepKind::Documents => "documents",
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no kind of step.
#[derive(Debug, thiserror::Error)]
#[error("no kind of step {0:?}: use location, face, fingers, signature or documents")]
pub struct UnknownStepKind(String);

impl FromStr for StepKind {
    type Err = UnknownStepKind;

    /// Parses [`StepKind::name`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownStepKind(s.to_string()))
    }
}

/// A step id that names no step.
#[derive(Debug, thiserror::Error)]
#[error("no step {0:?}: steps are location, face, finger-01 … finger-10, signature, document-N")]
pub struct UnknownStep(String);

impl FromStr for Step {
    type Err = UnknownStep;

    /// Parses [`Step::id`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownStep(s.to_string());
        Ok(match s {
            "location" => Step::Location,
            "face" => Step::Face,
            "signature" => Step::Signature,
            _ => match s.split_once('-') {
                Some(("finger", n)) => Step::Finger(
                    n.parse::<u8>()
                        .ok()
                        .and_then(FingerPosition::new)
                        .ok_or_else(unknown)?,
                ),
                Some(("document", n)) => match n.parse::<u32>() {
                    Ok(n) if n >= 1 => Step::Document(n),
                    _ => return Err(unknown()),
                },
                _ => return Err(unknown()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_id_parses_back_and_others_are_refused() {
        let steps = [
            Step::Location,
            Step::Face,
            Step::Signature,
            Step::Document(2),
        ]
        .into_iter()
        .chain(FingerPosition::all().map(Step::Finger));
        for s in steps {
            assert_eq!(s.id().parse::<Step>().unwrap(), s, "{s}");
        }
        assert_eq!(
            Step::Finger(FingerPosition::new(7).unwrap()).id(),
            "finger-07"
        );
        for bad in [
            "finger-11",
            "finger-0",
            "document-0",
            "fingers",
            "",
            "face-1",
        ] {
            assert!(bad.parse::<Step>().is_err(), "{bad}");
        }
    }

    #[test]
    fn each_step_has_its_kind_and_kinds_parse_back() {
        let finger = Step::Finger(FingerPosition::new(7).unwrap());
        assert_eq!(finger.kind(), StepKind::Fingers);
        assert_eq!(Step::Document(3).kind(), StepKind::Documents);
        assert_eq!(
            finger.subject(),
            Some(Subject::Finger(FingerPosition::new(7).unwrap()))
        );
        assert_eq!(Step::Document(1).subject(), None);
        for k in StepKind::ALL {
            assert_eq!(k.name().parse::<StepKind>().unwrap(), k);
        }
        let e = "finger".parse::<StepKind>().unwrap_err();
        assert!(e.to_string().contains("fingers"), "{e}");
    }

    #[test]
    fn steps_sort_in_the_order_a_visit_takes_them() {
        let mut s = [
            Step::Document(1),
            Step::Signature,
            Step::Finger(FingerPosition::new(2).unwrap()),
            Step::Face,
            Step::Finger(FingerPosition::new(1).unwrap()),
            Step::Location,
        ];
        s.sort();
        assert_eq!(
            s.iter().map(|s| s.id()).collect::<Vec<_>>(),
            [
                "location",
                "face",
                "finger-01",
                "finger-02",
                "signature",
                "document-1"
            ]
        );
    }
}
