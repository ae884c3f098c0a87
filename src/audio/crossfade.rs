//! Equal-power crossfade envelopes: the outgoing track follows cos, the incoming one sin, so the
//! summed power of two uncorrelated tracks stays constant through the overlap.
use crate::units::{Frames, StreamPos};
use serde::{Deserialize, Serialize};

/// Whether a fade raises or lowers the level.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    In,
    Out,
}

/// A fade on the stream timeline: from `start` over `len` frames.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fade {
    pub start: StreamPos,
    pub len: Frames,
    pub direction: Direction,
}

impl Fade {
    pub fn fade_in(start: StreamPos, len: Frames) -> Fade {
        Fade {
            start,
            len,
            direction: Direction::In,
        }
    }
    pub fn fade_out(start: StreamPos, len: Frames) -> Fade {
        Fade {
            start,
            len,
            direction: Direction::Out,
        }
    }
    pub fn end(&self) -> StreamPos {
        self.start + self.len
    }

    /// Amplitude factor at `pos`: before the fade it is the fade's starting level, after it the
    /// ending level, in between an equal-power (quarter sine) curve.
    ///
    /// The mixer asks this for every frame of every deck, and most frames are outside any
    /// fade: there the level is the curve's end value, returned without the trig (sin 0 = 0,
    /// cos 0 = 1 and sin π/2 = 1 exactly, so the result is bit for bit the same).
    ///
    /// A fade of length zero is a step at `start`: a zero-length fade-in is at full level from
    /// `start` on (a gapless join must not lose the incoming track's first sample).
    pub fn gain_at(&self, pos: StreamPos) -> f32 {
        let t = if self.len.0 == 0 {
            if pos < self.start {
                0.0
            } else {
                1.0
            }
        } else if pos <= self.start {
            0.0
        } else if pos >= self.end() {
            1.0
        } else {
            (pos - self.start).0 as f64 / self.len.0 as f64
        };
        let theta = t * std::f64::consts::FRAC_PI_2;
        match self.direction {
            Direction::In if t == 0.0 || t == 1.0 => t as f32,
            Direction::Out if t == 0.0 => 1.0,
            Direction::In => theta.sin() as f32,
            Direction::Out => theta.cos() as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::SAMPLE_RATE;

    fn tone(hz: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (i as f64 / SAMPLE_RATE as f64 * hz * std::f64::consts::TAU).sin() as f32 * 0.5
            })
            .collect()
    }

    /// Two equal-loudness tones crossfaded over 5 s: the RMS of every 50 ms window through the
    /// overlap stays within ±1.5 dB of the tones' own RMS.
    #[test]
    fn equal_power_keeps_level_through_the_overlap() {
        let len = Frames::from_secs(5.0);
        let n = len.0 as usize;
        let (a, b) = (tone(440.0, n), tone(659.3, n));
        let out_f = Fade::fade_out(StreamPos::START, len);
        let in_f = Fade::fade_in(StreamPos::START, len);
        let mixed: Vec<f32> = (0..n)
            .map(|i| {
                let p = StreamPos(Frames(i as u64));
                a[i] * out_f.gain_at(p) + b[i] * in_f.gain_at(p)
            })
            .collect();
        let rms = |s: &[f32]| (s.iter().map(|x| x * x).sum::<f32>() / s.len() as f32).sqrt();
        let reference = rms(&a);
        for w in mixed.chunks(2205) {
            let db = 20.0 * (rms(w) / reference).log10();
            assert!(db.abs() <= 1.5, "window off by {db:.2} dB");
        }
    }

    /// At both ends of the overlap the envelopes start and end at exactly 0 or 1, and the largest
    /// step of the envelope between two samples is tiny (no click).
    #[test]
    fn envelopes_are_continuous_at_both_splices() {
        let len = Frames::from_secs(2.0);
        let f = Fade::fade_in(StreamPos(Frames(1000)), len);
        assert_eq!(f.gain_at(StreamPos(Frames(1000))), 0.0);
        assert_eq!(f.gain_at(StreamPos(Frames(0))), 0.0);
        assert_eq!(f.gain_at(f.end()), 1.0);
        let o = Fade::fade_out(StreamPos(Frames(1000)), len);
        assert_eq!(o.gain_at(StreamPos(Frames(1000))), 1.0);
        assert!(o.gain_at(o.end()).abs() < 1e-7);
        let max_step = (1000..1000 + len.0 + 2)
            .map(|i| (f.gain_at(StreamPos(Frames(i + 1))) - f.gain_at(StreamPos(Frames(i)))).abs())
            .fold(0.0, f32::max);
        // π/2 / len is the steepest slope of a quarter sine over len samples.
        assert!(max_step <= 1.6 / len.0 as f32, "{max_step}");
    }

    /// A zero-length fade is a step at its start: in from there, out before there.
    #[test]
    fn a_zero_length_fade_steps_at_its_start() {
        let at = StreamPos(Frames(500));
        let f = Fade::fade_in(at, Frames::ZERO);
        assert_eq!(f.gain_at(StreamPos(Frames(499))), 0.0);
        assert_eq!(f.gain_at(at), 1.0);
        let o = Fade::fade_out(at, Frames::ZERO);
        assert_eq!(o.gain_at(StreamPos(Frames(499))), 1.0);
        assert!(o.gain_at(at) < 1e-7);
    }

    /// The shortcut outside a fade returns exactly what the curve gives at its ends.
    #[test]
    fn levels_outside_a_fade_are_the_curves_exact_end_values() {
        let theta = std::f64::consts::FRAC_PI_2;
        assert_eq!(theta.sin() as f32, 1.0);
        assert_eq!(0f64.sin() as f32, 0.0);
        assert_eq!(0f64.cos() as f32, 1.0);
        let len = Frames(100);
        let f = Fade::fade_in(StreamPos(Frames(1000)), len);
        let o = Fade::fade_out(StreamPos(Frames(1000)), len);
        assert_eq!(f.gain_at(StreamPos(Frames(5000))), 1.0);
        assert_eq!(o.gain_at(StreamPos(Frames(5000))), theta.cos() as f32);
    }
}
