//! jemput-kit: the field kit on the operator's laptop.
//!
//! - [`home`]: the kit home, its config and `init`; [`draft_key`]: the draft key, sealed to the
//!   operator passphrase;
//! - [`visit`]: a visit's encrypted draft and the session that captures it from the devices;
//!   [`new_visit`]: starting a visit (offline policy, resident, worklist) and confirming warnings;
//!   [`discard`]: discarding a draft with a reason kept in an audit line;
//!   [`devices`]: the drivers' reports as the shared formats record them;
//!   [`calibration`]: device calibrations and the records captures refer to; [`calibrate`]:
//!   `jemput calibrate` — opening the device through the registry, running the driver's own
//!   procedure, keeping its record;
//! - [`seal`]: sealing a draft into the queue; [`store`]: packet files and the SQLite queue, with
//!   recovery;
//! - [`upload`]: the tus client, the uploader and the agent; [`sync`]: the sync client and the
//!   kit's status against its offline policy; [`enroll`]: enrollment with a hub; [`pin`]: HTTPS
//!   that trusts the pinned hub certificate alone;
//! - [`sbi`]: devices of MOSIP SBI device services (certified slap scanners and cameras) as the
//!   kit's own, every answer checked against the kit's trust store;
//! - [`doctor`]: checks of a kit.
//!
//! Packets, keys, the wire protocol and the visit's data model are `jemput_core`'s; the devices are
//! `jemput_drivers`'. No web server and never the hub.

pub mod calibrate;
pub mod calibration;
pub mod devices;
pub mod discard;
pub mod doctor;
pub mod draft_key;
pub mod enroll;
pub mod home;
pub mod new_visit;
pub mod pin;
pub mod sbi;
pub mod seal;
pub mod store;
pub mod sync;
pub mod upload;
pub mod visit;
