//! Pure synthesis of a demo track: a drum kit, a bass line, a chord pad and an arpeggio over a
//! four-chord progression in the track's key and tempo. Small, deterministic, fast.
use super::TrackSpec;
use crate::units::SAMPLE_RATE;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f32::consts::TAU;

const SR: f32 = SAMPLE_RATE as f32;

fn midi_hz(note: f32) -> f32 {
    440.0 * 2f32.powf((note - 69.0) / 12.0)
}

/// A naive saw / triangle blend: `bright` 0 is a triangle, 1 a saw.
fn osc(phase: f32, bright: f32) -> f32 {
    let saw = 2.0 * phase - 1.0;
    let tri = 1.0 - 4.0 * (phase - 0.5).abs();
    tri + (saw - tri) * bright
}

/// One-pole low-pass coefficient for a cut-off in Hz.
fn lowpass_coeff(hz: f32) -> f32 {
    1.0 - (-TAU * hz / SR).exp()
}

/// Adds a note into `out` (interleaved stereo) from frame `at` for `len` frames.
#[allow(clippy::too_many_arguments)]
fn note(
    out: &mut [f32],
    at: usize,
    len: usize,
    hz: f32,
    amp: f32,
    bright: f32,
    cutoff: f32,
    pan: f32,
    decay: f32,
) {
    let frames = out.len() / 2;
    let (gl, gr) = ((1.0 - pan) * 0.5 + 0.25, (1.0 + pan) * 0.5 + 0.25);
    let a = lowpass_coeff(cutoff);
    let (mut phase, mut lp) = (0.0f32, 0.0f32);
    let attack = (0.005 * SR) as usize;
    let release = (0.03 * SR) as usize;
    for i in 0..len.min(frames.saturating_sub(at)) {
        let env_a = (i as f32 / attack as f32).min(1.0);
        let env_r = ((len - i) as f32 / release as f32).min(1.0);
        let env = env_a * env_r * (-(i as f32) / (decay * SR)).exp();
        lp += a * (osc(phase, bright) - lp);
        phase = (phase + hz / SR).fract();
        let v = lp * env * amp;
        out[(at + i) * 2] += v * gl;
        out[(at + i) * 2 + 1] += v * gr;
    }
}

fn kick(out: &mut [f32], at: usize, amp: f32) {
    let len = (0.35 * SR) as usize;
    let mut phase = 0.0f32;
    for i in 0..len.min((out.len() / 2).saturating_sub(at)) {
        let t = i as f32 / SR;
        let hz = 45.0 + 110.0 * (-t * 30.0).exp();
        phase = (phase + hz / SR).fract();
        let v = (phase * TAU).sin() * (-t * 9.0).exp() * amp;
        out[(at + i) * 2] += v;
        out[(at + i) * 2 + 1] += v;
    }
}

#[allow(clippy::too_many_arguments)]
fn noise_hit(
    out: &mut [f32],
    at: usize,
    amp: f32,
    secs: f32,
    highpass: bool,
    tone: f32,
    pan: f32,
    rng: &mut ChaCha8Rng,
) {
    let len = (secs * SR) as usize;
    let (mut prev, mut hp) = (0.0f32, 0.0f32);
    let (gl, gr) = (1.0 - pan.max(0.0), 1.0 + pan.min(0.0));
    for i in 0..len.min((out.len() / 2).saturating_sub(at)) {
        let t = i as f32 / SR;
        let n: f32 = rng.gen_range(-1.0..1.0);
        // A first difference is a crude high-pass: hats hiss, snares keep some body.
        hp = if highpass {
            n - prev
        } else {
            0.6 * hp + 0.4 * n
        };
        prev = n;
        let body = if tone > 0.0 {
            (t * tone * TAU).sin() * 0.5
        } else {
            0.0
        };
        let v = (hp + body) * (-t / (secs * 0.25)).exp() * amp;
        out[(at + i) * 2] += v * gl;
        out[(at + i) * 2 + 1] += v * gr;
    }
}

/// Chord roots (semitones above the key) of the four-bar progression.
fn progression(minor: bool) -> [i32; 4] {
    if minor {
        [0, 8, 3, 10] // i – VI – III – VII
    } else {
        [0, 7, 9, 5] // I – V – vi – IV
    }
}

/// The track's music (no lead/tail silence, no level), interleaved stereo at 44.1 kHz.
fn music(spec: &TrackSpec, frames: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![0.0f32; frames * 2];
    let beat = 60.0 / spec.bpm as f32 * SR;
    let sixteenth = beat / 4.0;
    let bar = beat * 4.0;
    let cutoff = 300.0 + spec.brightness as f32 * 6000.0;
    let bright = spec.brightness as f32;
    let density = spec.density as f32;
    let root = 48 + spec.root as i32;
    let third = if spec.minor { 3 } else { 4 };
    let steps = (frames as f32 / sixteenth) as usize;
    for s in 0..steps {
        let at = (s as f32 * sixteenth) as usize;
        let bar_index = (at as f32 / bar) as usize;
        let step = s % 16;
        let chord = root + progression(spec.minor)[bar_index % 4];
        // Drums: four on the floor when dense, one and three when sparse.
        if step % 8 == 0 || (density > 0.5 && step % 4 == 0) {
            kick(&mut out, at, 0.9);
        }
        if step % 8 == 4 {
            noise_hit(&mut out, at, 0.35, 0.18, false, 185.0, 0.0, &mut rng);
        }
        let hat_every = if density > 0.7 { 1 } else { 2 };
        if step % hat_every == 0 && rng.gen::<f32>() < 0.6 + density * 0.4 {
            noise_hit(
                &mut out,
                at,
                0.08 + 0.05 * (step % 4 == 2) as u8 as f32,
                0.05,
                true,
                0.0,
                0.4,
                &mut rng,
            );
        }
        // Bass on eighths, root and octave.
        if step % 2 == 0 && (density > 0.3 || step % 4 == 0) {
            let octave = if step % 8 == 6 { 12 } else { 0 };
            note(
                &mut out,
                at,
                (sixteenth * 1.8) as usize,
                midi_hz((chord - 12 + octave) as f32),
                0.35,
                bright * 0.6,
                cutoff * 0.5,
                0.0,
                0.25,
            );
        }
        // Pad: the triad, held for the bar.
        if step == 0 {
            for (k, iv) in [0, third, 7].iter().enumerate() {
                let pan = [-0.5, 0.0, 0.5][k];
                note(
                    &mut out,
                    at,
                    bar as usize,
                    midi_hz((chord + 12 + iv) as f32),
                    0.08,
                    bright,
                    cutoff,
                    pan,
                    3.0,
                );
            }
        }
        // Arpeggio over the chord tones when the track is busy enough.
        if density > 0.35 && (density > 0.75 || step % 2 == 0) {
            let tones = [0, third, 7, 12];
            let n = chord + 24 + tones[(s / if density > 0.75 { 1 } else { 2 }) % 4];
            note(
                &mut out,
                at,
                (sixteenth * 0.9) as usize,
                midi_hz(n as f32),
                0.07,
                bright,
                cutoff * 1.5,
                -0.4,
                0.15,
            );
        }
    }
    out
}

/// The whole track: near-silence, the music (faded at both ends), near-silence, at the
/// spec's level. Peaks never exceed 1.0.
pub fn synthesize(spec: &TrackSpec, seed: u64) -> Vec<f32> {
    let total = (spec.duration_secs * SR as f64) as usize;
    let lead = (spec.lead_silence_secs * SR as f64) as usize;
    let tail = (spec.tail_silence_secs * SR as f64) as usize;
    let body = total.saturating_sub(lead + tail);
    let mut m = music(spec, body, seed);
    let peak = m.iter().fold(0.0f32, |a, s| a.max(s.abs())).max(1e-6);
    let gain = 0.89 / peak * 10f32.powf(spec.level_db as f32 / 20.0);
    let fade_in = ((spec.intro_secs * SR as f64) as usize).clamp(1, body.max(1));
    let fade_out = ((spec.outro_secs * SR as f64) as usize).clamp(1, body.max(1));
    for i in 0..body {
        let f =
            (i as f32 / fade_in as f32).min(1.0) * ((body - i) as f32 / fade_out as f32).min(1.0);
        m[i * 2] *= gain * f;
        m[i * 2 + 1] *= gain * f;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xA5A5);
    let hiss = 10f32.powf(-72.0 / 20.0);
    let mut out = Vec::with_capacity(total * 2);
    out.extend((0..lead * 2).map(|_| rng.gen_range(-hiss..hiss)));
    out.extend_from_slice(&m);
    out.extend((0..tail * 2).map(|_| rng.gen_range(-hiss..hiss)));
    out
}
