//! Generated test signals for the analysis tests (interleaved stereo f32 at 44.1 kHz): drum
//! patterns at a known tempo, filtered noise, sines and chord progressions; and a tolerance check.
use crate::units::SAMPLE_RATE;
use std::f64::consts::TAU;

const SR: f64 = SAMPLE_RATE as f64;

/// Fails with a readable message unless `got` is within `tolerance` of `want`.
pub fn assert_near(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, want {want} ± {tolerance}"
    );
}

/// A small deterministic noise source (xorshift), uniform in −1 … 1.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Silence, `secs` long, to mix into.
pub fn silence(secs: f64) -> Vec<f32> {
    vec![0.0; (secs * SR) as usize * 2]
}

/// Adds a mono sound (one value per frame) into `out` from second `at`.
fn add(out: &mut [f32], at: f64, sound: impl Iterator<Item = f64>) {
    let start = (at * SR).round() as usize;
    for (i, v) in sound.enumerate() {
        let Some(frame) = out.get_mut((start + i) * 2..(start + i) * 2 + 2) else {
            break;
        };
        frame[0] += v as f32;
        frame[1] += v as f32;
    }
}

/// A kick: a sine sweeping from 150 Hz down to 50 Hz, decaying over ~0.2 s.
pub fn kick(out: &mut [f32], at: f64, amp: f64) {
    let mut phase = 0.0;
    add(
        out,
        at,
        (0..(0.3 * SR) as usize).map(|i| {
            let t = i as f64 / SR;
            phase += TAU * (50.0 + 100.0 * (-t * 25.0).exp()) / SR;
            amp * phase.sin() * (-t * 12.0).exp()
        }),
    );
}

/// A burst of white noise decaying with time constant `tau` seconds.
pub fn burst(out: &mut [f32], at: f64, amp: f64, tau: f64, noise: &mut Noise) {
    add(
        out,
        at,
        (0..(tau * 6.0 * SR) as usize)
            .map(|i| amp * noise.next() * (-(i as f64) / (tau * SR)).exp()),
    );
}

/// A hi-hat: a short burst of high-passed (first-differenced) noise.
pub fn hat(out: &mut [f32], at: f64, amp: f64, noise: &mut Noise) {
    let mut prev = 0.0;
    add(
        out,
        at,
        (0..(0.04 * SR) as usize).map(|i| {
            let n = noise.next();
            let v = n - prev;
            prev = n;
            0.5 * amp * v * (-(i as f64) / (0.008 * SR)).exp()
        }),
    );
}

/// The drum patterns the tempo tests use.
#[derive(Clone, Copy, Debug)]
pub enum Pattern {
    /// A noise burst on every beat.
    Clicks,
    /// A kick on every beat and a hi-hat 20 dB softer on every off-beat.
    KickAndHat,
    /// Kick on beats 1 and 3, snare (a noise burst) on 2 and 4, hi-hats on the eighths.
    Backbeat,
}

/// `secs` of `pattern` at `bpm`.
pub fn drums(pattern: Pattern, bpm: f64, secs: f64, seed: u64) -> Vec<f32> {
    let mut out = silence(secs);
    let mut noise = Noise::new(seed);
    let beat = 60.0 / bpm;
    let mut n = 0;
    while n as f64 * beat < secs {
        let at = n as f64 * beat;
        match pattern {
            Pattern::Clicks => burst(&mut out, at, 0.8, 0.01, &mut noise),
            Pattern::KickAndHat => {
                kick(&mut out, at, 0.8);
                hat(&mut out, at + beat / 2.0, 0.08, &mut noise);
            }
            Pattern::Backbeat => {
                if n % 2 == 0 {
                    kick(&mut out, at, 0.8);
                } else {
                    burst(&mut out, at, 0.4, 0.04, &mut noise);
                }
                hat(&mut out, at, 0.1, &mut noise);
                hat(&mut out, at + beat / 2.0, 0.1, &mut noise);
            }
        }
        n += 1;
    }
    out
}

/// White noise at `amp` peak.
pub fn white(secs: f64, amp: f64, seed: u64) -> Vec<f32> {
    let mut noise = Noise::new(seed);
    (0..(secs * SR) as usize * 2)
        .map(|_| (amp * noise.next()) as f32)
        .collect()
}

/// Low-pass filters a stereo signal in place: four one-pole stages at `cutoff` Hz.
pub fn low_pass(pcm: &mut [f32], cutoff: f64) {
    let a = (1.0 - (-TAU * cutoff / SR).exp()) as f32;
    for channel in 0..2 {
        let mut state = [0.0f32; 4];
        for s in pcm.iter_mut().skip(channel).step_by(2) {
            let mut x = *s;
            for st in state.iter_mut() {
                *st += a * (x - *st);
                x = *st;
            }
            *s = x;
        }
    }
}

/// A sine of `hz` at `amp` peak.
pub fn sine(hz: f64, secs: f64, amp: f64) -> Vec<f32> {
    let mut out = silence(secs);
    add(
        &mut out,
        0.0,
        (0..(secs * SR) as usize).map(|i| amp * (TAU * hz * i as f64 / SR).sin()),
    );
    out
}

/// Frequency of a MIDI note (69 = A4 = 440 Hz), detuned by `cents`.
pub fn midi_hz(note: i32, cents: f64) -> f64 {
    440.0 * 2f64.powf((note - 69) as f64 / 12.0 + cents / 1200.0)
}

/// A band-limited triangle-ish tone: odd harmonics falling as 1/n².
fn triangle(hz: f64, t: f64) -> f64 {
    (0..4)
        .map(|k| {
            let n = (2 * k + 1) as f64;
            let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
            sign * (TAU * n * hz * t).sin() / (n * n)
        })
        .sum()
}

/// Chords (MIDI notes), each held `secs` with a short fade, as triangle tones tuned `cents`
/// off A440; the whole progression repeats `times` times.
pub fn progression(chords: &[Vec<i32>], secs: f64, times: usize, cents: f64) -> Vec<f32> {
    let total = secs * (chords.len() * times) as f64;
    let mut out = silence(total);
    let len = (secs * SR) as usize;
    for (i, chord) in chords.iter().cycle().take(chords.len() * times).enumerate() {
        let amp = 0.25 / chord.len() as f64;
        for &note in chord {
            let hz = midi_hz(note, cents);
            add(
                &mut out,
                i as f64 * secs,
                (0..len).map(|j| {
                    let t = j as f64 / SR;
                    let fade = (j.min(len - j) as f64 / (0.01 * SR)).min(1.0);
                    amp * fade * triangle(hz, t)
                }),
            );
        }
    }
    out
}

/// The triad on `root` (MIDI note) with the given third (3 minor, 4 major).
pub fn triad(root: i32, third: i32) -> Vec<i32> {
    vec![root, root + third, root + 7]
}
