//! `drift render`: scan, then mix N seconds offline into an MP3 file and print the track list.
use super::render_report::Recorder;
use super::{catalog, mix_config, open_library, repeat_horizon, scan_libraries, CommandError};
use crate::catalog::marks::MarkBook;
use crate::catalog::Catalog;
use crate::cli::RenderArgs;
use crate::station::clock::ManualClock;
use crate::station::engine::{Engine, EngineEvent};
use crate::station::render::render_observed;
use crate::station::scheduler::Scheduler;
use crate::units::StreamPos;
use std::io::BufWriter;
use std::time::{Duration, Instant};

pub fn run(a: RenderArgs) -> Result<(), CommandError> {
    if !(a.seconds > 0.0 && a.seconds <= 7.0 * 24.0 * 3600.0) {
        return Err(CommandError::Usage(
            "--seconds must be more than 0 and at most a week".into(),
        ));
    }
    let cfg = mix_config(&a.mix)?;
    let (mut store, libraries) = open_library(&a.library)?;
    scan_libraries(&libraries, &mut store, a.library.scan_threads)?;
    let catalog = catalog(&store)?;
    let target = cfg.target_loudness;
    // The station's bans, loves and horizon hold offline too (nothing is counted).
    let marks = MarkBook::default();
    marks.load(store.marks()?, repeat_horizon(&a.mix)?, None);
    let mut scheduler = Scheduler::drift(a.seed);
    scheduler.set_prefs(marks.prefs());
    let mut engine = Engine::new(cfg, catalog.clone(), scheduler)?;

    // Write next to the target and rename at the end, so a failed render leaves no half file.
    let tmp = a.output.with_extension("mp3.partial");
    let io = |source, what: &str| CommandError::Io {
        context: format!("cannot {what} {}", tmp.display()),
        source,
    };
    let file = std::fs::File::create(&tmp).map_err(|e| io(e, "create"))?;
    let mut out = BufWriter::new(file);
    let started = Instant::now();
    let mut recorder = a.report.as_ref().map(|_| Recorder::new(&mut engine));
    let report = render_observed(
        &mut engine,
        &ManualClock::new(),
        Duration::ZERO,
        StreamPos::from_secs(a.seconds),
        &mut out,
        &mut |engine| {
            if let Some(r) = &mut recorder {
                r.observe(engine);
            }
        },
    );
    drop(out);
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp, &a.output).map_err(|e| io(e, "rename"))?;
    let took = started.elapsed().as_secs_f64();
    println!(
        "rendered {:.1} s to {} in {took:.1} s ({:.0}× real time)",
        a.seconds,
        a.output.display(),
        a.seconds / took.max(1e-9)
    );
    print!("{}", track_list(&catalog, &report.events));
    if let (Some(path), Some(recorder)) = (&a.report, recorder) {
        let json = recorder.finish(&mut engine, &catalog, a.seconds, target);
        std::fs::write(path, json).map_err(|source| CommandError::Io {
            context: format!("cannot write the report {}", path.display()),
            source,
        })?;
        println!("transition report written to {}", path.display());
    }
    Ok(())
}

/// One line per event: the stream time at which it is heard and what happened.
pub fn track_list(catalog: &Catalog, events: &[EngineEvent]) -> String {
    let mut s = String::new();
    for e in events {
        let (pos, what) = match e {
            EngineEvent::TrackStarted { pos, track } => (
                *pos,
                catalog
                    .get(track)
                    .map_or(track.to_string(), |t| t.display_name()),
            ),
            EngineEvent::TrackFailed { pos, track, reason } => {
                (*pos, format!("(skipped {track}: {reason})"))
            }
        };
        let secs = pos.secs();
        s += &format!("{:>4}:{:04.1}  {what}\n", (secs / 60.0) as u64, secs % 60.0);
    }
    s
}
