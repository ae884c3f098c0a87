//! What each deck put into the mix, kept as an energy envelope per deck (one value per
//! [`HOP`] frames), and the beat offset measured on two such envelopes: how far apart the
//! beats of two overlapping tracks really fell in the rendered audio, whatever the plan said.
//! Only `drift render --report` taps an engine; a live session never pays for it.
use crate::model::TrackId;
use crate::station::deck::Deck;
use crate::units::{StreamPos, CHANNELS, SAMPLE_RATE};

/// Frames per envelope value: 1.45 ms, as fine as the beat grids are measured. A block
/// (1152 frames) is a whole number of hops, so hop `i` covers stream frames `i × HOP…`.
pub const HOP: u64 = 64;

/// One deck's envelope: mean square of its mixed (gained and faded) mono signal per hop.
pub struct Tapped {
    pub track: TrackId,
    /// Where the deck's plan starts (with `track`, it tells two plays of a track apart).
    pub start: StreamPos,
    /// Hop index of `energy[0]`.
    pub first_hop: u64,
    pub energy: Vec<f32>,
}

impl Tapped {
    /// The energies of hops `from..to` (zero where the deck was silent or not yet playing).
    pub fn span(&self, from: u64, to: u64) -> Vec<f32> {
        (from..to)
            .map(|h| {
                h.checked_sub(self.first_hop)
                    .and_then(|i| self.energy.get(i as usize))
                    .copied()
                    .unwrap_or(0.0)
            })
            .collect()
    }
}

/// Mixes decks one by one so each one's share of the block can be kept.
#[derive(Default)]
pub struct DeckTap {
    scratch: Vec<f32>,
    pub decks: Vec<Tapped>,
}

impl DeckTap {
    /// Adds `deck`'s sound for the block at `at` into `out` (as `Deck::mix_into` does) and
    /// appends its energy per hop to its envelope.
    pub fn mix(&mut self, deck: &Deck, out: &mut [f32], at: StreamPos) {
        self.scratch.clear();
        self.scratch.resize(out.len(), 0.0);
        deck.mix_into(&mut self.scratch, at);
        for (o, s) in out.iter_mut().zip(&self.scratch) {
            *o += s;
        }
        let (track, start) = (&deck.plan.track, deck.plan.start);
        let i = match self
            .decks
            .iter()
            .position(|t| t.track == *track && t.start == start)
        {
            Some(i) => i,
            None => {
                self.decks.push(Tapped {
                    track: track.clone(),
                    start,
                    first_hop: at.0 .0 / HOP,
                    energy: Vec::new(),
                });
                self.decks.len() - 1
            }
        };
        let tapped = &mut self.decks[i];
        let hop = HOP as usize * CHANNELS;
        for chunk in self.scratch.chunks(hop) {
            let e = chunk.iter().map(|s| s * s).sum::<f32>() / chunk.len() as f32;
            tapped.energy.push(e);
        }
    }

    /// The envelope of the play of `track` that was sounding at `at`.
    pub fn find(&self, track: &TrackId, at: StreamPos) -> Option<&Tapped> {
        self.decks
            .iter()
            .filter(|t| t.track == *track && t.start <= at)
            .max_by_key(|t| t.start)
    }
}

/// Onset strength per hop: how much the energy rose from the hop before, or 0. Linear, not
/// in dB: the loud hits (kick, snare) that carry the beat count most, and the soft ones in
/// between (hats on sixteenths, a pad's attack) little, whatever the level around them.
fn onsets(energy: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; energy.len()];
    for i in 1..energy.len() {
        out[i] = (energy[i] - energy[i - 1]).max(0.0);
    }
    out
}

/// Least share of a deck's onset strength that must agree on one beat phase (1: every onset
/// on the grid, near 0: onsets anywhere) for the phase to count.
const MIN_PULSE: f64 = 0.2;

/// Where a deck's beats fall, from its envelope over hops `first_hop…`: the stream frame of
/// the beat nearest `middle`, given its beat `period` (frames). Each onset votes for the
/// phase it falls on, weighted by its strength (a circular mean), so every beat of the span
/// counts and none has to be picked out alone. `None` without a clear pulse.
fn beat_near(energy: &[f32], first_hop: u64, period: f64, middle: f64) -> Option<f64> {
    let (mut re, mut im, mut total) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &o) in onsets(energy).iter().enumerate() {
        // The rise is between hop i - 1 and hop i: the onset is at their boundary.
        let t = ((first_hop + i as u64) * HOP) as f64;
        let angle = std::f64::consts::TAU * (t - middle) / period;
        re += o as f64 * angle.cos();
        im += o as f64 * angle.sin();
        total += o as f64;
    }
    if total <= 0.0 || (re * re + im * im).sqrt() < MIN_PULSE * total {
        return None;
    }
    Some(middle + im.atan2(re) / std::f64::consts::TAU * period)
}

/// How far (seconds) the incoming track's beats fall after the outgoing track's (negative:
/// before) in the middle of the hops `first_hop…` both envelopes cover, each deck's beats
/// found on its own envelope with its own beat period (frames). `None` when either has no
/// clear pulse.
pub fn beat_offset(
    outgoing: &[f32],
    incoming: &[f32],
    first_hop: u64,
    periods: (f64, f64),
) -> Option<f64> {
    let n = outgoing.len().min(incoming.len());
    if (n as u64 * HOP) as f64 <= 2.0 * periods.0.max(periods.1) {
        return None;
    }
    let middle = ((first_hop + n as u64 / 2) * HOP) as f64;
    let out = beat_near(&outgoing[..n], first_hop, periods.0, middle)?;
    let inc = beat_near(&incoming[..n], first_hop, periods.1, out)?;
    Some((inc - out) / SAMPLE_RATE as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An envelope with a click (a 20 dB jump decaying over 30 ms) every `period` hops from
    /// hop `first`, over a floor.
    fn clicks(len: usize, first: f64, period: f64) -> Vec<f32> {
        let mut e = vec![1e-4f32; len];
        let mut at = first;
        while (at as usize) < len {
            for k in 0..20 {
                if let Some(v) = e.get_mut(at as usize + k) {
                    *v += 1e-2 * (-(k as f32) / 6.0).exp();
                }
            }
            at += period;
        }
        e
    }

    #[test]
    fn the_offset_between_two_click_trains_is_found_to_a_fraction_of_a_hop() {
        // 120 BPM: a beat every 0.5 s = 344.5 hops.
        let p = 22_050.0 / HOP as f64;
        let out = clicks(6000, 10.0, p);
        for shift in [-100i64, -13, 0, 7, 52, 150] {
            let inc = clicks(6000, (10 + shift + 400) as f64, p);
            // Shifted by `shift` hops plus 400 (more than a beat: whole beats must not matter).
            let d = shift as f64 + 400.0;
            let want = (d - p * (d / p).round()) * HOP as f64 / SAMPLE_RATE as f64;
            let got = beat_offset(&out, &inc, 1000, (p * HOP as f64, p * HOP as f64)).unwrap();
            assert!(
                (got - want).abs() < 0.0015,
                "shift {shift}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn tempi_a_percent_apart_aligned_at_the_middle_measure_near_zero_through_noise() {
        use rand::{Rng, SeedableRng};
        let p = 22_050.0 / HOP as f64;
        let q = p / 1.01;
        let len = 3000;
        // Both trains have a click on hop 1500, the middle; elsewhere they drift apart.
        let first = |period: f64| 1500.0 - period * (1500.0 / period).floor();
        let mut out = clicks(len, first(p), p);
        let mut inc = clicks(len, first(q), q);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for e in out.iter_mut().chain(inc.iter_mut()) {
            *e *= 1.0 + rng.gen_range(0.0..0.3);
        }
        let got = beat_offset(&out, &inc, 0, (p * HOP as f64, q * HOP as f64)).unwrap();
        assert!(got.abs() < 0.002, "{got}");
    }

    #[test]
    fn no_onsets_no_offset() {
        let flat = vec![1e-3f32; 6000];
        let out = clicks(6000, 10.0, 344.5);
        let periods = (22_050.0, 22_050.0);
        assert_eq!(beat_offset(&out, &flat, 0, periods), None);
        assert_eq!(beat_offset(&flat, &flat, 0, periods), None);
        // Too short to hold two beats.
        assert_eq!(beat_offset(&out[..600], &out[..600], 0, periods), None);
    }

    #[test]
    fn a_span_outside_the_envelope_is_silence() {
        let t = Tapped {
            track: TrackId("x".into()),
            start: StreamPos::START,
            first_hop: 10,
            energy: vec![1.0, 2.0],
        };
        assert_eq!(t.span(8, 14), vec![0.0, 0.0, 1.0, 2.0, 0.0, 0.0]);
    }
}
