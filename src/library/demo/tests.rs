//! Demo library tests: determinism, formats and tags, tempo and loudness spread, silent edges.
use super::*;

fn small() -> DemoOptions {
    DemoOptions {
        tracks: 6,
        seed: 3,
        min_secs: 4.0,
        max_secs: 6.0,
    }
}

#[test]
fn specs_spread_tempo_loudness_and_formats() {
    let specs = track_specs(&DemoOptions::default());
    assert_eq!(specs.len(), 16);
    let mut bpms: Vec<f64> = specs.iter().map(|s| s.bpm).collect();
    assert!(bpms.iter().all(|b| (70.0..=170.0).contains(b)));
    bpms.sort_by(f64::total_cmp);
    assert!(bpms.windows(2).all(|w| w[1] - w[0] > 0.5), "{bpms:?}");
    let close = bpms.windows(2).filter(|w| w[1] / w[0] < 1.02).count();
    assert!(close >= 4, "pairs within 2 %: {close} in {bpms:?}");
    let count = |f: &dyn Fn(&TrackSpec) -> bool| specs.iter().filter(|s| f(s)).count();
    assert!(count(&|s| s.outro_secs >= 8.0) >= 3, "long fade-outs");
    assert!(count(&|s| s.outro_secs <= 0.05) >= 3, "cold endings");
    assert!(count(&|s| s.intro_secs >= 4.0) >= 3, "swelling intros");
    for f in [Format::Mp3, Format::Wav] {
        assert!(specs.iter().filter(|s| s.format == f).count() >= 7);
    }
    assert!(specs
        .iter()
        .all(|s| (30.0..=90.0).contains(&s.duration_secs)));
    assert!(
        specs.iter().any(|s| s.lead_silence_secs > 1.0)
            && specs.iter().any(|s| s.tail_silence_secs > 1.0)
    );
}

#[test]
fn synthesized_loudness_spans_twenty_lu_and_never_clips() {
    let opts = DemoOptions {
        min_secs: 5.0,
        max_secs: 5.0,
        ..DemoOptions::default()
    };
    let lufs: Vec<f64> = track_specs(&opts)
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let pcm = synthesize(s, i as u64);
            assert!(pcm.iter().all(|x| x.abs() <= 1.0));
            let mut m = ebur128::EbuR128::new(2, 44_100, ebur128::Mode::I).unwrap();
            m.add_frames_f32(&pcm).unwrap();
            m.loudness_global().unwrap()
        })
        .collect();
    let (lo, hi) = lufs
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(hi - lo >= 20.0, "spread {:.1} LU: {lufs:?}", hi - lo);
}

#[test]
fn lead_silence_is_quiet_and_the_beat_follows_the_tempo() {
    let spec = TrackSpec {
        lead_silence_secs: 1.5,
        density: 0.2,
        bpm: 120.0,
        duration_secs: 8.0,
        ..track_specs(&small())[0].clone()
    };
    let pcm = synthesize(&spec, 1);
    let lead = &pcm[..(1.4 * 44_100.0) as usize * 2];
    assert!(lead.iter().all(|s| s.abs() < 0.001));
    // Energy envelope in 10 ms steps: its autocorrelation peaks at the beat (0.5 s = 50 steps)
    // or the half-bar of a sparse kick pattern (100 steps).
    let env: Vec<f32> = pcm[(1.5 * 44_100.0) as usize * 2..]
        .chunks(882)
        .map(|c| c.iter().map(|s| s * s).sum())
        .collect();
    let mean = env.iter().sum::<f32>() / env.len() as f32;
    let ac = |lag: usize| {
        env.iter()
            .zip(&env[lag..])
            .map(|(a, b)| (a - mean) * (b - mean))
            .sum::<f32>()
    };
    let best = (30..120).max_by(|&a, &b| ac(a).total_cmp(&ac(b))).unwrap();
    assert!(
        [50, 100].iter().any(|&l| best.abs_diff(l) <= 1),
        "periodicity at {best} steps"
    );
}

#[test]
fn writes_decodable_tagged_files_deterministically() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let files = write_demo_library(a.path(), &small()).unwrap();
    let again = write_demo_library(b.path(), &small()).unwrap();
    let specs = track_specs(&small());
    for ((f, g), spec) in files.iter().zip(&again).zip(&specs) {
        assert_eq!(
            std::fs::read(f).unwrap(),
            std::fs::read(g).unwrap(),
            "{f:?} differs between runs"
        );
        let pcm = crate::audio::decode::decode_all(f).unwrap();
        let secs = pcm.len() as f64 / 2.0 / 44_100.0;
        assert!(
            (secs - spec.duration_secs).abs() < 0.1,
            "{f:?}: {secs} vs {}",
            spec.duration_secs
        );
        let tags = crate::library::tags::read_tags(f);
        assert_eq!(
            (
                tags.title.as_str(),
                tags.artist.as_str(),
                tags.album.as_str()
            ),
            (
                spec.title.as_str(),
                spec.artist.as_str(),
                spec.album.as_str()
            ),
            "{f:?}"
        );
    }
    let other = tempfile::tempdir().unwrap();
    let files3 = write_demo_library(other.path(), &DemoOptions { seed: 4, ..small() }).unwrap();
    assert_ne!(
        std::fs::read(&files[0]).unwrap(),
        std::fs::read(&files3[0]).unwrap()
    );
}
