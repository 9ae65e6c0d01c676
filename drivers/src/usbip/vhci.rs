//! Attaching a USB/IP device to Linux's virtual host controller (`vhci-hcd`) through sysfs, the
//! way the `usbip attach` tool does, without that tool: import the device on a TCP socket, then
//! write `"<port> <sockfd> <devid> <speed>"` to `/sys/devices/platform/vhci_hcd.0/attach`. The
//! kernel takes its own reference on the socket, so this process may exit afterwards. Needs root.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::client::{import_socket, ClientError};

/// The first vhci controller's sysfs directory.
pub const VHCI_SYSFS: &str = "/sys/devices/platform/vhci_hcd.0";

/// Why a device could not be attached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachError {
    #[error("{0}/status is missing: load the vhci-hcd module (modprobe vhci-hcd) first")]
    NoVhci(PathBuf),
    #[error("no free high-speed port on {0}: detach a device first")]
    NoFreePort(PathBuf),
    #[error("cannot read or write {path}: {source} (attaching needs root)")]
    Sysfs {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Import(#[from] ClientError),
}

/// Where the device landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The vhci port number written to `attach`.
    pub port: u32,
    /// The devid given to the kernel (`busnum << 16 | devnum` on the server).
    pub devid: u32,
    /// The speed given to the kernel.
    pub speed: u32,
}

/// The first free port of the `hs` hub in a vhci `status` file (rows `hub port sta …`; sta 4 is
/// free). Non-SuperSpeed devices must use an `hs` port.
pub fn free_hs_port(status: &str) -> Option<u32> {
    status.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace();
        let hub = cols.next()?;
        let port = cols.next()?;
        let sta = cols.next()?;
        if hub != "hs" || sta.parse::<u32>().ok()? != 4 {
            return None;
        }
        // The port is printed in decimal, zero-padded.
        port.parse().ok()
    })
}

/// Imports `busid` from `server` and attaches it to the vhci controller under `sysfs`
/// ([`VHCI_SYSFS`] on a real system).
pub fn attach(sysfs: &Path, server: SocketAddr, busid: &str) -> Result<Attached, AttachError> {
    let status_path = sysfs.join("status");
    if !status_path.exists() {
        return Err(AttachError::NoVhci(sysfs.to_path_buf()));
    }
    let status = std::fs::read_to_string(&status_path).map_err(|source| AttachError::Sysfs {
        path: status_path.clone(),
        source,
    })?;
    let port = free_hs_port(&status).ok_or_else(|| AttachError::NoFreePort(sysfs.into()))?;
    let (socket, record) = import_socket(server, busid)?;
    let attached = Attached {
        port,
        devid: record.devid(),
        speed: record.speed,
    };
    let line = format!(
        "{} {} {} {}",
        port,
        socket.as_raw_fd(),
        attached.devid,
        attached.speed
    );
    let attach_path = sysfs.join("attach");
    std::fs::write(&attach_path, line).map_err(|source| AttachError::Sysfs {
        path: attach_path,
        source,
    })?;
    // The kernel holds the socket now; our descriptor can go.
    drop(socket);
    Ok(attached)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_first_free_hs_port_and_skips_used_and_ss_ports() {
        let status = "hub port sta spd dev      sockfd local_busid\n\
                      hs  0000 006 003 00010002 000003 1-1\n\
                      hs  0001 004 000 00000000 000000 0-0\n\
                      ss  0008 004 000 00000000 000000 0-0\n";
        assert_eq!(free_hs_port(status), Some(1));
        let full = "hub port sta spd dev sockfd local_busid\n\
                    hs  0000 006 003 00010002 000003 1-1\n\
                    ss  0008 004 000 00000000 000000 0-0\n";
        assert_eq!(free_hs_port(full), None);
    }

    #[test]
    fn without_vhci_the_error_says_to_load_the_module() {
        let dir = tempfile::tempdir().unwrap();
        let err = attach(dir.path(), "127.0.0.1:1".parse().unwrap(), "1-1").unwrap_err();
        assert!(matches!(err, AttachError::NoVhci(_)), "{err}");
        assert!(err.to_string().contains("vhci-hcd"));
    }
}
