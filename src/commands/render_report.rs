//! `drift render --report FILE.json`: every transition of the render as the engine planned it
//! and as the mix measured (see `station::report`), and their distribution.
use crate::analysis::loudness::Meter;
use crate::catalog::Catalog;
use crate::model::TrackId;
use crate::station::engine::{Engine, OUTPUT_LATENCY};
use crate::station::report::{overlap_histogram, Levels, Measured, SETTLE_SECS};
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
    /// Planned offset between the two beat grids at the overlap's middle, in milliseconds.
    beat_offset_ms: Option<f64>,
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
    pub fn new() -> Recorder {
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

    /// The report as pretty JSON, for a render of `seconds` gained to `target`.
    pub fn finish(self, catalog: &Catalog, seconds: f64, target: Db) -> String {
        let levels = Levels::new(&self.meter.finish().blocks);
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
                beat_offset_ms: r.beat_offset.map(|f| f / SAMPLE_RATE as f64 * 1000.0),
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
        let summary = Summary {
            seconds,
            target_lufs: target.0,
            transitions: transitions.len(),
            kinds,
            beat_aligned_share: aligned as f64 / transitions.len().max(1) as f64,
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

fn kind_name(kind: TransitionKind) -> &'static str {
    match kind {
        TransitionKind::Crossfade => "crossfade",
        TransitionKind::BeatAligned { .. } => "beat-aligned",
        TransitionKind::Cold => "cold",
        TransitionKind::Gapless => "gapless",
        TransitionKind::Skip => "skip",
    }
}
