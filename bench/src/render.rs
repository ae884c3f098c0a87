//! `drift-bench [render]`: figures, not tests. Scan+analysis throughput, and the CPU cost of a
//! long mix by our engine against ffmpeg doing the same job (same tracks, cues, gains,
//! crossfades, limiter and LAME settings) in the same run.
use crate::cli::RenderBenchArgs;
use crate::support::{libraries, median, work_dir};
use cpu_time::ProcessTime;
use drift::catalog::Catalog;
use drift::commands::{catalog, scan_libraries, CommandError};
use drift::config::MixConfig;
use drift::station::clock::ManualClock;
use drift::station::engine::{Engine, EngineEvent, OUTPUT_LATENCY};
use drift::station::render::render;
use drift::station::scheduler::Scheduler;
use drift::store::Store;
use drift::units::StreamPos;
use std::process::Command;
use std::time::Duration;

pub fn run(a: RenderBenchArgs) -> Result<(), CommandError> {
    let work = work_dir()?;
    let work = work.path();
    let libraries = libraries(&a.library)?;
    // A fresh store, so every file is decoded and analysed.
    let mut store = Store::open(work)?;
    let cpu = ProcessTime::now();
    let report = scan_libraries(&libraries, &mut store, 0)?;
    let scan_cpu = cpu.elapsed().as_secs_f64();
    println!(
        "scan+analysis: {} tracks in {:.2} s wall, {:.2} s CPU: {:.1} tracks/s",
        report.analysed,
        report.elapsed.as_secs_f64(),
        scan_cpu,
        report.analysed as f64 / report.elapsed.as_secs_f64().max(1e-9)
    );

    let catalog = catalog(&store)?;
    let cfg = MixConfig {
        lame_quality: a.quality,
        ..MixConfig::default()
    };
    println!(
        "both sides: {:.0} s at {} kbps CBR, LAME -q {}, same tracks, cues, gains, crossfades and limiter ceiling",
        a.seconds,
        cfg.bitrate.kbps(),
        cfg.lame_quality
    );
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut ffmpeg_failed = false;
    for run in 1..=a.runs {
        let mut engine = Engine::new(cfg.clone(), catalog.clone(), Scheduler::shuffle(1))?;
        let out = work.join("drift.mp3");
        let mut file =
            std::io::BufWriter::new(std::fs::File::create(&out).map_err(io("create output"))?);
        let cpu = ProcessTime::now();
        let rep = render(
            &mut engine,
            &ManualClock::new(),
            Duration::ZERO,
            StreamPos::from_secs(a.seconds),
            &mut file,
        )?;
        let cpu = cpu.elapsed().as_secs_f64();
        ours.push(cpu);
        println!(
            "run {run} drift render: {cpu:.2} s CPU: {:.0}× real time ({:.2} ms CPU per audio second), {} bytes",
            a.seconds / cpu,
            cpu * 1000.0 / a.seconds,
            rep.bytes
        );
        if ffmpeg_failed {
            continue;
        }
        match ffmpeg_same_job(&catalog, &rep.events, &cfg, a.seconds, work) {
            Ok((cpu, bytes)) => {
                theirs.push(cpu);
                println!(
                    "run {run} ffmpeg (atrim+volume+acrossfade+alimiter+libmp3lame): {cpu:.2} s CPU: {:.0}× real time ({:.2} ms CPU per audio second), {bytes} bytes",
                    a.seconds / cpu,
                    cpu * 1000.0 / a.seconds,
                );
            }
            Err(e) => {
                println!("ffmpeg comparison skipped: {e}");
                ffmpeg_failed = true;
            }
        }
    }
    let ours = median(&mut ours);
    println!(
        "drift render (median of {}): {:.0}× real time, {:.2} ms CPU per audio second",
        a.runs,
        a.seconds / ours,
        ours * 1000.0 / a.seconds
    );
    if !theirs.is_empty() {
        let theirs = median(&mut theirs);
        println!(
            "ffmpeg (median of {}): {:.0}× real time, {:.2} ms CPU per audio second",
            a.runs,
            a.seconds / theirs,
            theirs * 1000.0 / a.seconds
        );
        println!("drift CPU / ffmpeg CPU = {:.2} (goal ≤ 0.8)", ours / theirs);
    }
    Ok(())
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> CommandError {
    move |source| CommandError::Io {
        context: format!("bench: cannot {what}"),
        source,
    }
}

/// Runs ffmpeg over the same track sequence; returns its user+system CPU seconds and the size
/// of what it wrote (about ours: a check that it did the whole job).
fn ffmpeg_same_job(
    catalog: &Catalog,
    events: &[EngineEvent],
    cfg: &MixConfig,
    seconds: f64,
    work: &std::path::Path,
) -> Result<(f64, u64), String> {
    let tracks: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::TrackStarted { track, pos }
                if *pos < StreamPos::from_secs(seconds) + OUTPUT_LATENCY =>
            {
                catalog.get(track)
            }
            _ => None,
        })
        .collect();
    let mut cmd = Command::new("ffmpeg");
    // -benchmark prints at info level; -nostats keeps the progress line out.
    cmd.args([
        "-hide_banner",
        "-nostdin",
        "-v",
        "info",
        "-nostats",
        "-benchmark",
        "-y",
    ]);
    let mut graph = String::new();
    for (i, t) in tracks.iter().enumerate() {
        cmd.arg("-i").arg(&t.path);
        let gain = cfg.target_loudness.0 - t.analysis.loudness.0;
        graph += &format!(
            "[{i}:a]aresample=44100,aformat=channel_layouts=stereo,atrim=start_sample={}:end_sample={},asetpts=PTS-STARTPTS,volume={gain:.2}dB[t{i}];",
            t.analysis.cue_in.0, t.analysis.cue_out.0
        );
    }
    let xf = cfg.crossfade.secs();
    let mut last = "t0".to_string();
    for i in 1..tracks.len() {
        let shortest = tracks[i - 1]
            .analysis
            .playable()
            .min(tracks[i].analysis.playable())
            .secs()
            / 2.0;
        graph += &format!(
            "[{last}][t{i}]acrossfade=d={:.3}:c1=qsin:c2=qsin[x{i}];",
            xf.min(shortest)
        );
        last = format!("x{i}");
    }
    graph += &format!(
        "[{last}]alimiter=limit={:.3}:level=disabled[out]",
        cfg.peak_ceiling.amplitude()
    );
    cmd.args([
        "-filter_complex",
        &graph,
        "-map",
        "[out]",
        "-t",
        &format!("{seconds}"),
    ]);
    cmd.args([
        "-c:a",
        "libmp3lame",
        "-b:a",
        &format!("{}k", cfg.bitrate.kbps()),
    ]);
    cmd.args(["-compression_level", &cfg.lame_quality.to_string()]);
    let out_path = work.join("ffmpeg.mp3");
    cmd.arg(&out_path);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("ffmpeg failed: {}", text.trim()));
    }
    // ffmpeg -benchmark prints "bench: utime=1.234s stime=0.123s rtime=1.300s".
    let field = |name: &str| -> Option<f64> {
        let at = text.find(&format!("{name}="))? + name.len() + 1;
        text[at..].split('s').next()?.parse().ok()
    };
    match (field("utime"), field("stime")) {
        (Some(u), Some(s)) => Ok((u + s, std::fs::metadata(&out_path).map_or(0, |m| m.len()))),
        _ => Err(format!("no timing in ffmpeg's output: {}", text.trim())),
    }
}
