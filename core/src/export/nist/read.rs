//! Reader of the ANSI/NIST-ITL traditional encoding: records, fields, and the LEN/CNT/IDC checks.
//!
//! The Type-1 record comes first; its CNT (1.003) says which records follow and in which order.
//! Tagged-field records (Types 1, 2, 9–99) are split by their LEN field; field 999 (DATA) is the
//! last field and runs to the FS that ends the record, so image bytes may hold any byte value.
//! Type-8 records are binary (4-byte LEN). Types 3–7 (legacy or deprecated binary records) are
//! refused as unsupported. Every length is checked against the bytes present before anything is
//! sliced or allocated, so malformed input gives an error, never a panic or a huge allocation.

use super::record::{Field, Record, Transaction, Type8, TYPE8_HEADER};
use super::{FS, GS, RS, US};

/// Why a file is not a well-formed ANSI/NIST-ITL transaction. Offsets are byte offsets in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("empty file: an ANSI/NIST-ITL transaction starts with `1.001:`")]
    Empty,
    #[error("record {index} (type {record_type}) at byte {offset}: {message}")]
    Record {
        index: usize,
        record_type: u32,
        offset: usize,
        message: String,
    },
    #[error("CNT (1.003) is inconsistent with the file: {0}")]
    Cnt(String),
    #[error("{count} bytes after the last record listed in CNT (1.003), from byte {offset}")]
    TrailingBytes { count: usize, offset: usize },
    #[error("record {index} is of type {record_type}, which this reader does not support (legacy binary Types 3–7)")]
    Unsupported { index: usize, record_type: u32 },
}

/// Most records a transaction may list (CNT lists at most this many; more is an error, which
/// bounds the work a hostile CNT can ask for).
pub const MAX_RECORDS: usize = 10_000;

/// Parses a whole transaction and checks its structure (LEN of every record, CNT against the
/// records, IDCs, FS at every record end, nothing after the last record).
pub fn parse(bytes: &[u8]) -> Result<Transaction, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    let (type1, mut pos) = parse_tagged(bytes, 0, 0, 1)?;
    let cnt = type1
        .field(3)
        .ok_or_else(|| err(0, 1, 0, "no CNT field (1.003)"))?;
    let listed = parse_cnt(cnt)?;
    let total = listed.len();
    let mut records = vec![type1];
    for (i, (record_type, idc)) in listed.into_iter().enumerate() {
        let index = i + 1;
        if pos >= bytes.len() {
            return Err(ReadError::Cnt(format!(
                "lists {total} records after Type-1 but the file ends after {i}"
            )));
        }
        let (record, next) = match record_type {
            1 => {
                return Err(ReadError::Cnt(format!(
                    "lists a second Type-1 record (entry {index})"
                )))
            }
            2 | 9..=99 => parse_tagged(bytes, pos, index, record_type)?,
            8 => parse_type8(bytes, pos, index)?,
            _ => return Err(ReadError::Unsupported { index, record_type }),
        };
        let found = record.idc().unwrap_or_default();
        if number(found.as_bytes()) != Some(idc) {
            return Err(ReadError::Cnt(format!(
                "entry {index} says type {record_type} IDC {idc}, the record has IDC {found:?}"
            )));
        }
        records.push(record);
        pos = next;
    }
    if pos != bytes.len() {
        return Err(ReadError::TrailingBytes {
            count: bytes.len() - pos,
            offset: pos,
        });
    }
    Ok(Transaction { records })
}

fn err(index: usize, record_type: u32, offset: usize, message: impl Into<String>) -> ReadError {
    ReadError::Record {
        index,
        record_type,
        offset,
        message: message.into(),
    }
}

/// `1␟N` then N × `type␟IDC`.
fn parse_cnt(cnt: &Field) -> Result<Vec<(u32, u32)>, ReadError> {
    let mut subfields = cnt.value.split(|&b| b == RS);
    let first = subfields.next().unwrap_or_default();
    let (one, n) = two_numbers(first).ok_or_else(|| {
        ReadError::Cnt(format!(
            "first subfield must be `1␟<count>`, found {:?}",
            String::from_utf8_lossy(first)
        ))
    })?;
    if one != 1 {
        return Err(ReadError::Cnt(format!(
            "first subfield must start with record type 1, found {one}"
        )));
    }
    let n = n as usize;
    if n > MAX_RECORDS {
        return Err(ReadError::Cnt(format!(
            "lists {n} records; more than {MAX_RECORDS} is refused"
        )));
    }
    let mut out = Vec::with_capacity(n);
    for sf in subfields {
        let pair = two_numbers(sf).ok_or_else(|| {
            ReadError::Cnt(format!(
                "subfield {:?} is not `<type>␟<IDC>`",
                String::from_utf8_lossy(sf)
            ))
        })?;
        out.push(pair);
    }
    if out.len() != n {
        return Err(ReadError::Cnt(format!(
            "first subfield counts {n} records but {} are listed",
            out.len()
        )));
    }
    Ok(out)
}

fn two_numbers(sf: &[u8]) -> Option<(u32, u32)> {
    let mut items = sf.split(|&b| b == US);
    let a = number(items.next()?)?;
    let b = number(items.next()?)?;
    items.next().is_none().then_some((a, b))
}

fn number(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Parses the tag at `at`: `<type>.<field>:`; returns (type, field, offset after the colon).
fn parse_tag(bytes: &[u8], at: usize) -> Option<(u32, u32, usize)> {
    let rest = bytes.get(at..)?;
    let dot = rest.iter().take(11).position(|&b| b == b'.')?;
    let colon = dot + 1 + rest[dot + 1..].iter().take(11).position(|&b| b == b':')?;
    let t = number(&rest[..dot])?;
    let f = number(&rest[dot + 1..colon])?;
    // Field numbers have at least three digits (`14.011`, `2.9001`).
    if colon - dot - 1 < 3 {
        return None;
    }
    Some((t, f, at + colon + 1))
}

fn parse_tagged(
    bytes: &[u8],
    start: usize,
    index: usize,
    record_type: u32,
) -> Result<(Record, usize), ReadError> {
    let e = |offset: usize, m: String| err(index, record_type, offset, m);
    let (t, f, value_at) = parse_tag(bytes, start).ok_or_else(|| {
        e(
            start,
            format!("expected the tag `{record_type}.001:` (LEN)"),
        )
    })?;
    if t != record_type || f != 1 {
        return Err(e(
            start,
            format!("expected `{record_type}.001:` (LEN), found `{t}.{f:03}:`"),
        ));
    }
    let digits_end = bytes[value_at..]
        .iter()
        .take(12)
        .position(|&b| b == GS || b == FS)
        .map(|p| value_at + p)
        .ok_or_else(|| e(value_at, "LEN is not followed by a separator".into()))?;
    let len = number(&bytes[value_at..digits_end])
        .ok_or_else(|| e(value_at, "LEN is not a decimal number".into()))? as usize;
    let end = start
        .checked_add(len)
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| {
            e(
                start,
                format!(
                    "LEN says {len} bytes but only {} remain (truncated file?)",
                    bytes.len() - start
                ),
            )
        })?;
    if len < digits_end + 1 - start {
        return Err(e(
            start,
            format!("LEN {len} is shorter than the LEN field itself"),
        ));
    }
    if bytes[end - 1] != FS {
        return Err(e(
            end - 1,
            format!("the record does not end with FS at the byte LEN {len} points to"),
        ));
    }
    let mut fields = vec![Field {
        number: 1,
        value: bytes[value_at..digits_end].to_vec(),
    }];
    let mut pos = digits_end;
    // pos is at the separator after the previous field: GS continues, FS ends the record.
    while pos < end - 1 {
        if bytes[pos] != GS {
            return Err(e(pos, "expected GS between fields".into()));
        }
        let tag_at = pos + 1;
        let (t, f, value_at) = parse_tag(&bytes[..end], tag_at)
            .ok_or_else(|| e(tag_at, "expected a field tag `<type>.<field>:`".into()))?;
        if t != record_type {
            return Err(e(
                tag_at,
                format!("field tag `{t}.{f:03}` inside a Type-{record_type} record"),
            ));
        }
        if fields.iter().any(|x| x.number == f) {
            return Err(e(tag_at, format!("field {t}.{f:03} appears twice")));
        }
        let value_end = if f == 999 {
            // DATA: binary, the last field, up to the FS that ends the record.
            end - 1
        } else {
            bytes[value_at..end]
                .iter()
                .position(|&b| b == GS || b == FS)
                .map(|p| value_at + p)
                .ok_or_else(|| e(value_at, "field has no terminating separator".into()))?
        };
        fields.push(Field {
            number: f,
            value: bytes[value_at..value_end].to_vec(),
        });
        pos = value_end;
    }
    if pos != end - 1 {
        return Err(e(pos, "FS before the end LEN gives".into()));
    }
    if record_type != 1 && !fields.iter().any(|x| x.number == 2) {
        return Err(e(start, "no IDC field (xx.002)".into()));
    }
    Ok((
        Record::Tagged {
            record_type,
            fields,
        },
        end,
    ))
}

fn parse_type8(bytes: &[u8], start: usize, index: usize) -> Result<(Record, usize), ReadError> {
    let e = |m: String| err(index, 8, start, m);
    let head = bytes
        .get(start..start + TYPE8_HEADER)
        .ok_or_else(|| e("truncated: a Type-8 record needs a 12-byte header".into()))?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if len < TYPE8_HEADER {
        return Err(e(format!("LEN {len} is shorter than the 12-byte header")));
    }
    let end = start
        .checked_add(len)
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| {
            e(format!(
                "LEN says {len} bytes but only {} remain (truncated file?)",
                bytes.len() - start
            ))
        })?;
    let r = Type8 {
        idc: head[4],
        sig: head[5],
        srt: head[6],
        isr: head[7],
        hll: u16::from_be_bytes([head[8], head[9]]),
        vll: u16::from_be_bytes([head[10], head[11]]),
        data: bytes[start + TYPE8_HEADER..end].to_vec(),
    };
    if r.sig > 1 {
        return Err(e(format!(
            "SIG {} is not 0 (subject) or 1 (official)",
            r.sig
        )));
    }
    if r.srt > 2 {
        return Err(e(format!("SRT {} is not 0, 1 or 2", r.srt)));
    }
    if r.srt == 0 {
        let row = (usize::from(r.hll)).div_ceil(8);
        let want = row * usize::from(r.vll);
        if r.data.len() != want {
            return Err(e(format!(
                "uncompressed {}×{} binary image needs {want} bytes, the record holds {}",
                r.hll,
                r.vll,
                r.data.len()
            )));
        }
    }
    Ok((Record::Type8(r), end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::nist::record::Field;

    fn sample() -> Vec<u8> {
        Transaction {
            records: vec![
                Record::Tagged {
                    record_type: 1,
                    fields: vec![Field::text(2, "0502"), Field::text(4, "TEST")],
                },
                Record::Tagged {
                    record_type: 2,
                    fields: vec![Field::text(2, "0"), Field::text(18, "NAME")],
                },
                Record::Tagged {
                    record_type: 14,
                    fields: vec![
                        Field::text(2, "1"),
                        Field::binary(999, vec![0x1c, 0x1d, 0x1e, 0x1f, 0, 255]),
                    ],
                },
                Record::Type8(Type8 {
                    idc: 2,
                    sig: 0,
                    srt: 0,
                    isr: 0,
                    hll: 9,
                    vll: 2,
                    data: vec![1, 2, 3, 4],
                }),
            ],
        }
        .encode()
        .unwrap()
    }

    #[test]
    fn reads_back_what_the_writer_wrote_including_separators_in_image_bytes() {
        let t = parse(&sample()).unwrap();
        assert_eq!(t.records.len(), 4);
        assert_eq!(
            t.records[2].field(999).unwrap().value,
            vec![0x1c, 0x1d, 0x1e, 0x1f, 0, 255]
        );
        assert_eq!(t.records[1].field(18).unwrap().as_text(), "NAME");
        assert_eq!(
            t.records[0].field(3).unwrap().subfields(),
            vec![
                vec!["1".to_string(), "3".into()],
                vec!["2".into(), "0".into()],
                vec!["14".into(), "1".into()],
                vec!["8".into(), "2".into()]
            ]
        );
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let b = sample();
        for n in 0..b.len() {
            assert!(parse(&b[..n]).is_err(), "prefix of {n} bytes accepted");
        }
    }

    #[test]
    fn trailing_bytes_and_wrong_len_are_named() {
        let mut b = sample();
        b.push(b'x');
        assert!(matches!(
            parse(&b),
            Err(ReadError::TrailingBytes { count: 1, .. })
        ));
        let b = sample();
        let text = String::from_utf8_lossy(&b).replacen("1.001:", "1.001:9", 1);
        let e = parse(text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("LEN"), "{e}");
    }

    #[test]
    fn cnt_that_disagrees_with_the_records_is_refused() {
        let b = sample();
        // Change the Type-8 IDC byte: CNT says 2.
        let mut bad = b.clone();
        let at = bad.len() - 4 - TYPE8_HEADER + 4;
        bad[at] = 7;
        let e = parse(&bad).unwrap_err();
        assert!(matches!(e, ReadError::Cnt(_)), "{e}");
    }

    #[test]
    fn an_idc_that_is_not_plain_digits_does_not_match_cnt() {
        let b = sample();
        let text = String::from_utf8_lossy(&b).replacen("14.002:1", "14.002: 1", 1);
        // The record grew by one byte: LEN no longer fits, or (after fixing LEN) the IDC fails.
        assert!(parse(text.as_bytes()).is_err());
        let t = Transaction {
            records: vec![
                Record::Tagged {
                    record_type: 1,
                    fields: vec![Field::text(2, "0502")],
                },
                Record::Tagged {
                    record_type: 2,
                    fields: vec![Field::text(2, " 0")],
                },
            ],
        };
        let e = parse(&t.encode().unwrap()).unwrap_err();
        assert!(e.to_string().contains("CNT"), "{e}");
    }

    fn record_strategy() -> impl proptest::strategy::Strategy<Value = Record> {
        use proptest::prelude::*;
        let text = proptest::collection::vec(proptest::collection::vec("[ -~]{0,12}", 1..4), 1..3);
        let tagged = (
            prop_oneof![Just(2u32), 9u32..=99],
            0u32..300,
            proptest::collection::btree_map(3u32..998, text, 0..6),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        )
            .prop_map(|(record_type, idc, map, data)| {
                let mut fields = vec![Field::text(2, idc.to_string())];
                fields.extend(map.iter().map(|(n, sf)| Field::items(*n, sf)));
                if let Some(d) = data {
                    fields.push(Field::binary(999, d));
                }
                Record::Tagged {
                    record_type,
                    fields,
                }
            });
        let type8 = (any::<u8>(), 0u16..40, 0u16..10).prop_map(|(idc, hll, vll)| {
            Record::Type8(Type8 {
                idc,
                sig: 1,
                srt: 0,
                isr: 1,
                hll,
                vll,
                data: vec![0x5A; usize::from(hll).div_ceil(8) * usize::from(vll)],
            })
        });
        prop_oneof![3 => tagged, 1 => type8]
    }

    fn without_len(r: &Record) -> Record {
        match r {
            Record::Tagged {
                record_type,
                fields,
            } => Record::Tagged {
                record_type: *record_type,
                fields: fields
                    .iter()
                    .filter(|f| f.number != 1 && !(*record_type == 1 && f.number == 3))
                    .cloned()
                    .collect(),
            },
            other => other.clone(),
        }
    }

    proptest::proptest! {
        #[test]
        fn any_transaction_the_writer_encodes_reads_back_the_same(
            records in proptest::collection::vec(record_strategy(), 0..6)
        ) {
            let mut all = vec![Record::Tagged {
                record_type: 1,
                fields: vec![Field::text(2, "0502"), Field::text(4, "T")],
            }];
            all.extend(records);
            let t = Transaction { records: all };
            let bytes = t.encode().unwrap();
            let back = parse(&bytes).unwrap();
            let a: Vec<Record> = t.records.iter().map(without_len).collect();
            let b: Vec<Record> = back.records.iter().map(without_len).collect();
            proptest::prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn a_huge_type8_len_is_refused_without_allocating() {
        let mut b = sample();
        let at = b.len() - 4 - TYPE8_HEADER;
        b[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse(&b).unwrap_err().to_string().contains("truncated"));
    }
}
