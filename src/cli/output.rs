//! The one printer: logs on stderr through `tracing`, progress bars on stderr through `indicatif`
//! (log lines are written while the bars are suspended, so they never tear them; no bars when
//! stderr is not a terminal), data on stdout, errors with their chain.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

/// The bars on stderr; every log line is printed through [`MultiProgress::suspend`].
fn bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

/// A `tracing` writer that holds one formatted event and prints it with the bars suspended.
struct BarSafeStderr(Vec<u8>);

impl Write for BarSafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for BarSafeStderr {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            bars().suspend(|| {
                let _ = std::io::stderr().lock().write_all(&self.0);
            });
        }
    }
}

/// Logs go to stderr, never stdout (stdout is data only).
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| BarSafeStderr(Vec::new()))
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// A line for the operator on stderr (a prompt or a status), never tearing a bar.
pub fn note(message: &str) {
    bars().suspend(|| {
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    });
}

/// A spinner with `message` on stderr while waiting for the operator, when stderr is a terminal;
/// [`Transfer::progress`] turns it into a byte bar.
pub fn waiting(message: &str) -> Transfer {
    if !std::io::stderr().is_terminal() {
        return Transfer(None);
    }
    let bar = bars().add(ProgressBar::new_spinner());
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    Transfer(Some(bar))
}

/// A byte bar on stderr for a transfer of `total` bytes that starts at `position`, when stderr is
/// a terminal (nothing otherwise).
pub fn byte_bar(message: &str, total: u64, position: u64) -> Transfer {
    if !std::io::stderr().is_terminal() {
        return Transfer(None);
    }
    let bar = bars().add(ProgressBar::new(total));
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar.set_position(position);
    Transfer(Some(bar))
}

/// A spinner or bar on stderr (or nothing, when stderr is not a terminal); cleared on drop.
#[derive(Debug)]
pub struct Transfer(Option<ProgressBar>);

impl Transfer {
    /// A progress callback for long transfers (bytes received, bytes expected).
    pub fn progress(&self, what: &'static str) -> Option<jemput_drivers::TransferProgress> {
        let bar = self.0.clone()?;
        let mut started = false;
        Some(Box::new(move |done: usize, total: usize| {
            if !started {
                started = true;
                bar.disable_steady_tick();
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                );
                bar.set_message(what);
                bar.reset_elapsed();
            }
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }))
    }

    pub fn is_shown(&self) -> bool {
        self.0.is_some()
    }

    /// Moves a byte bar to `position`.
    pub fn set_position(&self, position: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(position);
        }
    }
}

impl Drop for Transfer {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
            bars().remove(&bar);
        }
    }
}

/// Prints a value as one line of compact JSON on stdout and flushes it at once (for streams that
/// others read while the command runs).
pub fn json_line<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints a value as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints an error and its causes on stderr.
pub fn print_error(e: &anyhow::Error) {
    bars().suspend(|| {
        let mut err = std::io::stderr().lock();
        let mut shown = e.to_string();
        let _ = writeln!(err, "error: {shown}");
        for cause in e.chain().skip(1) {
            // Errors that quote their source in their message need not repeat it.
            let cause = cause.to_string();
            if !shown.contains(&cause) {
                let _ = writeln!(err, "  caused by: {cause}");
            }
            shown = cause;
        }
    });
}

/// Human-readable byte count.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
