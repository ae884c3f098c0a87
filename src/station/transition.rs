//! Chooses how one track hands over to the next from what analysis measured of the two
//! (`model::Ends`, `model::BeatGrid`): where the incoming track starts to sound, how long both
//! sound together, where in its file the incoming track enters, and how long each one's fade
//! is. Pure: two tracks in, a plan in the outgoing track's file frames out; the engine places
//! it on the stream (`engine_plan`).
//!
//! The rules, first match wins:
//! 1. **Gapless**: the incoming track comes straight after the outgoing one on the same album
//!    disc. The outgoing track plays to its real end (its duration, not its cue-out) and the
//!    incoming one starts at its file frame 0 on the next sample: no overlap, no fade.
//! 2. **Cold ending** (measured): nothing fades over it. The incoming track starts
//!    [`COLD_OVERLAP`] before the cue-out, on the last hit's decay, never after it.
//! 3. **Beat-aligned**: both tracks have a confident beat grid with tempi within
//!    [`TEMPO_TOLERANCE`] (or of double / half). The overlap is 16, 8 or 4 of the outgoing
//!    track's beats (the longest whose beats drift apart by at most [`MAX_BEAT_DRIFT`] at its
//!    ends), starts on an outgoing beat, and the incoming track enters on (about) a bar line
//!    of its grid — its first beat, or the earliest whole bar before that after its cue-in —
//!    placed so that one of its beats falls on the outgoing track's beat at the overlap's
//!    middle (where both are loudest; the drift grows towards the ends).
//! 4. **By loudness** otherwise: a long natural fade-out is overlapped from where it starts to
//!    fall, and not faded again; a quiet intro plays under the outgoing track at full gain
//!    while the outgoing one fades over the ordinary crossfade; a cold start comes in at full
//!    level over a short [`PUNCH_OVERLAP`]; anything else (and tracks whose ends were never
//!    measured) gets the ordinary equal-power crossfade of `MixConfig::crossfade` ending at the
//!    cue-out.
//!
//! Every overlap is capped by `MixConfig::max_overlap` and by half of either track's playable
//! part, and never starts before the outgoing track's middle. The fade shapes are the
//! equal-power quarter sines of `audio::crossfade`; what a plan chooses is their lengths:
//! the whole overlap, a short tail, or only [`DECLICK`] (that edge is not faded).
use crate::config::MixConfig;
use crate::model::{Analysis, BeatGrid, Track, TrackId};
use crate::units::{Frames, StreamPos};
use serde::{Deserialize, Serialize};

/// The "no fade" of a cut or a full-gain entry: 10 ms, far too short to hear as a fade, long
/// enough that starting or stopping mid-waveform does not click.
pub const DECLICK: Frames = Frames(441);
/// An outgoing fall from `outro_start` to cue-out at least this long is a natural fade-out to
/// overlap rather than fade again. Shorter falls fit inside an ordinary crossfade anyway.
pub const NATURAL_FADE: Frames = Frames(2 * 44_100);
/// Where a natural fade-out is overlapped, the outgoing track still gets this fade at the very
/// end of the overlap: at cue-out it is ~30 LU down and this only smooths the stop; where the
/// cap cuts a longer fade short, it is what ends it.
pub const TAIL_FADE: Frames = Frames(44_100);
/// Overlap at a cold ending: the incoming track starts on the last hit's decay (a cold ending
/// reaches silence within `model::ends::COLD_SECS`, 0.5 s), so nothing is heard stopping
/// into silence and nothing fades over the hit.
pub const COLD_OVERLAP: Frames = Frames(8_820);
/// Overlap when a cold start follows an outgoing track that is loud to its end: the incoming
/// track's first hit is heard at full level while the outgoing one gets out of the way over 1 s.
pub const PUNCH_OVERLAP: Frames = Frames(44_100);
/// Beat grids less confident than this (0 no pulse … 1 a click track) are not aligned: a
/// wrong grid would put beats audibly off, worse than the loudness-based transition.
pub const BEAT_CONFIDENCE: f64 = 0.5;
/// Tempi further apart than this (relative, after doubling or halving one) are not aligned:
/// without time-stretching even 4 beats would drift apart by more than [`MAX_BEAT_DRIFT`].
pub const TEMPO_TOLERANCE: f64 = 0.02;
/// How far apart the two tracks' beats may drift at the overlap's ends (aligned at its middle):
/// 20 ms, about where two hits start to be heard as a flam rather than one.
pub const MAX_BEAT_DRIFT: Frames = Frames(882);
/// Overlap lengths of a beat-aligned transition, in outgoing beats (4, 2 and 1 bars of 4/4),
/// longest first.
pub const BEAT_CHOICES: [u32; 3] = [16, 8, 4];

/// What kind of transition a plan is, for reports and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum TransitionKind {
    /// A crossfade chosen by loudness (or the ordinary one, for unmeasured tracks).
    #[default]
    Crossfade,
    /// Beats aligned through an overlap of `beats` outgoing beats.
    BeatAligned { beats: u32 },
    /// A cold ending or a cold start: a short overlap, no fade over the cold edge.
    Cold,
    /// Consecutive album tracks joined sample for sample.
    Gapless,
    /// The listener skipped: the short skip crossfade.
    Skip,
}

/// How one track hands over to the next. Positions are the outgoing track's file frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransitionPlan {
    pub kind: TransitionKind,
    /// Outgoing file frame at which the incoming track starts to sound.
    pub start: Frames,
    /// How long both sound together; the outgoing track stops at `start + overlap`.
    pub overlap: Frames,
    /// The outgoing track's fade-out, ending where it stops (0: it stops unfaded, as in a
    /// gapless join).
    pub fade_out: Frames,
    /// Incoming file frame heard at `start`: its cue-in, a beat, or 0 for a gapless join.
    pub entry: Frames,
    /// The incoming track's fade-in from `start`.
    pub fade_in: Frames,
    /// Beat-aligned only: how far (frames, positive = later) the incoming track's beat falls
    /// from the outgoing track's at the overlap's middle, as planned (whole-frame rounding).
    pub beat_offset: Option<f64>,
}

/// One transition as it happened, for reports and tests (`Engine::take_transitions`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransitionRecord {
    pub from: TrackId,
    pub to: TrackId,
    /// Where the incoming track starts to be heard: its mix position plus the output latency,
    /// like `EngineEvent` positions.
    pub at: StreamPos,
    /// The incoming track's file frame heard at `at`.
    pub entry: Frames,
    /// How long both sounded together (0 for a gapless join).
    pub overlap: Frames,
    pub kind: TransitionKind,
    /// As in [`TransitionPlan::beat_offset`].
    pub beat_offset: Option<f64>,
}

/// The transition from `out` to `inc` (see the module doc for the rules).
pub fn plan(out: &Track, inc: &Track, cfg: &MixConfig) -> TransitionPlan {
    let (a, b) = (&out.analysis, &inc.analysis);
    if inc.follows_on_album(out) {
        return TransitionPlan {
            kind: TransitionKind::Gapless,
            start: a.duration,
            overlap: Frames::ZERO,
            fade_out: Frames::ZERO,
            entry: Frames::ZERO,
            fade_in: Frames::ZERO,
            beat_offset: None,
        };
    }
    let sides = Sides::of(a, b, cfg);
    if sides.cold_end {
        // A quiet intro swells under the ending (at full gain, the ending unfaded) so that its
        // body arrives as the ending stops; anything else starts on the last hit's decay.
        let overlap = sides
            .quiet_intro
            .unwrap_or(Frames::ZERO)
            .max(COLD_OVERLAP)
            .min(sides.cap);
        let entry = sides.intro_entry(b, overlap);
        return sides.place(TransitionKind::Cold, a.cue_out - overlap, overlap, entry);
    }
    let loud = sides.by_loudness(a, b);
    beat_aligned(a, b, &sides, loud.start).unwrap_or(loud)
}

/// What the rules need to know of the two ends.
struct Sides {
    /// Longest overlap allowed: the configured cap, and half of either playable part.
    cap: Frames,
    /// The overlap may not start before this outgoing file frame (its middle).
    earliest: Frames,
    /// The ordinary crossfade's length.
    crossfade: Frames,
    /// Where the outgoing track's measured fall begins (`outro_start`), when the fall to
    /// cue-out is a natural fade-out ([`NATURAL_FADE`] or longer).
    natural_fade: Option<Frames>,
    cold_end: bool,
    /// The incoming track's measured quiet intro: cue-in to `intro_end`.
    quiet_intro: Option<Frames>,
    cold_start: bool,
}

impl Sides {
    fn of(a: &Analysis, b: &Analysis, cfg: &MixConfig) -> Sides {
        let half = |x: &Analysis| Frames(x.playable().0 / 2);
        let natural_fade = a.ends.and_then(|e| {
            let start = e.outro_start.max(a.cue_in).min(a.cue_out);
            let len = a.cue_out - start;
            (!e.cold_end && len >= NATURAL_FADE).then_some(start)
        });
        let quiet_intro = b.ends.and_then(|e| {
            let len = e.intro_end.saturating_sub(b.cue_in);
            (!e.cold_start && len > Frames::ZERO).then_some(len)
        });
        Sides {
            cap: cfg.max_overlap.min(half(a)).min(half(b)),
            earliest: a.cue_in + half(a),
            crossfade: cfg.crossfade,
            natural_fade,
            cold_end: a.ends.is_some_and(|e| e.cold_end),
            quiet_intro,
            cold_start: b.ends.is_some_and(|e| e.cold_start),
        }
    }

    /// Rule 4: the transition chosen by the two tracks' loudness at their ends. The two quiet
    /// parts overlap and the two bodies meet: the incoming track's intro (at full gain) plays
    /// under the outgoing track's last full-level moments, so its body arrives where the
    /// outgoing one starts to fall — its own natural fade-out, or the fade this transition
    /// gives it (the ordinary crossfade, or a short one before a cold start). Where the cap
    /// cuts this short, the incoming track enters later in its intro, not earlier in the mix.
    fn by_loudness(&self, a: &Analysis, b: &Analysis) -> TransitionPlan {
        let end = a.cue_out;
        let fall = match self.natural_fade {
            Some(outro) => end - outro.max(self.earliest).min(end),
            None if self.cold_start => PUNCH_OVERLAP.min(self.cap),
            None => self.crossfade.min(self.cap),
        };
        // The fall comes first (a long natural fade-out cut by the cap ends in the tail fade),
        // then as much of the intro as still fits.
        let overlapped_fall = fall.min(self.cap);
        let lead = self
            .quiet_intro
            .unwrap_or(Frames::ZERO)
            .min(self.cap - overlapped_fall);
        let overlap = overlapped_fall + lead;
        let kind = if self.cold_start && self.natural_fade.is_none() {
            TransitionKind::Cold
        } else {
            TransitionKind::Crossfade
        };
        let start = (end - fall).saturating_sub(lead);
        self.place(kind, start, overlap, self.intro_entry(b, lead))
    }

    /// Where the incoming track enters so that `lead` of its quiet intro plays before its body
    /// (all of it when `lead` is as long as the intro).
    fn intro_entry(&self, b: &Analysis, lead: Frames) -> Frames {
        let rise = self.quiet_intro.unwrap_or(Frames::ZERO);
        b.cue_in + rise.saturating_sub(lead)
    }

    /// A plan with the fades these ends call for over an overlap of `overlap` from `start`.
    fn place(
        &self,
        kind: TransitionKind,
        start: Frames,
        overlap: Frames,
        entry: Frames,
    ) -> TransitionPlan {
        let fade_out = if self.cold_end {
            DECLICK
        } else if self.natural_fade.is_some() {
            TAIL_FADE
        } else if self.cold_start {
            PUNCH_OVERLAP
        } else if self.quiet_intro.is_some() {
            self.crossfade
        } else {
            overlap
        };
        // Under a natural fade-out the incoming track comes in at full level: fading it in too
        // would leave both quiet at once.
        let fade_in =
            if self.quiet_intro.is_some() || self.cold_start || self.natural_fade.is_some() {
                DECLICK
            } else {
                overlap
            };
        TransitionPlan {
            kind,
            start,
            overlap,
            fade_out: fade_out.min(overlap),
            entry,
            fade_in: fade_in.min(overlap),
            beat_offset: None,
        }
    }
}

/// Rule 3, placed near `anchor` (where the loudness-based overlap would start); `None` when
/// the two grids do not allow it.
fn beat_aligned(
    a: &Analysis,
    b: &Analysis,
    sides: &Sides,
    anchor: Frames,
) -> Option<TransitionPlan> {
    let (go, gi) = (a.beats?, b.beats?);
    if !(confident(&go) && confident(&gi)) {
        return None;
    }
    // The incoming period as the outgoing beat would count it (doubled or halved when one
    // track counts twice as many beats), relative to the outgoing period.
    let rel = [1.0, 2.0, 0.5]
        .map(|m| gi.period * m / go.period - 1.0)
        .into_iter()
        .min_by(|x, y| x.abs().total_cmp(&y.abs()))?;
    if rel.abs() > TEMPO_TOLERANCE {
        return None;
    }
    let beats = BEAT_CHOICES.into_iter().find(|&n| {
        let len = n as f64 * go.period;
        len <= sides.cap.0 as f64 && len / 2.0 * rel.abs() <= MAX_BEAT_DRIFT.0 as f64
    })?;
    let len = beats as f64 * go.period;
    let latest = a.cue_out.0 as f64 - len;
    let mut start = go.beat_near((anchor.0 as f64).min(latest));
    if start > latest {
        start -= ((start - latest) / go.period).ceil() * go.period;
    }
    if start.is_nan() || start < sides.earliest.0 as f64 {
        return None;
    }
    let middle = go.beat_near(start + len / 2.0);
    // The incoming track enters on (about) a bar line of its grid: its first beat, or where a
    // long intro comes before that, the earliest whole bar back from it after its cue-in (so at
    // most a bar of intro goes unheard). Its beat k (counted from the first) sounds at the
    // middle.
    let half = middle - start;
    let bar = 4.0 * gi.period;
    let lead_in = ((gi.first_beat - b.cue_in.0 as f64) / bar).floor().max(0.0) * 4.0;
    let k = ((half / gi.period).round() - lead_in).max(((half - gi.first_beat) / gi.period).ceil());
    let beat_in = gi.first_beat + k * gi.period;
    let (start_f, entry_f) = (start.round(), (beat_in - half).round());
    let overlap = Frames(len.round() as u64);
    let mut plan = sides.place(
        TransitionKind::BeatAligned { beats },
        Frames(start_f as u64),
        overlap,
        Frames(entry_f as u64),
    );
    plan.beat_offset = Some(start_f + (beat_in - entry_f) - middle);
    Some(plan)
}

fn confident(g: &BeatGrid) -> bool {
    g.confidence >= BEAT_CONFIDENCE
        && g.period.is_finite()
        && g.period > 0.0
        && g.first_beat.is_finite()
        && g.last_beat.is_finite()
}

#[cfg(test)]
#[path = "transition_tests.rs"]
mod tests;
