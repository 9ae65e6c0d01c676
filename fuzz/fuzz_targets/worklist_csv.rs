//! Fuzzes the worklist CSV reader the hub imports offices' files with.
//!
//! Invariants: on success the ids are unique and every NIK given passes the NIK check; on failure
//! by rows, the rows are named from line 2 (the first after the header) on.
#![no_main]

use std::collections::HashSet;

use jemput_core::visit::nik;
use jemput_core::worklist::{parse_csv, WorklistError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_csv(data) {
        Ok(entries) => {
            let mut ids = HashSet::new();
            for e in &entries {
                assert!(ids.insert(e.id.clone()), "duplicate id {:?}", e.id);
                if let Some(n) = &e.nik {
                    assert!(nik::parse(n).is_ok(), "{n:?}");
                }
            }
        }
        Err(WorklistError::Rows(rows)) => {
            assert!(!rows.is_empty());
            assert!(rows.iter().all(|r| r.line >= 2));
        }
        Err(_) => {}
    }
});
