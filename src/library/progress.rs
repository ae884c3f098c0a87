//! Progress of a scan phase: an indicatif bar when stderr is a terminal, `info` log lines
//! every few files otherwise, or nothing at all.
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Without a terminal, one progress line per this many files.
const LOG_EVERY: usize = 25;

/// Progress of one phase: a bar on a terminal, log lines otherwise, or nothing. Shared by the
/// workers (`step` takes `&self`).
pub struct Progress {
    show: Show,
    label: &'static str,
    total: usize,
    done: AtomicUsize,
}

enum Show {
    Bar(ProgressBar),
    Log,
    Quiet,
}

impl Progress {
    pub fn new(label: &'static str, total: usize, show: bool) -> Progress {
        let show = if !show || total == 0 {
            Show::Quiet
        } else if std::io::stderr().is_terminal() {
            let template =
                format!("{label} [{{bar:30}}] {{pos}}/{{len}} files, {{per_sec}}, eta {{eta}}");
            let style = ProgressStyle::with_template(&template)
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            Show::Bar(ProgressBar::new(total as u64).with_style(style))
        } else {
            tracing::info!("{label} {total} files");
            Show::Log
        };
        Progress {
            show,
            label,
            total,
            done: AtomicUsize::new(0),
        }
    }

    pub fn step(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        match &self.show {
            Show::Bar(bar) => bar.inc(1),
            Show::Log if done.is_multiple_of(LOG_EVERY) || done == self.total => {
                tracing::info!("{}: {done}/{} files", self.label, self.total);
            }
            _ => {}
        }
    }

    /// One warning line, printed above the bar rather than through it.
    pub fn warn(&self, line: &str) {
        match &self.show {
            Show::Bar(bar) => bar.suspend(|| tracing::warn!("{line}")),
            _ => tracing::warn!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Show::Bar(bar) = &self.show {
            bar.finish_and_clear();
        }
    }
}
