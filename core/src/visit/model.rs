//! The typed model of one visit: who, why, where, consent, and every capture or exception.
//!
//! A [`Visit`] is what the manifest of a sealed packet carries (without the biometric bytes, which are
//! files of the packet named by each [`Capture::file`]).

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::device::DeviceRecord;
pub use crate::finger::FingerPosition;

/// One home, ward or village visit to one resident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    /// Random id of the visit (UUID v4).
    pub id: Uuid,
    pub resident: Resident,
    pub category: Category,
    pub operator: Operator,
    /// Consent of the resident (or of a guardian). Sealing needs `given = true`.
    pub consent: Option<Consent>,
    pub place: Place,
    pub started_at: Timestamp,
    pub captures: Captures,
    /// Warnings the operator saw and explicitly confirmed (e.g. a NIK that disagrees with the entered
    /// birth date). A warning that is not confirmed blocks sealing.
    #[serde(default)]
    pub confirmed_warnings: Vec<String>,
}

/// Who the visit is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resident {
    pub reference: ResidentRef,
    pub name: Option<String>,
    pub sex: Option<Sex>,
    /// Birth date as entered by the operator (from the KK or another document), `YYYY-MM-DD`.
    pub birth_date: Option<jiff::civil::Date>,
    /// A foreign national (KTP-el for foreigners, WNA): the face photo's backdrop rule then asks
    /// for the foreigners' colour whatever the birth year. Absent (false) in older manifests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub foreigner: bool,
}

/// How the resident is identified: by NIK, or by the id of a worklist entry when the NIK is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum ResidentRef {
    /// Nomor Induk Kependudukan, 16 digits.
    Nik(String),
    /// The id of an entry in the worklist downloaded from the office.
    Worklist(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// Why the team came to the resident rather than the resident to the office.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Elderly resident at home.
    Lansia,
    /// Seriously ill resident at home.
    Sakit,
    /// Resident with a disability.
    Disabilitas,
    /// Orang dengan gangguan jiwa: resident with a mental illness.
    Odgj,
    /// Patient in a hospital ward.
    RumahSakit,
    /// General outreach (school, village hall, blank-spot village).
    Umum,
    /// Document-only service (e.g. newborn documents in hospital): no biometric recording.
    Dokumen,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Lansia,
        Category::Sakit,
        Category::Disabilitas,
        Category::Odgj,
        Category::RumahSakit,
        Category::Umum,
        Category::Dokumen,
    ];

    /// The machine name used in files and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Category::Lansia => "lansia",
            Category::Sakit => "sakit",
            Category::Disabilitas => "disabilitas",
            Category::Odgj => "odgj",
            Category::RumahSakit => "rumah_sakit",
            Category::Umum => "umum",
            Category::Dokumen => "dokumen",
        }
    }

    /// Operator-facing label in Bahasa Indonesia.
    pub fn label_id(self) -> &'static str {
        match self {
            Category::Lansia => "Lansia",
            Category::Sakit => "Sakit",
            Category::Disabilitas => "Penyandang disabilitas",
            Category::Odgj => "ODGJ (orang dengan gangguan jiwa)",
            Category::RumahSakit => "Pasien rumah sakit",
            Category::Umum => "Umum",
            Category::Dokumen => "Layanan dokumen saja",
        }
    }

    /// Label in English.
    pub fn label_en(self) -> &'static str {
        match self {
            Category::Lansia => "Elderly",
            Category::Sakit => "Seriously ill",
            Category::Disabilitas => "Person with a disability",
            Category::Odgj => "Person with a mental illness",
            Category::RumahSakit => "Hospital patient",
            Category::Umum => "General outreach",
            Category::Dokumen => "Documents only",
        }
    }

    /// Whether a visit of this category records biometrics (face, fingers, signature).
    pub fn records_biometrics(self) -> bool {
        self != Category::Dokumen
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| {
                let all: Vec<_> = Category::ALL.iter().map(|c| c.code()).collect();
                format!("unknown visit category {s:?}; one of: {}", all.join(", "))
            })
    }
}

/// The officer doing the recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// Operator id (NIP or a local login).
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub given: bool,
    /// Who gave consent: the resident, or a guardian / family member named here.
    pub given_by: ConsentBy,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum ConsentBy {
    Resident,
    /// A guardian or family member, with their name and relation.
    Guardian(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// Free text: address, ward, village.
    pub description: String,
    pub location: Option<GeoPoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
    /// Horizontal accuracy in metres, when the source reports it.
    pub accuracy_m: Option<f64>,
}

/// Every biometric slot of a visit. A slot is either captured or has an exception; `None` means
/// "not done yet", which blocks sealing for visits that record biometrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Captures {
    pub face: Option<Slot>,
    /// Keyed by finger position 1–10.
    pub fingers: BTreeMap<FingerPosition, Slot>,
    pub signature: Option<Slot>,
    /// Photos of documents (KK, birth letter, referral). A visit that records biometrics needs
    /// none; a document-only visit needs one, or an exception in `document_exceptions`.
    pub documents: Vec<Capture>,
    /// Document photos that could not be taken (document-only visits only), keyed by the
    /// document: `akta`, `kia`, `kk`, or `all` of them. Absent when empty, and in manifests
    /// written before it existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = {"enum": ["akta", "kia", "kk", "all"]}))]
    pub document_exceptions: BTreeMap<DocumentKind, Exception>,
}

/// Which document photo an exception stands for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Akta kelahiran: the birth certificate.
    Akta,
    /// Kartu Identitas Anak: the child's identity card.
    Kia,
    /// Kartu Keluarga: the family card.
    Kk,
    /// Every document photo of the visit.
    All,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 4] = [
        DocumentKind::Akta,
        DocumentKind::Kia,
        DocumentKind::Kk,
        DocumentKind::All,
    ];

    /// The machine name used in files and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Akta => "akta",
            DocumentKind::Kia => "kia",
            DocumentKind::Kk => "kk",
            DocumentKind::All => "all",
        }
    }

    /// Operator-facing name in Bahasa Indonesia.
    pub fn name_id(self) -> &'static str {
        match self {
            DocumentKind::Akta => "foto akta kelahiran",
            DocumentKind::Kia => "foto KIA",
            DocumentKind::Kk => "foto KK",
            DocumentKind::All => "semua foto dokumen",
        }
    }

    /// Name in English.
    pub fn name_en(self) -> &'static str {
        match self {
            DocumentKind::Akta => "birth certificate photo",
            DocumentKind::Kia => "child identity card (KIA) photo",
            DocumentKind::Kk => "family card (KK) photo",
            DocumentKind::All => "every document photo",
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for DocumentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocumentKind::ALL
            .into_iter()
            .find(|d| d.code() == s)
            .ok_or_else(|| format!("unknown document {s:?}; one of: akta, kia, kk, all"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "status")]
// A visit holds a dozen slots at most: boxing the capture would save nothing worth the noise.
#[allow(clippy::large_enum_variant)]
pub enum Slot {
    Captured(Capture),
    Exception(Exception),
}

/// One captured image (or pen trace) and how it was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    /// Name of the file inside the packet (and of the draft blob), e.g. `finger-02.wsq`.
    pub file: String,
    /// Media type of `file`: `image/x-wsq` (fingers), `image/png`, `image/jpeg`,
    /// `application/json` (pen trace).
    pub media_type: String,
    /// Extra files belonging to this capture, e.g. the pen trace beside the signature image.
    #[serde(default)]
    pub extra_files: Vec<String>,
    pub captured_at: Timestamp,
    pub device: DeviceRecord,
    /// Id of the calibration in force when the capture was taken, if the device is calibrated.
    pub calibration_id: Option<String>,
    /// Quality score 0–100 and the algorithm that produced it.
    pub quality: Option<Quality>,
    /// The device's own quality score 0–100 for the kept capture (an SBI device's
    /// `qualityScore`), beside jemput's `quality`; absent for a device that gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_quality: Option<f32>,
    /// Attempts made beyond the first under the capture policy (attempts in all = `retries` + 1);
    /// with keep-best the kept capture is the best of them.
    pub retries: u32,
    /// Kept although below the capture policy's quality threshold after every attempt.
    pub forced: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub ppi: Option<u32>,
    /// Face photo checks (face captures only): each check's value, threshold and outcome, for
    /// the attempt that was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_checks: Option<Box<crate::imaging::face::FaceReport>>,
    /// What the resident wrote (signature captures only): anything but `signature` (a simple
    /// mark or the written name of someone who cannot sign) is accepted and flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_kind: Option<crate::imaging::signature::SignatureKind>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quality {
    pub score: u8,
    /// Algorithm id, e.g. `jemput-fq/1` (jemput's own finger measure, not NFIQ 2).
    pub algorithm: String,
}

/// Why a biometric (or a document-only visit's document photo) is missing. Never a silent gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub reason: ExceptionReason,
    pub permanence: Permanence,
    /// Optional photo proving the exception (e.g. a bandaged hand), a packet file name.
    pub proof_file: Option<String>,
    pub noted_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "code", content = "text")]
pub enum ExceptionReason {
    Amputated,
    BandagedOrInjured,
    UnableToSign,
    Blind,
    Refused,
    DeviceFailure,
    /// Every attempt scored below the capture policy's threshold and forcing is not allowed.
    PoorQuality,
    /// The device detected nothing in any attempt (no finger on the sensor before the timeout).
    NotDetected,
    /// Anything else, described by the operator.
    Other(String),
}

impl ExceptionReason {
    pub fn label_id(&self) -> String {
        match self {
            ExceptionReason::Amputated => "Diamputasi".into(),
            ExceptionReason::BandagedOrInjured => "Diperban / luka".into(),
            ExceptionReason::UnableToSign => "Tidak dapat tanda tangan".into(),
            ExceptionReason::Blind => "Tunanetra".into(),
            ExceptionReason::Refused => "Menolak".into(),
            ExceptionReason::DeviceFailure => "Perangkat gagal".into(),
            ExceptionReason::PoorQuality => "Kualitas di bawah ambang".into(),
            ExceptionReason::NotDetected => "Tidak terdeteksi".into(),
            ExceptionReason::Other(t) => format!("Lainnya: {t}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permanence {
    Temporary,
    Permanent,
}
