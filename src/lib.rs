//! jemput: a field kit for mobile KTP-el enrollment outreach.
//!
//! This crate is the `jemput` binary's: the command line (`src/cli/`, one file per subcommand),
//! the shapes of its JSON outputs ([`outputs`]) and the JSON Schemas of every file and output
//! ([`schemas`]). The work is done by the libraries: `jemput_core` (packets, keys, the wire
//! protocol, the visit model, imaging, exports), `jemput_kit` (the field kit), `jemput_hub` (the
//! office hub), `jemput_drivers` (devices) and `jemput_wsq` (the WSQ codec). `ARCHITECTURE.md`
//! draws the map.

pub mod outputs;
pub mod schemas;
