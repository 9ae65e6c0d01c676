//! Fuzzes the USB/IP codec the server and client read network bytes with: operation requests,
//! URB commands (CMD_SUBMIT / CMD_UNLINK) and replies (RET_SUBMIT / RET_UNLINK).
//!
//! Invariants: nothing panics; a decoded message takes no more bytes than it was given; a decoded
//! command or reply re-encodes to bytes that decode to the same message.
#![no_main]

use jemput_drivers::usbip::protocol::{Command, OpRequest, Reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(OpRequest::Import { busid })) = OpRequest::decode(data) {
        let again = OpRequest::Import { busid }.encode().expect("a decoded bus id fits");
        assert!(OpRequest::decode(&again).unwrap().is_some());
    }
    if let Ok(Some((c, used))) = Command::decode(data) {
        assert!(used <= data.len());
        let again = c.encode();
        assert_eq!(Command::decode(&again), Ok(Some((c, again.len()))));
    }
    // Which URBs are IN is the client's knowledge: take it from the first byte.
    let dir_in = data.first().is_some_and(|b| b & 1 == 1);
    if let Ok(Some((r, used))) = Reply::decode(data, |_| Some(dir_in)) {
        assert!(used <= data.len());
        let again = r.encode();
        assert_eq!(Reply::decode(&again, |_| Some(dir_in)), Ok(Some((r, again.len()))));
    }
});
