//! USB/IP (Linux `Documentation/usb/usbip_protocol.rst`): a server that exports one device model
//! over TCP so a real USB stack — Linux's `vhci-hcd`, in a VM or on this machine — enumerates it
//! and class drivers, libusb, gphoto2 and jemput's own drivers talk to it as to a plugged-in
//! device; a small client of the same protocol; and the vhci `attach` step.
//!
//! * [`protocol`]: the pure codec (big-endian headers, OP_REQ_DEVLIST / OP_REQ_IMPORT,
//!   USBIP_CMD_SUBMIT / RET_SUBMIT, CMD_UNLINK / RET_UNLINK).
//! * [`UsbIpServer`]: answers GET_DESCRIPTOR (device, configuration, strings, qualifier — stalled
//!   for a full-speed device), SET/GET_CONFIGURATION, SET/GET_INTERFACE, GET_STATUS and
//!   CLEAR_FEATURE(ENDPOINT_HALT) from the model's [`crate::usb::UsbDescription`]; hands class and
//!   vendor requests and bulk/interrupt transfers to the model ([`crate::usb::UsbFunction`]);
//!   holds IN URBs until the model has data; answers CMD_UNLINK.
//! * [`UsbIpClient`]: imports a device and is a [`crate::usb::UsbTransport`].
//! * [`vhci::attach`]: imports a device and hands the socket to the kernel.
//!
//! Why not the `usbip` crate that DESIGN's dependency table names: its interface handlers answer
//! each URB synchronously, in order, on the connection's one task, so an interrupt IN URB with
//! nothing to report cannot be held while bulk transfers go on, and a held URB cannot be
//! unlinked. A PTP camera needs exactly that (the event endpoint stays pending through the whole
//! capture; the kernel unlinks it at close), and so does the U.are.U reader's event endpoint.
//!
//! **Not done:** isochronous transfers (a CMD_SUBMIT with packets ends the connection); one
//! device per server; alternate settings other than 0; no TLS or authentication — the server
//! listens on loopback by default and must not be exposed to a network.

pub mod client;
pub mod protocol;
mod server;
pub mod vhci;

pub use client::{devlist, import_socket, ClientError, UsbIpClient};
pub use server::{device_record, ServerError, UsbIpServer, BUSID};
