//! Worklists: the residents the office wants a team to visit, imported on the hub from a CSV file
//! and carried to kits in the signed sync document (`docs/hub-protocol.md` §8).
//!
//! The CSV has a header row. Columns (case-insensitive, Indonesian names accepted):
//!
//! | column | also | required | meaning |
//! |---|---|---|---|
//! | `nik` | | one of `nik`, `id` per row | the resident's NIK, checked like any NIK the kit takes |
//! | `id` | | one of `nik`, `id` per row | the office's reference when the NIK is unknown; defaults to the NIK |
//! | `name` | `nama` | yes | the resident's name |
//! | `address` | `alamat` | no | street address, house, ward |
//! | `rt_rw` | `rt/rw` | no | `RT/RW`, e.g. `003/005` |
//! | `desa` | `kelurahan`, `village` | yes | village (desa or kelurahan) |
//! | `category` | `kategori` | yes | a visit category code (`lansia`, `sakit`, …) |
//! | `notes` | `catatan` | no | free text for the team |
//! | `kit` | | no | assign the entry to one kit id; empty means every kit |
//!
//! An import is all or nothing: every bad row is reported (line, column, why) and nothing is
//! imported until the file is clean.

use std::collections::HashSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::visit::{nik, Category};

/// Most entries one worklist may hold.
pub const MAX_ENTRIES: usize = 100_000;
/// Longest field, in characters.
pub const MAX_FIELD_CHARS: usize = 500;

/// One resident to visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorklistEntry {
    /// The entry's id: the `id` column, or the NIK when that is empty. Unique in a worklist.
    pub id: String,
    /// The resident's NIK (16 digits), when known.
    pub nik: Option<String>,
    /// The resident's name.
    pub name: String,
    /// Street address, house or ward.
    #[serde(default)]
    pub address: String,
    /// `RT/RW`, e.g. `003/005`.
    pub rt_rw: Option<String>,
    /// Village (desa or kelurahan).
    pub desa: String,
    /// Why the team visits (the visit category).
    pub category: Category,
    /// Notes for the team.
    pub notes: Option<String>,
    /// The kit this entry is assigned to; `None` sends it to every kit.
    pub kit: Option<String>,
}

impl WorklistEntry {
    /// A one-line place description for a visit: address, RT/RW, desa.
    pub fn place(&self) -> String {
        let mut parts = Vec::new();
        if !self.address.is_empty() {
            parts.push(self.address.clone());
        }
        if let Some(r) = &self.rt_rw {
            parts.push(format!("RT/RW {r}"));
        }
        parts.push(format!("Desa {}", self.desa));
        parts.join(", ")
    }

    /// Whether the entry goes to `kit_id` (assigned to it, or to every kit).
    pub fn is_for(&self, kit_id: &str) -> bool {
        self.kit.as_deref().is_none_or(|k| k == kit_id)
    }
}

/// One bad row of a worklist CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RowError {
    /// Line in the file (1 is the header).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// What is wrong, in English (the command line's words).
    pub message: String,
    /// What is wrong, for a screen that says it in the reader's language
    /// ([`RowProblem::code`] and the values it holds).
    #[serde(skip)]
    #[schemars(skip)]
    pub problem: RowProblem,
}

impl RowError {
    fn new(line: u64, column: Option<String>, problem: RowProblem) -> RowError {
        RowError {
            line,
            column,
            message: problem.to_string(),
            problem,
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What is wrong with one row of a worklist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RowProblem {
    /// The CSV reader could not read the row (its reason, in English).
    #[error("unreadable row: {0}")]
    Unreadable(String),
    /// Not as many fields as the header has columns.
    #[error("{found} fields, the header has {expected}")]
    FieldCount {
        /// Fields in the row.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// A field longer than [`MAX_FIELD_CHARS`].
    #[error("longer than {MAX_FIELD_CHARS} characters")]
    TooLong,
    /// Not a valid NIK; `why` is the NIK check's own message (in Bahasa Indonesia and English).
    #[error("{value:?}: {why}")]
    BadNik {
        /// The value given.
        value: String,
        /// Why it is not a NIK.
        why: String,
    },
    /// An `id` that is not 1–64 letters, digits, `-`, `_` or `.`.
    #[error("{0:?} is not an id: use 1-64 letters, digits, '-', '_' or '.'")]
    NotAnId(String),
    /// Neither `nik` nor `id`.
    #[error("neither nik nor id is given")]
    NoNikOrId,
    /// A required field is empty.
    #[error("empty")]
    Empty,
    /// Not one of the visit categories.
    #[error("{0:?} is not a category; use one of {codes}", codes = category_codes())]
    NotACategory(String),
    /// Not written as RT/RW.
    #[error("{0:?} is not RT/RW; write it as e.g. 003/005")]
    NotRtRw(String),
    /// Not a kit id.
    #[error("{0:?} is not a kit id")]
    NotAKitId(String),
    /// The same id as an earlier row.
    #[error("id {0:?} appears on an earlier row")]
    DuplicateId(String),
}

impl RowProblem {
    /// A stable name for the problem (a message id's tail for translated screens).
    pub fn code(&self) -> &'static str {
        match self {
            RowProblem::Unreadable(_) => "unreadable",
            RowProblem::FieldCount { .. } => "field-count",
            RowProblem::TooLong => "too-long",
            RowProblem::BadNik { .. } => "bad-nik",
            RowProblem::NotAnId(_) => "not-an-id",
            RowProblem::NoNikOrId => "no-nik-or-id",
            RowProblem::Empty => "empty",
            RowProblem::NotACategory(_) => "not-a-category",
            RowProblem::NotRtRw(_) => "not-rt-rw",
            RowProblem::NotAKitId(_) => "not-a-kit-id",
            RowProblem::DuplicateId(_) => "duplicate-id",
        }
    }
}

/// The category codes a worklist takes, comma-separated.
pub fn category_codes() -> String {
    let codes: Vec<&str> = Category::ALL.iter().map(|c| c.code()).collect();
    codes.join(", ")
}

/// Why a worklist CSV cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorklistError {
    /// The header row is missing a column, repeats one, or names one this format does not have.
    #[error("the worklist header is wrong: {0}")]
    Header(String),
    /// Some rows are bad; none were imported.
    #[error("{} bad row(s), nothing imported; fix them and import again:\n{}", .0.len(), .0.iter().map(|r| format!("  {r}")).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
    /// The file has no entries.
    #[error("the worklist has no entries (only a header, or nothing)")]
    Empty,
    /// More than [`MAX_ENTRIES`] rows.
    #[error("the worklist has more than {MAX_ENTRIES} entries; split it by kit or desa")]
    TooMany,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Nik,
    Id,
    Name,
    Address,
    RtRw,
    Desa,
    Category,
    Notes,
    Kit,
}

fn column(name: &str) -> Option<Col> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "nik" => Col::Nik,
        "id" => Col::Id,
        "name" | "nama" => Col::Name,
        "address" | "alamat" => Col::Address,
        "rt_rw" | "rt/rw" | "rtrw" => Col::RtRw,
        "desa" | "kelurahan" | "village" => Col::Desa,
        "category" | "kategori" => Col::Category,
        "notes" | "catatan" => Col::Notes,
        "kit" => Col::Kit,
        _ => return None,
    })
}

fn col_name(c: Col) -> &'static str {
    match c {
        Col::Nik => "nik",
        Col::Id => "id",
        Col::Name => "name",
        Col::Address => "address",
        Col::RtRw => "rt_rw",
        Col::Desa => "desa",
        Col::Category => "category",
        Col::Notes => "notes",
        Col::Kit => "kit",
    }
}

/// Parses a category code as the kit's command line takes it.
pub fn parse_category(s: &str) -> Option<Category> {
    let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    Category::ALL.into_iter().find(|c| c.code() == s)
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn valid_rt_rw(s: &str) -> bool {
    let Some((rt, rw)) = s.split_once('/') else {
        return false;
    };
    [rt, rw]
        .iter()
        .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses and checks a worklist CSV. Every bad row is reported; nothing is returned unless all
/// rows are good.
pub fn parse_csv(data: &[u8]) -> Result<Vec<WorklistEntry>, WorklistError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| WorklistError::Header(e.to_string()))?
        .clone();
    let mut cols = Vec::new();
    for h in headers.iter() {
        let h = h.trim_start_matches('\u{feff}');
        let c = column(h).ok_or_else(|| {
            WorklistError::Header(format!(
                "unknown column {h:?}; the columns are nik, id, name, address, rt_rw, desa, category, notes, kit"
            ))
        })?;
        if cols.contains(&c) {
            return Err(WorklistError::Header(format!(
                "column {} appears twice",
                col_name(c)
            )));
        }
        cols.push(c);
    }
    for need in [Col::Name, Col::Desa, Col::Category] {
        if !cols.contains(&need) {
            return Err(WorklistError::Header(format!(
                "missing column {}",
                col_name(need)
            )));
        }
    }
    if !cols.contains(&Col::Nik) && !cols.contains(&Col::Id) {
        return Err(WorklistError::Header(
            "missing column nik or id (one of them identifies each resident)".into(),
        ));
    }

    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, record) in reader.records().enumerate() {
        if i >= MAX_ENTRIES {
            return Err(WorklistError::TooMany);
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(i as u64 + 2);
                errors.push(RowError::new(
                    line,
                    None,
                    RowProblem::Unreadable(e.to_string()),
                ));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(i as u64 + 2);
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        match parse_row(&cols, &record, line) {
            Ok(entry) => {
                if !seen.insert(entry.id.clone()) {
                    errors.push(RowError::new(
                        line,
                        Some("id".into()),
                        RowProblem::DuplicateId(entry.id.clone()),
                    ));
                } else {
                    entries.push(entry);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(WorklistError::Rows(errors));
    }
    if entries.is_empty() {
        return Err(WorklistError::Empty);
    }
    Ok(entries)
}

fn parse_row(
    cols: &[Col],
    record: &csv::StringRecord,
    line: u64,
) -> Result<WorklistEntry, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut err = |c: Option<Col>, problem: RowProblem| {
        errors.push(RowError::new(
            line,
            c.map(|c| col_name(c).to_string()),
            problem,
        ))
    };
    if record.len() != cols.len() {
        err(
            None,
            RowProblem::FieldCount {
                found: record.len(),
                expected: cols.len(),
            },
        );
        return Err(errors);
    }
    let get = |c: Col| -> Option<String> {
        cols.iter()
            .position(|&x| x == c)
            .map(|i| record[i].to_string())
            .filter(|v| !v.is_empty())
    };
    for (i, v) in record.iter().enumerate() {
        if v.chars().count() > MAX_FIELD_CHARS {
            err(Some(cols[i]), RowProblem::TooLong);
        }
    }
    let nik_value = get(Col::Nik);
    if let Some(n) = &nik_value {
        if let Err(e) = nik::parse(n) {
            err(
                Some(Col::Nik),
                RowProblem::BadNik {
                    value: n.clone(),
                    why: e.to_string(),
                },
            );
        }
    }
    let id = match (get(Col::Id), &nik_value) {
        (Some(id), _) => {
            if !valid_id(&id) {
                err(Some(Col::Id), RowProblem::NotAnId(id.clone()));
            }
            id
        }
        (None, Some(n)) => n.clone(),
        (None, None) => {
            err(None, RowProblem::NoNikOrId);
            String::new()
        }
    };
    let name = get(Col::Name).unwrap_or_else(|| {
        err(Some(Col::Name), RowProblem::Empty);
        String::new()
    });
    let desa = get(Col::Desa).unwrap_or_else(|| {
        err(Some(Col::Desa), RowProblem::Empty);
        String::new()
    });
    let category = match get(Col::Category) {
        Some(c) => parse_category(&c).or_else(|| {
            err(Some(Col::Category), RowProblem::NotACategory(c.clone()));
            None
        }),
        None => {
            err(Some(Col::Category), RowProblem::Empty);
            None
        }
    };
    let rt_rw = get(Col::RtRw);
    if let Some(r) = &rt_rw {
        if !valid_rt_rw(r) {
            err(Some(Col::RtRw), RowProblem::NotRtRw(r.clone()));
        }
    }
    let kit = get(Col::Kit);
    if let Some(k) = &kit {
        if !valid_id(k) {
            err(Some(Col::Kit), RowProblem::NotAKitId(k.clone()));
        }
    }
    match (errors.is_empty(), category) {
        (true, Some(category)) => Ok(WorklistEntry {
            id,
            nik: nik_value.map(|n| n.trim().to_string()),
            name,
            address: get(Col::Address).unwrap_or_default(),
            rt_rw,
            desa,
            category,
            notes: get(Col::Notes),
            kit,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_NIK: &str = "7408014501500003";

    #[test]
    fn a_clean_file_imports_with_quoted_fields_and_ids_from_the_nik() {
        let csv = format!(
            "nik,id,nama,alamat,rt/rw,desa,kategori,catatan,kit\n\
             {GOOD_NIK},,Siti Aminah,\"Jl. Mawar 3, belakang masjid\",003/005,Lapadi,lansia,\"kursi roda\",\n\
             ,WL-7,Budi,,,Pujungan,rumah_sakit,,kit-0a1b2c3d\n"
        );
        let e = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].id, GOOD_NIK);
        assert_eq!(e[0].nik.as_deref(), Some(GOOD_NIK));
        assert_eq!(e[0].address, "Jl. Mawar 3, belakang masjid");
        assert_eq!(
            e[0].place(),
            "Jl. Mawar 3, belakang masjid, RT/RW 003/005, Desa Lapadi"
        );
        assert!(e[0].is_for("kit-anything"));
        assert_eq!(e[1].id, "WL-7");
        assert_eq!(e[1].nik, None);
        assert_eq!(e[1].category, Category::RumahSakit);
        assert!(e[1].is_for("kit-0a1b2c3d") && !e[1].is_for("kit-other"));
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_column_and_nothing_is_returned() {
        let csv = format!(
            "nik,id,name,desa,category,rt_rw\n\
             {GOOD_NIK},,Siti,Lapadi,lansia,003/005\n\
             12345,,Bad Nik,Lapadi,lansia,\n\
             ,,No Ref,Lapadi,umum,\n\
             ,WL-1,Wrong Cat,Lapadi,tourist,\n\
             ,WL-2,,Lapadi,umum,3-5\n\
             ,{GOOD_NIK},Dup,Lapadi,umum,\n\
             ,WL-3,Short,Lapadi\n"
        );
        let Err(WorklistError::Rows(rows)) = parse_csv(csv.as_bytes()) else {
            panic!("expected row errors")
        };
        let got: Vec<(u64, Option<&str>)> =
            rows.iter().map(|r| (r.line, r.column.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (3, Some("nik")),
                (4, None),
                (5, Some("category")),
                (6, Some("name")),
                (6, Some("rt_rw")),
                (7, Some("id")),
                (8, None),
            ]
        );
        let text = rows[0].problem.to_string();
        assert!(text.contains("16 digit"), "{text}");
        assert_eq!(rows[0].problem.code(), "bad-nik");
        assert!(rows[2].problem.to_string().contains("tourist"));
        assert_eq!(
            rows[2].problem,
            RowProblem::NotACategory("tourist".into()),
            "{rows:?}"
        );
        let codes: Vec<&str> = rows.iter().map(|r| r.problem.code()).collect();
        assert_eq!(
            codes,
            [
                "bad-nik",
                "no-nik-or-id",
                "not-a-category",
                "empty",
                "not-rt-rw",
                "duplicate-id",
                "field-count"
            ]
        );
        let text = WorklistError::Rows(rows).to_string();
        assert!(text.contains("7 bad row(s), nothing imported"), "{text}");
    }

    #[test]
    fn header_problems_are_refused_before_any_row() {
        for (csv, says) in [
            ("nik,name,desa\n", "missing column category"),
            ("name,desa,category\n", "missing column nik or id"),
            (
                "nik,name,desa,category,colour\n",
                "unknown column \"colour\"",
            ),
            ("nik,nik,name,desa,category\n", "appears twice"),
        ] {
            let e = parse_csv(csv.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(says), "{csv:?}: {e}");
        }
        assert_eq!(
            parse_csv(b"nik,name,desa,category\n"),
            Err(WorklistError::Empty)
        );
    }

    /// What any input gives, clean or not: never a panic; on success unique, valid ids and NIKs
    /// that check; on failure, rows named from line 2 on.
    fn check_any(data: &[u8]) {
        match parse_csv(data) {
            Ok(entries) => {
                let mut ids = HashSet::new();
                for e in &entries {
                    assert!(ids.insert(e.id.clone()), "duplicate id {:?}", e.id);
                    assert!(!e.id.is_empty() && !e.name.is_empty() && !e.desa.is_empty());
                    if let Some(n) = &e.nik {
                        assert!(nik::parse(n).is_ok(), "{n:?}");
                    }
                }
            }
            Err(WorklistError::Rows(rows)) => {
                assert!(!rows.is_empty());
                assert!(rows.iter().all(|r| r.line >= 2), "{rows:?}");
            }
            Err(_) => {}
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            check_any(&data);
        }

        #[test]
        fn csv_like_text_never_panics_and_keeps_its_promises(
            rows in proptest::collection::vec(
                "(7408014501500003|740801[0-9]{10}|[0-9]{0,17}|)?,([A-Z0-9-]{0,6})?,[a-z ]{0,5},[a-z\\\"]{0,4},(lansia|umum|x)?,([0-9]{1,3}/[0-9]{1,3}|3-5)?",
                0..8,
            )
        ) {
            let text = format!("nik,id,name,desa,category,rt_rw\n{}", rows.join("\n"));
            check_any(text.as_bytes());
        }
    }
}
