//! `jemput usbip list|attach`: the client side of USB/IP without the `usbip` package — list what
//! a server (such as `jemput sim ptp`) exports, or attach its device to this machine's vhci-hcd
//! so the kernel enumerates it as if it were plugged in (root; `modprobe vhci-hcd` first).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use jemput::outputs::{UsbIpAttachOutput, UsbIpDeviceOutput};
use jemput_drivers::usbip::{self, vhci};

use super::output;

#[derive(Debug, Args)]
pub struct UsbIpArgs {
    #[command(subcommand)]
    pub what: UsbIpCommand,
}

#[derive(Debug, Subcommand)]
pub enum UsbIpCommand {
    /// List the devices a USB/IP server exports
    List(ListArgs),
    /// Import a device and attach it to the local vhci-hcd (needs root and the vhci-hcd module)
    Attach(AttachArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The server, host:port (`jemput sim ptp` prints it)
    #[arg(value_name = "ADDR")]
    pub server: SocketAddr,
    /// JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The server, host:port (`jemput sim ptp` prints it)
    #[arg(value_name = "ADDR")]
    pub server: SocketAddr,
    /// The bus id to import
    #[arg(long, default_value = usbip::BUSID)]
    pub busid: String,
    /// The vhci controller's sysfs directory
    #[arg(long, value_name = "DIR", default_value = vhci::VHCI_SYSFS)]
    pub sysfs: PathBuf,
    /// JSON on stdout
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: UsbIpArgs) -> anyhow::Result<ExitCode> {
    match a.what {
        UsbIpCommand::List(l) => {
            let list: Vec<UsbIpDeviceOutput> = usbip::devlist(l.server)?
                .into_iter()
                .map(|d| UsbIpDeviceOutput {
                    busid: d.busid.clone(),
                    usb_id: format!("{:04x}:{:04x}", d.vendor_id, d.product_id),
                    speed: d.speed,
                    interfaces: d
                        .interfaces
                        .iter()
                        .map(|i| format!("{:02x}/{:02x}/{:02x}", i[0], i[1], i[2]))
                        .collect(),
                })
                .collect();
            if l.json {
                output::json(&list)?;
            } else {
                for d in &list {
                    println!(
                        "{}  {}  speed {}  interfaces {}",
                        d.busid,
                        d.usb_id,
                        d.speed,
                        d.interfaces.join(" ")
                    );
                }
            }
        }
        UsbIpCommand::Attach(t) => {
            let at = vhci::attach(&t.sysfs, t.server, &t.busid)?;
            let line = UsbIpAttachOutput {
                server: t.server.to_string(),
                busid: t.busid,
                port: at.port,
                devid: at.devid,
                speed: at.speed,
            };
            if t.json {
                output::json_line(&line)?;
            } else {
                println!(
                    "attached {} from {} on vhci port {} (terpasang); detach: echo {} > {}/detach",
                    line.busid,
                    line.server,
                    line.port,
                    line.port,
                    t.sysfs.display()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
