//! When an output tries again: exponential backoff with jitter after a lost connection (so many
//! Drifts feeding one restarted Icecast do not knock at the same instant), and a slow, steady
//! retry after a refusal only a person can fix (a password, a mount in use).
use std::time::Duration;

/// The first wait after a lost connection.
const FIRST: Duration = Duration::from_secs(1);
/// The longest wait after lost connections.
const CAP: Duration = Duration::from_secs(30);
/// The wait after a wrong password or a mount in use.
pub const REFUSED: Duration = Duration::from_secs(60);
/// A connection that streamed this long was a good one: the next loss starts from `FIRST`.
pub const HEALTHY: Duration = Duration::from_secs(10);

/// Consecutive failures so far, and the waits they call for.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The wait after one more lost connection: `FIRST` doubled per failure in a row up to
    /// `CAP`, then scaled by `jitter` in [0, 1) to somewhere in its upper half.
    pub fn next(&mut self, jitter: f64) -> Duration {
        let full = FIRST.saturating_mul(1u32 << self.failures.min(16)).min(CAP);
        self.failures = self.failures.saturating_add(1);
        full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// The wait after a refusal: `REFUSED`, ±10 % by `jitter` in [0, 1).
    pub fn refused(&mut self, jitter: f64) -> Duration {
        REFUSED.mul_f64(0.9 + 0.2 * jitter.clamp(0.0, 1.0))
    }

    /// A connection streamed for `HEALTHY` or longer: start over.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_jitter_stays_in_the_upper_half() {
        let mut b = Backoff::default();
        let top: Vec<f64> = (0..8).map(|_| b.next(0.999_999).as_secs_f64()).collect();
        assert_eq!(
            top.iter().map(|s| s.round() as u64).collect::<Vec<_>>(),
            [1, 2, 4, 8, 16, 30, 30, 30]
        );
        let mut b = Backoff::default();
        let low: Vec<f64> = (0..8).map(|_| b.next(0.0).as_secs_f64()).collect();
        for (l, t) in low.iter().zip(&top) {
            assert!((l / t - 0.5).abs() < 1e-3, "{l} {t}");
        }
        b.reset();
        assert_eq!(b.next(0.0), Duration::from_millis(500));
        // A thousand failures in a row never overflow.
        for _ in 0..1000 {
            assert!(b.next(0.5) <= CAP);
        }
    }

    #[test]
    fn refusals_wait_about_a_minute_whatever_came_before() {
        let mut b = Backoff::default();
        for _ in 0..5 {
            b.next(0.5);
        }
        assert_eq!(b.refused(0.0), Duration::from_secs(54));
        assert!(b.refused(0.999_999) <= Duration::from_secs(66));
    }
}
