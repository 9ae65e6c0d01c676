//! What `jemput export inspect` shows of a transaction: every record and field, with field
//! mnemonics where jemput knows them, and image data as a length and a SHA-256.

use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::record::{Record, Transaction};

/// A parsed transaction, as `jemput export inspect --json` prints it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InspectOutput {
    /// File size in bytes.
    pub bytes: u64,
    /// 1.002 VER.
    pub version: Option<String>,
    /// 1.009 TCN.
    pub tcn: Option<String>,
    pub records: Vec<InspectRecord>,
}

/// One record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InspectRecord {
    /// Position in the file, 0 = the Type-1 record.
    pub index: usize,
    pub record_type: u32,
    pub idc: Option<String>,
    /// Fields of a tagged record (empty for Type-8).
    pub fields: Vec<InspectField>,
    /// Header of a binary Type-8 record.
    pub type8: Option<InspectType8>,
}

/// One field of a tagged record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InspectField {
    /// `type.field`, e.g. `14.013`.
    pub tag: String,
    /// Mnemonic, e.g. `FGP`, when jemput knows the field.
    pub name: Option<String>,
    /// Subfields and their information items (text fields).
    pub subfields: Option<Vec<Vec<String>>>,
    /// Length of binary data (field 999).
    pub data_bytes: Option<u64>,
    /// SHA-256 of binary data, lowercase hex.
    pub data_sha256: Option<String>,
}

/// The header of a Type-8 signature record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InspectType8 {
    pub sig: u8,
    pub srt: u8,
    pub isr: u8,
    pub hll: u16,
    pub vll: u16,
    pub data_bytes: u64,
    pub data_sha256: String,
}

/// Mnemonic of a field jemput writes or commonly meets.
pub fn field_name(record_type: u32, number: u32) -> Option<&'static str> {
    let common = match number {
        1 => Some("LEN"),
        2 => Some("IDC"),
        992 => Some("T2C"),
        999 => Some("DATA"),
        _ => None,
    };
    let specific = match (record_type, number) {
        (1, 2) => Some("VER"),
        (1, 3) => Some("CNT"),
        (1, 4) => Some("TOT"),
        (1, 5) => Some("DAT"),
        (1, 6) => Some("PRY"),
        (1, 7) => Some("DAI"),
        (1, 8) => Some("ORI"),
        (1, 9) => Some("TCN"),
        (1, 10) => Some("TCR"),
        (1, 11) => Some("NSR"),
        (1, 12) => Some("NTR"),
        (1, 13) => Some("DOM"),
        (1, 14) => Some("GMT"),
        (1, 15) => Some("DCS"),
        (10, 3) => Some("IMT"),
        (10, 5) => Some("PHD"),
        (10, 12) => Some("CSP"),
        (10, 13) => Some("SAP"),
        (10 | 14, 4) => Some("SRC"),
        (10 | 14, 6) => Some("HLL"),
        (10 | 14, 7) => Some("VLL"),
        (10 | 14, 8) => Some("SLC"),
        (10 | 14, 9) => Some("THPS"),
        (10 | 14, 10) => Some("TVPS"),
        (10 | 14, 11) => Some("CGA"),
        (10 | 14, 16) => Some("SHPS"),
        (10 | 14, 17) => Some("SVPS"),
        (10 | 14, 20) => Some("COM"),
        (14, 3) => Some("IMP"),
        (14, 5) => Some("FCD"),
        (14, 12) => Some("BPX"),
        (14, 13) => Some("FGP"),
        (14, 18) => Some("AMP"),
        (14, 24) => Some("FQM"),
        _ => None,
    };
    specific.or(common)
}

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Describes a parsed transaction.
pub fn inspect(t: &Transaction, file_bytes: u64) -> InspectOutput {
    let text = |n: u32| {
        t.records
            .first()
            .and_then(|r| r.field(n))
            .map(|f| f.as_text())
    };
    let records = t
        .records
        .iter()
        .enumerate()
        .map(|(index, r)| match r {
            Record::Tagged {
                record_type,
                fields,
            } => InspectRecord {
                index,
                record_type: *record_type,
                idc: r.idc(),
                fields: fields
                    .iter()
                    .map(|f| {
                        let binary = f.number == 999;
                        InspectField {
                            tag: format!("{record_type}.{:03}", f.number),
                            name: field_name(*record_type, f.number).map(str::to_string),
                            subfields: (!binary).then(|| f.subfields()),
                            data_bytes: binary.then_some(f.value.len() as u64),
                            data_sha256: binary.then(|| sha256(&f.value)),
                        }
                    })
                    .collect(),
                type8: None,
            },
            Record::Type8(t8) => InspectRecord {
                index,
                record_type: 8,
                idc: r.idc(),
                fields: Vec::new(),
                type8: Some(InspectType8 {
                    sig: t8.sig,
                    srt: t8.srt,
                    isr: t8.isr,
                    hll: t8.hll,
                    vll: t8.vll,
                    data_bytes: t8.data.len() as u64,
                    data_sha256: sha256(&t8.data),
                }),
            },
        })
        .collect();
    InspectOutput {
        bytes: file_bytes,
        version: text(2),
        tcn: text(9),
        records,
    }
}
