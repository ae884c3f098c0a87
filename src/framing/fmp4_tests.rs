//! Tests of the fMP4 wrapper: box structure, timing fields, and ffprobe reading the result.
use super::*;
use crate::audio::encode::{Bitrate, Mp3Encoder};

/// (kind, payload start, end) of the boxes directly inside `data[from..to]`.
pub(crate) fn children(data: &[u8], from: usize, to: usize) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = from;
    while at + 8 <= to {
        let len = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        assert!(len >= 8 && at + len <= to, "bad box length at {at}");
        out.push((data[at + 4..at + 8].try_into().unwrap(), at + 8, at + len));
        at += len;
    }
    assert_eq!(at, to, "trailing bytes");
    out
}

pub(crate) fn find(
    data: &[u8],
    from: usize,
    to: usize,
    path: &[&[u8; 4]],
    skip_first: &[usize],
) -> (usize, usize) {
    let (kind, rest) = (path[0], &path[1..]);
    let (_, s, e) = children(data, from, to)
        .into_iter()
        .find(|(k, _, _)| k == kind)
        .unwrap_or_else(|| panic!("no {}", String::from_utf8_lossy(kind)));
    let s = s + skip_first.first().copied().unwrap_or(0);
    if rest.is_empty() {
        (s, e)
    } else {
        find(data, s, e, rest, &skip_first[skip_first.len().min(1)..])
    }
}

pub(crate) fn u32_at(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(d[at..at + 4].try_into().unwrap())
}

fn mp3_frames(n: usize) -> Vec<Vec<u8>> {
    let mut enc = Mp3Encoder::new(Bitrate::DEFAULT, 7).unwrap();
    let pcm: Vec<f32> = (0..n * 1152)
        .flat_map(|i| [((i as f32) * 0.05).sin() * 0.3; 2])
        .collect();
    let mut frames = Vec::new();
    enc.encode(&pcm, &mut frames).unwrap();
    enc.finish(&mut frames).unwrap();
    frames.into_iter().map(|f| f.data).collect()
}

#[test]
fn init_segment_has_the_mp3_sample_entry() {
    let init = init_segment();
    let top: Vec<_> = children(&init, 0, init.len()).iter().map(|c| c.0).collect();
    assert_eq!(top, vec![*b"ftyp", *b"moov"]);
    let (s, e) = find(
        &init,
        0,
        init.len(),
        &[b"moov", b"trak", b"mdia", b"mdhd"],
        &[],
    );
    assert_eq!(u32_at(&init, s + 12), 44_100, "media timescale");
    assert!(e > s);
    // stsd: 4 bytes version/flags + 4 bytes count, then the mp4a entry.
    let (s, e) = find(
        &init,
        0,
        init.len(),
        &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"],
        &[],
    );
    let entries = children(&init, s + 8, e);
    assert_eq!(&entries[0].0, b"mp4a");
    let (ms, me) = (entries[0].1, entries[0].2);
    assert_eq!(
        u16::from_be_bytes([init[ms + 16], init[ms + 17]]),
        2,
        "channels"
    );
    let esds = children(&init, ms + 28, me);
    assert_eq!(&esds[0].0, b"esds");
    assert!(
        init[esds[0].1..esds[0].2].windows(2).any(|w| w == [4, 13]),
        "decoder config descriptor"
    );
    assert!(
        init[esds[0].1..esds[0].2].contains(&0x6B),
        "object type MP3"
    );
    let (s, _) = find(&init, 0, init.len(), &[b"moov", b"mvex", b"trex"], &[]);
    assert_eq!(u32_at(&init, s + 12), 1152, "default sample duration");
}

#[test]
fn fragments_carry_sizes_times_and_a_correct_data_offset() {
    let frames = mp3_frames(10);
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    let frag = fragment(7, 1000, &refs);
    let top = children(&frag, 0, frag.len());
    assert_eq!(
        top.iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![*b"moof", *b"mdat"]
    );
    let (s, _) = find(&frag, 0, frag.len(), &[b"moof", b"mfhd"], &[]);
    assert_eq!(u32_at(&frag, s + 4), 7);
    let (s, _) = find(&frag, 0, frag.len(), &[b"moof", b"traf", b"tfdt"], &[]);
    assert_eq!(frag[s], 1, "version 1: 64-bit time");
    assert_eq!(
        u64::from_be_bytes(frag[s + 4..s + 12].try_into().unwrap()),
        1000 * 1152
    );
    let (s, _) = find(&frag, 0, frag.len(), &[b"moof", b"traf", b"trun"], &[]);
    assert_eq!(u32_at(&frag, s + 4) as usize, frames.len());
    let offset = u32_at(&frag, s + 8) as usize;
    let sizes: Vec<usize> = (0..frames.len())
        .map(|i| u32_at(&frag, s + 12 + 4 * i) as usize)
        .collect();
    assert_eq!(sizes, frames.iter().map(|f| f.len()).collect::<Vec<_>>());
    assert_eq!(
        &frag[offset..offset + frames[0].len()],
        frames[0].as_slice(),
        "data offset points at the first frame"
    );
    assert_eq!(top[1].2 - top[1].1, sizes.iter().sum::<usize>());
}

#[test]
fn ffprobe_reads_a_saved_fragment_stream() {
    if std::process::Command::new("ffprobe")
        .arg("-version")
        .output()
        .is_err()
    {
        panic!("ffprobe is required (make deps installs ffmpeg)");
    }
    let frames = mp3_frames(200);
    let mut file = init_segment();
    for (i, chunk) in frames.chunks(38).enumerate() {
        let refs: Vec<&[u8]> = chunk.iter().map(|f| f.as_slice()).collect();
        file.extend(fragment(i as u32 + 1, (i * 38) as u64, &refs));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream.mp4");
    std::fs::write(&path, &file).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate,channels:format=duration",
            "-of",
            "json",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["streams"][0]["codec_name"], "mp3");
    assert_eq!(v["streams"][0]["sample_rate"], "44100");
    assert_eq!(v["streams"][0]["channels"], 2);
    let dur: f64 = v["format"]["duration"].as_str().unwrap().parse().unwrap();
    let want = frames.len() as f64 * 1152.0 / 44_100.0;
    assert!((dur - want).abs() < 0.03, "{dur} vs {want}");
    ffmpeg_decode(&path);
}

/// ffmpeg's decode of a file to 16-bit PCM, which must report nothing at `-v error`.
pub(crate) fn ffmpeg_decode(path: &std::path::Path) -> Vec<u8> {
    let dec = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "s16le", "-"])
        .output()
        .unwrap();
    assert!(
        dec.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&dec.stderr)
    );
    dec.stdout
}
