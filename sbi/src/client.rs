//! The SBI client: finds device services on 127.0.0.1 (ports 4501–4600, all at once, each with a
//! short timeout), asks them what they are, and takes registration captures, every answer
//! checked by `verify` before the caller sees any of it; and reads a device's live preview
//! (`STREAM`, M-JPEG, unsigned) frame by frame.

use std::ops::RangeInclusive;
use std::time::Duration;

use reqwest::Method;

use crate::chain;
use crate::error::SbiError;
use crate::proto::{
    self, BioRequest, CaptureRequest, CaptureResponse, DeviceInfoEntry, DiscoverRequest,
    DiscoveredDevice, StreamRequest, SPEC_VERSION,
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

/// How long the first frame of a `STREAM` (the answer's head comes with it) or any later one may
/// take before the stream is given up.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// One frame of a device's `STREAM` preview: a JPEG, **unsigned** (the specification signs
/// captures, not previews; never keep a preview frame as a capture).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewFrame {
    /// The part's `Content-Type` (`image/jpeg` from a conforming service).
    pub content_type: String,
    pub jpeg: Vec<u8>,
}

/// A device's live preview (`STREAM`) being read, frame by frame. Closing it ([`close`]) closes
/// the connection, which ends the preview at the service. Merely dropped, the connection closes
/// when its runtime next runs (its task does it): on a runtime that is only driven now and then
/// (the kit's devices'), close it.
///
/// [`close`]: PreviewStream::close
#[derive(Debug)]
pub struct PreviewStream {
    port: u16,
    response: reqwest::Response,
    parts: MultipartReader,
}

/// `STREAM`: opens the live preview of device `device_id`'s sub-device `sub_id` on `port`, to last
/// `length` at most (the request's `timeout`). A device that cannot give one answers with an SBI
/// error (JSON), returned as [`SbiError::Device`].
pub async fn stream(
    port: u16,
    device_id: &str,
    sub_id: u8,
    length: Duration,
) -> Result<PreviewStream, SbiError> {
    let req = StreamRequest {
        device_id: device_id.into(),
        device_sub_id: sub_id.to_string(),
        timeout: length.as_millis().to_string(),
        serial_no: String::new(),
    };
    // No overall timeout: the answer lasts as long as the preview. Each wait is bounded instead.
    let client = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| SbiError::Garbage(format!("HTTP client: {e}")))?;
    let method = Method::from_bytes(b"STREAM").expect("a valid token");
    let send = client
        .request(method, format!("http://127.0.0.1:{port}/stream"))
        .header("EXT", "jemput")
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(&req).expect("json"))
        .send();
    let response = match tokio::time::timeout(FRAME_TIMEOUT, send).await {
        Err(_) => return Err(SbiError::Timeout { port }),
        Ok(Err(e)) => {
            return Err(SbiError::Unreachable {
                port,
                why: e.to_string(),
            })
        }
        Ok(Ok(r)) => r,
    };
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if let Some(boundary) = multipart_boundary(&content_type) {
        if response.status().as_u16() != 200 {
            return Err(SbiError::HttpStatus {
                port,
                status: response.status().as_u16(),
            });
        }
        return Ok(PreviewStream {
            port,
            response,
            parts: MultipartReader::new(&boundary),
        });
    }
    // Not a stream: the device's error, as JSON, or something that is not SBI.
    let status = response.status().as_u16();
    let body = tokio::time::timeout(FRAME_TIMEOUT, response.bytes())
        .await
        .map_err(|_| SbiError::Timeout { port })?
        .map_err(|e| SbiError::Garbage(format!("port {port}: {e}")))?;
    #[derive(serde::Deserialize)]
    struct ErrorAnswer {
        error: proto::SbiStatus,
    }
    match serde_json::from_slice::<ErrorAnswer>(&body) {
        Ok(a) => Err(SbiError::Device {
            code: a.error.error_code,
            info: a.error.error_info,
        }),
        Err(_) if status != 200 => Err(SbiError::HttpStatus { port, status }),
        Err(_) => Err(SbiError::Garbage(format!(
            "port {port}'s STREAM answer is {content_type:?}, neither M-JPEG nor an SBI error"
        ))),
    }
}

impl PreviewStream {
    /// Hangs up: the connection closes now, and with it the preview at the service.
    pub async fn close(self) {
        drop(self.response);
        // The connection's task closes the socket once it runs: let it run.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    /// The next frame, or `None` once the preview ended (its closing delimiter, or the service
    /// closed the connection); each waits [`FRAME_TIMEOUT`] at most.
    pub async fn next_frame(&mut self) -> Result<Option<PreviewFrame>, SbiError> {
        let port = self.port;
        loop {
            match self.parts.next_part() {
                Err(why) => return Err(SbiError::Garbage(format!("port {port}'s STREAM: {why}"))),
                Ok(Part::End) => return Ok(None),
                Ok(Part::Frame(f)) => return Ok(Some(f)),
                Ok(Part::More) => {}
            }
            let chunk = tokio::time::timeout(FRAME_TIMEOUT, self.response.chunk())
                .await
                .map_err(|_| SbiError::Timeout { port })?
                .map_err(|e| SbiError::Garbage(format!("port {port}'s STREAM: {e}")))?;
            match chunk {
                Some(bytes) => self.parts.push(&bytes),
                // Closed without the closing delimiter: the stream ended all the same.
                None => return Ok(None),
            }
        }
    }
}

/// The `boundary` of a `multipart/x-mixed-replace` content type, unquoted.
pub fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case(proto::STREAM_CONTENT_TYPE) {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// What the multipart reader has: a whole frame, the end of the stream, or not enough yet.
#[derive(Debug, PartialEq, Eq)]
pub enum Part {
    Frame(PreviewFrame),
    End,
    More,
}

/// Reads a `multipart/x-mixed-replace` body (RFC 2046 §5.1.1) as its bytes come: each part's
/// headers, then its body — `Content-Length` bytes when the part says how many, else up to the
/// next delimiter.
#[derive(Debug)]
pub struct MultipartReader {
    /// `--` and the boundary.
    dash_boundary: Vec<u8>,
    buf: Vec<u8>,
    ended: bool,
}

/// The longest part head (delimiter and headers) read before the stream is refused.
const MAX_PART_HEAD: usize = 8 * 1024;

impl MultipartReader {
    pub fn new(boundary: &str) -> Self {
        MultipartReader {
            dash_boundary: format!("--{boundary}").into_bytes(),
            buf: Vec::new(),
            ended: false,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next part, if all of it is here.
    pub fn next_part(&mut self) -> Result<Part, String> {
        if self.ended {
            return Ok(Part::End);
        }
        // The delimiter, after any preamble or the CRLF that ends the previous part.
        let Some(at) = find(&self.buf, &self.dash_boundary) else {
            if self.buf.len() > MAX_PART_HEAD + self.dash_boundary.len() {
                return Err("no multipart delimiter where one was due".into());
            }
            return Ok(Part::More);
        };
        let after = at + self.dash_boundary.len();
        if self.buf.len() < after + 2 {
            return Ok(Part::More);
        }
        if &self.buf[after..after + 2] == b"--" {
            self.ended = true;
            self.buf.clear();
            return Ok(Part::End);
        }
        let Some(head_len) = find(&self.buf[after..], b"\r\n\r\n") else {
            if self.buf.len() - after > MAX_PART_HEAD {
                return Err("a part's headers never end".into());
            }
            return Ok(Part::More);
        };
        let head = String::from_utf8_lossy(&self.buf[after..after + head_len]).into_owned();
        let body_at = after + head_len + 4;
        let (mut content_type, mut length) = (String::new(), None);
        for line in head.split("\r\n").skip(1) {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = v.trim().to_string();
            } else if k.trim().eq_ignore_ascii_case("content-length") {
                length = Some(
                    v.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("Content-Length {:?}", v.trim()))?,
                );
            }
        }
        let body_end = match length {
            Some(n) if self.buf.len() >= body_at + n => body_at + n,
            Some(_) => return Ok(Part::More),
            None => {
                let mut next = b"\r\n".to_vec();
                next.extend_from_slice(&self.dash_boundary);
                match find(&self.buf[body_at..], &next) {
                    Some(n) => body_at + n,
                    None => return Ok(Part::More),
                }
            }
        };
        let jpeg = self.buf[body_at..body_end].to_vec();
        self.buf.drain(..body_end);
        Ok(Part::Frame(PreviewFrame { content_type, jpeg }))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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
    fn a_multipart_stream_is_read_whatever_its_chunks() {
        let mut body = b"preamble\r\n".to_vec();
        for (i, frame) in [&b"\xff\xd8one\xff\xd9"[..], b"\xff\xd8two\r\n--b\xff\xd9"]
            .iter()
            .enumerate()
        {
            if i == 0 {
                // Content-Length given: the frame may hold what looks like a delimiter.
                body.extend_from_slice(
                    b"--b\r\nContent-Type: image/jpeg\r\nContent-Length: 7\r\n\r\n",
                );
            } else {
                body.extend_from_slice(
                    b"--b\r\ncontent-type: image/jpeg\r\ncontent-length: 12\r\n\r\n",
                );
            }
            body.extend_from_slice(frame);
            body.extend_from_slice(b"\r\n");
        }
        // A part without Content-Length ends at the next delimiter.
        body.extend_from_slice(
            b"--b\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8three\xff\xd9\r\n--b--\r\n",
        );
        for chunk in [1, 3, 7, body.len()] {
            let mut r = MultipartReader::new("b");
            let mut got = Vec::new();
            let mut ended = false;
            for c in body.chunks(chunk) {
                r.push(c);
                loop {
                    match r.next_part().unwrap() {
                        Part::Frame(f) => {
                            assert_eq!(f.content_type, "image/jpeg");
                            got.push(f.jpeg)
                        }
                        Part::End => {
                            ended = true;
                            break;
                        }
                        Part::More => break,
                    }
                }
            }
            assert!(ended, "chunks of {chunk}");
            assert_eq!(
                got,
                vec![
                    b"\xff\xd8one\xff\xd9".to_vec(),
                    b"\xff\xd8two\r\n--b\xff\xd9".to_vec(),
                    b"\xff\xd8three\xff\xd9".to_vec()
                ],
                "chunks of {chunk}"
            );
        }
        let mut r = MultipartReader::new("b");
        r.push(b"--b\r\nContent-Length: x\r\n\r\n");
        assert!(r.next_part().is_err());
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        assert_eq!(
            multipart_boundary("multipart/x-mixed-replace; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            multipart_boundary("Multipart/X-Mixed-Replace;boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(multipart_boundary("application/json"), None);
        assert_eq!(multipart_boundary("multipart/x-mixed-replace"), None);
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
