//! A visit on the kit: its encrypted draft ([`draft`]) and the session that captures it from the
//! devices one step at a time ([`session`], following a [`plan`]): the location ([`location`]),
//! the face ([`face`]), the fingers ([`fingers`]), the signature ([`signature`]) and document
//! photos ([`documents`]), every attempt reported to an observer ([`attempt`]). [`progress`] says
//! how far a visit has come from its record alone (a list of drafts). [`rig`] runs a visit on the
//! device models; [`sample`] makes synthetic visits; [`problem`] says what the operator must do
//! about an error that reaches them. The visit's data model is
//! `jemput_core::visit`.
//!
//! Layers, lowest first: [`error`], [`attempt`], [`step`] and [`draft`] are the shared vocabulary;
//! each capture module uses only them; [`session`] runs the capture modules; [`rig`] runs a
//! session.

pub mod attempt;
pub mod devices;
pub mod documents;
pub mod draft;
pub mod error;
pub mod face;
pub mod fingers;
pub mod location;
pub mod plan;
pub mod problem;
pub mod progress;
pub mod rig;
pub mod sample;
pub mod session;
pub mod signature;
pub mod slaps;
mod slots;
pub mod step;

pub use devices::{DevicesError, SessionDevices};
pub use draft::{DraftError, Drafts};
pub use error::CaptureError;
pub use jemput_drivers::registry::OpenError;
pub use jemput_drivers::synth;
pub use jemput_drivers::{DeviceError, NO_FINGER};
pub use problem::{
    device_problem, open_problem, DeviceRole, OperatorProblem, ProblemKind, WaitedFor,
};
pub use session::{StepOutcome, VisitSession};
pub use step::{Step, StepKind};
