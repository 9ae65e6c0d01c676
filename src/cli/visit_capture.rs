//! `jemput visit capture ID`: the visit engine (`jemput_kit::visit::VisitSession`) on the
//! terminal — the devices chosen by selector, one step at a time with a prompt before each (or
//! none with `--yes`), every attempt printed, the draft saved after every capture, and a rerun
//! resuming at the first step the draft lacks. A device or capture error is printed in English
//! and, on the line after it, in Bahasa Indonesia for the operator: what happened and what to do
//! (`jemput_kit::visit::OperatorProblem` in the station's words, `station/i18n/id/problems.ftl`).

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use jemput::outputs::VisitCaptureOutput;
use jemput_core::visit::{
    DocumentKind, Exception, ExceptionReason, FingerPosition, Permanence, Slot, Visit,
};
use jemput_drivers::registry::{self, Capability, OpenOptions, OpenedDevice};
use jemput_drivers::{DeviceError, Selector};
use jemput_kit::draft_key;
use jemput_kit::new_visit;
use jemput_kit::sbi::Slap;
use jemput_kit::visit::attempt::{AttemptEvent, CaptureObserver};
use jemput_kit::visit::location::FixOutcome;
use jemput_kit::visit::plan::CapturePlan;
use jemput_kit::visit::{
    open_problem, CaptureError, DeviceRole, OperatorProblem, SessionDevices, Step, StepKind,
    StepOutcome, VisitSession,
};
use jemput_station::i18n::{I18n, Lang};
use uuid::Uuid;

use super::select::AnySelector;
use super::visit_common::{parse_exception, ExceptionArg, Excused};
use super::Global;

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The draft to capture into (`jemput visit list`)
    pub id: Uuid,
    /// The camera for the face and document photos: VID:PID[:SERIAL], usb:PORT, v4l2:/dev/videoN,
    /// sim:ptp[:n], or sbi:PORT/DEVICEID/0 for an SBI camera (checked against the kit's trust store)
    #[arg(long, value_name = "SEL")]
    pub camera: Option<AnySelector>,
    /// The fingerprint scanner: a tty path, VID:PID[:SERIAL], usb:PORT, sim:ef01|sim:uru4000,
    /// sbi:PORT/DEVICEID/0 for an SBI single-finger scanner (one finger per step, as a local
    /// scanner), or sbi:PORT/DEVICEID/SUBID (1–3) for an SBI slap scanner (the fingers 4-4-2:
    /// left slap, right slap, two thumbs, each one capture of the device; fingers with an
    /// exception, e.g. from --exception 9=amputated, are sent to the device as missing); every
    /// SBI answer is checked against the kit's trust store
    #[arg(long, value_name = "SEL")]
    pub scanner: Option<AnySelector>,
    /// The signature pad: a tty path, VID:PID[:SERIAL], usb:PORT or sim:isdv4
    #[arg(long, value_name = "SEL")]
    pub pad: Option<Selector>,
    /// The GPS receiver: a tty path, VID:PID[:SERIAL], usb:PORT or sim:gps (a fix is logged,
    /// never required)
    #[arg(long, value_name = "SEL")]
    pub gps: Option<Selector>,
    /// An exception in place of a capture, WHAT=REASON[,permanent] as for `visit new` (e.g.
    /// 7=bandaged, face=refused, signature=unable_to_sign, or for a document-only visit
    /// documents=refused, kk=other:TEXT); recorded before any step runs
    #[arg(long = "exception", value_name = "WHAT=REASON", value_parser = parse_exception)]
    pub exceptions: Vec<ExceptionArg>,
    /// Let --exception replace a capture the draft already holds (its files are removed)
    #[arg(long)]
    pub replace: bool,
    /// Run only these kinds of step: location, face, fingers, signature, documents (repeatable)
    #[arg(long, value_name = "KIND")]
    pub only: Vec<StepKind>,
    /// Take a step again although the draft holds it, e.g. face or finger-07 (repeatable)
    #[arg(long, value_name = "STEP")]
    pub redo: Vec<Step>,
    /// Record the resident's consent first: `resident` or `guardian:NAME`
    #[arg(long)]
    pub consent: Option<String>,
    /// What the resident writes on the pad
    #[arg(long, value_enum, default_value_t = super::args::SignatureKindArg::Signature)]
    pub signature_kind: super::args::SignatureKindArg,
    /// Document photos to take with the camera [default: 1 for a document-only visit, else 0]
    #[arg(long, value_name = "N")]
    pub documents: Option<u32>,
    /// Seconds to wait for each finger, photo or signature
    #[arg(long, default_value_t = 60.0, value_name = "S")]
    pub timeout: f64,
    /// No prompts: run every step at once (scripts); without it each step waits for an answer on
    /// stdin
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// stdout is one JSON object: visit_id, ran, pending, ready, problems
    /// (schemas/visit-capture.schema.json)
    #[arg(long)]
    pub json: bool,
}

/// What the operator answered at a prompt.
enum Answer {
    Go,
    Skip,
    Exception(ExceptionArg),
    Stop,
}

pub fn run(g: &Global, a: CaptureArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let drafts = home.drafts()?;
    let pass = draft_key::passphrase_from_env_or_prompt("Kit passphrase: ")?;
    let identity = home.unlock_drafts(&pass)?;
    let (mut visit, _) = drafts.load(a.id, &identity)?;
    check_exceptions(&visit, &a)?;
    if let Some(c) = &a.consent {
        new_visit::record_consent(&mut visit, c)?;
    }

    let timeout = Duration::try_from_secs_f64(a.timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .context("--timeout takes a positive number of seconds")?;
    // Each device by its selector, as what the flag names it (a camera for --camera …).
    let selectors = [
        (a.camera.clone(), Capability::Camera),
        (a.scanner.clone(), Capability::Fingerprint),
        (a.pad.clone().map(AnySelector::Local), Capability::Signature),
        (a.gps.clone().map(AnySelector::Local), Capability::Location),
    ];
    let mut opened = Vec::new();
    for (selector, capability) in &selectors {
        if let Some(AnySelector::Local(s)) = selector {
            opened.push(open(s, *capability)?);
        }
    }
    let has_gps = a.gps.is_some();
    let mut devices = SessionDevices::from_opened(&home.root, opened)
        .map_err(|e| anyhow::anyhow!("{e}\n{}", indonesian(&e.operator_problem())))?;
    for (selector, capability) in &selectors {
        if let Some(AnySelector::Sbi(s)) = selector {
            open_sbi(&mut devices, &home.root, s, *capability)?;
        }
    }
    // With an SBI slap scanner the fingers the visit has exceptions for (from `visit new`, an
    // earlier run or --exception) are sent to the device as missing, slap by slap; an SBI
    // single-finger scanner takes the finger steps one at a time, as the kit's own scanners.
    let by_slap = devices.slap_scanner.is_some();
    let finger_exceptions = if by_slap {
        planned_finger_exceptions(&visit, &a)
    } else {
        Vec::new()
    };
    let missing: Vec<FingerPosition> = finger_exceptions.iter().map(|(p, _, _)| *p).collect();
    let plan = CapturePlan {
        timeout,
        finger_exceptions,
        policy: home.config.capture.clone(),
        face: home.config.face.clone(),
        signature_kind: a.signature_kind.into(),
        documents: a
            .documents
            .unwrap_or(u32::from(!visit.category.records_biometrics())),
        ..CapturePlan::default()
    };
    let mut session = VisitSession::start(drafts, visit, devices, plan)?;
    for s in &a.redo {
        if !session.steps().contains(s) {
            anyhow::bail!(
                "--redo {}: this visit has no such step with the devices chosen ({})",
                s.id(),
                device_flag(*s)
            );
        }
    }
    for e in &a.exceptions {
        record(&mut session, e)?;
        note(&format!(
            "{}: recorded as an exception ({})",
            excused_name(e.0),
            e.1.label_id()
        ));
    }

    // Ctrl-C cuts the step in progress short; the draft keeps what was captured before it.
    let interrupt = super::interrupt::flag();
    let cancel = session.cancel_flag();
    let watching = Arc::new(AtomicBool::new(true));
    {
        let (interrupt, watching) = (interrupt.clone(), watching.clone());
        std::thread::spawn(move || {
            while watching.load(Ordering::SeqCst) {
                if interrupt.load(Ordering::SeqCst) {
                    cancel.store(true, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    }

    let todo: Vec<Step> = session
        .steps()
        .into_iter()
        .filter(|s| a.only.is_empty() || a.only.contains(&s.kind()))
        .filter(|s| *s != Step::Location || has_gps)
        .filter(|s| a.redo.contains(s) || !session.is_done(*s))
        .collect();
    let items = work_items(&todo, by_slap);
    if todo.is_empty() {
        note("nothing to capture with the devices chosen");
    }
    let mut stdin = std::io::stdin().lock();
    let mut ran = Vec::new();
    // What could not be captured (a step or a slap) and with which device.
    let mut failed: Option<(String, &'static str)> = None;
    let mut stopped = false;
    'steps: for (i, item) in items.iter().enumerate() {
        let step = match item {
            Item::Step(step) => *step,
            Item::Slap(slap, fingers) => {
                note(&format!(
                    "[{}/{}] {}: {}",
                    i + 1,
                    items.len(),
                    slap.name(),
                    slap_instruction(*slap, &missing)
                ));
                let run = SlapArgs {
                    home: &home.root,
                    selectors: &selectors,
                    yes: a.yes,
                    interrupt: &interrupt,
                };
                match run_slap(&mut session, &run, *slap, &mut stdin) {
                    Ok(SlapRun::Done(got)) => {
                        // The fingers the slap captured, and its exceptions recorded now.
                        ran.extend(got.into_iter().filter(|s| match s {
                            Step::Finger(p) => fingers.contains(p) || !missing.contains(p),
                            _ => false,
                        }));
                        continue 'steps;
                    }
                    Ok(SlapRun::Skipped) => continue 'steps,
                    Ok(SlapRun::Stopped) => {
                        stopped = true;
                        break 'steps;
                    }
                    Ok(SlapRun::Failed) => {
                        failed = Some((slap.name().to_string(), "fingerprint scanner"));
                        break 'steps;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        if matches!(step, Step::Document(_)) && !a.redo.contains(&step) && session.is_done(step) {
            // An exception for every document photo was recorded at an earlier prompt.
            continue;
        }
        note(&format!(
            "[{}/{}] {step}: {}",
            i + 1,
            items.len(),
            instruction(step)
        ));
        let mut retry = false;
        loop {
            if interrupt.load(Ordering::SeqCst) {
                stopped = true;
                break 'steps;
            }
            if !a.yes {
                match ask(&mut stdin, Some(step), retry)? {
                    Answer::Go if retry => {
                        // Open the device afresh by its selector: it may have been replugged.
                        let capability = step_capability(step);
                        if let Some((Some(selector), _)) =
                            selectors.iter().find(|(_, c)| *c == capability)
                        {
                            if let Err(e) = reopen(&mut session, &home.root, selector, capability) {
                                note(&format!("  {e:#}"));
                                continue;
                            }
                        }
                    }
                    Answer::Go => {}
                    Answer::Skip => {
                        note(&format!("  {step}: skipped for now"));
                        continue 'steps;
                    }
                    Answer::Exception(e) => {
                        match record(&mut session, &e) {
                            Ok(()) => {}
                            // A document exception the visit cannot take: say why, ask again.
                            Err(CaptureError::DocumentException(why)) => {
                                note(&format!("  {why}"));
                                continue;
                            }
                            Err(other) => return Err(other.into()),
                        }
                        note(&format!(
                            "  {}: recorded as an exception ({})",
                            excused_name(e.0),
                            e.1.label_id()
                        ));
                        ran.push(step);
                        continue 'steps;
                    }
                    Answer::Stop => {
                        stopped = true;
                        break 'steps;
                    }
                }
            }
            match session.run(step, &mut PrintAttempts) {
                Ok(outcome) => {
                    note(&format!("  {step}: {}", describe(&outcome)));
                    ran.push(step);
                    continue 'steps;
                }
                Err(e) if cancelled(&e) && interrupt.load(Ordering::SeqCst) => {
                    stopped = true;
                    break 'steps;
                }
                Err(e) => {
                    note(&format!("  {step} failed: {e}"));
                    let problem = e.operator_problem().on(step_capability(step).into());
                    note(&format!("  {}", indonesian(&problem)));
                    if a.yes {
                        failed = Some((step.to_string(), step_device(step)));
                        break 'steps;
                    }
                    note(&format!(
                        "  check the {} (plugged in, powered); trying again opens it afresh",
                        step_device(step)
                    ));
                    retry = true;
                }
            }
        }
    }
    watching.store(false, Ordering::SeqCst);

    let visit = session.visit();
    let pending: Vec<Step> = todo
        .iter()
        .copied()
        .filter(|s| !session.is_done(*s) && !ran.contains(s))
        .collect();
    report(visit, &ran, &pending, a.json)?;
    let resume = format!("jemput visit capture {} …", visit.id);
    if interrupt.load(Ordering::SeqCst) {
        note(&format!(
            "stopped (Ctrl-C): the draft keeps every capture taken; run `{resume}` again to go on"
        ));
        return Ok(ExitCode::from(super::interrupt::EXIT_INTERRUPTED));
    }
    if let Some((what, device)) = failed {
        note(&format!(
            "the {what} could not be captured; what was captured before it is in the draft. \
             Check the {device}, then run `{resume}` again: it resumes at the {what}"
        ));
        return Ok(ExitCode::FAILURE);
    }
    if stopped {
        note(&format!(
            "stopped: the draft keeps every capture taken; run `{resume}` again to go on"
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// One unit of work of a run: a step, or with an SBI slap scanner a slap taking the fingers of it
/// that are to be captured (left slap, right slap, two thumbs: 4-4-2).
enum Item {
    Step(Step),
    Slap(Slap, Vec<FingerPosition>),
}

/// `todo` as items: with `by_slap` the finger steps become their slaps, each where its first
/// finger stood.
fn work_items(todo: &[Step], by_slap: bool) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    for step in todo {
        match step {
            Step::Finger(p) if by_slap => {
                let slap = Slap::of(*p);
                let held = items.iter_mut().find_map(|i| match i {
                    Item::Slap(s, fingers) if *s == slap => Some(fingers),
                    _ => None,
                });
                match held {
                    Some(fingers) => fingers.push(*p),
                    None => items.push(Item::Slap(slap, vec![*p])),
                }
            }
            other => items.push(Item::Step(*other)),
        }
    }
    // The slaps in the order of the 4-4-2 (left, right, thumbs), where the fingers stood.
    let mut slaps: Vec<Item> = Vec::new();
    let mut at: Vec<usize> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if matches!(item, Item::Slap(..)) {
            at.push(i);
        }
    }
    for &i in at.iter().rev() {
        slaps.push(items.remove(i));
    }
    slaps.sort_by_key(|i| match i {
        Item::Slap(s, _) => s.sub_id(),
        Item::Step(_) => 0,
    });
    for (i, slap) in at.into_iter().zip(slaps) {
        items.insert(i, slap);
    }
    items
}

/// The fingers the visit has exceptions for, held by the draft or given with --exception (a
/// finger named in --redo is to be captured again, so none of its exception), to send to an SBI
/// slap scanner as missing.
fn planned_finger_exceptions(
    visit: &Visit,
    a: &CaptureArgs,
) -> Vec<(FingerPosition, ExceptionReason, Permanence)> {
    let mut out: Vec<(FingerPosition, ExceptionReason, Permanence)> = Vec::new();
    for (pos, slot) in &visit.captures.fingers {
        if let Slot::Exception(e) = slot {
            out.push((*pos, e.reason.clone(), e.permanence));
        }
    }
    for (what, reason, permanence) in &a.exceptions {
        if let Excused::Capture(jemput_kit::visit::attempt::Subject::Finger(p)) = what {
            out.retain(|(q, _, _)| q != p);
            out.push((*p, reason.clone(), *permanence));
        }
    }
    out.retain(|(p, _, _)| !a.redo.contains(&Step::Finger(*p)));
    out.sort_by_key(|(p, _, _)| p.code());
    out
}

/// What the operator does for a slap, and which of its fingers are sent to the device as missing.
fn slap_instruction(slap: Slap, missing: &[FingerPosition]) -> String {
    let fingers = slap.fingers();
    let names = |ps: &[FingerPosition]| {
        ps.iter()
            .map(|p| format!("{:02}", p.code()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let what = match slap {
        Slap::Left => "place the four fingers of the left hand flat on the scanner",
        Slap::Right => "place the four fingers of the right hand flat on the scanner",
        Slap::Thumbs => "place both thumbs side by side on the scanner",
    };
    let gone: Vec<FingerPosition> = fingers
        .iter()
        .copied()
        .filter(|p| missing.contains(p))
        .collect();
    if gone.is_empty() {
        format!("{what} (fingers {})", names(&fingers))
    } else {
        format!(
            "{what} (fingers {}; missing, sent to the device as exceptions: {})",
            names(&fingers),
            names(&gone)
        )
    }
}

/// What a slap came to.
enum SlapRun {
    /// Its fingers' steps, captured or recorded as exceptions.
    Done(Vec<Step>),
    Skipped,
    Stopped,
    /// It failed with --yes (no one to ask whether to try again).
    Failed,
}

/// What [`run_slap`] needs of the run.
struct SlapArgs<'a> {
    home: &'a std::path::Path,
    selectors: &'a [(Option<AnySelector>, Capability); 4],
    yes: bool,
    interrupt: &'a AtomicBool,
}

/// Takes one slap with the session's SBI slap scanner (`VisitSession::run_slap`): the prompt
/// before it (unless --yes), every attempt printed, each finger's result, and on an error the
/// scanner opened afresh when the operator tries again.
fn run_slap(
    session: &mut VisitSession,
    run: &SlapArgs<'_>,
    slap: Slap,
    stdin: &mut impl BufRead,
) -> anyhow::Result<SlapRun> {
    let mut retry = false;
    loop {
        if run.interrupt.load(Ordering::SeqCst) {
            return Ok(SlapRun::Stopped);
        }
        if !run.yes {
            match ask(stdin, None, retry)? {
                Answer::Go if retry => {
                    if let Some((Some(selector), _)) = run
                        .selectors
                        .iter()
                        .find(|(_, c)| *c == Capability::Fingerprint)
                    {
                        if let Err(e) = reopen(session, run.home, selector, Capability::Fingerprint)
                        {
                            note(&format!("  {e:#}"));
                            continue;
                        }
                    }
                }
                Answer::Go => {}
                Answer::Skip => {
                    note(&format!("  {}: skipped for now", slap.name()));
                    return Ok(SlapRun::Skipped);
                }
                // Not offered for a slap: its missing fingers are given with --exception.
                Answer::Exception(_) => continue,
                Answer::Stop => return Ok(SlapRun::Stopped),
            }
        }
        match session.run_slap(slap, &mut PrintAttempts) {
            Ok(slots) => {
                for (pos, slot) in &slots {
                    note(&format!(
                        "  {}: {}",
                        Step::Finger(*pos),
                        describe(&StepOutcome::Slot(slot.clone()))
                    ));
                }
                return Ok(SlapRun::Done(
                    slots.iter().map(|(p, _)| Step::Finger(*p)).collect(),
                ));
            }
            Err(e) if cancelled(&e) && run.interrupt.load(Ordering::SeqCst) => {
                return Ok(SlapRun::Stopped);
            }
            Err(e) => {
                note(&format!("  {} failed: {e}", slap.name()));
                let problem = e.operator_problem().on(Capability::Fingerprint.into());
                note(&format!("  {}", indonesian(&problem)));
                if run.yes {
                    return Ok(SlapRun::Failed);
                }
                note(
                    "  check the fingerprint scanner (plugged in, powered); trying again opens \
                     it afresh",
                );
                retry = true;
            }
        }
    }
}

/// Records one exception the operator gave in the session (and its draft).
fn record(
    session: &mut VisitSession,
    (what, reason, permanence): &ExceptionArg,
) -> Result<(), CaptureError> {
    match what {
        Excused::Capture(subject) => {
            session.record_exception(*subject, reason.clone(), *permanence)
        }
        Excused::Document(document) => {
            session.record_document_exception(*document, reason.clone(), *permanence)
        }
    }
}

/// What an exception stands for, as a step is named.
fn excused_name(what: Excused) -> String {
    match what {
        Excused::Capture(subject) => Step::from(subject).to_string(),
        Excused::Document(document) => document.name_en().to_string(),
    }
}

/// Refuses, before any device is opened, an exception the visit cannot take: one for the face,
/// a finger or the signature in a document-only visit, one for document photos in a visit that
/// records biometrics (or that overlaps another), and one that would replace a capture unless
/// `--replace` allows it.
fn check_exceptions(visit: &Visit, a: &CaptureArgs) -> anyhow::Result<()> {
    let mut trial = visit.clone();
    for (what, reason, permanence) in &a.exceptions {
        let subject = match what {
            Excused::Capture(subject) => subject,
            Excused::Document(document) => {
                let e = Exception {
                    reason: reason.clone(),
                    permanence: *permanence,
                    proof_file: None,
                    noted_at: jiff::Timestamp::now(),
                };
                trial.record_document_exception(*document, e)?;
                continue;
            }
        };
        if !visit.category.records_biometrics() {
            anyhow::bail!(
                "a document-only visit (dokumen) records no face, fingers or signature: leave out \
                 --exception {}=…; its document photos take --exception documents=REASON (or \
                 akta=, kia=, kk= for one)",
                match subject {
                    jemput_kit::visit::attempt::Subject::Face => "face".to_string(),
                    jemput_kit::visit::attempt::Subject::Signature => "signature".to_string(),
                    jemput_kit::visit::attempt::Subject::Finger(p) => p.code().to_string(),
                }
            );
        }
        let step = Step::from(*subject);
        let held = match step {
            Step::Face => visit.captures.face.as_ref(),
            Step::Finger(p) => visit.captures.fingers.get(&p),
            Step::Signature => visit.captures.signature.as_ref(),
            _ => None,
        };
        if matches!(held, Some(Slot::Captured(_))) && !a.replace {
            anyhow::bail!(
                "the draft already holds a capture of the {step}; it is kept. Add --replace to \
                 record the exception in its place"
            );
        }
    }
    Ok(())
}

/// Opens one device as `capability`, with the setup hint an error calls for.
fn open(selector: &Selector, capability: Capability) -> anyhow::Result<OpenedDevice> {
    let options = OpenOptions {
        wanted: Some(capability),
        ..OpenOptions::default()
    };
    let opened = registry::open(selector, &options).map_err(|e| {
        let what = format!("cannot open the {} {selector}", capability.noun());
        let id = indonesian(&open_problem(&e, Some(DeviceRole::from(capability))));
        match super::select::hint_for(&e) {
            Some(hint) => anyhow::anyhow!("{what}: {e}\n{id}\nhint: {hint}"),
            None => anyhow::anyhow!("{what}: {e}\n{id}"),
        }
    })?;
    anyhow::ensure!(
        opened.capability() == capability,
        "{selector} is a {}, not a {}: check the selector (`jemput devices`)",
        opened.capability().noun(),
        capability.noun()
    );
    Ok(opened)
}

/// Opens the device of an SBI device service `selector` names as `capability` (a camera, or a
/// single-finger or slap scanner for the fingerprints) into `devices`, checked against the kit's
/// trust store.
fn open_sbi(
    devices: &mut SessionDevices,
    home: &std::path::Path,
    selector: &jemput_sbi::client::SbiSelector,
    capability: Capability,
) -> anyhow::Result<()> {
    let trust = super::sbi::kit_trust(home, &[])?;
    let what = format!("cannot open the {} {selector}", capability.noun());
    match capability {
        Capability::Camera => {
            let cam = jemput_kit::sbi::SbiCamera::open(selector, trust).context(what)?;
            devices.camera = Some(Box::new(cam));
            devices.camera_calibration = None;
        }
        Capability::Fingerprint => {
            let scanner = jemput_kit::sbi::SbiFingerDevice::open(selector, trust).context(what)?;
            devices.set_sbi_scanner(scanner);
        }
        other => anyhow::bail!("{selector}: an SBI device cannot be the {}", other.noun()),
    }
    Ok(())
}

/// Closes the session's device of `capability` and opens it again by `selector`.
fn reopen(
    session: &mut VisitSession,
    home: &std::path::Path,
    selector: &AnySelector,
    capability: Capability,
) -> anyhow::Result<()> {
    let selector = match selector {
        AnySelector::Sbi(s) => {
            if capability == Capability::Fingerprint {
                session.devices_mut().slap_scanner = None;
            }
            session.devices_mut().remove(capability);
            open_sbi(session.devices_mut(), home, s, capability)?;
            note(&format!("  {} {s} opened afresh", capability.noun()));
            return Ok(());
        }
        AnySelector::Local(s) => s,
    };
    session.devices_mut().remove(capability);
    let fresh = SessionDevices::from_opened(home, vec![open(selector, capability)?])?;
    session.devices_mut().replace_with(fresh);
    note(&format!("  {} {selector} opened afresh", capability.noun()));
    Ok(())
}

/// What happened and what to do, in Bahasa Indonesia (the station's messages).
fn indonesian(problem: &OperatorProblem) -> String {
    static MESSAGES: std::sync::OnceLock<Option<I18n>> = std::sync::OnceLock::new();
    let messages = MESSAGES.get_or_init(|| match jemput_station::i18n::load() {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!("the operator messages do not load: {e}");
            None
        }
    });
    match messages {
        Some(m) => jemput_station::problems::problem_text(m, Lang::Id, problem),
        // The embedded messages are checked by the station's tests; this is only a safety net.
        None => String::new(),
    }
}

/// Reads one answer from stdin; end of input stops.
/// `step` is `None` for a slap, whose missing fingers are given before it with --exception.
fn ask(stdin: &mut impl BufRead, step: Option<Step>, retry: bool) -> anyhow::Result<Answer> {
    let document = matches!(step, Some(Step::Document(_)));
    let subject = step.and_then(|s| s.subject());
    let exception = if document {
        "  ·  x [akta|kia|kk] REASON[,permanent]: record an exception (every document photo \
         unless one is named)"
    } else {
        subject.map_or("", |_| "  ·  x REASON[,permanent]: record an exception")
    };
    let go = if retry { "try again" } else { "capture" };
    loop {
        note(&format!(
            "  Enter: {go}  ·  s: skip for now{exception}  ·  q: stop (the draft is kept)"
        ));
        let mut line = String::new();
        if stdin.read_line(&mut line)? == 0 {
            note("  no more answers on stdin (pass --yes to capture without prompts)");
            return Ok(Answer::Stop);
        }
        let line = line.trim();
        match (line, subject) {
            ("", _) => return Ok(Answer::Go),
            ("s", _) => return Ok(Answer::Skip),
            ("q", _) => return Ok(Answer::Stop),
            (l, _) if document && l.starts_with("x ") => {
                let rest = l[2..].trim();
                let arg = match rest.split_once(' ') {
                    Some((d, reason)) if d.parse::<DocumentKind>().is_ok() => {
                        format!("documents:{d}={}", reason.trim())
                    }
                    _ => format!("documents={rest}"),
                };
                match parse_exception(&arg) {
                    Ok(e) => return Ok(Answer::Exception(e)),
                    Err(e) => note(&format!("  {e}")),
                }
            }
            (l, Some(subject)) if l.starts_with("x ") => {
                let what = match subject {
                    jemput_kit::visit::attempt::Subject::Face => "face".to_string(),
                    jemput_kit::visit::attempt::Subject::Signature => "signature".to_string(),
                    jemput_kit::visit::attempt::Subject::Finger(p) => p.code().to_string(),
                };
                match parse_exception(&format!("{what}={}", l[2..].trim())) {
                    Ok(e) => return Ok(Answer::Exception(e)),
                    Err(e) => note(&format!("  {e}")),
                }
            }
            (other, _) => note(&format!("  {other:?} is no answer here")),
        }
    }
}

/// Whether the step failed because it was cancelled.
fn cancelled(e: &CaptureError) -> bool {
    matches!(
        e,
        CaptureError::Device {
            source: DeviceError::Cancelled,
            ..
        }
    )
}

/// What the operator does for the step.
fn instruction(step: Step) -> String {
    match step {
        Step::Location => "waiting for a fix from the GPS receiver".into(),
        Step::Face => "the resident faces the camera in front of the backdrop".into(),
        Step::Finger(p) if p.name_en().ends_with("thumb") => {
            format!("place the {} on the scanner", p.name_en())
        }
        Step::Finger(p) => format!("place the {} finger on the scanner", p.name_en()),
        Step::Signature => "hand the pen to the resident to write on the pad".into(),
        Step::Document(n) => format!("hold document {n} flat in front of the camera"),
    }
}

fn step_capability(step: Step) -> Capability {
    match step.kind() {
        StepKind::Location => Capability::Location,
        StepKind::Face | StepKind::Documents => Capability::Camera,
        StepKind::Fingers => Capability::Fingerprint,
        StepKind::Signature => Capability::Signature,
    }
}

fn step_device(step: Step) -> &'static str {
    step_capability(step).noun()
}

fn device_flag(step: Step) -> &'static str {
    match step.kind() {
        StepKind::Location => "--gps",
        StepKind::Face | StepKind::Documents => "--camera",
        StepKind::Fingers => "--scanner",
        StepKind::Signature => "--pad",
    }
}

/// What a step did, in a few words.
fn describe(outcome: &StepOutcome) -> String {
    match outcome {
        StepOutcome::Location(FixOutcome::Fix(p)) => format!("{:.5}, {:.5}", p.lat, p.lon),
        StepOutcome::Location(FixOutcome::NoFix(why)) => {
            format!("no fix ({why}); the visit goes on without one")
        }
        StepOutcome::Slot(Slot::Captured(c)) => {
            let score = c
                .quality
                .as_ref()
                .map(|q| match c.device_quality {
                    Some(d) => format!(" (score {}, {}; device {d:.1})", q.score, q.algorithm),
                    None => format!(" (score {}, {})", q.score, q.algorithm),
                })
                .unwrap_or_default();
            let forced = if c.forced { ", kept as forced" } else { "" };
            format!("captured{score}{forced}, saved in the draft")
        }
        StepOutcome::Slot(Slot::Exception(e)) => {
            format!("recorded as an exception ({})", e.reason.label_id())
        }
    }
}

/// Prints the visit's state: stdout is the JSON or the summary, and what still blocks sealing
/// with the command that fixes it.
fn report(visit: &Visit, ran: &[Step], pending: &[Step], json: bool) -> anyhow::Result<()> {
    let problems = visit.readiness();
    if json {
        return super::output::json(&VisitCaptureOutput {
            visit_id: visit.id,
            ran: ran.iter().map(|s| s.id()).collect(),
            pending: pending.iter().map(|s| s.id()).collect(),
            ready: problems.is_empty(),
            problems: problems.iter().map(|p| p.to_string()).collect(),
        });
    }
    println!("visit {}", visit.id);
    println!(
        "steps run: {}",
        if ran.is_empty() {
            "none".to_string()
        } else {
            ran.iter().map(|s| s.id()).collect::<Vec<_>>().join(" ")
        }
    );
    if problems.is_empty() {
        println!("ready to seal: jemput seal {}", visit.id);
    }
    for p in &problems {
        println!("  not ready: {p}");
    }
    for fix in super::visit_common::fixes(&problems, visit.id) {
        println!("  next: {fix}");
    }
    Ok(())
}

/// Prints every attempt as it is scored, in Bahasa Indonesia then English.
struct PrintAttempts;

impl CaptureObserver for PrintAttempts {
    fn attempt(&mut self, e: &AttemptEvent) {
        note(&format!("    {}\n      {}", e.line_id(), e.line_en()));
    }
}

fn note(message: &str) {
    super::output::note(message);
}
