//! The devices behind the capture steps: where they come from (a [`DeviceSource`]: the device
//! models of `jemput ui --sim`, or the driver registry), which of them the station holds now and
//! for which visit, the state of each role for the device panel, the live events of the capture
//! in progress (`GET /events`), and the one function that puts a device problem into the
//! operator's words ([`problem_text`]).
//!
//! The devices are opened for one visit at a time, on a blocking thread, the first time a step
//! page of that visit needs them, and kept until another visit needs them or the kit locks. A
//! capture takes them out ([`Devices::take`]) into a `VisitSession` and gives them back
//! ([`Devices::give_back`]); a device that failed mid-capture is dropped then, so the retry opens
//! it afresh (a replugged scanner, a restarted model).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use fluent_bundle::FluentArgs;
use jemput_core::imaging::face::FaceSettings;
use jemput_core::visit::{FingerPosition, Visit};
use jemput_kit::visit::attempt::{AttemptEvent, PenSample};
use jemput_kit::visit::face::context_of;
use jemput_kit::visit::rig::SimRig;
use jemput_kit::visit::{CaptureError, DeviceRole, SessionDevices, Step, StepKind};
use serde::Serialize;
use uuid::Uuid;

use crate::i18n::{I18n, Lang};

/// A role a device plays in a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Camera,
    Scanner,
    Pad,
    Gps,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Camera, Role::Scanner, Role::Pad, Role::Gps];

    /// `camera`, `scanner`, `pad`, `gps`.
    pub fn code(self) -> &'static str {
        match self {
            Role::Camera => "camera",
            Role::Scanner => "scanner",
            Role::Pad => "pad",
            Role::Gps => "gps",
        }
    }

    /// The role that takes `step`.
    pub fn of(step: Step) -> Role {
        match step.kind() {
            StepKind::Face | StepKind::Documents => Role::Camera,
            StepKind::Fingers => Role::Scanner,
            StepKind::Signature => Role::Pad,
            StepKind::Location => Role::Gps,
        }
    }

    /// `camera`, `scanner`, `pad` or `gps` back into a role.
    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    fn kit(self) -> DeviceRole {
        match self {
            Role::Camera => DeviceRole::Camera,
            Role::Scanner => DeviceRole::Scanner,
            Role::Pad => DeviceRole::Pad,
            Role::Gps => DeviceRole::Gps,
        }
    }

    fn held(self, d: &SessionDevices) -> bool {
        match self {
            Role::Camera => d.camera.is_some(),
            // An SBI slap scanner (`jemput ui --scanner sbi:…`) serves the finger steps too.
            Role::Scanner => d.scanner.is_some() || d.slap_scanner.is_some(),
            Role::Pad => d.pad.is_some(),
            Role::Gps => d.gps.is_some(),
        }
    }

    /// Closes the device of this role in `d` (it is opened afresh next time).
    fn drop_from(self, d: &mut SessionDevices) {
        match self {
            Role::Camera => {
                d.camera = None;
                d.camera_calibration = None;
            }
            Role::Scanner => {
                d.scanner = None;
                d.scanner_calibration = None;
                d.slap_scanner = None;
            }
            Role::Pad => {
                d.pad = None;
                d.pad_calibration = None;
            }
            Role::Gps => d.gps = None,
        }
    }
}

/// Devices opened for one visit, with their names and what kept the others from opening.
#[derive(Debug, Default)]
pub struct Opened {
    pub devices: SessionDevices,
    /// How each opened device is named on the panel, e.g. `ef01 R307 on /dev/pts/7`.
    pub names: Vec<(Role, String)>,
    /// Why a role has no device (in English, from the driver or the registry).
    pub problems: Vec<(Role, String)>,
}

/// Where the station's devices come from.
pub trait DeviceSource: Send + Sync {
    /// Opens the devices for `visit` (blocking: a serial port, a USB device, a model's start).
    /// A role that cannot be opened is left out with its problem; this never fails as a whole.
    fn open(&self, home: &Path, visit: &Visit, face: &FaceSettings) -> Opened;
    /// Whether captures run at device speed (longer waits) or on fast models.
    fn realtime(&self) -> bool;
    /// Whether these are the device models (training), for the panel.
    fn simulated(&self) -> bool;
    /// Training only: what a trainer makes the device of `role` do ([`Trouble`]); `false` when
    /// this source has no such control (real devices) or the role's model has no such fault.
    fn trouble(&self, _role: Role, _trouble: Trouble) -> bool {
        false
    }
    /// Training only: the trouble the trainer made for `role`'s device, if any.
    fn troubled(&self, _role: Role) -> Option<Unplug> {
        None
    }
}

/// What a trainer makes a model device do from the device panel (`jemput ui --sim` only), so a
/// class can meet a device fault the way the field does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// The device is pulled out in the middle of its next capture, and stays out.
    Unplug,
    /// The device is plugged in again (or the unplug still to come is called off).
    Replug,
}

/// Where a device a trainer unplugs is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unplug {
    /// It goes away in the middle of its next capture.
    AtNextCapture,
    /// It went away: every open leaves it out until it is plugged in again.
    Out,
}

/// The device models of `jemput ui --sim`: the EF01 scanner, the ISDV4 pad and the NMEA GPS
/// receiver on fresh ptys and the PTP camera in memory, as the demo has them (`SimRig`), opened
/// through the real drivers.
///
/// The models are made per resident: the seed is the first eight bytes of the visit id, so the
/// same visit meets the same fingers, face and signature after a restart, and two visits meet
/// two residents. The camera stands in front of the backdrop the colour rule asks for (the
/// default backdrop when the birth year is unknown). The scanner model hands out fingers in order
/// from the first one the draft still lacks, so a visit resumed after a crash gets each finger's
/// own print; its right index touches the sensor badly once (the capture policy retries it).
///
/// A trainer can unplug the camera, the scanner or the pad from the device panel
/// ([`Trouble`]): that model is pulled out in the middle of its next capture (its link closes,
/// as a cable pulled out does) and stays out, left out of every open, until it is plugged in
/// again.
#[derive(Debug)]
pub struct SimDevices {
    pub realtime: bool,
    unplugged: Mutex<HashMap<Role, Unplug>>,
}

impl SimDevices {
    /// The models, fast unless `realtime`.
    pub fn new(realtime: bool) -> SimDevices {
        SimDevices {
            realtime,
            unplugged: Mutex::new(HashMap::new()),
        }
    }

    fn unplugged(&self) -> std::sync::MutexGuard<'_, HashMap<Role, Unplug>> {
        self.unplugged.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The seed of a visit's resident on the device models.
pub fn seed_of(visit: Uuid) -> u64 {
    let b = visit.as_bytes();
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

impl DeviceSource for SimDevices {
    fn open(&self, home: &Path, visit: &Visit, face: &FaceSettings) -> Opened {
        let name = visit
            .resident
            .name
            .clone()
            .unwrap_or_else(|| "Warga".into());
        let near = visit
            .place
            .location
            .map(|p| (p.lat, p.lon))
            .unwrap_or((-3.1, 121.1));
        // Fingers the draft already holds are skipped: the model's next finger is the first
        // one missing.
        let skipped: Vec<FingerPosition> = visit.captures.fingers.keys().copied().collect();
        let mut rig = SimRig::start(seed_of(visit.id), &name, near, self.realtime, &skipped);
        // A device the trainer unplugs carries its fault into this model, then counts as out.
        let mut out = Vec::new();
        for (role, state) in self.unplugged().iter_mut() {
            match state {
                Unplug::AtNextCapture => {
                    rig.unplug_mid_capture(role.kit());
                    *state = Unplug::Out;
                }
                Unplug::Out => out.push(*role),
            }
        }
        let backdrop = face
            .background
            .expected(&context_of(visit))
            .map_or([235, 235, 235], |(c, _)| c);
        let mut opened = match rig.open_devices(home, backdrop) {
            Ok(r) => Opened {
                devices: r.devices,
                names: vec![
                    (Role::Camera, r.camera),
                    (Role::Scanner, r.scanner),
                    (Role::Pad, r.pad),
                    (Role::Gps, "nmea GPS model on a pty".into()),
                ],
                problems: Vec::new(),
            },
            Err(e) => Opened {
                problems: Role::ALL.iter().map(|r| (*r, e.to_string())).collect(),
                ..Default::default()
            },
        };
        for role in out {
            role.drop_from(&mut opened.devices);
            opened.names.retain(|(r, _)| *r != role);
            opened.problems.push((
                role,
                "not connected: unplugged for training (plug it in again on this panel)".into(),
            ));
        }
        opened
    }

    fn trouble(&self, role: Role, trouble: Trouble) -> bool {
        let mut unplugged = self.unplugged();
        match trouble {
            // The GPS model has no unplug (and the location is never required).
            Trouble::Unplug if role == Role::Gps => return false,
            Trouble::Unplug => {
                unplugged.insert(role, Unplug::AtNextCapture);
            }
            Trouble::Replug => {
                unplugged.remove(&role);
            }
        }
        true
    }

    fn troubled(&self, role: Role) -> Option<Unplug> {
        self.unplugged().get(&role).copied()
    }

    fn realtime(&self) -> bool {
        self.realtime
    }

    fn simulated(&self) -> bool {
        true
    }
}

/// One role on the device panel.
#[derive(Debug, Clone, Serialize)]
pub struct RoleView {
    /// `camera`, `scanner`, `pad`, `gps`.
    pub role: &'static str,
    /// The message ids of the role and its state.
    pub role_msg: String,
    pub state_msg: String,
    pub device: Option<String>,
    /// `ready`, `busy`, `missing` (none found), `fault` (it failed), `closed` (not opened yet).
    pub state: &'static str,
    /// What happened, in the operator's words (a fault) or the driver's (why none opened).
    pub problem: Option<String>,
    /// Training: whether the trainer can unplug this role's model, and what they did to it.
    pub can_unplug: bool,
    pub unplug: Option<Unplug>,
}

/// Something the browser is told as it happens (`GET /events`).
#[derive(Debug, Clone)]
pub enum Event {
    /// One attempt of a capture, as soon as it is scored.
    Attempt {
        visit: Uuid,
        step: String,
        event: AttemptEvent,
    },
    /// A pen sample of the signature being written, as the pad reports it (nothing is kept).
    Pen {
        visit: Uuid,
        step: String,
        sample: PenSample,
    },
    /// The device panel changed (opened, busy, back, failed).
    Devices,
}

#[derive(Default)]
struct Held {
    visit: Option<Uuid>,
    devices: Option<SessionDevices>,
    names: HashMap<Role, String>,
    problems: HashMap<Role, String>,
    /// The step capturing now, when the devices are out.
    busy: Option<String>,
    /// Roles whose device is opened afresh before its next capture (a trainer unplugged it).
    reopen: std::collections::HashSet<Role>,
    /// Whether the scanner role was last opened as an SBI slap scanner (and no single-finger
    /// scanner): the finger steps are then taken 4-4-2 ([`crate::pages::slaps`]). Kept while the
    /// devices are out for a capture or the scanner failed, until the devices are opened again.
    slaps: bool,
}

/// An attempt's number and its image as PNG.
type AttemptImage = (u32, Vec<u8>);

/// The devices are out for a capture (of the step named) already.
#[derive(Debug, Clone)]
pub struct Busy(pub String);

/// The station's devices: see the module documentation.
pub struct Devices {
    source: Option<Box<dyn DeviceSource>>,
    held: Mutex<Held>,
    events: tokio::sync::broadcast::Sender<Event>,
    /// The attempts of each step's last run, by visit and step id (scores only, nothing
    /// biometric), for the step pages.
    attempts: Mutex<HashMap<(Uuid, String), Vec<AttemptEvent>>>,
    /// The image of each finger attempt of a step's last run, as PNG, by visit and step id: in
    /// memory only, dropped when the kit locks ([`Devices::forget_images`]).
    images: Mutex<HashMap<(Uuid, String), Vec<AttemptImage>>>,
    /// Set when the station stops: the event streams end (so the server can stop).
    closing: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices")
            .field("source", &self.source.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Devices {
    fn default() -> Self {
        Devices::none()
    }
}

impl Devices {
    /// No devices at all: every role shows as missing, and the steps say so.
    pub fn none() -> Devices {
        Devices::from_source(None)
    }

    /// Devices from `source`.
    pub fn new(source: Box<dyn DeviceSource>) -> Devices {
        Devices::from_source(Some(source))
    }

    fn from_source(source: Option<Box<dyn DeviceSource>>) -> Devices {
        Devices {
            source,
            held: Mutex::new(Held::default()),
            // Room for the pen samples of a few seconds of writing (a pad reports 100-200 a
            // second); a browser that falls further behind misses some points of the live trace.
            events: tokio::sync::broadcast::channel(4096).0,
            attempts: Mutex::new(HashMap::new()),
            images: Mutex::new(HashMap::new()),
            closing: tokio::sync::watch::channel(false).0,
        }
    }

    /// Ends the event streams: the station is stopping.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Becomes `true` when the station stops.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether captures run at device speed.
    pub fn realtime(&self) -> bool {
        self.source.as_ref().is_some_and(|s| s.realtime())
    }

    /// Whether the devices are the models (training).
    pub fn simulated(&self) -> bool {
        self.source.as_ref().is_some_and(|s| s.simulated())
    }

    /// Opens the devices for `visit` unless they are held for it already or out for a capture
    /// (blocking).
    pub fn prepare(&self, home: &Path, visit: &Visit, face: &FaceSettings) {
        let mut held = self.held();
        if held.busy.is_some() || (held.visit == Some(visit.id) && held.devices.is_some()) {
            return;
        }
        self.open_into(&mut held, home, visit, face);
    }

    fn open_into(&self, held: &mut Held, home: &Path, visit: &Visit, face: &FaceSettings) {
        // The other visit's devices close first (a serial port is opened once).
        held.devices = None;
        held.names.clear();
        held.problems.clear();
        held.reopen.clear();
        held.visit = Some(visit.id);
        let opened = match &self.source {
            Some(s) => s.open(home, visit, face),
            None => Opened::default(),
        };
        held.names = opened.names.into_iter().collect();
        held.problems = opened.problems.into_iter().collect();
        held.slaps = opened.devices.slap_scanner.is_some() && opened.devices.scanner.is_none();
        held.devices = Some(opened.devices);
        let _ = self.events.send(Event::Devices);
    }

    /// Takes the devices for a capture of `step` of `visit` (blocking: they are opened for it
    /// first when needed, or again when the device of the step's role failed before).
    pub fn take(
        &self,
        home: &Path,
        visit: &Visit,
        face: &FaceSettings,
        step: Step,
    ) -> Result<SessionDevices, Busy> {
        self.take_for(home, visit, face, Role::of(step), step.id())
    }

    /// [`Self::take`] for a capture by `role`'s device that the panel names `what` (a slap,
    /// `slap-left`).
    pub fn take_for(
        &self,
        home: &Path,
        visit: &Visit,
        face: &FaceSettings,
        role: Role,
        what: String,
    ) -> Result<SessionDevices, Busy> {
        let mut held = self.held();
        if let Some(b) = &held.busy {
            return Err(Busy(b.clone()));
        }
        let usable = held.visit == Some(visit.id)
            && held.devices.as_ref().is_some_and(|d| role.held(d))
            && !held.reopen.contains(&role);
        if !usable {
            self.open_into(&mut held, home, visit, face);
        }
        held.busy = Some(what);
        let _ = self.events.send(Event::Devices);
        Ok(held.devices.take().unwrap_or_default())
    }

    /// Whether the fingers of `visit` are taken 4-4-2: its devices were opened with an SBI slap
    /// scanner for the scanner role and no single-finger scanner.
    pub fn slaps(&self, visit: Uuid) -> bool {
        let held = self.held();
        held.visit == Some(visit) && held.slaps
    }

    /// Gives the devices back after a capture; `failed` is the role whose device failed and the
    /// problem as the operator reads it: that device is closed, to be opened afresh on retry.
    pub fn give_back(
        &self,
        visit: Uuid,
        mut devices: SessionDevices,
        failed: Option<(Role, String)>,
    ) {
        let mut held = self.held();
        held.busy = None;
        if held.visit == Some(visit) {
            if let Some((role, problem)) = failed {
                role.drop_from(&mut devices);
                held.problems.insert(role, problem);
            }
            held.devices = Some(devices);
        }
        let _ = self.events.send(Event::Devices);
    }

    /// Forgets devices a capture took and never gave back (its thread panicked): they are opened
    /// afresh for the next step rather than leaving the station busy for good.
    pub fn abandon(&self) {
        let mut held = self.held();
        let gone = if held.busy.take().is_some() {
            held.visit = None;
            held.devices.take()
        } else {
            None
        };
        drop(held);
        close_apart(gone);
        let _ = self.events.send(Event::Devices);
    }

    /// Closes every device (the kit locked, or the station stops) unless a capture has them out,
    /// and drops the attempt images.
    pub fn release(&self) {
        self.forget_images();
        let mut held = self.held();
        if held.busy.is_none() && held.visit.is_some() {
            let old = std::mem::take(&mut *held);
            drop(held);
            close_apart(old.devices);
            let _ = self.events.send(Event::Devices);
        }
    }

    /// Training (`--sim` only): makes `role`'s model device unplug in the middle of its next
    /// capture, or plugs it in again. `false` when the source has no such control, the role's
    /// model has no such fault, or a capture has the devices out (try again after it).
    pub fn trouble(&self, role: Role, trouble: Trouble) -> bool {
        let mut held = self.held();
        let Some(source) = &self.source else {
            return false;
        };
        if held.busy.is_some() || !source.trouble(role, trouble) {
            return false;
        }
        // The model is started afresh (with its fault, or whole) before the role's next capture.
        held.reopen.insert(role);
        if trouble == Trouble::Replug {
            held.problems.remove(&role);
        }
        drop(held);
        let _ = self.events.send(Event::Devices);
        true
    }

    /// Each role's device and state, for the panel; `lang` words a fault.
    pub fn panel(&self) -> Vec<RoleView> {
        let held = self.held();
        let simulated = self.simulated();
        Role::ALL
            .into_iter()
            .map(|role| {
                let device = held.names.get(&role).cloned();
                let open = held.devices.as_ref().is_some_and(|d| role.held(d));
                let problem = held.problems.get(&role).cloned();
                let state = match (&held.busy, open, &problem, held.visit) {
                    (Some(_), _, _, _) if device.is_some() => "busy",
                    (_, true, _, _) => "ready",
                    (_, false, Some(_), _) if device.is_some() => "fault",
                    (_, false, _, None) => "closed",
                    _ => "missing",
                };
                RoleView {
                    role: role.code(),
                    role_msg: format!("device-role-{}", role.code()),
                    state_msg: format!("device-state-{state}"),
                    device,
                    state,
                    problem,
                    can_unplug: simulated && role != Role::Gps,
                    unplug: self.source.as_ref().and_then(|s| s.troubled(role)),
                }
            })
            .collect()
    }

    /// The step capturing now, if any.
    pub fn busy(&self) -> Option<String> {
        self.held().busy.clone()
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Tells the browsers about an attempt and keeps it for the step's page.
    pub fn attempt(&self, visit: Uuid, step: Step, event: &AttemptEvent) {
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((visit, step.id()))
            .or_default()
            .push(event.clone());
        let _ = self.events.send(Event::Attempt {
            visit,
            step: step.id(),
            event: event.clone(),
        });
    }

    /// Tells the browsers about a pen sample of the signature being written (nothing is kept).
    pub fn pen(&self, visit: Uuid, step: Step, sample: &PenSample) {
        let _ = self.events.send(Event::Pen {
            visit,
            step: step.id(),
            sample: *sample,
        });
    }

    /// Forgets the attempts of `step`'s last run and their images (a new run starts).
    pub fn clear_attempts(&self, visit: Uuid, step: Step) {
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(visit, step.id()));
        self.images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(visit, step.id()));
    }

    /// Keeps the image (PNG) of attempt `attempt` of `step`, in memory.
    pub fn keep_image(&self, visit: Uuid, step: Step, attempt: u32, png: Vec<u8>) {
        self.images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((visit, step.id()))
            .or_default()
            .push((attempt, png));
    }

    /// The image (PNG) of attempt `attempt` of `step`'s last run, while the station holds it.
    pub fn image(&self, visit: Uuid, step: Step, attempt: u32) -> Option<Vec<u8>> {
        self.images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(visit, step.id()))?
            .iter()
            .find(|(n, _)| *n == attempt)
            .map(|(_, png)| png.clone())
    }

    /// Drops every attempt image (the kit locked: nothing biometric stays in the station).
    pub fn forget_images(&self) {
        self.images
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The attempts of `step`'s last run in this station (empty after a restart: the draft keeps
    /// the kept capture's score, retries and forced flag).
    pub fn attempts(&self, visit: Uuid, step: Step) -> Vec<AttemptEvent> {
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(visit, step.id()))
            .cloned()
            .unwrap_or_default()
    }
}

/// Closes `devices` on a thread of their own and waits for it: an SBI device owns a runtime of
/// its own, which may not be dropped on the station's async threads (the lock and the shutdown
/// release the devices from there).
fn close_apart(devices: Option<SessionDevices>) {
    if let Some(d) = devices {
        if std::thread::spawn(move || drop(d)).join().is_err() {
            tracing::warn!("a device panicked while it closed");
        }
    }
}

/// A device problem in the operator's words, with what to do: the kit classifies the error
/// ([`CaptureError::operator_problem`]) and [`crate::problems::problem_text`] words it in the
/// session's language; the error's own English message follows for the technician.
pub fn problem_text(i18n: &I18n, lang: Lang, e: &CaptureError) -> String {
    let said = crate::problems::problem_text(i18n, lang, &e.operator_problem());
    let mut args = FluentArgs::new();
    args.set("detail", e.to_string());
    format!(
        "{said} {}",
        i18n.text(lang, "device-problem-detail", Some(&args))
    )
}

/// An attempt in the operator's words.
pub fn attempt_text(i18n: &I18n, lang: Lang, e: &AttemptEvent) -> String {
    use jemput_kit::visit::attempt::{AttemptNext, AttemptResult};
    let mut args = FluentArgs::new();
    args.set("attempt", e.attempt);
    args.set("max", e.max_attempts);
    args.set("algorithm", e.algorithm.clone());
    let result = match &e.result {
        // A threshold of 0 (the signature's default) is no threshold: not shown as "0".
        AttemptResult::Scored {
            score,
            threshold: 0,
        } => {
            args.set("score", *score);
            i18n.text(lang, "attempt-scored-no-threshold", Some(&args))
        }
        AttemptResult::Scored { score, threshold } => {
            args.set("score", *score);
            args.set("threshold", *threshold);
            i18n.text(lang, "attempt-scored", Some(&args))
        }
        AttemptResult::NothingDetected => i18n.text(lang, "attempt-nothing", Some(&args)),
        AttemptResult::Unreadable => i18n.text(lang, "attempt-unreadable", Some(&args)),
    };
    let next = match e.next {
        AttemptNext::Accepted => i18n.text(lang, "attempt-accepted", None),
        AttemptNext::Retry => i18n.text(lang, "attempt-retry", None),
        AttemptNext::Forced { kept_attempt } => {
            let mut a = FluentArgs::new();
            a.set("kept", kept_attempt);
            i18n.text(lang, "attempt-forced", Some(&a))
        }
        AttemptNext::Exception => i18n.text(lang, "attempt-exception", None),
        AttemptNext::Refused => i18n.text(lang, "attempt-refused", None),
    };
    format!("{result} — {next}")
}

/// Every message id this file builds.
pub fn message_ids_used() -> Vec<String> {
    [
        "device-problem-detail",
        "attempt-scored",
        "attempt-scored-no-threshold",
        "attempt-nothing",
        "attempt-unreadable",
        "attempt-accepted",
        "attempt-retry",
        "attempt-forced",
        "attempt-exception",
        "attempt-refused",
    ]
    .into_iter()
    .map(String::from)
    .chain(
        Role::ALL
            .iter()
            .map(|r| format!("device-role-{}", r.code())),
    )
    .chain(
        ["ready", "busy", "missing", "fault", "closed"]
            .iter()
            .map(|s| format!("device-state-{s}")),
    )
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_problem_is_in_the_sessions_language_with_the_english_detail_after() {
        let i18n = crate::i18n::load().unwrap();
        let unplugged = CaptureError::Device {
            what: "capturing finger 02 (right index)".into(),
            source: jemput_kit::visit::DeviceError::Disconnected,
        };
        let id = problem_text(&i18n, Lang::Id, &unplugged);
        assert!(
            id.starts_with("Pemindai sidik jari tidak terhubung."),
            "{id}"
        );
        let en = problem_text(&i18n, Lang::En, &unplugged);
        assert!(en.contains("is not connected"), "{en}");
        // The error's own English words follow, for the technician.
        let other = CaptureError::DocumentOutOfOrder { asked: 3, next: 1 };
        let text = problem_text(&i18n, Lang::Id, &other);
        assert!(text.contains("Pesan untuk teknisi"), "{text}");
        assert!(text.contains("document photo 3 cannot be taken"), "{text}");
    }

    #[test]
    fn the_seed_follows_the_visit() {
        let a = Uuid::from_u128(1);
        assert_eq!(seed_of(a), seed_of(a));
        assert_ne!(seed_of(a), seed_of(Uuid::from_u128(1 << 100)));
    }

    #[test]
    fn without_a_source_every_role_is_shown_missing_and_taking_is_not_an_error() {
        let d = Devices::none();
        assert!(d.panel().iter().all(|r| r.state == "closed"));
        let dir = tempfile::tempdir().unwrap();
        let (v, _) = jemput_kit::visit::sample::synthetic_visit(1, &Default::default());
        let taken = d
            .take(dir.path(), &v, &FaceSettings::default(), Step::Face)
            .unwrap();
        assert!(taken.camera.is_none());
        assert_eq!(d.busy().as_deref(), Some("face"));
        assert!(d
            .take(dir.path(), &v, &FaceSettings::default(), Step::Face)
            .is_err());
        d.give_back(v.id, taken, None);
        assert!(
            d.panel().iter().all(|r| r.state == "missing"),
            "{:?}",
            d.panel()
        );
        // A capture that never gives them back (its thread panicked) does not leave them busy.
        let _lost = d
            .take(dir.path(), &v, &FaceSettings::default(), Step::Face)
            .unwrap();
        d.abandon();
        assert_eq!(d.busy(), None);
        assert!(d
            .take(dir.path(), &v, &FaceSettings::default(), Step::Face)
            .is_ok());
    }
}
