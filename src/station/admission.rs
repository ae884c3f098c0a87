//! How many sessions may render at once, and who gets the last places: the station's capacity
//! policy, pure (numbers in, numbers out) so that it is tested without a server.
//!
//! Every rendering session runs its own engine thread (decode → mix → LAME encode) in real
//! time, so the machine's cores bound how many sessions keep up. Past that bound *every*
//! session falls behind (measured: 70 sessions on 2 cores and a session that played before a
//! flood dropped to 0.67× real time), so the station refuses the next session instead: the
//! ones playing keep playing.
use crate::audio::encode::Bitrate;

/// Share of the cores the engines may take together. The rest is headroom for the HTTP side
/// (thousands of listeners cost ~0.2 ms CPU each per second), a library scan running under the
/// music, and the jitter of a machine shared with other work.
pub const TARGET_UTILISATION: f64 = 0.75;

/// CPU seconds the engine spends per second of audio rendered offline (decode, mix, LAME at
/// 192 kbps), by LAME quality (index 0 … 9). Measured 2026-11-29 on the project's 2-core
/// machine with the release build: `drift render --seconds 600 --encoder-quality Q --output
/// /tmp/x.mp3` on the demo library, user + system CPU from `/usr/bin/time`, less the same
/// command's CPU for `--seconds 1` (start-up and the library check), divided by 600.
/// -q 7 … 9 measured the same within noise (0.0071–0.0073) and are taken as equal. The
/// bitrate changes nothing measurable (at -q 5: 128 kbps 0.0110, 192 kbps 0.0103, 320 kbps
/// 0.0106), so it is not a factor. Commands and figures: docs/PERFORMANCE.md, "Cost of a
/// session (issue 10)".
const RENDER_COST_BY_QUALITY: [f64; 10] = [
    0.0449, 0.0236, 0.0198, 0.0120, 0.0117, 0.0103, 0.0102, 0.0071, 0.0071, 0.0071,
];

/// What a session playing in real time costs beyond rendering its audio: waking to pace the
/// engine, the ring, a listener on the front door's stream path, and many engine threads
/// sharing the caches. From `drift-bench sessions` (docs/PERFORMANCE.md, "Sessions held at
/// real time"): a session with one listener cost 12.2–14.6 ms of CPU per second at -q 5
/// (render alone 10.3), 9.3–11.0 at -q 7 (7.1); the upper end is taken, because a limit set
/// too high lets every session fall behind, while one set too low only refuses a few more.
/// (Before the lean stream path the same machine measured 28 ms per session.)
const LIVE_OVERHEAD: f64 = 0.0146 - 0.0103;

/// CPU seconds per audio second of one session playing in real time, at this bitrate (no
/// measurable influence, see above) and LAME quality.
pub fn session_cost(_bitrate: Bitrate, lame_quality: u8) -> f64 {
    let q = usize::from(lame_quality).min(RENDER_COST_BY_QUALITY.len() - 1);
    RENDER_COST_BY_QUALITY[q] + LIVE_OVERHEAD
}

/// The default `--max-sessions`: as many sessions as fit in `TARGET_UTILISATION` of `cores`
/// at `cost` CPU seconds per audio second each; at least one (a station that can play nothing
/// is no station).
pub fn default_max_sessions(cores: usize, cost: f64) -> usize {
    if !(cost.is_finite() && cost > 0.0) {
        return 1;
    }
    let n = (cores.max(1) as f64 * TARGET_UTILISATION / cost).floor();
    (n as usize).max(1)
}

/// Seconds a refused client is told to wait (`Retry-After`). Places free up when a session's
/// last listener leaves and its engine parks (after `--idle-timeout`, two minutes by default),
/// so asking sooner than a minute mostly costs the station another refusal.
pub const FULL_RETRY_AFTER_SECS: u32 = 60;

/// Who is asking for a place. The operator's view: the station's own channel always plays;
/// a listener coming back to the station they were playing gets the last places before a
/// stranger starting a new one; nobody already on air is ever taken off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// A new session (`POST /api/sessions`, or a page that has none).
    New,
    /// A saved session resuming (its engine was parked, or the server restarted).
    Resume,
    /// The default session (`/stream/default`, plain players): the station's own channel.
    Station,
}

/// Places kept for sessions resuming, out of `limit`: a tenth (none below ten). A flood of
/// new sessions then still leaves the station's returning listeners a way back in.
pub fn reserved_for_resume(limit: usize) -> usize {
    limit / 10
}

/// Whether one more session may start while `running` sessions render, under `limit`.
pub fn admits(claim: Claim, running: usize, limit: usize) -> bool {
    match claim {
        // One channel at most above the limit: the default session is a single session.
        Claim::Station => true,
        Claim::Resume => running < limit,
        Claim::New => running + reserved_for_resume(limit) < limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_leaves_headroom_on_every_core() {
        // 2 cores × 75 % at 3 % of a core per session: 50 sessions (seen to hold real time).
        assert_eq!(default_max_sessions(2, 0.03), 50);
        assert_eq!(default_max_sessions(4, 0.03), 100);
        assert_eq!(default_max_sessions(1, 0.03), 25);
        // Dearer sessions, fewer places; never more CPU than the target share.
        for cores in 1..=16 {
            for cost in [0.01, 0.02, 0.03, 0.05, 0.1] {
                let n = default_max_sessions(cores, cost);
                assert!(n as f64 * cost <= cores as f64 * TARGET_UTILISATION + 1e-9);
                assert!((n + 1) as f64 * cost > cores as f64 * TARGET_UTILISATION);
            }
        }
    }

    #[test]
    fn a_station_always_has_one_place() {
        assert_eq!(default_max_sessions(0, 0.03), 25, "zero cores reads as one");
        assert_eq!(default_max_sessions(1, 5.0), 1);
        assert_eq!(default_max_sessions(2, 0.0), 1);
        assert_eq!(default_max_sessions(2, f64::NAN), 1);
    }

    #[test]
    fn the_cost_follows_quality_and_bitrate() {
        let q = |q| session_cost(Bitrate::DEFAULT, q);
        for quality in 0..9 {
            assert!(
                q(quality) >= q(quality + 1),
                "a faster LAME quality costs no more"
            );
        }
        assert_eq!(q(200), q(9), "out-of-range qualities read as the fastest");
        let at = |kbps: u16| session_cost(kbps.to_string().parse().unwrap(), 5);
        assert!(at(128) <= at(192) && at(192) <= at(320));
        // The calibration point: 1.46 % of a core per session at the defaults, so two cores
        // take 102 at 75 % (120 were seen to hold real time on a machine with other work).
        assert!((q(5) - 0.0146).abs() < 1e-9);
        assert_eq!(default_max_sessions(2, q(5)), 102);
        assert!(default_max_sessions(2, q(0)) < default_max_sessions(2, q(9)));
    }

    #[test]
    fn nobody_playing_is_refused_and_the_station_channel_always_plays() {
        assert!(admits(Claim::Station, 1000, 3));
        for claim in [Claim::New, Claim::Resume] {
            assert!(admits(claim, 0, 3));
            assert!(admits(claim, 2, 3));
            assert!(!admits(claim, 3, 3));
            assert!(!admits(claim, 4, 3));
        }
    }

    #[test]
    fn returning_listeners_get_the_last_tenth() {
        assert_eq!(reserved_for_resume(9), 0);
        assert_eq!(reserved_for_resume(50), 5);
        assert!(admits(Claim::New, 44, 50));
        assert!(!admits(Claim::New, 45, 50));
        assert!(admits(Claim::Resume, 49, 50));
        assert!(!admits(Claim::Resume, 50, 50));
    }
}
