//! jemput's own MOSIP SBI device service (`jemput sbi serve`, docs/sbi.md): the HTTP service
//! (`serve`, axum) at certification level L0 over any [`serve::Backend`] (the binary puts
//! jemput's own scanners and cameras behind it), its simulated slap scanner and camera (`sim`), the
//! ISO/IEC 19794 records they return (`records`), device-provider CA and device keys (`keys`,
//! `jemput sbi keygen`) and the RS256 signer (`sign`); with the feature `testing`, the service
//! started in the calling process for tests (`testing`). The messages, verification and the client
//! are `jemput-sbi`'s; this crate holds the web server, so the kit never depends on it.

pub mod keys;
pub mod records;
pub mod serve;
pub mod sign;
pub mod sim;
#[cfg(feature = "testing")]
pub mod testing;
