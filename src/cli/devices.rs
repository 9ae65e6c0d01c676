//! `jemput devices`: everything the driver registry lists — every serial device a driver may talk
//! to, every USB fingerprint reader and PTP camera, every webcam — accessible or not, with the
//! candidate drivers, the reason it cannot be opened and the fix. `jemput devices test` is in
//! `devices_test.rs`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use jemput::outputs::{DevicesOutput, ListedDevice};
use jemput_drivers::discover::Access;
use jemput_drivers::registry::{self, FoundDevice};

#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Print the list as JSON
    #[arg(long)]
    pub json: bool,
    /// Also list serial ports no driver's ID table names (built-in UARTs)
    #[arg(long)]
    pub all: bool,
    #[command(subcommand)]
    pub command: Option<DevicesCommand>,
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Open one device, read its identity, take one capture, and time it
    Test(super::devices_test::TestArgs),
}

pub fn run(g: &super::Global, a: DevicesArgs) -> anyhow::Result<ExitCode> {
    if let Some(DevicesCommand::Test(t)) = a.command {
        return super::devices_test::run(g, t);
    }
    // Serial ports, then USB readers and cameras (path /dev/bus/usb/…), then V4L2 video capture
    // nodes (webcams, selector v4l2:/dev/videoN). Serial ports no driver's ID table names are
    // shown for USB adapters, and for the rest with --all.
    let ports: Vec<FoundDevice> = registry::list_all()
        .into_iter()
        .filter(|d| a.all || !d.drivers.is_empty() || d.usb.is_some())
        .collect();
    // Then the devices of MOSIP SBI device services on the kit (certified scanners and cameras
    // whose vendor ships such a service): a parallel scan of the loopback ports 4501–4600.
    let sbi = super::sbi::scan_devices()?;
    if a.json {
        let listed: DevicesOutput = ports
            .into_iter()
            .map(ListedDevice::Local)
            .chain(sbi.into_iter().map(ListedDevice::Sbi))
            .collect();
        super::output::json(&listed)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !sbi.is_empty() {
        if !ports.is_empty() {
            print_header();
            for d in &ports {
                print_port(d);
            }
            println!();
        }
        println!(
            "SBI device services (`jemput devices test SELECTOR` tests one, `jemput sbi capture \
             SELECTOR --out-dir DIR` captures):"
        );
        super::sbi::print_devices(&sbi);
        return Ok(ExitCode::SUCCESS);
    }
    if ports.is_empty() {
        super::output::note(
            "no devices found: plug in the scanner, pen pad, GPS receiver or camera (and check the \
             cable and hub); `jemput devices --all` lists every serial port, and \
             `jemput sim ef01` runs a device model to try the kit without hardware",
        );
        return Ok(ExitCode::SUCCESS);
    }
    print_header();
    for d in &ports {
        print_port(d);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_header() {
    println!(
        "{:<16} {:<16} {:<34} {:<16} ACCESS",
        "SELECTOR", "PATH", "USB ID", "DRIVERS"
    );
}

fn print_port(d: &FoundDevice) {
    let id = match &d.usb {
        Some(u) => format!(
            "{}:{} {}",
            u.vid,
            u.pid,
            u.product
                .as_deref()
                .or(u.manufacturer.as_deref())
                .unwrap_or("")
        ),
        None if d.v4l2.is_some() => {
            let v = d.v4l2.as_ref().expect("checked");
            v.card.clone().unwrap_or_else(|| v.name.clone())
        }
        None if !d.pnp_ids.is_empty() => format!("(built-in, {})", d.pnp_ids.join(" ")),
        None => "(built-in)".into(),
    };
    let drivers = if d.drivers.is_empty() {
        "-".to_string()
    } else {
        d.drivers
            .iter()
            .map(|c| c.driver.as_str())
            .collect::<Vec<_>>()
            .join("|")
    };
    let access = match &d.access {
        Access::Accessible => "ok".to_string(),
        Access::PermissionDenied { .. } => "permission denied".into(),
        Access::Busy { held_by } => match held_by {
            Some(h) => format!("busy (held by {h})"),
            None => "busy".into(),
        },
        Access::Unavailable { reason } => format!("unavailable: {reason}"),
    };
    println!(
        "{:<16} {:<16} {:<34} {:<16} {access}",
        d.selector,
        d.path.display(),
        id,
        drivers
    );
    let on_usb = d.path.starts_with("/dev/bus/usb");
    if let Some(v) = &d.v4l2 {
        print_v4l2(v);
    }
    match &d.access {
        Access::Busy { .. } if d.v4l2.is_some() => println!(
            "    fix: close the program using the camera (a video call, a camera app, another \
             jemput), then retry"
        ),
        Access::PermissionDenied { fix } => println!("    fix: {fix}"),
        Access::Busy { .. } if on_usb => println!(
            "    fix: close the program holding it (fprintd, gphoto2, a file manager's camera \
             import), then retry"
        ),
        Access::Busy { .. } => println!(
            "    fix: close the program holding it (a serial console, another jemput), or stop \
             ModemManager probing it (install the rules in udev/)"
        ),
        _ => {}
    }
    if d.drivers.len() > 1 {
        println!(
            "    shared USB-serial bridge: add --driver {} (or let jemput probe)",
            drivers
        );
    }
}

/// The formats of a V4L2 node, one line each: `YUYV (YUYV 4:2:2): 320x180 640x360 …`.
fn print_v4l2(v: &jemput_drivers::v4l2::V4l2Node) {
    use jemput_drivers::v4l2::FrameSizes;
    for f in &v.formats {
        let sizes = match &f.sizes {
            FrameSizes::Discrete { sizes } => sizes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            FrameSizes::Stepwise { min, max, step } => format!("{min} to {max} in steps of {step}"),
            FrameSizes::Unknown => "sizes not listed".into(),
        };
        println!("    {} ({}): {sizes}", f.fourcc, f.description);
    }
}
