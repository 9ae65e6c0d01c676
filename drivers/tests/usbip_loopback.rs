//! The USB/IP server exporting the PTP camera model, spoken to over loopback by the crate's own
//! USB/IP client: what a host's USB stack sees during enumeration, a bulk round trip, a held
//! interrupt URB cancelled by CMD_UNLINK, and a whole capture by the real PTP driver over USB/IP.
//! (The VM tier, tests/vm in the workspace root, runs the same server under Linux's vhci-hcd.)

use std::sync::Arc;
use std::time::Duration;

use jemput_drivers::ptp::protocol::{decode_header, ContainerType, ParamContainer};
use jemput_drivers::ptp::{PtpCamera, PtpConfig, PtpEndpoints, PtpModel, PtpModelConfig};
use jemput_drivers::usbip::protocol::{status, Reply};
use jemput_drivers::usbip::{devlist, ClientError, UsbIpClient, UsbIpServer};
use jemput_drivers::{Camera, CaptureControl};

const WAIT: Duration = Duration::from_secs(5);

fn server(cfg: PtpModelConfig) -> UsbIpServer {
    UsbIpServer::start("127.0.0.1:0".parse().unwrap(), PtpModel::new(cfg)).unwrap()
}

fn control_in(c: &mut UsbIpClient, setup: [u8; 8]) -> Reply {
    let len = u32::from(u16::from_le_bytes([setup[6], setup[7]]));
    let s = c.submit(0x80, setup, &[], len).unwrap();
    c.wait(s, WAIT).unwrap().expect("a control reply")
}

fn data_of(r: Reply) -> Vec<u8> {
    match r {
        Reply::Submit {
            status: 0, data, ..
        } => data,
        other => panic!("expected success, got {other:?}"),
    }
}

#[test]
fn devlist_shows_the_camera_with_its_ptp_interface() {
    let srv = server(PtpModelConfig::default().fast());
    let list = devlist(srv.address()).unwrap();
    assert_eq!(list.len(), 1);
    let d = &list[0];
    assert_eq!(d.busid, "1-1");
    assert_eq!((d.vendor_id, d.product_id), (0x1209, 0x0001));
    assert_eq!(d.speed, 3, "512-byte bulk packets: high speed");
    assert_eq!(d.interfaces, vec![[6, 1, 1]]);
}

#[test]
fn enumeration_requests_are_answered_from_the_description() {
    let srv = server(PtpModelConfig::default().fast());
    let mut c = UsbIpClient::import(srv.address(), srv.busid()).unwrap();
    assert_eq!(c.record().devid(), 0x0001_0002);

    // Linux first asks for 64 bytes of the device descriptor, gets 18.
    let dev = data_of(control_in(&mut c, [0x80, 6, 0, 1, 0, 0, 64, 0]));
    assert_eq!(dev.len(), 18);
    assert_eq!(&dev[..2], &[18, 1]);
    assert_eq!(
        &dev[8..12],
        &[0x09, 0x12, 0x01, 0x00],
        "VID:PID little-endian"
    );

    let head = data_of(control_in(&mut c, [0x80, 6, 0, 2, 0, 0, 9, 0]));
    assert_eq!(head.len(), 9, "wLength truncates the configuration");
    let total = u16::from_le_bytes([head[2], head[3]]);
    assert_eq!(total, 9 + 9 + 3 * 7);
    let config = data_of(control_in(
        &mut c,
        [0x80, 6, 0, 2, 0, 0, total as u8, (total >> 8) as u8],
    ));
    assert_eq!(&config[9..18], &[9, 4, 0, 0, 3, 6, 1, 1, 4]);
    let eps: Vec<(u8, u8)> = config[18..].chunks(7).map(|e| (e[2], e[3])).collect();
    assert_eq!(eps, vec![(0x81, 2), (0x02, 2), (0x83, 3)]);

    let product = data_of(control_in(&mut c, [0x80, 6, 2, 3, 9, 4, 255, 0]));
    let text: Vec<u16> = product[2..]
        .chunks(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    assert_eq!(String::from_utf16(&text).unwrap(), "Simulated PTP camera");

    let qualifier = data_of(control_in(&mut c, [0x80, 6, 0, 6, 0, 0, 10, 0]));
    assert_eq!(&qualifier[..2], &[10, 6]);

    // An unknown descriptor type stalls.
    match control_in(&mut c, [0x80, 6, 0, 0x0F, 0, 0, 5, 0]) {
        Reply::Submit { status: s, .. } => assert_eq!(s, status::STALL),
        other => panic!("{other:?}"),
    }

    // SET_CONFIGURATION(1), then GET_CONFIGURATION reads it back.
    let s = c.submit(0x00, [0, 9, 1, 0, 0, 0, 0, 0], &[], 0).unwrap();
    assert!(matches!(
        c.wait(s, WAIT).unwrap(),
        Some(Reply::Submit { status: 0, .. })
    ));
    assert_eq!(
        data_of(control_in(&mut c, [0x80, 8, 0, 0, 0, 0, 1, 0])),
        [1]
    );
}

#[test]
fn a_full_speed_model_stalls_the_device_qualifier() {
    let srv = server(PtpModelConfig {
        bulk_packet: 64,
        ..PtpModelConfig::default().fast()
    });
    let mut c = UsbIpClient::import(srv.address(), srv.busid()).unwrap();
    assert_eq!(c.record().speed, 2);
    match control_in(&mut c, [0x80, 6, 0, 6, 0, 0, 10, 0]) {
        Reply::Submit { status: s, .. } => assert_eq!(s, status::STALL),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_ptp_command_goes_out_on_bulk_and_its_data_and_response_come_back() {
    let srv = server(PtpModelConfig::default().fast());
    let mut c = UsbIpClient::import(srv.address(), srv.busid()).unwrap();
    let get_info = ParamContainer {
        kind: ContainerType::Command,
        code: 0x1001,
        transaction_id: 0,
        params: vec![],
    }
    .encode()
    .unwrap();
    let s = c.submit(0x02, [0; 8], &get_info, 0).unwrap();
    match c.wait(s, WAIT).unwrap() {
        Some(Reply::Submit {
            status: 0,
            actual_length,
            ..
        }) => assert_eq!(actual_length as usize, get_info.len()),
        other => panic!("{other:?}"),
    }
    let s = c.submit(0x81, [0; 8], &[], 4096).unwrap();
    let data = data_of(c.wait(s, WAIT).unwrap().unwrap());
    let h = decode_header(&data).unwrap();
    assert_eq!((h.kind, h.code), (ContainerType::Data, 0x1001));
    assert_eq!(h.length as usize, data.len());
    let s = c.submit(0x81, [0; 8], &[], 512).unwrap();
    let resp = data_of(c.wait(s, WAIT).unwrap().unwrap());
    assert_eq!(
        resp,
        [12, 0, 0, 0, 3, 0, 0x01, 0x20, 0, 0, 0, 0],
        "OK, TID 0"
    );
}

#[test]
fn an_interrupt_urb_is_held_until_unlinked() {
    let srv = server(PtpModelConfig::default().fast());
    let mut c = UsbIpClient::import(srv.address(), srv.busid()).unwrap();
    let s = c.submit(0x83, [0; 8], &[], 8).unwrap();
    assert_eq!(
        c.wait(s, Duration::from_millis(100)).unwrap(),
        None,
        "no event yet: the URB stays pending"
    );
    let (unlinked, completed) = c.unlink(s).unwrap();
    assert_eq!(unlinked, status::UNLINKED);
    assert_eq!(completed, None, "an unlinked URB gets no RET_SUBMIT");
    // Unlinking something already answered reports 0.
    let s = c
        .submit(0x80, [0x80, 6, 0, 1, 0, 0, 18, 0], &[], 18)
        .unwrap();
    assert!(c.wait(s, WAIT).unwrap().is_some());
    assert_eq!(c.unlink(s).unwrap().0, 0);
}

#[test]
fn an_unknown_bus_id_or_a_second_import_is_refused() {
    let srv = server(PtpModelConfig::default().fast());
    let err = UsbIpClient::import(srv.address(), "2-7").unwrap_err();
    assert!(matches!(err, ClientError::NotExported { .. }), "{err}");
    let first = UsbIpClient::import(srv.address(), srv.busid()).unwrap();
    let err = UsbIpClient::import(srv.address(), srv.busid()).unwrap_err();
    assert!(matches!(err, ClientError::NotExported { .. }), "{err}");
    drop(first);
    // Once the first client goes, the device can be imported again.
    let mut again = None;
    for _ in 0..100 {
        match UsbIpClient::import(srv.address(), srv.busid()) {
            Ok(c) => {
                again = Some(c);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    assert!(
        again.is_some(),
        "the device is released when its client leaves"
    );
}

#[test]
fn the_ptp_driver_captures_a_jpeg_over_usbip() {
    let srv = server(PtpModelConfig {
        capture_delay: Duration::from_millis(50),
        ..PtpModelConfig::default()
    });
    let c = UsbIpClient::import(srv.address(), srv.busid()).unwrap();
    let mut cam = PtpCamera::open(c, PtpEndpoints::default(), PtpConfig::default()).unwrap();
    let photo = cam
        .capture_photo(&CaptureControl {
            timeout: Duration::from_secs(20),
            cancel: Arc::default(),
        })
        .unwrap();
    assert!(photo.jpeg.starts_with(&[0xFF, 0xD8]));
    assert!(photo.jpeg.ends_with(&[0xFF, 0xD9]));
    assert!(photo.jpeg.len() > 1000);
}

#[test]
fn garbage_closes_that_connection_and_the_server_keeps_serving() {
    use std::io::{Read, Write};
    let srv = server(PtpModelConfig::default().fast());
    // A bad operation header: the connection is closed without a reply.
    let mut s = std::net::TcpStream::connect(srv.address()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0, "no reply to garbage");
    // Garbage after an import: that session ends and the device is free again.
    let (mut urbs, _) = jemput_drivers::usbip::import_socket(srv.address(), "1-1").unwrap();
    urbs.write_all(&[0xEE; 48]).unwrap();
    urbs.set_read_timeout(Some(WAIT)).unwrap();
    assert_eq!(urbs.read(&mut buf).unwrap_or(0), 0, "the session is closed");
    let mut again = None;
    for _ in 0..100 {
        if let Ok(c) = UsbIpClient::import(srv.address(), srv.busid()) {
            again = Some(c);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(again.is_some(), "the device can be imported again");
    assert_eq!(devlist(srv.address()).unwrap().len(), 1);
}

#[test]
fn an_unplug_mid_download_reaches_the_driver_as_a_disconnect() {
    use jemput_drivers::ptp::PtpFault;
    let srv = server(PtpModelConfig {
        faults: vec![PtpFault::UnplugMidTransfer { after: 2000 }],
        ..PtpModelConfig::default().fast()
    });
    let c = UsbIpClient::import(srv.address(), srv.busid()).unwrap();
    let mut cam = PtpCamera::open(c, PtpEndpoints::default(), PtpConfig::default()).unwrap();
    let err = cam
        .capture_photo(&CaptureControl {
            timeout: Duration::from_secs(20),
            cancel: Arc::default(),
        })
        .unwrap_err();
    let msg = err.to_string().to_lowercase();
    assert!(
        msg.contains("disconnect") || msg.contains("unplug"),
        "{msg}"
    );
}

#[test]
fn a_client_that_connects_early_and_speaks_later_is_served() {
    // QEMU's guestfwd connects when the VM starts; the guest imports once it has booted.
    use jemput_drivers::usbip::protocol::OpRequest;
    use std::io::{Read, Write};
    let srv = server(PtpModelConfig::default().fast());
    let mut s = std::net::TcpStream::connect(srv.address()).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    s.write_all(&OpRequest::DevList.encode().unwrap()).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head[..4], &[0x01, 0x11, 0x00, 0x05]);
    assert_eq!(&head[8..], &[0, 0, 0, 1], "one device");
}

/// Sends a PTP command on bulk OUT and reads its response (the operation has no data phase).
fn command(c: &mut UsbIpClient, code: u16, tid: u32, params: Vec<u32>) -> Vec<u8> {
    let cmd = ParamContainer {
        kind: ContainerType::Command,
        code,
        transaction_id: tid,
        params,
    }
    .encode()
    .unwrap();
    let s = c.submit(0x02, [0; 8], &cmd, 0).unwrap();
    assert!(c.wait(s, WAIT).unwrap().is_some());
    let s = c.submit(0x81, [0; 8], &[], 512).unwrap();
    data_of(c.wait(s, WAIT).unwrap().unwrap())
}

/// A host may read each PTP event with one interrupt URB larger than the endpoint's packets (as
/// libgphoto2 does, 64 bytes): the transfer ends only on a short or zero-length packet or a full
/// buffer, so the URB must come back with the whole 16-byte event although the model's interrupt
/// packets are 8 bytes. (Before the server filled URBs packet by packet it answered with the
/// first 8 bytes, and a host reading one URB per event never saw ObjectAdded.)
#[test]
fn one_interrupt_urb_larger_than_a_packet_receives_a_whole_event() {
    let srv = server(PtpModelConfig::default().fast());
    let mut c = UsbIpClient::import(srv.address(), srv.busid()).unwrap();
    let ok = |r: &[u8]| u16::from_le_bytes([r[6], r[7]]) == 0x2001;
    assert!(ok(&command(&mut c, 0x1002, 0, vec![1])), "OpenSession");
    assert!(
        ok(&command(&mut c, 0x100E, 1, vec![0, 0])),
        "InitiateCapture"
    );
    let mut codes = Vec::new();
    for _ in 0..2 {
        let s = c.submit(0x83, [0; 8], &[], 64).unwrap();
        let event = data_of(c.wait(s, WAIT).unwrap().expect("an event"));
        let h = decode_header(&event).unwrap();
        assert_eq!(h.kind, ContainerType::Event);
        assert_eq!(h.length as usize, event.len(), "one URB, one whole event");
        codes.push(h.code);
    }
    assert_eq!(codes, [0x4002, 0x400D], "ObjectAdded, then CaptureComplete");
    // An URB the size of one packet still completes at each packet (a full buffer).
    assert!(
        ok(&command(&mut c, 0x100E, 2, vec![0, 0])),
        "InitiateCapture"
    );
    let s = c.submit(0x83, [0; 8], &[], 8).unwrap();
    assert_eq!(data_of(c.wait(s, WAIT).unwrap().unwrap()).len(), 8);
}
