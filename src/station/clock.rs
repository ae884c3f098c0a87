//! Time for pacing the engine: the real clock for streaming, a manual one for tests and
//! offline renders, so minutes of audio can be produced in a second.
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A source of "now" that can also wait.
pub trait Clock: Send + Sync {
    /// Time since the clock's epoch.
    fn now(&self) -> Duration;
    /// Returns once `now() >= t`.
    fn sleep_until(&self, t: Duration);
    /// How much real time passes while this clock advances by `d` (for timed waits that can
    /// also be woken early).
    fn real(&self, d: Duration) -> Duration {
        d
    }
    /// How far this clock advances while `d` of real time passes (the inverse of `real`).
    fn advance_in(&self, d: Duration) -> Duration {
        d
    }
}

/// Wall-clock time from the moment it was created.
pub struct RealClock {
    epoch: Instant,
}

impl RealClock {
    pub fn new() -> RealClock {
        RealClock {
            epoch: Instant::now(),
        }
    }
}

impl Default for RealClock {
    fn default() -> Self {
        RealClock::new()
    }
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
    fn sleep_until(&self, t: Duration) {
        let now = self.now();
        if t > now {
            std::thread::sleep(t - now);
        }
    }
}

/// Wall-clock time sped up by a factor (tests run a radio at 10× to hear minutes in seconds).
pub struct ScaledClock {
    epoch: Instant,
    scale: f64,
}

impl ScaledClock {
    pub fn new(scale: f64) -> ScaledClock {
        ScaledClock {
            epoch: Instant::now(),
            scale: scale.max(1e-3),
        }
    }
}

impl Clock for ScaledClock {
    fn real(&self, d: Duration) -> Duration {
        d.div_f64(self.scale)
    }
    fn advance_in(&self, d: Duration) -> Duration {
        d.mul_f64(self.scale)
    }
    fn now(&self) -> Duration {
        self.epoch.elapsed().mul_f64(self.scale)
    }
    fn sleep_until(&self, t: Duration) {
        let now = self.now();
        if t > now {
            std::thread::sleep(self.real(t - now));
        }
    }
}

/// A clock that only moves when told to, or when someone sleeps on it (it jumps ahead at once).
#[derive(Default)]
pub struct ManualClock {
    now: Mutex<Duration>,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::default()
    }
    pub fn advance(&self, by: Duration) {
        *self.now.lock().expect("clock lock") += by;
    }
}

impl Clock for ManualClock {
    fn real(&self, _: Duration) -> Duration {
        Duration::ZERO
    }
    /// A manual clock does not follow real time at all.
    fn advance_in(&self, _: Duration) -> Duration {
        Duration::ZERO
    }
    fn now(&self) -> Duration {
        *self.now.lock().expect("clock lock")
    }
    fn sleep_until(&self, t: Duration) {
        let mut now = self.now.lock().expect("clock lock");
        if t > *now {
            *now = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_jumps_instead_of_sleeping() {
        let c = ManualClock::new();
        c.sleep_until(Duration::from_secs(3600));
        assert_eq!(c.now(), Duration::from_secs(3600));
        c.sleep_until(Duration::from_secs(1));
        assert_eq!(c.now(), Duration::from_secs(3600));
        c.advance(Duration::from_millis(5));
        assert_eq!(c.now(), Duration::from_millis(3_600_005));
    }

    #[test]
    fn real_clock_moves_forward() {
        let c = RealClock::new();
        let a = c.now();
        c.sleep_until(a + Duration::from_millis(5));
        assert!(c.now() >= a + Duration::from_millis(5));
    }
}
