//! What `drift serve` tells the person at the terminal about the library while it scans: how
//! much there is, when the first tracks can be heard, progress now and then, and when it is
//! done. Pure: it turns successive status snapshots into lines.
use super::status::LibraryStatus;

/// Seconds between progress lines during a long analysis.
const EVERY_SECS: f64 = 15.0;

#[derive(Debug, Default)]
pub struct Announcer {
    scanning: bool,
    had_tracks: Option<bool>,
    told_size: bool,
    last_progress: f64,
    error: Option<String>,
}

impl Announcer {
    /// The lines to print for status `s` seen at `now` (seconds, non-decreasing).
    pub fn lines(&mut self, s: &LibraryStatus, now: f64) -> Vec<String> {
        let mut out = Vec::new();
        if s.error != self.error {
            if let Some(e) = &s.error {
                out.push(format!("Library: {e} (trying again)"));
            }
            self.error = s.error.clone();
        }
        let has_tracks = s.tracks > 0;
        if s.scanning && s.pending > 0 && !self.told_size {
            self.told_size = true;
            self.last_progress = now;
            out.push(format!(
                "Library: {} audio files, {} to analyse{}",
                s.known,
                s.pending,
                if has_tracks {
                    ""
                } else {
                    " — the music starts with the first ones"
                }
            ));
        }
        if has_tracks && self.had_tracks == Some(false) {
            out.push(format!(
                "Library: first tracks ready, the station can play ({} of {} analysed)",
                s.analysed + s.failed,
                s.known
            ));
        }
        self.had_tracks = Some(has_tracks);
        if s.scanning && s.pending > 0 && now - self.last_progress >= EVERY_SECS {
            self.last_progress = now;
            let eta = s
                .eta_seconds
                .map(|e| format!(", about {} left", duration(e)))
                .unwrap_or_default();
            out.push(format!(
                "Library: {} of {} analysed ({:.1} files/s{eta})",
                s.analysed + s.failed,
                s.known,
                s.rate
            ));
        }
        if self.scanning && !s.scanning && self.told_size {
            let failed = match s.failed {
                0 => String::new(),
                n => format!("; {n} files cannot be played (`drift scan` lists why)"),
            };
            out.push(format!("Library: up to date, {} tracks{failed}", s.tracks));
            self.told_size = false;
        }
        self.scanning = s.scanning;
        out
    }
}

/// "45 s", "12 min", "3 h 20 min".
fn duration(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    match secs {
        0..=89 => format!("{secs} s"),
        90..=5399 => format!("{} min", (secs + 30) / 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::status::Phase;

    fn status(analysed: u64, pending: u64, tracks: u64, scanning: bool) -> LibraryStatus {
        LibraryStatus {
            known: 100,
            analysed,
            pending,
            tracks,
            scanning,
            phase: if scanning {
                Phase::Analysing
            } else {
                Phase::Idle
            },
            rate: 2.0,
            eta_seconds: Some(pending as f64 / 2.0),
            ..LibraryStatus::default()
        }
    }

    #[test]
    fn a_first_scan_tells_size_first_tracks_progress_and_the_end() {
        let mut a = Announcer::default();
        assert!(a.lines(&status(0, 0, 0, false), 0.0).is_empty());
        let l = a.lines(&status(0, 100, 0, true), 0.5);
        assert_eq!(
            l,
            ["Library: 100 audio files, 100 to analyse — the music starts with the first ones"]
        );
        let l = a.lines(&status(2, 98, 2, true), 1.5);
        assert_eq!(
            l,
            ["Library: first tracks ready, the station can play (2 of 100 analysed)"]
        );
        assert!(a.lines(&status(10, 90, 10, true), 10.0).is_empty());
        let l = a.lines(&status(40, 60, 40, true), 16.0);
        assert_eq!(
            l,
            ["Library: 40 of 100 analysed (2.0 files/s, about 30 s left)"]
        );
        let l = a.lines(&status(100, 0, 97, false), 60.0);
        assert_eq!(l, ["Library: up to date, 97 tracks"]);
        assert!(a.lines(&status(100, 0, 97, false), 90.0).is_empty());
    }

    #[test]
    fn a_rescan_with_nothing_to_do_says_nothing_and_errors_are_said_once() {
        let mut a = Announcer::default();
        a.lines(&status(100, 0, 100, false), 0.0);
        assert!(a.lines(&status(100, 0, 100, true), 1.0).is_empty());
        assert!(a.lines(&status(100, 0, 100, false), 2.0).is_empty());
        let mut s = status(100, 0, 100, false);
        s.error = Some("cannot read the library folder /m".into());
        assert_eq!(a.lines(&s, 3.0).len(), 1);
        assert!(a.lines(&s, 4.0).is_empty());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(44.6), "45 s");
        assert_eq!(duration(720.0), "12 min");
        assert_eq!(duration(12_000.0), "3 h 20 min");
    }
}
