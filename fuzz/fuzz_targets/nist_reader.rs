//! Fuzzes the ANSI/NIST-ITL reader (`export::nist::parse`) with arbitrary bytes.
//!
//! Invariants beyond "never panics": a transaction that parses has Type-1 first and every record's
//! IDC listed in CNT (1.003); encoding it again gives a file that parses to the same records and
//! fields (LEN and CNT recomputed, so they are compared only through the rest); the inspect
//! summary has one entry per record.
#![no_main]

use jemput_core::export::nist::{inspect, parse, Record, Transaction};
use libfuzzer_sys::fuzz_target;

/// The records with LEN (xx.001) and CNT (1.003) removed: the writer recomputes both.
fn without_computed(t: &Transaction) -> Vec<Record> {
    t.records
        .iter()
        .map(|r| match r {
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
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(t) = parse(data) else {
        return;
    };
    assert_eq!(t.records[0].record_type(), 1);
    let cnt = t.records[0].field(3).expect("CNT").subfields();
    assert_eq!(cnt.len(), t.records.len());
    let again = t.encode().expect("a parsed transaction encodes");
    let back = parse(&again).expect("our own encoding parses");
    assert_eq!(without_computed(&back), without_computed(&t));
    assert_eq!(inspect(&t, data.len() as u64).records.len(), t.records.len());
});
