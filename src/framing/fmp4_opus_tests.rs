//! Tests of the Opus fMP4 boxes: parsed back, and read by ffprobe/ffmpeg with real packets.
use super::*;
use crate::framing::fmp4::tests::{children, ffmpeg_decode, find, u32_at};

/// Real 20 ms packets of a tone, from libopus.
fn packets(n: usize) -> Vec<Vec<u8>> {
    let mut enc =
        opus::Encoder::new(48_000, opus::Channels::Stereo, opus::Application::Audio).unwrap();
    (0..n)
        .map(|p| {
            let pcm: Vec<f32> = (0..960)
                .flat_map(|i| {
                    let t = (p * 960 + i) as f32 / 48_000.0;
                    let v = 0.3 * (2.0 * std::f32::consts::PI * 440.0 * t).sin();
                    [v, v]
                })
                .collect();
            enc.encode_vec_float(&pcm, 1275).unwrap()
        })
        .collect()
}

#[test]
fn the_init_segment_has_an_opus_entry_with_dops_at_48_khz() {
    let init = init_segment(312, 44_100);
    let (s, _) = find(
        &init,
        0,
        init.len(),
        &[b"moov", b"trak", b"mdia", b"mdhd"],
        &[],
    );
    assert_eq!(u32_at(&init, s + 12), 48_000, "timescale");
    let (s, e) = find(
        &init,
        0,
        init.len(),
        &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"],
        &[],
    );
    // stsd: version/flags, entry count, then the entry.
    let entry = children(&init, s + 8, e);
    assert_eq!(entry[0].0, *b"Opus");
    let (es, ee) = (entry[0].1, entry[0].2);
    assert_eq!(
        u16::from_be_bytes([init[es + 16], init[es + 17]]),
        2,
        "channels"
    );
    assert_eq!(u32_at(&init, es + 24) >> 16, 48_000);
    let inner = children(&init, es + 28, ee);
    assert_eq!(inner[0].0, *b"dOps");
    let d = &init[inner[0].1..inner[0].2];
    assert_eq!(d, &[0, 2, 0x01, 0x38, 0, 0, 0xAC, 0x44, 0, 0, 0][..]);
    let (s, _) = find(&init, 0, init.len(), &[b"moov", b"mvex", b"trex"], &[]);
    assert_eq!(u32_at(&init, s + 12), 960, "default sample duration");
}

#[test]
fn fragments_are_timed_by_packet_number_and_titles_are_emsg() {
    let p = packets(5);
    let mut frag = fragment_header(3, 1000, p.iter().map(|x| x.len()));
    p.iter().for_each(|x| frag.extend_from_slice(x));
    let (s, _) = find(&frag, 0, frag.len(), &[b"moof", b"traf", b"tfdt"], &[]);
    assert_eq!(
        u64::from_be_bytes(frag[s + 4..s + 12].try_into().unwrap()),
        960_000
    );
    let (s, _) = find(&frag, 0, frag.len(), &[b"moof", b"traf", b"trun"], &[]);
    assert_eq!(u32_at(&frag, s + 4), 5);
    let offset = u32_at(&frag, s + 8) as usize;
    assert_eq!(&frag[offset..offset + p[0].len()], &p[0][..]);

    let m = title_message(1500, 7, "Ann - Tune");
    let top = children(&m, 0, m.len());
    assert_eq!(top[0].0, *b"emsg");
    let b = &m[top[0].1..top[0].2];
    assert_eq!(b[0], 1, "version 1");
    assert_eq!(u32_at(b, 4), 48_000);
    assert_eq!(u64::from_be_bytes(b[8..16].try_into().unwrap()), 1_440_000);
    assert_eq!(u32_at(b, 20), 7);
    let strings: Vec<&[u8]> = b[24..].splitn(3, |c| *c == 0).collect();
    assert_eq!(strings, vec![TITLE_SCHEME.as_bytes(), b"1", b"Ann - Tune"]);
}

#[test]
fn ffprobe_reads_the_stream_with_the_right_times() {
    let p = packets(100);
    let mut file = init_segment(0, 44_100);
    let first = 5000u64;
    for (i, chunk) in p.chunks(16).enumerate() {
        let at = first + i as u64 * 16;
        if i == 2 {
            file.extend(title_message(at, 1, "A - B"));
        }
        file.extend(fragment_header(
            i as u32 + 1,
            at,
            chunk.iter().map(|x| x.len()),
        ));
        chunk.iter().for_each(|x| file.extend_from_slice(x));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.mp4");
    std::fs::write(&path, &file).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries"])
        .args([
            "stream=codec_name,sample_rate,channels,start_time:format=duration",
            "-of",
            "json",
        ])
        .arg(&path)
        .output()
        .expect("ffprobe is required (make deps installs ffmpeg)");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["streams"][0];
    assert_eq!(
        (s["codec_name"].as_str(), s["channels"].as_u64()),
        (Some("opus"), Some(2))
    );
    let start: f64 = s["start_time"].as_str().unwrap().parse().unwrap();
    assert!(
        (start - 100.0).abs() < 1e-6,
        "starts at packet 5000 = 100 s: {start}"
    );
    let pcm = ffmpeg_decode(&path);
    assert_eq!(pcm.len(), 100 * 960 * 4, "every packet decodes to 20 ms");
}
