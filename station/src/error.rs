//! What can stop the station from starting or serving.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StationError {
    #[error("--listen {0} is not a loopback address: the station shows residents' data and listens on 127.0.0.1 (or ::1) only; use e.g. --listen 127.0.0.1:8765")]
    NotLoopback(SocketAddr),
    #[error("the idle time before the station locks itself cannot be zero")]
    NoLockTime,
    #[error("cannot listen on {addr}: {source} (another program may hold the port: try another --listen port, or 127.0.0.1:0 for a free one)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the station stopped serving: {source}")]
    Serve { source: std::io::Error },
    #[error(transparent)]
    Home(#[from] jemput_kit::home::HomeError),
    #[error("the station's messages are broken: {0}")]
    I18n(#[from] crate::i18n::I18nError),
    #[error("the station's templates are broken: {0}")]
    Template(#[from] minijinja::Error),
}
