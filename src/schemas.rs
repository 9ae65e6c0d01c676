//! JSON Schemas of every file and JSON output jemput writes, generated from the Rust types.
//!
//! `schemas/*.schema.json` are the committed copies; `tests/schemas.rs` fails when they drift from
//! the types (regenerate with `JEMPUT_UPDATE_SCHEMAS=1 cargo test --test schemas`).

use schemars::{schema_for, Schema};

/// (file name, schema) for every schema jemput publishes.
pub fn all() -> Vec<(&'static str, Schema)> {
    vec![
        (
            "packet-header.schema.json",
            schema_for!(jemput_core::packet::Header),
        ),
        (
            "packet-manifest.schema.json",
            schema_for!(jemput_core::packet::Manifest),
        ),
        (
            "kit-config.schema.json",
            schema_for!(jemput_kit::home::Config),
        ),
        (
            "queue.schema.json",
            schema_for!(Vec<jemput_kit::store::QueueEntry>),
        ),
        (
            "packet-inspect.schema.json",
            schema_for!(crate::outputs::InspectOutput),
        ),
        (
            "packet-verify.schema.json",
            schema_for!(crate::outputs::VerifyOutput),
        ),
        ("seal.schema.json", schema_for!(crate::outputs::SealOutput)),
        (
            "discarded.schema.json",
            schema_for!(jemput_kit::discard::DiscardRecord),
        ),
        (
            "visit-capture.schema.json",
            schema_for!(crate::outputs::VisitCaptureOutput),
        ),
        (
            "visit-list.schema.json",
            schema_for!(Vec<crate::outputs::VisitListEntry>),
        ),
        ("demo.schema.json", schema_for!(crate::outputs::DemoOutput)),
        ("ui.schema.json", schema_for!(crate::outputs::UiOutput)),
        (
            "upload.schema.json",
            schema_for!(jemput_kit::upload::UploadReport),
        ),
        (
            "office-keygen.schema.json",
            schema_for!(jemput_core::keys::office::OfficeKeys),
        ),
        ("hub-config.schema.json", schema_for!(jemput_hub::HubConfig)),
        ("hub-info.schema.json", schema_for!(jemput_hub::HubInfo)),
        (
            "hub-init.schema.json",
            schema_for!(jemput_hub::HubInitOutput),
        ),
        (
            "hub-packets.schema.json",
            schema_for!(Vec<jemput_hub::packets::PacketRow>),
        ),
        (
            "hub-events.schema.json",
            schema_for!(Vec<jemput_hub::events::Delivery>),
        ),
        (
            "hub-event.schema.json",
            schema_for!(jemput_hub::events::StatusEvent),
        ),
        (
            "hub-kits.schema.json",
            schema_for!(Vec<jemput_hub::KitEntry>),
        ),
        (
            "receipt.schema.json",
            schema_for!(jemput_core::wire::receipt::Receipt),
        ),
        (
            "receipt-body.schema.json",
            schema_for!(jemput_core::wire::receipt::ReceiptBody),
        ),
        (
            "pen-trace.schema.json",
            schema_for!(jemput_core::imaging::signature::SignatureTrace),
        ),
        (
            "imaging-face-check.schema.json",
            schema_for!(crate::outputs::FaceCheckOutput),
        ),
        (
            "devices.schema.json",
            schema_for!(crate::outputs::DevicesOutput),
        ),
        (
            "devices-test.schema.json",
            schema_for!(crate::outputs::DeviceTestOutput),
        ),
        (
            "capture-finger.schema.json",
            schema_for!(crate::outputs::CaptureFingerOutput),
        ),
        (
            "capture-face.schema.json",
            schema_for!(crate::outputs::CaptureFaceOutput),
        ),
        (
            "capture-signature.schema.json",
            schema_for!(crate::outputs::CaptureSignatureOutput),
        ),
        ("sim.schema.json", schema_for!(crate::outputs::SimOutput)),
        (
            "usbip-list.schema.json",
            schema_for!(Vec<crate::outputs::UsbIpDeviceOutput>),
        ),
        (
            "usbip-attach.schema.json",
            schema_for!(crate::outputs::UsbIpAttachOutput),
        ),
        (
            "enroll.schema.json",
            schema_for!(jemput_kit::enroll::EnrollOutcome),
        ),
        (
            "enroll-request.schema.json",
            schema_for!(jemput_core::wire::enroll::EnrollRequest),
        ),
        (
            "enroll-response.schema.json",
            schema_for!(jemput_core::wire::enroll::EnrollResponse),
        ),
        (
            "hub-enroll-token.schema.json",
            schema_for!(jemput_hub::IssuedToken),
        ),
        (
            "sync-document.schema.json",
            schema_for!(jemput_core::wire::sync::SyncDocument),
        ),
        (
            "sync-body.schema.json",
            schema_for!(jemput_core::wire::sync::SyncBody),
        ),
        (
            "sync-state.schema.json",
            schema_for!(jemput_kit::sync::SyncState),
        ),
        (
            "sync.schema.json",
            schema_for!(jemput_kit::sync::SyncOutcome),
        ),
        (
            "kit-settings.schema.json",
            schema_for!(jemput_core::wire::sync::KitSettings),
        ),
        (
            "worklist.schema.json",
            schema_for!(Vec<jemput_core::worklist::WorklistEntry>),
        ),
        (
            "export-nist.schema.json",
            schema_for!(jemput_core::export::nist::ExportSummary),
        ),
        (
            "export-inspect.schema.json",
            schema_for!(jemput_core::export::nist::InspectOutput),
        ),
        (
            "status.schema.json",
            schema_for!(jemput_kit::sync::status::KitStatus),
        ),
    ]
}

/// Renders a schema the way the committed files are written (pretty JSON, trailing newline).
pub fn render(schema: &Schema) -> String {
    let mut s = serde_json::to_string_pretty(schema).expect("schemas serialise");
    s.push('\n');
    s
}
