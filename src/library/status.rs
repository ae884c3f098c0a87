//! How far the library is: files known, analysed, failed and pending, the analysis rate, and
//! what the scanner is doing. The scanner updates it; `/api/library`, `/health`, the page and
//! the terminal read it.
use crate::store::FileCounts;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

/// What the scanner is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Nothing scanned yet in this process.
    #[default]
    Starting,
    /// Finding files and comparing them with the store.
    Walking,
    /// Analysing new files (music already plays from those done).
    Analysing,
    /// Up to date; watching for changes.
    Idle,
}

/// A snapshot of the library's progress, as the API serves it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LibraryStatus {
    /// Audio files found.
    pub known: u64,
    /// Files analysed and playable.
    pub analysed: u64,
    /// Files that cannot be played (the store says why).
    pub failed: u64,
    /// Files still to analyse.
    pub pending: u64,
    /// Seconds of music in the files still to analyse, as their headers state.
    pub pending_seconds: f64,
    /// Distinct playable tracks the sessions can pick from now.
    pub tracks: u64,
    /// A scan is running.
    pub scanning: bool,
    pub phase: Phase,
    /// Files analysed per second, recently (0 when unknown).
    pub rate: f64,
    /// Seconds until every pending file is analysed at that rate, when known.
    pub eta_seconds: Option<f64>,
    /// Why the last scan stopped early (a library folder missing …), if it did.
    pub error: Option<String>,
    /// Scans finished since the server started (the first one ends the first-run phase).
    pub scans: u64,
}

impl LibraryStatus {
    /// "12 of 2,000 files analysed", the phrase the 503 of a station still preparing uses.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} files analysed",
            self.analysed + self.failed,
            self.known
        )
    }
}

/// How far back the rate looks: long enough to smooth one slow file, short enough to follow
/// a change (a cold disk warming up, a folder of long tracks).
const RATE_WINDOW_SECS: f64 = 20.0;

/// Files done per second over a sliding window of (time, files done) samples. Pure: the caller
/// gives the times.
#[derive(Debug, Default)]
pub struct RateMeter {
    samples: VecDeque<(f64, u64)>,
}

impl RateMeter {
    /// Records that `done` files were finished by time `at` (seconds, non-decreasing).
    pub fn record(&mut self, at: f64, done: u64) {
        self.samples.push_back((at, done));
        while self
            .samples
            .front()
            .is_some_and(|&(t, _)| at - t > RATE_WINDOW_SECS && self.samples.len() > 2)
        {
            self.samples.pop_front();
        }
    }

    /// Files per second between the oldest and newest sample; 0 with less than a second seen.
    pub fn rate(&self) -> f64 {
        match (self.samples.front(), self.samples.back()) {
            (Some(&(t0, d0)), Some(&(t1, d1))) if t1 - t0 >= 1.0 => {
                d1.saturating_sub(d0) as f64 / (t1 - t0)
            }
            _ => 0.0,
        }
    }

    pub fn clear(&mut self) {
        self.samples.clear();
    }
}

/// The shared progress board.
pub struct LibraryProgress {
    status: Mutex<LibraryStatus>,
    meter: Mutex<RateMeter>,
    epoch: Instant,
}

impl Default for LibraryProgress {
    fn default() -> LibraryProgress {
        LibraryProgress {
            status: Mutex::default(),
            meter: Mutex::default(),
            epoch: Instant::now(),
        }
    }
}

impl LibraryProgress {
    pub fn snapshot(&self) -> LibraryStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut LibraryStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// A scan starts (or stops: `None`).
    pub fn set_phase(&self, phase: Phase) {
        if phase == Phase::Walking {
            self.meter.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        self.update(|s| {
            s.phase = phase;
            s.scanning = matches!(phase, Phase::Walking | Phase::Analysing);
            if !s.scanning {
                s.rate = 0.0;
                s.eta_seconds = None;
            }
        });
    }

    /// A scan went through every file (or gave up on a missing folder).
    pub fn finished_scan(&self) {
        self.update(|s| s.scans += 1);
    }

    pub fn set_error(&self, error: Option<String>) {
        self.update(|s| s.error = error);
    }

    /// New counts from the store and the catalog's size; the rate follows files finished.
    pub fn set_counts(&self, counts: FileCounts, tracks: usize) {
        let done = counts.analysed + counts.failed;
        let rate = {
            let mut meter = self.meter.lock().unwrap_or_else(|p| p.into_inner());
            meter.record(self.epoch.elapsed().as_secs_f64(), done);
            meter.rate()
        };
        self.update(|s| {
            s.known = counts.known;
            s.analysed = counts.analysed;
            s.failed = counts.failed;
            s.pending = counts.pending;
            s.pending_seconds = counts.pending_audio.secs();
            s.tracks = tracks as u64;
            if s.scanning {
                s.rate = rate;
                s.eta_seconds = (rate > 0.0).then(|| counts.pending as f64 / rate);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_files_over_the_window_and_forgets_old_samples() {
        let mut m = RateMeter::default();
        assert_eq!(m.rate(), 0.0);
        m.record(0.0, 0);
        m.record(0.5, 3);
        assert_eq!(m.rate(), 0.0, "under a second says nothing yet");
        m.record(2.0, 8);
        assert_eq!(m.rate(), 4.0);
        // Slow down: after the window only the recent pace counts.
        for t in 3..=40 {
            m.record(t as f64, 8 + (t as u64 - 2));
        }
        assert!((m.rate() - 1.0).abs() < 1e-9, "{}", m.rate());
    }

    #[test]
    fn counts_give_an_eta_only_while_scanning() {
        let p = LibraryProgress::default();
        let counts = FileCounts {
            known: 10,
            analysed: 2,
            failed: 1,
            pending: 7,
            pending_audio: crate::units::Frames::from_secs(60.0),
        };
        p.set_counts(counts, 2);
        let s = p.snapshot();
        assert_eq!((s.known, s.tracks, s.eta_seconds), (10, 2, None));
        assert_eq!(s.pending_seconds, 60.0);
        assert_eq!(s.summary(), "3 of 10 files analysed");
        p.set_phase(Phase::Analysing);
        assert!(p.snapshot().scanning);
        p.set_phase(Phase::Idle);
        assert!(!p.snapshot().scanning);
    }
}
