//! NIK (Nomor Induk Kependudukan) checks, and the cross-check against entered sex and birth date.
//!
//! Layout (docs/field.md §2): digits 1–2 province, 3–4 regency/city, 5–6 district, 7–12 birth
//! date DDMMYY with 40 added to the day for women, 13–16 a serial from 0001. Only the cheap checks
//! are possible without the Kemendagri region table; the NIK is a cross-check, never the source of
//! sex or birth date.

use jiff::civil::Date;

use super::model::Sex;

/// What a well-formed NIK says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NikInfo {
    pub province: u8,
    pub regency: u8,
    pub district: u8,
    pub sex: Sex,
    pub birth_day: u8,
    pub birth_month: u8,
    /// Two-digit year; the century is not in the NIK.
    pub birth_year_2d: u8,
    pub serial: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    #[error("NIK harus 16 digit (ada {0}) / NIK must be 16 digits (got {0})")]
    Length(usize),
    #[error("NIK hanya boleh berisi angka / NIK must contain digits only")]
    NotDigits,
    #[error("tanggal lahir dalam NIK tidak valid (hari {day}, bulan {month}) / invalid birth date in NIK")]
    BadDate { day: u8, month: u8 },
    #[error("kode wilayah dalam NIK tidak valid / invalid region code in NIK")]
    BadRegion,
    #[error("nomor urut NIK tidak boleh 0000 / NIK serial cannot be 0000")]
    BadSerial,
}

/// Parses and checks a NIK.
pub fn parse(nik: &str) -> Result<NikInfo, NikError> {
    let nik = nik.trim();
    if !nik.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NikError::NotDigits);
    }
    if nik.len() != 16 {
        return Err(NikError::Length(nik.len()));
    }
    let n = |a: usize, b: usize| -> u16 { nik[a..b].parse().expect("digits") };
    let (province, regency, district) = (n(0, 2) as u8, n(2, 4) as u8, n(4, 6) as u8);
    if province < 11 || regency == 0 || district == 0 {
        return Err(NikError::BadRegion);
    }
    let raw_day = n(6, 8) as u8;
    let month = n(8, 10) as u8;
    let (sex, day) = match raw_day {
        1..=31 => (Sex::Male, raw_day),
        41..=71 => (Sex::Female, raw_day - 40),
        _ => {
            return Err(NikError::BadDate {
                day: raw_day,
                month,
            })
        }
    };
    if !(1..=12).contains(&month) || day > days_in_month_max(month) {
        return Err(NikError::BadDate {
            day: raw_day,
            month,
        });
    }
    let serial = n(12, 16);
    if serial == 0 {
        return Err(NikError::BadSerial);
    }
    Ok(NikInfo {
        province,
        regency,
        district,
        sex,
        birth_day: day,
        birth_month: month,
        birth_year_2d: n(10, 12) as u8,
        serial,
    })
}

fn days_in_month_max(month: u8) -> u8 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Warning codes an operator must confirm before sealing; stored in `Visit::confirmed_warnings`.
pub const WARN_SEX: &str = "nik_sex_mismatch";
pub const WARN_BIRTH_DATE: &str = "nik_birth_date_mismatch";

/// A disagreement between the NIK and what the operator entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: &'static str,
    /// Operator-facing text in Bahasa Indonesia.
    pub text_id: String,
    pub text_en: String,
}

/// Cross-checks a parsed NIK against the entered sex and birth date.
pub fn cross_check(info: &NikInfo, sex: Option<Sex>, birth: Option<Date>) -> Vec<Warning> {
    let mut out = Vec::new();
    let sex_id = |s: Sex| {
        if s == Sex::Female {
            "perempuan"
        } else {
            "laki-laki"
        }
    };
    let sex_en = |s: Sex| if s == Sex::Female { "female" } else { "male" };
    if let Some(s) = sex {
        if s != info.sex {
            out.push(Warning {
                code: WARN_SEX,
                text_id: format!(
                    "NIK menunjukkan {}, tetapi jenis kelamin yang dimasukkan {}",
                    sex_id(info.sex),
                    sex_id(s)
                ),
                text_en: format!(
                    "the NIK says {}, the entered sex is {}",
                    sex_en(info.sex),
                    sex_en(s)
                ),
            });
        }
    }
    if let Some(d) = birth {
        let same = d.day() as u8 == info.birth_day
            && d.month() as u8 == info.birth_month
            && (d.year().rem_euclid(100)) as u8 == info.birth_year_2d;
        if !same {
            out.push(Warning {
                code: WARN_BIRTH_DATE,
                text_id: format!(
                    "tanggal lahir dalam NIK ({:02}-{:02}-{:02}) berbeda dari yang dimasukkan ({d})",
                    info.birth_day, info.birth_month, info.birth_year_2d
                ),
                text_en: format!(
                    "the NIK's birth date ({:02}-{:02}-{:02}) differs from the entered one ({d})",
                    info.birth_day, info.birth_month, info.birth_year_2d
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn woman_born_5_march_1990_has_day_plus_40() {
        let i = parse("3174054503900001").unwrap();
        assert_eq!(i.sex, Sex::Female);
        assert_eq!((i.birth_day, i.birth_month, i.birth_year_2d), (5, 3, 90));
        assert_eq!(
            (i.province, i.regency, i.district, i.serial),
            (31, 74, 5, 1)
        );
    }

    #[test]
    fn man_keeps_day() {
        let i = parse("7408011207850003").unwrap();
        assert_eq!(i.sex, Sex::Male);
        assert_eq!((i.birth_day, i.birth_month), (12, 7));
    }

    #[test]
    fn malformed_niks_are_rejected_with_reason() {
        assert_eq!(parse("317405450390000"), Err(NikError::Length(15)));
        assert_eq!(parse("31740545039000a1"), Err(NikError::NotDigits));
        assert!(matches!(
            parse("3174053503900001"),
            Err(NikError::BadDate { .. })
        )); // day 35
        assert!(matches!(
            parse("3174057203900001"),
            Err(NikError::BadDate { .. })
        )); // day 72
        assert!(matches!(
            parse("3174051513900001"),
            Err(NikError::BadDate { .. })
        )); // month 13
        assert!(matches!(
            parse("3174053102900001"),
            Err(NikError::BadDate { .. })
        )); // 31 Feb
        assert_eq!(parse("3174054503900000"), Err(NikError::BadSerial));
        assert_eq!(parse("0074054503900001"), Err(NikError::BadRegion));
    }

    #[test]
    fn cross_check_flags_sex_and_birth_date_mismatches() {
        let i = parse("3174054503900001").unwrap();
        let ok = cross_check(&i, Some(Sex::Female), Some(Date::constant(1990, 3, 5)));
        assert!(ok.is_empty());
        let w = cross_check(&i, Some(Sex::Male), Some(Date::constant(1990, 3, 6)));
        let codes: Vec<_> = w.iter().map(|w| w.code).collect();
        assert_eq!(codes, vec![WARN_SEX, WARN_BIRTH_DATE]);
        assert!(w[0].text_id.contains("perempuan"));
    }
}
