//! The ANSI/NIST-ITL transaction model shared by the writer and the reader, and the writer of the
//! traditional encoding: tagged-field records (Types 1, 2, 9–99) and the binary Type-8 record.

use super::{FS, GS, RS, US};

/// One field of a tagged-field record: its number and its raw value bytes (without the tag and
/// without the trailing GS or FS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field number, e.g. 13 for `14.013`.
    pub number: u32,
    /// The value: text with RS/US separators, or the raw image bytes of field 999.
    pub value: Vec<u8>,
}

impl Field {
    /// A field of one subfield with one information item.
    pub fn text(number: u32, value: impl Into<String>) -> Field {
        Field {
            number,
            value: value.into().into_bytes(),
        }
    }

    /// A field of subfields, each a list of information items (joined with RS and US).
    pub fn items(number: u32, subfields: &[Vec<String>]) -> Field {
        let mut value = Vec::new();
        for (i, sf) in subfields.iter().enumerate() {
            if i > 0 {
                value.push(RS);
            }
            for (j, item) in sf.iter().enumerate() {
                if j > 0 {
                    value.push(US);
                }
                value.extend_from_slice(item.as_bytes());
            }
        }
        Field { number, value }
    }

    /// Raw binary data (field 999).
    pub fn binary(number: u32, value: Vec<u8>) -> Field {
        Field { number, value }
    }

    /// The value split into subfields (RS) and information items (US), as text (lossy UTF-8).
    /// Only meaningful for text fields, not for field 999.
    pub fn subfields(&self) -> Vec<Vec<String>> {
        self.value
            .split(|&b| b == RS)
            .map(|sf| {
                sf.split(|&b| b == US)
                    .map(|i| String::from_utf8_lossy(i).into_owned())
                    .collect()
            })
            .collect()
    }

    /// The whole value as text (lossy UTF-8), separators left in place.
    pub fn as_text(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }
}

/// The binary Type-8 signature record (header fields and data), as the standard lays it out:
/// LEN (4 bytes), IDC, SIG, SRT, ISR (1 byte each), HLL, VLL (2 bytes each), then the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Type8 {
    pub idc: u8,
    /// 0 = the subject's signature, 1 = an official's.
    pub sig: u8,
    /// Signature representation: 0 scanned uncompressed, 1 scanned compressed, 2 vector.
    pub srt: u8,
    /// Image scanning resolution: 0 = minimum scanning resolution (19.69 ppmm), 1 = native (1.011).
    pub isr: u8,
    pub hll: u16,
    pub vll: u16,
    pub data: Vec<u8>,
}

/// Length of the Type-8 header before the data.
pub const TYPE8_HEADER: usize = 12;

/// One logical record of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A tagged-field record of the given type (1, 2, 9–99), fields in file order. The writer
    /// computes field 001 (LEN) itself: the list holds every field but LEN.
    Tagged {
        record_type: u32,
        fields: Vec<Field>,
    },
    /// The binary Type-8 signature record.
    Type8(Type8),
}

impl Record {
    /// The record type number.
    pub fn record_type(&self) -> u32 {
        match self {
            Record::Tagged { record_type, .. } => *record_type,
            Record::Type8(_) => 8,
        }
    }

    /// The field with this number, if any (tagged records only).
    pub fn field(&self, number: u32) -> Option<&Field> {
        match self {
            Record::Tagged { fields, .. } => fields.iter().find(|f| f.number == number),
            Record::Type8(_) => None,
        }
    }

    /// The IDC: field 002 of a tagged record (as text), the IDC byte of a Type-8 record; none for
    /// Type-1 (whose field 002 is VER).
    pub fn idc(&self) -> Option<String> {
        match self {
            Record::Tagged { record_type: 1, .. } => None,
            Record::Tagged { .. } => self.field(2).map(Field::as_text),
            Record::Type8(r) => Some(r.idc.to_string()),
        }
    }
}

/// A whole transaction: the Type-1 record first, then the others in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transaction {
    pub records: Vec<Record>,
}

fn tag(record_type: u32, number: u32) -> String {
    format!("{record_type}.{number:03}:")
}

/// Encodes one tagged-field record, computing LEN (field 001) at its fixed point: the byte count
/// of the whole record, including LEN's own tag and digits and the final FS.
pub fn encode_tagged(record_type: u32, fields: &[Field]) -> Vec<u8> {
    let mut rest = Vec::new();
    for f in fields.iter().filter(|f| f.number != 1) {
        rest.push(GS);
        rest.extend_from_slice(tag(record_type, f.number).as_bytes());
        rest.extend_from_slice(&f.value);
    }
    rest.push(FS);
    let head = tag(record_type, 1).len();
    // LEN = head + digits(LEN) + rest; start from one digit and grow until the count holds.
    let mut len = head + 1 + rest.len();
    while head + len.to_string().len() + rest.len() != len {
        len = head + len.to_string().len() + rest.len();
    }
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(tag(record_type, 1).as_bytes());
    out.extend_from_slice(len.to_string().as_bytes());
    out.extend_from_slice(&rest);
    debug_assert_eq!(out.len(), len);
    out
}

/// Encodes a Type-8 record. Errors when the data does not fit the 4-byte LEN.
pub fn encode_type8(r: &Type8) -> Option<Vec<u8>> {
    let len = u32::try_from(TYPE8_HEADER + r.data.len()).ok()?;
    let mut out = Vec::with_capacity(len as usize);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[r.idc, r.sig, r.srt, r.isr]);
    out.extend_from_slice(&r.hll.to_be_bytes());
    out.extend_from_slice(&r.vll.to_be_bytes());
    out.extend_from_slice(&r.data);
    Some(out)
}

impl Transaction {
    /// Encodes the transaction. Field 1.003 (CNT) is computed from the records (any CNT in the
    /// Type-1 field list is replaced); LEN fields are computed per record.
    ///
    /// Returns `None` only when a Type-8 record is larger than 4 GiB.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let cnt = self.cnt();
        for r in &self.records {
            match r {
                Record::Tagged {
                    record_type: 1,
                    fields,
                } => {
                    let mut fields: Vec<Field> =
                        fields.iter().filter(|f| f.number != 3).cloned().collect();
                    let at = fields
                        .iter()
                        .position(|f| f.number > 3)
                        .unwrap_or(fields.len());
                    fields.insert(at, cnt.clone());
                    out.extend_from_slice(&encode_tagged(1, &fields));
                }
                Record::Tagged {
                    record_type,
                    fields,
                } => out.extend_from_slice(&encode_tagged(*record_type, fields)),
                Record::Type8(t) => out.extend_from_slice(&encode_type8(t)?),
            }
        }
        Some(out)
    }

    /// Field 1.003 CNT: `1␟<number of other records>`, then `<type>␟<IDC>` for each other record.
    pub fn cnt(&self) -> Field {
        let others: Vec<&Record> = self
            .records
            .iter()
            .filter(|r| r.record_type() != 1)
            .collect();
        let mut subfields = vec![vec!["1".to_string(), others.len().to_string()]];
        for r in others {
            subfields.push(vec![
                r.record_type().to_string(),
                r.idc().unwrap_or_default(),
            ]);
        }
        Field::items(3, &subfields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn len_counts_itself_at_the_digit_boundary() {
        // Pick values so the record sits right where LEN grows from 2 to 3 digits.
        for pad in 80..110 {
            let f = [Field::text(2, "0"), Field::text(3, "x".repeat(pad))];
            let rec = encode_tagged(2, &f);
            let text = String::from_utf8_lossy(&rec);
            let len: usize = text["2.001:".len()..text.find('\u{1d}').unwrap()]
                .parse()
                .unwrap();
            assert_eq!(len, rec.len(), "pad {pad}");
            assert_eq!(*rec.last().unwrap(), FS);
        }
    }

    #[test]
    fn tagged_record_layout_matches_the_standard_form() {
        let rec = encode_tagged(
            14,
            &[
                Field::text(2, "1"),
                Field::items(18, &[vec!["3".into(), "XX".into()]]),
            ],
        );
        assert_eq!(rec, b"14.001:31\x1d14.002:1\x1d14.018:3\x1fXX\x1c".to_vec());
    }

    #[test]
    fn type8_header_is_big_endian_and_counts_itself() {
        let r = Type8 {
            idc: 3,
            sig: 0,
            srt: 0,
            isr: 0,
            hll: 0x0102,
            vll: 0x0304,
            data: vec![0xAA; 5],
        };
        let b = encode_type8(&r).unwrap();
        assert_eq!(&b[..12], &[0, 0, 0, 17, 3, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(b.len(), 17);
    }
}
