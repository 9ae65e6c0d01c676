//! A visit's capture session: the visit and its encrypted draft, the devices chosen for it and its
//! plan, driven one [`Step`] at a time — the location fix, the face, each finger (through the
//! capture policy, or the exception planned for it), the signature, the document photos.
//!
//! Every attempt is reported to the observer the step is given, and the visit is saved to the
//! draft the moment a step changes it, so a crash, a flat battery or an unplugged device mid-visit
//! loses nothing already captured. Any step can be run again (retake the face, recapture finger
//! 7): only its slot changes. The demo runs every step in order ([`VisitSession::run_all`]); an
//! operator's UI asks for the next one ([`VisitSession::next_step`]) or runs the one the operator
//! picked, from any thread (the session is `Send`; its devices are owned).
//!
//! ```no_run
//! # fn visit(
//! #     drafts: jemput_kit::visit::Drafts,
//! #     visit: jemput_core::visit::Visit,
//! #     devices: jemput_kit::visit::SessionDevices,
//! # ) -> Result<(), jemput_kit::visit::CaptureError> {
//! use jemput_kit::visit::attempt::AttemptEvent;
//! use jemput_kit::visit::plan::CapturePlan;
//! use jemput_kit::visit::{Step, VisitSession};
//!
//! let mut session = VisitSession::start(drafts, visit, devices, CapturePlan::default())?;
//! let mut seen: Vec<AttemptEvent> = Vec::new(); // or an observer that updates a page
//! while let Some(step) = session.next_step() {
//!     session.run(step, &mut seen)?; // in the draft once it returns
//! }
//! // The operator asks for finger 7 again: only its slot changes.
//! let finger_7: Step = "finger-07".parse().expect("a step id");
//! session.run(finger_7, &mut seen)?;
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jemput_core::imaging::quality::{FingerQuality, JemputFq};
use jemput_core::visit::{
    DocumentKind, Exception, ExceptionReason, FingerPosition, Permanence, Slot, Visit,
};
use jemput_drivers::{CaptureControl, LocationSource};

use super::attempt::{CaptureObserver, Subject};
use super::devices::SessionDevices;
use super::draft::Drafts;
use super::error::CaptureError;
use super::face::{capture_face, FacePolicy};
use super::fingers::{finger_slot, FingerSettings};
use super::location::{locate, FixOutcome};
use super::plan::CapturePlan;
use super::signature::capture_signature;
use super::step::Step;
use super::{documents, slots};

/// What a step did.
// One per step, returned and dropped: boxing the slot would save nothing that matters.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// The location step: a fix, or why there is none.
    Location(FixOutcome),
    /// The face, a finger, the signature or a document photo: what its slot now holds (a document
    /// photo is always a capture).
    Slot(Slot),
}

/// A visit being captured: see the module documentation.
pub struct VisitSession {
    visit: Visit,
    drafts: Drafts,
    devices: SessionDevices,
    plan: CapturePlan,
    quality: Box<dyn FingerQuality + Send + Sync>,
    cancel: Arc<AtomicBool>,
    /// Steps that ran to the end in this session.
    ran: BTreeSet<Step>,
    fix: Option<FixOutcome>,
}

impl fmt::Debug for VisitSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VisitSession")
            .field("visit", &self.visit.id)
            .field("devices", &self.devices)
            .field("quality", &self.quality.algorithm_id())
            .field("ran", &self.ran)
            .finish_non_exhaustive()
    }
}

impl VisitSession {
    /// Starts capturing `visit` with `devices` under `plan`: checks the plan's policy and saves the
    /// visit to the draft. Fingers are scored with `jemput-fq/1` unless [`Self::with_quality`]
    /// says otherwise.
    pub fn start(
        drafts: Drafts,
        visit: Visit,
        devices: SessionDevices,
        plan: CapturePlan,
    ) -> Result<Self, CaptureError> {
        plan.policy.validate()?;
        drafts.save_visit(&visit)?;
        Ok(VisitSession {
            visit,
            drafts,
            devices,
            plan,
            quality: Box::new(JemputFq),
            cancel: Arc::default(),
            ran: BTreeSet::new(),
            fix: None,
        })
    }

    /// Scores fingers with `quality` instead of `jemput-fq/1`.
    pub fn with_quality(mut self, quality: Box<dyn FingerQuality + Send + Sync>) -> Self {
        self.quality = quality;
        self
    }

    /// The visit as captured so far (as saved in the draft).
    pub fn visit(&self) -> &Visit {
        &self.visit
    }

    pub fn drafts(&self) -> &Drafts {
        &self.drafts
    }

    pub fn devices(&self) -> &SessionDevices {
        &self.devices
    }

    /// The devices, to replace one between steps (a device opened afresh after a replug:
    /// [`SessionDevices::remove`], then [`SessionDevices::replace_with`]). The steps a visit has
    /// follow the devices it holds.
    pub fn devices_mut(&mut self) -> &mut SessionDevices {
        &mut self.devices
    }

    pub fn plan(&self) -> &CapturePlan {
        &self.plan
    }

    /// What the last location step learned, if one ran.
    pub fn fix(&self) -> Option<&FixOutcome> {
        self.fix.as_ref()
    }

    /// Set it (from any thread) to cut the step in progress short: the drivers poll it and the
    /// step fails with "cancelled". Every step starts with it cleared.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    /// The visit and the devices, once the session is over.
    pub fn into_parts(self) -> (Visit, SessionDevices) {
        (self.visit, self.devices)
    }

    /// The steps of this visit in order: the location; for a visit that records biometrics the
    /// face (with a camera), each finger (with a scanner, or when the plan has its exception) and
    /// the signature (with a pad); the plan's document photos (with a camera).
    pub fn steps(&self) -> Vec<Step> {
        let d = &self.devices;
        let mut out = vec![Step::Location];
        if self.visit.category.records_biometrics() {
            if d.camera.is_some() {
                out.push(Step::Face);
            }
            out.extend(
                FingerPosition::all()
                    .filter(|&p| {
                        d.scanner.is_some()
                            || d.slap_scanner.is_some()
                            || self.plan.finger_exception(p).is_some()
                    })
                    .map(Step::Finger),
            );
            if d.pad.is_some() {
                out.push(Step::Signature);
            }
        }
        if d.camera.is_some() {
            out.extend((1..=self.plan.documents).map(Step::Document));
        }
        out
    }

    /// Whether `step` ran in this session, or the visit already holds what it captures (a draft
    /// resumed after a crash).
    pub fn is_done(&self, step: Step) -> bool {
        self.ran.contains(&step)
            || match step {
                Step::Location => self.visit.place.location.is_some(),
                // No document photo is taken once every one of them has an exception.
                Step::Document(_)
                    if self
                        .visit
                        .captures
                        .document_exceptions
                        .contains_key(&DocumentKind::All) =>
                {
                    true
                }
                _ => slots::filled(&self.visit, step),
            }
    }

    /// The steps not done yet, in order.
    pub fn pending(&self) -> Vec<Step> {
        self.steps()
            .into_iter()
            .filter(|s| !self.is_done(*s))
            .collect()
    }

    /// The first step not done yet; `None` when the visit has every capture its plan asks for.
    pub fn next_step(&self) -> Option<Step> {
        self.pending().into_iter().next()
    }

    /// Runs every step of [`Self::steps`] in order, whether or not the visit already holds its
    /// capture; stops at the first error (what was captured before it is in the draft).
    pub fn run_all(&mut self, observer: &mut dyn CaptureObserver) -> Result<(), CaptureError> {
        for step in self.steps() {
            self.run(step, observer)?;
        }
        Ok(())
    }

    /// Runs one step, telling `observer` about every attempt, and saves the visit to the draft.
    ///
    /// Running a step whose slot is filled takes it again: the slot is emptied in the draft first
    /// (so the draft never describes a file being replaced) and the new capture or exception takes
    /// its place; files only the old capture used are removed. When the retake fails before
    /// anything was written (a device error, a refused capture) the old capture is put back.
    pub fn run(
        &mut self,
        step: Step,
        observer: &mut dyn CaptureObserver,
    ) -> Result<StepOutcome, CaptureError> {
        self.cancel.store(false, Ordering::SeqCst);
        let outcome = match step {
            Step::Location => {
                let control = self.control(self.plan.fix_timeout);
                let gps = self
                    .devices
                    .gps
                    .as_deref_mut()
                    .map(|g| g as &mut dyn LocationSource);
                let fix = locate(&mut self.visit, gps, &control);
                self.drafts.save_visit(&self.visit)?;
                self.fix = Some(fix.clone());
                StepOutcome::Location(fix)
            }
            _ => StepOutcome::Slot(self.retake(step, observer)?),
        };
        self.ran.insert(step);
        Ok(outcome)
    }

    /// Records an exception for the face, a finger or the signature in place of a capture (the
    /// operator's decision: a bandaged hand, a resident unable to sign) and saves it; a capture
    /// the slot held is replaced, and its files removed from the draft.
    pub fn record_exception(
        &mut self,
        subject: Subject,
        reason: ExceptionReason,
        permanence: Permanence,
    ) -> Result<(), CaptureError> {
        self.put_exception(subject, reason, permanence, None)
    }

    /// Records an exception as [`Self::record_exception`] does, with a proof photo (a bandaged
    /// hand, an amputation) taken now with the session's camera: saved in the draft as
    /// `proof-<step>.jpg` (e.g. `proof-finger-07.jpg`) and named by the exception's `proof_file`,
    /// so it travels in the packet beside it. When the photo cannot be taken nothing changes.
    pub fn record_exception_with_proof(
        &mut self,
        subject: Subject,
        reason: ExceptionReason,
        permanence: Permanence,
    ) -> Result<(), CaptureError> {
        let step = Step::from(subject);
        let control = self.control(self.plan.timeout);
        let what = format!("the proof photo of the exception for {step}");
        let camera = self
            .devices
            .camera
            .as_deref_mut()
            .ok_or_else(|| CaptureError::NoDevice {
                step: what.clone(),
                device: Step::Face.device(),
            })?;
        let shot = camera
            .capture_photo(&control)
            .map_err(|source| CaptureError::Device {
                what: format!("taking {what}"),
                source,
            })?;
        image::ImageReader::with_format(std::io::Cursor::new(&shot.jpeg), image::ImageFormat::Jpeg)
            .into_dimensions()
            .map_err(|e| CaptureError::UnreadablePhoto {
                what: what.clone(),
                why: e.to_string(),
            })?;
        let file = proof_file(step);
        self.drafts.save_file(self.visit.id, &file, &shot.jpeg)?;
        let recorded = self.put_exception(subject, reason, permanence, Some(file.clone()));
        if recorded.is_err() {
            // The record does not name it: the photo goes too.
            if let Err(e) = self.drafts.remove_file(self.visit.id, &file) {
                tracing::warn!(%e, "could not remove {file}, which the visit does not use");
            }
        }
        recorded
    }

    fn put_exception(
        &mut self,
        subject: Subject,
        reason: ExceptionReason,
        permanence: Permanence,
        proof: Option<String>,
    ) -> Result<(), CaptureError> {
        let step = Step::from(subject);
        let previous = slots::take(&mut self.visit, step);
        let mut slot = slots::exception(reason, permanence);
        if let Slot::Exception(e) = &mut slot {
            e.proof_file = proof;
        }
        slots::put(&mut self.visit, step, slot.clone());
        if let Err(e) = self.drafts.save_visit(&self.visit) {
            // The draft still holds what the slot held: so does the session.
            slots::take(&mut self.visit, step);
            if let Some(old) = previous {
                slots::put(&mut self.visit, step, old);
            }
            return Err(e.into());
        }
        self.remove_stale(previous.as_ref(), Some(&slot));
        self.ran.insert(step);
        Ok(())
    }

    /// Takes back the exception recorded for `subject` (a finger marked missing by mistake): its
    /// slot is empty again, to be captured like any other, and the draft is saved; its proof
    /// photo leaves the draft too. A capture is left as it is: `Ok(false)`, nothing changed.
    pub fn withdraw_exception(&mut self, subject: Subject) -> Result<bool, CaptureError> {
        let step = Step::from(subject);
        if !matches!(slots::get(&self.visit, step), Some(Slot::Exception(_))) {
            return Ok(false);
        }
        let previous = slots::take(&mut self.visit, step);
        if let Err(e) = self.drafts.save_visit(&self.visit) {
            // The draft still holds the exception: so does the session.
            if let Some(old) = previous {
                slots::put(&mut self.visit, step, old);
            }
            return Err(e.into());
        }
        self.remove_stale(previous.as_ref(), None);
        self.ran.remove(&step);
        Ok(true)
    }

    /// Records an exception for the photo of `document` (`all`: every document photo) of a
    /// document-only visit and saves it, in place of an exception the same document held. Refused
    /// (nothing changes) for a visit that records biometrics, for `all` beside document photos or
    /// beside an exception for one document.
    pub fn record_document_exception(
        &mut self,
        document: DocumentKind,
        reason: ExceptionReason,
        permanence: Permanence,
    ) -> Result<(), CaptureError> {
        let exception = Exception {
            reason,
            permanence,
            proof_file: None,
            noted_at: jiff::Timestamp::now(),
        };
        let previous = self.visit.record_document_exception(document, exception)?;
        if let Err(e) = self.drafts.save_visit(&self.visit) {
            // The draft still holds what it held: so does the session.
            match previous {
                Some(old) => self
                    .visit
                    .captures
                    .document_exceptions
                    .insert(document, old),
                None => self.visit.captures.document_exceptions.remove(&document),
            };
            return Err(e.into());
        }
        Ok(())
    }

    fn control(&self, timeout: Duration) -> CaptureControl {
        CaptureControl {
            timeout,
            cancel: self.cancel.clone(),
        }
    }

    /// Takes `slap` with the session's SBI slap scanner: every finger of the slap through the
    /// policy (the plan's exceptions sent to the device as exceptions and recorded as planned),
    /// each kept finger saved as WSQ with the device's original ISO/IEC 19794-4 record beside it
    /// (`finger-NN.iso19794-4`). The slap's slots are emptied first and put back if the slap fails
    /// before anything was written, as [`Self::run`] does for one step.
    ///
    /// [`Self::steps`] and [`Self::run_all`] take a slap scanner finger by finger (each finger
    /// step asks the slap for that finger alone); a caller that wants the 4-4-2 runs the three
    /// slaps with [`Self::run_slaps`].
    pub fn run_slap(
        &mut self,
        slap: crate::sbi::Slap,
        observer: &mut dyn CaptureObserver,
    ) -> Result<Vec<(FingerPosition, Slot)>, CaptureError> {
        self.cancel.store(false, Ordering::SeqCst);
        if self.devices.slap_scanner.is_none() {
            return Err(CaptureError::NoDevice {
                step: slap.name().into(),
                device: "SBI slap scanner",
            });
        }
        let steps: Vec<Step> = slap.fingers().into_iter().map(Step::Finger).collect();
        let previous: Vec<(Step, Option<Slot>)> = steps
            .iter()
            .map(|s| (*s, slots::take(&mut self.visit, *s)))
            .collect();
        let put_back = |visit: &mut Visit| {
            for (s, old) in &previous {
                if let Some(old) = old {
                    slots::put(visit, *s, old.clone());
                }
            }
        };
        if previous.iter().any(|(_, p)| p.is_some()) {
            if let Err(e) = self.drafts.save_visit(&self.visit) {
                put_back(&mut self.visit);
                return Err(e.into());
            }
        }
        let control = self.control(self.plan.timeout);
        let planned: Vec<(FingerPosition, ExceptionReason, Permanence)> = slap
            .fingers()
            .into_iter()
            .filter_map(|p| {
                self.plan
                    .finger_exception(p)
                    .map(|(r, perm)| (p, r.clone(), perm))
            })
            .collect();
        let scanner = self.devices.slap_scanner.as_mut().expect("checked above");
        let got = super::slaps::slap_slots(
            &self.visit,
            &self.drafts,
            scanner,
            slap,
            &slap.fingers(),
            &planned,
            FingerSettings {
                control: &control,
                policy: &self.plan.policy.finger,
                wsq_bitrate: self.plan.policy.wsq_bitrate,
                quality: &*self.quality,
            },
            observer,
        );
        match got {
            Ok(new) => {
                // A planned finger whose slot already held its exception keeps that one (when it
                // was noted, its proof photo).
                let new: Vec<(FingerPosition, Slot)> = new
                    .into_iter()
                    .map(|(pos, slot)| {
                        let old = previous
                            .iter()
                            .find(|(s, _)| *s == Step::Finger(pos))
                            .and_then(|(_, o)| o.as_ref());
                        match (&slot, old) {
                            (Slot::Exception(_), Some(old @ Slot::Exception(_)))
                                if planned.iter().any(|(p, _, _)| *p == pos) =>
                            {
                                (pos, old.clone())
                            }
                            _ => (pos, slot),
                        }
                    })
                    .collect();
                for (pos, slot) in &new {
                    slots::put(&mut self.visit, Step::Finger(*pos), slot.clone());
                }
                self.drafts.save_visit(&self.visit)?;
                for (pos, slot) in &new {
                    let old = previous
                        .iter()
                        .find(|(s, _)| *s == Step::Finger(*pos))
                        .and_then(|(_, o)| o.as_ref());
                    self.remove_stale(old, Some(slot));
                    self.ran.insert(Step::Finger(*pos));
                }
                Ok(new)
            }
            // A draft write failed: the files may be half new, so the slots stay empty.
            Err(e @ CaptureError::Draft(_)) => Err(e),
            Err(e) => {
                put_back(&mut self.visit);
                if let Err(save) = self.drafts.save_visit(&self.visit) {
                    tracing::warn!(%save, "could not put the earlier {} back in the draft", slap.name());
                }
                Err(e)
            }
        }
    }

    /// The 4-4-2 with the session's SBI slap scanner: left slap, right slap, two thumbs
    /// ([`Self::run_slap`] each; a slap whose every finger the plan has an exception for is
    /// recorded without asking the device). Stops at the first error.
    pub fn run_slaps(
        &mut self,
        observer: &mut dyn CaptureObserver,
    ) -> Result<Vec<(FingerPosition, Slot)>, CaptureError> {
        use crate::sbi::Slap;
        let mut all = Vec::new();
        for slap in [Slap::Left, Slap::Right, Slap::Thumbs] {
            let every_one_planned = slap
                .fingers()
                .into_iter()
                .all(|p| self.plan.finger_exception(p).is_some());
            if every_one_planned {
                for p in slap.fingers() {
                    let (reason, permanence) =
                        self.plan.finger_exception(p).expect("checked: planned");
                    let slot = slots::exception(reason.clone(), permanence);
                    slots::put(&mut self.visit, Step::Finger(p), slot.clone());
                    all.push((p, slot));
                }
                self.drafts.save_visit(&self.visit)?;
                continue;
            }
            all.extend(self.run_slap(slap, observer)?);
        }
        Ok(all)
    }

    /// Empties the slot (saving the record), captures it, and puts the old capture back when the
    /// capture fails before writing anything.
    fn retake(
        &mut self,
        step: Step,
        observer: &mut dyn CaptureObserver,
    ) -> Result<Slot, CaptureError> {
        if let Step::Document(n) = step {
            let next = self.visit.captures.documents.len() as u32 + 1;
            if n == 0 || n > next {
                return Err(CaptureError::DocumentOutOfOrder { asked: n, next });
            }
        }
        let previous = slots::take(&mut self.visit, step);
        if let Some(old) = &previous {
            if let Err(e) = self.drafts.save_visit(&self.visit) {
                slots::put(&mut self.visit, step, old.clone());
                return Err(e.into());
            }
        }
        match self.capture(step, observer) {
            Ok(slot) => {
                slots::put(&mut self.visit, step, slot.clone());
                self.drafts.save_visit(&self.visit)?;
                self.remove_stale(previous.as_ref(), Some(&slot));
                Ok(slot)
            }
            // A draft write failed: the files may be half new, so the slot stays empty.
            Err(e @ CaptureError::Draft(_)) => Err(e),
            Err(e) => {
                if let Some(old) = previous {
                    slots::put(&mut self.visit, step, old);
                    if let Err(save) = self.drafts.save_visit(&self.visit) {
                        tracing::warn!(%save, "could not put the earlier {step} back in the draft");
                    }
                }
                Err(e)
            }
        }
    }

    /// Captures what `step` names, saving its files to the draft; the caller records the slot.
    fn capture(
        &mut self,
        step: Step,
        observer: &mut dyn CaptureObserver,
    ) -> Result<Slot, CaptureError> {
        let control = self.control(self.plan.timeout);
        let no_device = || CaptureError::NoDevice {
            step: step.to_string(),
            device: step.device(),
        };
        let d = &mut self.devices;
        match step {
            Step::Location => unreachable!("the location is no slot"),
            Step::Face => {
                let camera = d.camera.as_deref_mut().ok_or_else(no_device)?;
                capture_face(
                    &mut self.visit,
                    &self.drafts,
                    camera,
                    d.camera_calibration.clone(),
                    &self.plan.face,
                    &FacePolicy::from(&self.plan.policy.face),
                    &control,
                    observer,
                )?;
                Ok(slots::get(&self.visit, step).expect("the face step records the face"))
            }
            Step::Finger(pos) => match self.plan.finger_exception(pos) {
                Some((reason, permanence)) => Ok(slots::exception(reason.clone(), permanence)),
                // Only an SBI slap scanner: the finger's slap, asked for this finger alone.
                None if d.scanner.is_none() && d.slap_scanner.is_some() => {
                    let slap = crate::sbi::Slap::of(pos);
                    let planned: Vec<(FingerPosition, ExceptionReason, Permanence)> = slap
                        .fingers()
                        .into_iter()
                        .filter_map(|p| {
                            self.plan
                                .finger_exception(p)
                                .map(|(r, perm)| (p, r.clone(), perm))
                        })
                        .collect();
                    let scanner = d.slap_scanner.as_mut().ok_or_else(no_device)?;
                    let got = super::slaps::slap_slots(
                        &self.visit,
                        &self.drafts,
                        scanner,
                        slap,
                        &[pos],
                        &planned,
                        FingerSettings {
                            control: &control,
                            policy: &self.plan.policy.finger,
                            wsq_bitrate: self.plan.policy.wsq_bitrate,
                            quality: &*self.quality,
                        },
                        observer,
                    )?;
                    Ok(got
                        .into_iter()
                        .find(|(p, _)| *p == pos)
                        .map(|(_, s)| s)
                        .expect("slap_slots decides every finger it is given"))
                }
                None => finger_slot(
                    &self.visit,
                    &self.drafts,
                    d.scanner.as_deref_mut().ok_or_else(no_device)?,
                    d.scanner_calibration.clone(),
                    pos,
                    FingerSettings {
                        control: &control,
                        policy: &self.plan.policy.finger,
                        wsq_bitrate: self.plan.policy.wsq_bitrate,
                        quality: &*self.quality,
                    },
                    observer,
                ),
            },
            Step::Signature => {
                let pad = d.pad.as_deref_mut().ok_or_else(no_device)?;
                capture_signature(
                    &mut self.visit,
                    &self.drafts,
                    pad,
                    d.pad_calibration.clone(),
                    self.plan.signature_kind,
                    &self.plan.policy.signature,
                    &control,
                    observer,
                )?;
                Ok(slots::get(&self.visit, step).expect("the signature step records it"))
            }
            Step::Document(n) => documents::capture_document(
                &self.visit,
                &self.drafts,
                d.camera.as_deref_mut().ok_or_else(no_device)?,
                n,
                d.camera_calibration.clone(),
                &control,
            )
            .map(Slot::Captured),
        }
    }

    /// Removes from the draft the files `old` used that `new` does not (the record saved without
    /// them already). A file that will not go is logged: it is encrypted, and goes with the draft.
    fn remove_stale(&self, old: Option<&Slot>, new: Option<&Slot>) {
        let keep = new.map(slots::files).unwrap_or_default();
        for name in old.map(slots::files).unwrap_or_default() {
            if !keep.contains(&name) {
                if let Err(e) = self.drafts.remove_file(self.visit.id, &name) {
                    tracing::warn!(%e, "could not remove {name}, which the visit no longer uses");
                }
            }
        }
    }
}

/// The name of the proof photo of `step`'s exception inside the draft and the packet.
pub fn proof_file(step: Step) -> String {
    format!("proof-{}.jpg", step.id())
}

#[cfg(test)]
mod tests;
