//! Tests of the MP3 frame splitter: header fields, split invariance, garbage and tags.
use super::*;

/// A synthetic frame: the given header followed by a payload of the right length.
fn frame(header: [u8; 4], fill: u8) -> Vec<u8> {
    let h = FrameHeader::parse(&header).expect("valid header");
    let mut f = vec![fill; h.frame_len()];
    f[..4].copy_from_slice(&header);
    f
}

#[test]
fn parses_every_header_field() {
    // MPEG-1 Layer III, no CRC, 128 kbps, 44.1 kHz, no padding, joint stereo, ext 2, original.
    let h = FrameHeader::parse(&[0xFF, 0xFB, 0x90, 0x64]).unwrap();
    assert_eq!(h.version, Version::Mpeg1);
    assert_eq!(h.layer, 3);
    assert!(!h.crc);
    assert_eq!(h.bitrate_kbps, 128);
    assert_eq!(h.sample_rate, 44_100);
    assert!(!h.padding && !h.private);
    assert_eq!(h.channel_mode, ChannelMode::JointStereo);
    assert_eq!(h.mode_extension, 2);
    assert!(!h.copyright && h.original);
    assert_eq!(h.emphasis, 0);
    assert_eq!(h.samples(), 1152);
    assert_eq!(h.frame_len(), 417);

    // 192 kbps with padding, stereo, CRC present: 144 * 192000 / 44100 + 1 = 627.
    let h = FrameHeader::parse(&[0xFF, 0xFA, 0xB2, 0x00]).unwrap();
    assert!(h.crc && h.padding);
    assert_eq!(h.bitrate_kbps, 192);
    assert_eq!(h.channel_mode, ChannelMode::Stereo);
    assert_eq!(h.frame_len(), 627);

    // 320 kbps at 48 kHz, mono, copyright: 144 * 320000 / 48000 = 960.
    let h = FrameHeader::parse(&[0xFF, 0xFB, 0xE4, 0xC8]).unwrap();
    assert_eq!((h.bitrate_kbps, h.sample_rate), (320, 48_000));
    assert_eq!(h.channel_mode, ChannelMode::Mono);
    assert!(h.copyright);
    assert_eq!(h.frame_len(), 960);

    // MPEG-2 Layer III, 64 kbps, 22.05 kHz: 576 samples, 72 * 64000 / 22050 = 208.
    let h = FrameHeader::parse(&[0xFF, 0xF3, 0x80, 0x00]).unwrap();
    assert_eq!(h.version, Version::Mpeg2);
    assert_eq!(
        (h.bitrate_kbps, h.sample_rate, h.samples()),
        (64, 22_050, 576)
    );
    assert_eq!(h.frame_len(), 208);

    // MPEG-2.5 Layer III at 11.025 kHz, and Layer I / Layer II lengths.
    let h = FrameHeader::parse(&[0xFF, 0xE3, 0x80, 0x00]).unwrap();
    assert_eq!((h.version, h.sample_rate), (Version::Mpeg25, 11_025));
    let h = FrameHeader::parse(&[0xFF, 0xFF, 0x40, 0x00]).unwrap();
    assert_eq!((h.layer, h.bitrate_kbps, h.samples()), (1, 128, 384));
    assert_eq!(h.frame_len(), (12 * 128_000 / 44_100) * 4);
    let h = FrameHeader::parse(&[0xFF, 0xFD, 0x90, 0x00]).unwrap();
    assert_eq!((h.layer, h.bitrate_kbps, h.frame_len()), (2, 160, 522));
}

#[test]
fn rejects_invalid_headers() {
    assert!(
        FrameHeader::parse(&[0xFF, 0xFB, 0x90]).is_none(),
        "too short"
    );
    assert!(
        FrameHeader::parse(&[0xFE, 0xFB, 0x90, 0x64]).is_none(),
        "no sync"
    );
    assert!(
        FrameHeader::parse(&[0xFF, 0xEB, 0x90, 0x64]).is_none(),
        "reserved version"
    );
    assert!(
        FrameHeader::parse(&[0xFF, 0xF9, 0x90, 0x64]).is_none(),
        "reserved layer"
    );
    assert!(
        FrameHeader::parse(&[0xFF, 0xFB, 0x00, 0x64]).is_none(),
        "free format"
    );
    assert!(
        FrameHeader::parse(&[0xFF, 0xFB, 0xF0, 0x64]).is_none(),
        "bad bitrate"
    );
    assert!(
        FrameHeader::parse(&[0xFF, 0xFB, 0x9C, 0x64]).is_none(),
        "bad sample rate"
    );
    assert!(
        FrameHeader::parse(&[0xFF, 0xFB, 0x90, 0x66]).is_none(),
        "reserved emphasis"
    );
}

fn stream() -> Vec<u8> {
    let mut s = Vec::new();
    for (i, h) in [
        [0xFF, 0xFB, 0x90, 0x64],
        [0xFF, 0xFB, 0x92, 0x64],
        [0xFF, 0xFB, 0xB0, 0x64],
    ]
    .iter()
    .cycle()
    .take(9)
    .enumerate()
    {
        s.extend(frame(*h, i as u8));
    }
    s
}

#[test]
fn every_split_point_gives_the_same_frames() {
    let data = stream();
    let whole = split_all(&data);
    assert_eq!(whole.len(), 9);
    assert_eq!(
        whole.iter().map(|f| f.data.len()).sum::<usize>(),
        data.len()
    );
    for cut in 0..=data.len() {
        let mut s = FrameSplitter::new();
        let mut out = Vec::new();
        s.push(&data[..cut], &mut out);
        s.push(&data[cut..], &mut out);
        s.finish(&mut out);
        assert_eq!(out, whole, "split at {cut}");
    }
    // And byte by byte.
    let mut s = FrameSplitter::new();
    let mut out = Vec::new();
    for b in &data {
        s.push(std::slice::from_ref(b), &mut out);
    }
    s.finish(&mut out);
    assert_eq!(out, whole);
}

#[test]
fn garbage_between_frames_and_id3_tags_are_skipped() {
    let clean = split_all(&stream());
    let mut dirty = b"ID3\x04\x00\x00\x00\x00\x00\x05\xFF\xFB\x90\x64\x00".to_vec();
    for (i, f) in clean.iter().enumerate() {
        if i == 4 {
            // Garbage, including something that looks like a header but is not followed by one.
            dirty.extend_from_slice(b"junk\xFF\xFB\x90\x64more junk");
        }
        dirty.extend_from_slice(&f.data);
    }
    dirty.extend_from_slice(b"trailing");
    let got = split_all(&dirty);
    assert_eq!(got, clean);
    let mut s = FrameSplitter::new();
    let mut out = Vec::new();
    for piece in dirty.chunks(7) {
        s.push(piece, &mut out);
    }
    s.finish(&mut out);
    assert_eq!(out, clean);
    assert_eq!(
        s.skipped_bytes as usize,
        dirty.len() - clean.iter().map(|f| f.data.len()).sum::<usize>()
    );
}

#[test]
fn a_stream_cut_mid_frame_yields_no_false_frame_from_the_cut_tail() {
    // The last frame's payload holds what looks like a short frame (32 kbps, 48 kHz: 96
    // bytes) that fits in the cut-off tail: it must not come out as a frame.
    let mut data = stream();
    let false_sync = frame([0xFF, 0xFB, 0x14, 0x64], 0xAA);
    assert_eq!(false_sync.len(), 96);
    let last = data.len() - frame([0xFF, 0xFB, 0xB0, 0x64], 0).len();
    data[last + 20..last + 20 + 96].copy_from_slice(&false_sync);
    // Cut so the false frame ends the input (too short to be checked against a next header).
    let cut = &data[..last + 20 + 96 + 2];
    let got = split_all(cut);
    assert_eq!(
        got.len(),
        8,
        "{:?}",
        got.iter()
            .map(|f| f.header.bitrate_kbps)
            .collect::<Vec<_>>()
    );
    assert!(got.iter().all(|f| f.header.sample_rate == 44_100));
}

#[test]
fn a_truncated_last_frame_is_dropped() {
    let data = stream();
    let got = split_all(&data[..data.len() - 10]);
    assert_eq!(got.len(), 8);
}
