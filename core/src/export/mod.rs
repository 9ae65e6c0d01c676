//! Exports of opened packets to interchange formats. For now: ANSI/NIST-ITL 1-2011 Update 2015
//! transactions in the traditional encoding ([`nist`]). ISO/IEC 19794 records are not written yet.

pub mod nist;
