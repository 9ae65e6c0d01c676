//! The SBI client: finds device services on 127.0.0.1 (ports 4501–4600, all at once, each with a
//! short timeout), asks them what they are, and takes registration captures, every answer
//! checked by `verify` before the caller sees any of it.

use std::ops::RangeInclusive;
use std::time::Duration;

use reqwest::Method;

use crate::chain;
use crate::error::SbiError;
use crate::proto::{
    self, BioRequest, CaptureRequest, CaptureResponse, DeviceInfoEntry, DiscoverRequest,
    DiscoveredDevice, SPEC_VERSION,
};
use crate::trust::TrustStore;
use crate::verify::{self, VerifiedBiometric};

/// The environment variable that narrows the ports scanned (`FIRST-LAST`), so that tests running
/// side by side each see only their own device service.
pub const PORTS_ENV: &str = "JEMPUT_SBI_PORTS";
/// How long a scanned port may take to answer discovery.
pub const SCAN_TIMEOUT: Duration = Duration::from_millis(800);

/// The ports to scan: [`PORTS_ENV`] when set (`4501-4600` or one port), else 4501–4600.
pub fn ports() -> Result<RangeInclusive<u16>, SbiError> {
    match std::env::var(PORTS_ENV) {
        Ok(v) => parse_ports(&v).ok_or_else(|| {
            SbiError::Garbage(format!(
                "{PORTS_ENV}={v:?}: write FIRST-LAST, e.g. 4501-4600"
            ))
        }),
        Err(_) => Ok(proto::PORT_RANGE),
    }
}

fn parse_ports(v: &str) -> Option<RangeInclusive<u16>> {
    let (a, b) = v.split_once('-').unwrap_or((v, v));
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b).then_some(a..=b)
}

fn http(timeout: Duration) -> Result<reqwest::Client, SbiError> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(2)))
        .build()
        .map_err(|e| SbiError::Garbage(format!("HTTP client: {e}")))
}

async fn call(
    client: &reqwest::Client,
    port: u16,
    verb: &'static str,
    path: &str,
    body: Vec<u8>,
) -> Result<Vec<u8>, SbiError> {
    let method = Method::from_bytes(verb.as_bytes()).expect("a valid token");
    let url = format!("http://127.0.0.1:{port}{path}");
    let send = client
        .request(method, url)
        .header("EXT", "jemput")
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    let resp = send.map_err(|e| {
        if e.is_timeout() {
            SbiError::Timeout { port }
        } else {
            SbiError::Unreachable {
                port,
                why: e.to_string(),
            }
        }
    })?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| {
        if e.is_timeout() {
            SbiError::Timeout { port }
        } else {
            SbiError::Garbage(format!("port {port}: {e}"))
        }
    })?;
    if status != 200 {
        return Err(SbiError::HttpStatus { port, status });
    }
    Ok(bytes.to_vec())
}

fn parse<T: serde::de::DeserializeOwned>(port: u16, what: &str, b: &[u8]) -> Result<T, SbiError> {
    serde_json::from_slice(b)
        .map_err(|e| SbiError::Garbage(format!("port {port}'s {what} answer: {e}")))
}

/// `MOSIPDISC`: the devices of the service on `port`.
pub async fn discover(port: u16, timeout: Duration) -> Result<Vec<DiscoveredDevice>, SbiError> {
    let body = serde_json::to_vec(&DiscoverRequest {
        kind: "Biometric Device".into(),
    })
    .expect("json");
    let b = call(&http(timeout)?, port, "MOSIPDISC", "/device", body).await?;
    read_discovery(port, &b)
}

/// Reads the body of a discovery answer from `port`.
pub fn read_discovery(port: u16, body: &[u8]) -> Result<Vec<DiscoveredDevice>, SbiError> {
    parse(port, "discovery", body)
}

/// Reads the body of a device info answer from `port` (each entry's JWS not yet verified).
pub fn read_info(port: u16, body: &[u8]) -> Result<Vec<DeviceInfoEntry>, SbiError> {
    parse(port, "device info", body)
}

/// Reads the body of a capture answer from `port` (nothing in it verified yet).
pub fn read_capture(port: u16, body: &[u8]) -> Result<CaptureResponse, SbiError> {
    parse(port, "capture", body)
}

/// What [`capture`] does with the body of the answer to `req`: reads it and runs every check
/// (signatures, trust, transaction, time against `now`, hash chain, counts); only then is any of
/// it returned.
pub fn accept_capture(
    req: &CaptureRequest,
    port: u16,
    body: &[u8],
    trust: &TrustStore,
    now: i64,
) -> Result<Vec<VerifiedBiometric>, SbiError> {
    verify::verify_capture(req, &read_capture(port, body)?, trust, now)
}

/// `MOSIPDINFO`: the signed device info of the service on `port`.
pub async fn info(port: u16, timeout: Duration) -> Result<Vec<DeviceInfoEntry>, SbiError> {
    let b = call(&http(timeout)?, port, "MOSIPDINFO", "/info", Vec::new()).await?;
    read_info(port, &b)
}

/// A device of an SBI service, as `jemput` names it: `sbi:PORT/DEVICEID/SUBID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbiSelector {
    pub port: u16,
    pub device_id: String,
    pub sub_id: u8,
}

impl std::fmt::Display for SbiSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sbi:{}/{}/{}", self.port, self.device_id, self.sub_id)
    }
}

impl std::str::FromStr for SbiSelector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?}: write sbi:PORT/DEVICEID/SUBID, e.g. sbi:4501/1/1");
        let rest = s.strip_prefix("sbi:").ok_or_else(bad)?;
        let mut parts = rest.split('/');
        let (Some(port), Some(id), Some(sub), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_graphic()) {
            return Err(bad());
        }
        Ok(SbiSelector {
            port: port.parse().map_err(|_| bad())?,
            device_id: id.to_string(),
            sub_id: sub.parse().map_err(|_| bad())?,
        })
    }
}

/// What a port scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Ports with an SBI device service, and its devices.
    pub services: Vec<(u16, Vec<DiscoveredDevice>)>,
    /// Ports where something answered but not as an SBI service (with why).
    pub others: Vec<(u16, String)>,
}

/// Asks every port of `ports` at once; closed ports are left out silently.
pub async fn scan(ports: RangeInclusive<u16>, timeout: Duration) -> Scan {
    let mut tasks = tokio::task::JoinSet::new();
    for port in ports {
        tasks.spawn(async move { (port, discover(port, timeout).await) });
    }
    let mut scan = Scan::default();
    while let Some(done) = tasks.join_next().await {
        let Ok((port, r)) = done else { continue };
        match r {
            Ok(devices) => scan.services.push((port, devices)),
            Err(SbiError::Unreachable { .. }) => {}
            Err(e) => scan.others.push((port, e.to_string())),
        }
    }
    scan.services.sort_by_key(|(p, _)| *p);
    scan.others.sort_by_key(|(p, _)| *p);
    scan
}

/// What to capture: one modality of one device.
#[derive(Debug, Clone)]
pub struct CaptureAsk {
    pub port: u16,
    pub device_id: String,
    /// "Finger" or "Face".
    pub bio_type: String,
    /// 1 left slap, 2 right slap, 3 thumbs; 0 a face or a single-finger scanner.
    pub sub_id: u8,
    /// Finger names (`Left IndexFinger` …) to take; empty: every finger of the sub-device.
    pub fingers: Vec<String>,
    /// Finger names that are missing (amputated, bandaged): not to be captured.
    pub exceptions: Vec<String>,
    pub requested_score: u8,
    /// Capture timeout.
    pub timeout: Duration,
}

impl CaptureAsk {
    /// The RCAPTURE request for this ask; `previous_hash` links it to the transaction's last
    /// capture (empty: the first).
    pub fn request(&self, transaction_id: &str, previous_hash: &str) -> CaptureRequest {
        let wanted: Vec<String> = if !self.fingers.is_empty() {
            self.fingers.clone()
        } else {
            proto::slap_fingers(self.sub_id)
                .unwrap_or(&[])
                .iter()
                .filter_map(|f| proto::finger_name(*f).map(str::to_string))
                .collect()
        };
        let count = if self.bio_type == "Face" || wanted.is_empty() {
            1
        } else {
            wanted
                .iter()
                .filter(|f| !self.exceptions.contains(f))
                .count()
        };
        CaptureRequest {
            env: proto::ENV.into(),
            purpose: "Registration".into(),
            spec_version: SPEC_VERSION.into(),
            timeout: self.timeout.as_millis().to_string(),
            capture_time: proto::now_string(),
            transaction_id: transaction_id.into(),
            bio: vec![BioRequest {
                kind: self.bio_type.clone(),
                count: count.to_string(),
                bio_sub_type: if self.bio_type == "Face" {
                    vec![]
                } else {
                    wanted
                },
                exception: self.exceptions.clone(),
                requested_score: self.requested_score.to_string(),
                device_id: self.device_id.clone(),
                device_sub_id: self.sub_id.to_string(),
                previous_hash: if previous_hash.is_empty() {
                    chain::first_previous_hash()
                } else {
                    previous_hash.into()
                },
            }],
            custom_opts: None,
        }
    }
}

/// A new transaction id (letters, digits and hyphens, as the compliance schemas allow).
pub fn new_transaction_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Sends `req` to `port` and returns the body of the answer (nothing in it read yet).
async fn rcapture(port: u16, req: &CaptureRequest, timeout: Duration) -> Result<Vec<u8>, SbiError> {
    let body = serde_json::to_vec(req).expect("json");
    call(&http(timeout)?, port, "RCAPTURE", "/capture", body).await
}

/// Captures what `ask` names and returns it only if every check passes.
pub async fn capture(
    ask: &CaptureAsk,
    trust: &TrustStore,
    transaction_id: &str,
    previous_hash: &str,
) -> Result<Vec<VerifiedBiometric>, SbiError> {
    let req = ask.request(transaction_id, previous_hash);
    // The device may use the whole capture timeout; the answer gets a little more.
    let body = rcapture(ask.port, &req, ask.timeout + Duration::from_secs(5)).await?;
    accept_capture(
        &req,
        ask.port,
        &body,
        trust,
        jiff::Timestamp::now().as_second(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_print_and_refuse_what_is_not_one() {
        let s: SbiSelector = "sbi:4501/1/2".parse().unwrap();
        assert_eq!((s.port, s.device_id.as_str(), s.sub_id), (4501, "1", 2));
        assert_eq!(s.to_string(), "sbi:4501/1/2");
        for bad in [
            "sbi:4501/1",
            "4501/1/2",
            "sbi:x/1/2",
            "sbi:4501//2",
            "sbi:4501/1/2/3",
        ] {
            assert!(bad.parse::<SbiSelector>().is_err(), "{bad}");
        }
    }

    #[test]
    fn port_ranges_parse_or_are_refused() {
        assert_eq!(parse_ports("4501-4600"), Some(4501..=4600));
        assert_eq!(parse_ports("4555"), Some(4555..=4555));
        assert_eq!(parse_ports("4600-4501"), None);
        assert_eq!(parse_ports("x"), None);
    }

    #[test]
    fn a_slap_request_counts_the_fingers_left_after_exceptions() {
        let ask = CaptureAsk {
            port: 4501,
            device_id: "1".into(),
            bio_type: "Finger".into(),
            sub_id: 1,
            fingers: vec![],
            exceptions: vec!["Left RingFinger".into()],
            requested_score: 40,
            timeout: Duration::from_secs(10),
        };
        let r = ask.request("t-1", "");
        assert_eq!(r.bio[0].count, "3");
        assert_eq!(r.bio[0].bio_sub_type.len(), 4);
        assert_eq!(r.bio[0].previous_hash, chain::first_previous_hash());
        assert_eq!(r.timeout, "10000");
    }
}
