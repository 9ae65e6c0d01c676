//! The agency's transaction profile: Type-1 constants, face and quality settings, and the Type-2
//! mapping of field numbers to visit values. The default is `default-profile.toml` beside this file.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::visit::{ConsentBy, ResidentRef, Sex, Visit};

/// The default profile, as shipped (documented in docs/export-nist.md).
pub const DEFAULT_PROFILE: &str = include_str!("default-profile.toml");

/// An agency's transaction profile (TOML).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// 1.004 TOT.
    pub tot: String,
    /// 1.007 DAI.
    pub dai: String,
    /// 1.008 ORI, and SRC of the image records.
    pub ori: String,
    /// 1.011 NSR, `dd.dd` ppmm.
    pub nsr: String,
    /// 1.012 NTR, `dd.dd` ppmm.
    pub ntr: String,
    /// 10.013 SAP of the face.
    pub face_sap: String,
    /// 14.024 quality algorithm vendor id, 4 hex digits.
    pub quality_vendor_id: String,
    /// 14.024 product code per quality algorithm id (1–65535).
    #[serde(default)]
    pub quality_products: BTreeMap<String, u16>,
    /// Type-2 fields in the order written (sorted by number on output).
    #[serde(default)]
    pub type2: Vec<Type2Field>,
}

/// One Type-2 field: a visit value or a literal.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Type2Field {
    /// Field number (3–999, not 999).
    pub field: u32,
    pub value: Option<VisitValue>,
    pub literal: Option<String>,
}

/// The visit values a Type-2 field can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum VisitValue {
    /// The NIK (16 digits), when the resident is identified by NIK.
    #[serde(rename = "resident.nik")]
    ResidentNik,
    /// The worklist entry id, when the resident is identified by a worklist entry.
    #[serde(rename = "resident.worklist_id")]
    ResidentWorklistId,
    #[serde(rename = "resident.name")]
    ResidentName,
    /// `YYYYMMDD`.
    #[serde(rename = "resident.birth_date")]
    ResidentBirthDate,
    /// `M` or `F`.
    #[serde(rename = "resident.sex")]
    ResidentSex,
    /// The category code, e.g. `lansia`.
    #[serde(rename = "visit.category")]
    VisitCategory,
    #[serde(rename = "visit.id")]
    VisitId,
    /// `YYYYMMDDHHMMSSZ` (UTC).
    #[serde(rename = "visit.started_at")]
    VisitStartedAt,
    #[serde(rename = "visit.place")]
    VisitPlace,
    /// `lat␟lon` in decimal degrees.
    #[serde(rename = "visit.location")]
    VisitLocation,
    /// One subfield per slot with an exception: `slot␟reason␟permanence`.
    #[serde(rename = "visit.exceptions")]
    VisitExceptions,
    #[serde(rename = "operator.id")]
    OperatorId,
    /// `resident`, or `guardian␟<name>`.
    #[serde(rename = "consent.given_by")]
    ConsentGivenBy,
    #[serde(rename = "kit.id")]
    KitId,
    #[serde(rename = "packet.id")]
    PacketId,
}

/// Why a profile is not usable.
#[derive(Debug, thiserror::Error)]
#[error("profile: {0}")]
pub struct ProfileError(pub String);

impl Profile {
    /// The built-in default profile.
    pub fn default_profile() -> Profile {
        Profile::parse(DEFAULT_PROFILE).expect("the shipped default profile is valid")
    }

    /// Parses and checks a profile.
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        let p: Profile = toml::from_str(text).map_err(|e| ProfileError(e.to_string()))?;
        p.validate()?;
        Ok(p)
    }

    /// Checks every entry (what [`Profile::parse`] does after reading the TOML).
    pub fn validate(&self) -> Result<(), ProfileError> {
        let bad = |m: String| Err(ProfileError(m));
        if self.tot.is_empty()
            || self.tot.len() > 16
            || !self.tot.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return bad(format!("tot {:?} must be 1–16 letters", self.tot));
        }
        for (name, v) in [("dai", &self.dai), ("ori", &self.ori)] {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                return bad(format!("{name} {v:?} must be non-empty printable ASCII"));
            }
        }
        for (name, v) in [("nsr", &self.nsr), ("ntr", &self.ntr)] {
            let ok = v.len() == 5
                && v.as_bytes()[2] == b'.'
                && v.bytes()
                    .enumerate()
                    .all(|(i, b)| i == 2 || b.is_ascii_digit());
            if !ok {
                return bad(format!("{name} {v:?} must have the form dd.dd"));
            }
        }
        if self.face_sap.parse::<u16>().is_err() {
            return bad(format!("face_sap {:?} must be a number", self.face_sap));
        }
        if self.quality_vendor_id.len() != 4
            || !self
                .quality_vendor_id
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        {
            return bad(format!(
                "quality_vendor_id {:?} must be 4 hex digits",
                self.quality_vendor_id
            ));
        }
        if let Some((k, _)) = self.quality_products.iter().find(|(_, &v)| v == 0) {
            return bad(format!("quality product code for {k:?} must be 1–65535"));
        }
        let mut seen = Vec::new();
        for f in &self.type2 {
            if !(3..=998).contains(&f.field) {
                return bad(format!("type2 field {} must be 3–998", f.field));
            }
            if seen.contains(&f.field) {
                return bad(format!("type2 field {} appears twice", f.field));
            }
            seen.push(f.field);
            if f.value.is_some() == f.literal.is_some() {
                return bad(format!(
                    "type2 field {} needs exactly one of `value` and `literal`",
                    f.field
                ));
            }
        }
        Ok(())
    }
}

/// Text safe inside a field: separators and other control characters become spaces.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The subfields (each a list of items) of a visit value, or `None` when the visit has none.
pub fn visit_value(
    v: VisitValue,
    visit: &Visit,
    kit_id: &str,
    packet_id: &str,
) -> Option<Vec<Vec<String>>> {
    let one = |s: String| Some(vec![vec![clean(&s)]]);
    match v {
        VisitValue::ResidentNik => match &visit.resident.reference {
            ResidentRef::Nik(n) => one(n.clone()),
            ResidentRef::Worklist(_) => None,
        },
        VisitValue::ResidentWorklistId => match &visit.resident.reference {
            ResidentRef::Worklist(w) => one(w.clone()),
            ResidentRef::Nik(_) => None,
        },
        VisitValue::ResidentName => visit.resident.name.clone().and_then(one),
        VisitValue::ResidentBirthDate => visit
            .resident
            .birth_date
            .and_then(|d| one(d.strftime("%Y%m%d").to_string())),
        VisitValue::ResidentSex => visit.resident.sex.and_then(|s| {
            one(match s {
                Sex::Male => "M".into(),
                Sex::Female => "F".into(),
            })
        }),
        VisitValue::VisitCategory => one(visit.category.code().into()),
        VisitValue::VisitId => one(visit.id.to_string()),
        VisitValue::VisitStartedAt => one(gmt(visit.started_at)),
        VisitValue::VisitPlace => one(visit.place.description.clone()),
        VisitValue::VisitLocation => visit
            .place
            .location
            .map(|l| vec![vec![format!("{:.6}", l.lat), format!("{:.6}", l.lon)]]),
        VisitValue::VisitExceptions => {
            let out: Vec<Vec<String>> = visit
                .exceptions()
                .into_iter()
                .map(|(slot, e)| {
                    let reason = match &e.reason {
                        crate::visit::ExceptionReason::Other(t) => format!("other: {}", clean(t)),
                        r => serde_json::to_value(r)
                            .ok()
                            .and_then(|j| j["code"].as_str().map(str::to_string))
                            .unwrap_or_default(),
                    };
                    let perm = match e.permanence {
                        crate::visit::Permanence::Temporary => "temporary",
                        crate::visit::Permanence::Permanent => "permanent",
                    };
                    vec![slot, reason, perm.into()]
                })
                .collect();
            (!out.is_empty()).then_some(out)
        }
        VisitValue::OperatorId => one(visit.operator.id.clone()),
        VisitValue::ConsentGivenBy => visit.consent.as_ref().map(|c| match &c.given_by {
            ConsentBy::Resident => vec![vec!["resident".into()]],
            ConsentBy::Guardian(n) => vec![vec!["guardian".into(), clean(n)]],
        }),
        VisitValue::KitId => one(kit_id.into()),
        VisitValue::PacketId => one(packet_id.into()),
    }
}

/// `YYYYMMDDHHMMSSZ`, the standard's GMT form.
pub fn gmt(t: jiff::Timestamp) -> String {
    t.strftime("%Y%m%d%H%M%SZ").to_string()
}

/// `YYYYMMDD` (UTC).
pub fn date(t: jiff::Timestamp) -> String {
    t.strftime("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_default_profile_parses() {
        let p = Profile::default_profile();
        assert_eq!(p.tot, "KTPEL");
        assert!(p.type2.iter().any(|f| f.field == 900));
    }

    #[test]
    fn a_bad_profile_says_which_entry_is_wrong() {
        let bad = DEFAULT_PROFILE.replace("tot = \"KTPEL\"", "tot = \"KTP-EL\"");
        assert!(Profile::parse(&bad)
            .unwrap_err()
            .to_string()
            .contains("tot"));
        let dup = format!("{DEFAULT_PROFILE}\n[[type2]]\nfield = 18\nliteral = \"x\"\n");
        assert!(Profile::parse(&dup)
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let unknown = DEFAULT_PROFILE.replace("resident.name", "resident.shoe_size");
        assert!(Profile::parse(&unknown).is_err());
    }
}
