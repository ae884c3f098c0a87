//! `drift render --report FILE.json`: every transition of the render as the engine planned it
//! and as the mix measured (see `station::report`), and their distribution.
use crate::analysis::loudness::Meter;
use crate::catalog::Catalog;
use crate::model::TrackId;
use crate::station::engine::{Engine, OUTPUT_LATENCY};
use crate::station::report::{overlap_histogram, Levels, Measured, SETTLE_SECS};
use crate::station::tap::{self, DeckTap, HOP};
use crate::station::transition::{TransitionKind, TransitionRecord};
use crate::units::{Db, StreamPos, SAMPLE_RATE};
use serde::Serialize;

/// Collects what the report needs while the engine renders.
pub struct Recorder {
    meter: Meter,
    records: Vec<TransitionRecord>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Side {
    id: TrackId,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    from: Side,
    to: Side,
    kind: TransitionKind,
    /// Seconds into the incoming track's file where it is first heard.
    entry: f64,
    beat_aligned: bool,
    /// How far the incoming track's beats fell after the outgoing track's in the rendered
    /// overlap (milliseconds, negative: before), measured on what each deck put into the mix.
    beat_offset_ms: Option<f64>,
    /// The offset the plan expected from the two beat grids, in milliseconds.
    planned_beat_offset_ms: Option<f64>,
    #[serde(flatten)]
    measured: Measured,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    seconds: f64,
    target_lufs: f64,
    transitions: usize,
    /// Transitions per kind.
    kinds: Vec<(String, usize)>,
    beat_aligned_share: f64,
    /// The median and the largest measured beat offset (absolute, ms) of the beat-aligned
    /// transitions.
    beat_offset_ms_median: Option<f64>,
    beat_offset_ms_worst: Option<f64>,
    overlap_seconds: Vec<(String, usize)>,
    /// The lowest short-term loudness after the first seconds, how far under the target it
    /// is (LU) and where (stream seconds).
    worst_short_term_lufs: f64,
    worst_dip_lu: f64,
    worst_dip_at: f64,
    /// The same, only within transitions (3 s either side of each overlap).
    worst_transition_dip_lu: f64,
    /// The most any transition took away: its lowest short-term loudness under the quieter
    /// of the two tracks' own next to it (LU), and where.
    worst_dip_by_a_transition_lu: f64,
    worst_dip_by_a_transition_at: f64,
    longest_silence_seconds: f64,
}

#[derive(Serialize)]
struct Report {
    summary: Summary,
    transitions: Vec<Entry>,
}

impl Recorder {
    /// A recorder for `engine`, which from now on keeps each deck's share of the mix.
    pub fn new(engine: &mut Engine) -> Recorder {
        engine.tap_decks();
        Recorder {
            meter: Meter::new(SAMPLE_RATE),
            records: Vec::new(),
        }
    }

    /// Reads the block the engine just mixed and the transitions it began.
    pub fn observe(&mut self, engine: &mut Engine) {
        self.meter.push(engine.last_pcm().1);
        self.records.extend(engine.take_transitions());
    }

    /// The report as pretty JSON, for `engine`'s render of `seconds` gained to `target`.
    pub fn finish(
        self,
        engine: &mut Engine,
        catalog: &Catalog,
        seconds: f64,
        target: Db,
    ) -> String {
        let levels = Levels::new(&self.meter.finish().blocks);
        let tap = engine.take_deck_tap();
        let side = |id: &TrackId| Side {
            id: id.clone(),
            name: catalog.get(id).map_or(id.to_string(), |t| t.display_name()),
        };
        let transitions: Vec<Entry> = self
            .records
            .iter()
            .filter(|r| r.at.secs() < seconds)
            .map(|r| Entry {
                from: side(&r.from),
                to: side(&r.to),
                kind: r.kind,
                entry: r.entry.secs(),
                beat_aligned: matches!(r.kind, TransitionKind::BeatAligned { .. }),
                beat_offset_ms: tap
                    .as_ref()
                    .and_then(|tap| measured_beat_offset(tap, catalog, r))
                    .map(|s| s * 1000.0),
                planned_beat_offset_ms: r.beat_offset.map(|f| f / SAMPLE_RATE as f64 * 1000.0),
                // Levels are of the mix itself; record positions are when it is heard.
                measured: levels
                    .transition(StreamPos(r.at.0.saturating_sub(OUTPUT_LATENCY)), r.overlap),
            })
            .collect();
        let settle = (SETTLE_SECS * 10.0) as usize;
        let (worst, worst_at) = levels
            .min_short_term(0, levels.len(), settle)
            .unwrap_or((target.0, 0));
        let worst_transition = transitions
            .iter()
            .filter(|t| t.measured.at > SETTLE_SECS)
            .map(|t| t.measured.min_short_term)
            .fold(target.0, f64::min);
        let by_transition = transitions
            .iter()
            .filter(|t| t.measured.at > SETTLE_SECS)
            .max_by(|a, b| a.measured.dip.total_cmp(&b.measured.dip));
        let mut kinds: Vec<(String, usize)> = Vec::new();
        for t in &transitions {
            let name = kind_name(t.kind).to_string();
            match kinds.iter_mut().find(|(k, _)| *k == name) {
                Some((_, n)) => *n += 1,
                None => kinds.push((name, 1)),
            }
        }
        let aligned = transitions.iter().filter(|t| t.beat_aligned).count();
        let mut offsets: Vec<f64> = transitions
            .iter()
            .filter(|t| t.beat_aligned)
            .filter_map(|t| t.beat_offset_ms.map(f64::abs))
            .collect();
        offsets.sort_by(f64::total_cmp);
        let summary = Summary {
            seconds,
            target_lufs: target.0,
            transitions: transitions.len(),
            kinds,
            beat_aligned_share: aligned as f64 / transitions.len().max(1) as f64,
            beat_offset_ms_median: offsets.get(offsets.len() / 2).copied(),
            beat_offset_ms_worst: offsets.last().copied(),
            overlap_seconds: overlap_histogram(transitions.iter().map(|t| t.measured.overlap)),
            worst_short_term_lufs: worst,
            worst_dip_lu: (target.0 - worst).max(0.0),
            worst_dip_at: worst_at as f64 / 10.0,
            worst_transition_dip_lu: (target.0 - worst_transition).max(0.0),
            worst_dip_by_a_transition_lu: by_transition.map_or(0.0, |t| t.measured.dip),
            worst_dip_by_a_transition_at: by_transition.map_or(0.0, |t| t.measured.at),
            longest_silence_seconds: levels.longest_silence(0, levels.len()) as f64 / 10.0,
        };
        let report = Report {
            summary,
            transitions,
        };
        serde_json::to_string_pretty(&report).expect("the report serialises")
    }
}

/// The beat offset (seconds) of a beat-aligned transition, measured over its overlap on the
/// two decks' envelopes, each with its own beat period.
fn measured_beat_offset(tap: &DeckTap, catalog: &Catalog, r: &TransitionRecord) -> Option<f64> {
    if !matches!(r.kind, TransitionKind::BeatAligned { .. }) {
        return None;
    }
    let at = StreamPos(r.at.0.saturating_sub(OUTPUT_LATENCY));
    let period = |id| Some(catalog.get(id)?.analysis.beats?.period);
    let periods = (period(&r.from)?, period(&r.to)?);
    let (out, inc) = (tap.find(&r.from, at)?, tap.find(&r.to, at)?);
    let (from, to) = (at.0 .0 / HOP, (at.0 .0 + r.overlap.0) / HOP);
    tap::beat_offset(&out.span(from, to), &inc.span(from, to), from, periods)
}

fn kind_name(kind: TransitionKind) -> &'static str {
    match kind {
        TransitionKind::Crossfade => "crossfade",
        TransitionKind::BeatAligned { .. } => "beat-aligned",
        TransitionKind::Cold => "cold",
        TransitionKind::Gapless => "gapless",
        TransitionKind::Skip => "skip",
    }
}
