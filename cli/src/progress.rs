//! What `send` says while it works, on stderr: a sentence now and then
//! (resuming, starting afresh), and on a terminal one progress line per
//! file, redrawn a few times a second and cleared at its end. In a pipe
//! there is no progress line; `--quiet` silences both.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(250);

/// Clears the terminal's current line.
const CLEAR_LINE: &str = "\r\x1b[K";

#[derive(Clone, Copy, Debug)]
pub(crate) struct Reporter {
    quiet: bool,
    progress: bool,
}

impl Reporter {
    pub(crate) fn new(quiet: bool) -> Self {
        Self {
            quiet,
            progress: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// A sentence for the person (not an error: those are the caller's).
    pub(crate) fn say(&self, sentence: &str) {
        if !self.quiet {
            eprintln!("{sentence}");
        }
    }

    /// Starts counting one file's bytes; `already` of `total` are stored.
    pub(crate) fn file(&self, name: &str, total: u64, already: u64) -> FileProgress {
        let sent = Arc::new(AtomicU64::new(already));
        let ticker = self.progress.then(|| {
            let (sent, name) = (Arc::clone(&sent), name.to_owned());
            tokio::spawn(async move {
                let started = Instant::now();
                let mut tick = tokio::time::interval(TICK);
                loop {
                    tick.tick().await;
                    let now = sent.load(Ordering::Relaxed);
                    let rate = now.saturating_sub(already) as f64 / started.elapsed().as_secs_f64().max(0.001);
                    let line = progress_line(&name, now.min(total), total, rate);
                    let mut stderr = std::io::stderr().lock();
                    // A terminal that went away is no reason to stop the upload.
                    let _ = write!(stderr, "{CLEAR_LINE}{line}");
                    let _ = stderr.flush();
                }
            })
        });
        FileProgress { sent, ticker }
    }
}

/// One file's bytes on their way; the line goes when this is dropped.
pub(crate) struct FileProgress {
    sent: Arc<AtomicU64>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl FileProgress {
    /// The counter the upload adds its bytes to as they leave.
    pub(crate) fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.sent)
    }
}

impl Drop for FileProgress {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
            eprint!("{CLEAR_LINE}");
        }
    }
}

fn progress_line(name: &str, sent: u64, total: u64, rate: f64) -> String {
    let percent = (sent * 100).checked_div(total).unwrap_or(100);
    format!(
        "{name}: {} of {} ({percent}%), {}/s",
        bytes(sent as f64),
        bytes(total as f64),
        bytes(rate)
    )
}

/// Bytes as a person reads them: 1.5 MiB.
fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_line_reads_as_sizes_and_a_rate() {
        assert_eq!(
            progress_line("film.mkv", 100 * 1024 * 1024, 200 * 1024 * 1024, 12.5 * 1024.0 * 1024.0),
            "film.mkv: 100.0 MiB of 200.0 MiB (50%), 12.5 MiB/s"
        );
        assert_eq!(progress_line("empty", 0, 0, 0.0), "empty: 0 B of 0 B (100%), 0 B/s");
    }

    #[test]
    fn quiet_says_nothing() {
        let reporter = Reporter::new(true);
        assert!(!reporter.progress);
        // No ticker is started, so this needs no runtime.
        let progress = reporter.file("a", 10, 3);
        assert_eq!(progress.counter().load(Ordering::Relaxed), 3);
    }
}
