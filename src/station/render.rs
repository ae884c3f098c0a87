//! Offline rendering: runs the engine for a fixed length of stream and writes the MP3 frames,
//! paced by a clock (a manual clock makes it run as fast as the CPU allows).
use super::clock::Clock;
use super::engine::{Engine, EngineError, EngineEvent};
use crate::units::{StreamPos, MP3_FRAME_SAMPLES};
use std::io::Write;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot write the output: {0}")]
    Write(#[from] std::io::Error),
}

/// What a render produced.
#[derive(Debug, Default)]
pub struct RenderReport {
    pub frames: u64,
    pub bytes: u64,
    /// Every event up to the end of the render, in order.
    pub events: Vec<EngineEvent>,
}

/// Renders `length` of stream into `out`: exactly the MP3 frames that cover it. The clock is
/// asked to wait until each frame's time minus `lead`, the same pacing a live stream uses.
pub fn render(
    engine: &mut Engine,
    clock: &dyn Clock,
    lead: Duration,
    length: StreamPos,
    out: &mut impl Write,
) -> Result<RenderReport, RenderError> {
    render_observed(engine, clock, lead, length, out, &mut |_| {})
}

/// [`render`], calling `observe` after every block the engine mixes (to read its PCM and
/// transitions, say).
pub fn render_observed(
    engine: &mut Engine,
    clock: &dyn Clock,
    lead: Duration,
    length: StreamPos,
    out: &mut impl Write,
    observe: &mut dyn FnMut(&mut Engine),
) -> Result<RenderReport, RenderError> {
    let want_frames = length.frames().div_ceil(MP3_FRAME_SAMPLES);
    let start = engine.position();
    let mut report = RenderReport::default();
    while report.frames < want_frames {
        let (chunk, events) = engine.render_block()?;
        observe(engine);
        report.events.extend(
            events
                .into_iter()
                .filter(|e| event_pos(e) < start + length.0),
        );
        let Some(chunk) = chunk else { continue };
        pace(clock, chunk.pos.secs() - start.secs(), lead);
        for frame in chunk.frames {
            if report.frames == want_frames {
                break;
            }
            out.write_all(&frame.data)?;
            report.frames += 1;
            report.bytes += frame.data.len() as u64;
        }
    }
    out.flush()?;
    Ok(report)
}

fn event_pos(e: &EngineEvent) -> StreamPos {
    match e {
        EngineEvent::TrackStarted { pos, .. } | EngineEvent::TrackFailed { pos, .. } => *pos,
    }
}

/// Waits until audio at `audio_secs` into the stream is due, minus the `lead` kept ahead.
pub fn pace(clock: &dyn Clock, audio_secs: f64, lead: Duration) {
    let due = Duration::from_secs_f64(audio_secs.max(0.0)).saturating_sub(lead);
    clock.sleep_until(due);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::config::MixConfig;
    use crate::station::clock::ManualClock;
    use crate::station::engine::tests::tone_track;
    use crate::station::scheduler::Scheduler;
    use std::sync::Arc;

    #[test]
    fn renders_exactly_the_frames_covering_the_length_and_paces_by_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Arc::new(Catalog::new(vec![
            tone_track(dir.path(), "x", 200.0, 0.3, 6.0, None),
            tone_track(dir.path(), "y", 300.0, 0.3, 6.0, None),
        ]));
        let cfg = MixConfig {
            lame_quality: 7,
            ..MixConfig::default()
        };
        let mut engine = Engine::new(cfg, catalog, Scheduler::shuffle(2)).unwrap();
        let clock = ManualClock::new();
        let mut out = Vec::new();
        let len = StreamPos::from_secs(10.0);
        let report = render(&mut engine, &clock, Duration::from_secs(2), len, &mut out).unwrap();
        assert_eq!(report.frames, 383); // ceil(441000 / 1152)
        assert_eq!(out.len() as u64, report.bytes);
        assert_eq!(crate::audio::mp3_frames::split_all(&out).len(), 383);
        // The clock was asked to wait for the last frame's time minus the lead.
        let waited = clock.now().as_secs_f64();
        assert!((7.9..8.1).contains(&waited), "{waited}");
        assert!(report.events.len() >= 2);
    }
}
