//! What an operator has to do about a device error, in the fewest kinds ([`Fault`]): every error
//! type of the drivers says which it is, and [`crate::error`] reads it from any of them.

/// What an operator has to do about a device error, in the fewest kinds. Every error type of the
/// drivers says which it is (`fault()`), each with a `match` that names every variant: a new
/// variant does not compile until someone decides what it means for the operator. The kit turns
/// a fault into the operator's words (`jemput_kit::visit::OperatorProblem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Not there: not found, unplugged, gone mid-use. Plug it in, then try again.
    Unplugged,
    /// Another program holds it (the program's name when known). Close that program.
    Busy { holder: Option<String> },
    /// This user may not open it (udev rules, group membership). A technician fixes it.
    NoPermission,
    /// The device named is not one that does this step, or not a usable one of its kind.
    WrongDevice,
    /// The device failed while working: an error code, no answer, a damaged transfer. Replug it.
    DeviceFault,
    /// Nothing came in time from the person or the scene (not a device failure).
    Timeout(Awaited),
    /// The step was cancelled (Ctrl-C, the operator).
    Cancelled,
    /// The device sent something jemput cannot use (an image of the wrong size, not a JPEG).
    BadData,
    /// Not the device itself: a selector, a setting, the machine. The message says what.
    Other,
}

/// What a [`Fault::Timeout`] waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaited {
    /// A finger on the scanner.
    Finger,
    /// A signature (the pen on the pad).
    Signature,
    /// A photo or a video frame.
    Photo,
    /// A GPS fix.
    Fix,
}

/// The fault behind an OS error, as `transport::map_io` reads one.
pub fn io_fault(e: &std::io::Error) -> Fault {
    use std::io::ErrorKind;
    match e.raw_os_error() {
        Some(16) => return Fault::Busy { holder: None }, // EBUSY
        Some(13) | Some(1) => return Fault::NoPermission, // EACCES, EPERM
        Some(2) | Some(5) | Some(19) | Some(6) => return Fault::Unplugged, // ENOENT, EIO, ENODEV, ENXIO
        _ => {}
    }
    match e.kind() {
        ErrorKind::ResourceBusy => Fault::Busy { holder: None },
        ErrorKind::PermissionDenied => Fault::NoPermission,
        ErrorKind::NotFound | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof => Fault::Unplugged,
        ErrorKind::TimedOut => Fault::DeviceFault,
        ErrorKind::InvalidData => Fault::BadData,
        _ => Fault::Other,
    }
}

/// The device error for a driver error that has no variant of its own in
/// [`crate::DeviceError`]: bad data when its fault says so, else a protocol error (the same
/// message either way).
pub(crate) fn unusable(fault: Fault, message: String) -> crate::DeviceError {
    match fault {
        Fault::BadData => crate::DeviceError::BadData(message),
        _ => crate::DeviceError::Protocol(message),
    }
}
