//! Tests of format sniffing: every signature, every truncation of it, and the reasons given.
use super::*;

/// An MPEG-1 layer III header: 128 kb/s, 44.1 kHz, no padding (a 417-byte frame).
const MP3_HEADER: [u8; 4] = [0xFF, 0xFB, 0x90, 0x64];

fn mp3_frames(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.extend_from_slice(&MP3_HEADER);
        out.resize(out.len() + 413, 0x55);
    }
    out
}

fn with_len(mut bytes: Vec<u8>, len: usize) -> Vec<u8> {
    bytes.resize(len, 0);
    bytes
}

fn samples() -> Vec<(Vec<u8>, Format)> {
    let mut ogg_opus = b"OggS\x00\x02".to_vec();
    ogg_opus.resize(26, 0);
    ogg_opus.push(1); // one segment
    ogg_opus.push(19);
    ogg_opus.extend_from_slice(b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00");
    let mut ogg_speex = ogg_opus[..28].to_vec();
    ogg_speex.extend_from_slice(b"Speex   1.2");
    let mut id3_flac = b"ID3\x04\x00\x00\x00\x00\x00\x05".to_vec();
    id3_flac.extend_from_slice(&[0; 5]);
    id3_flac.extend_from_slice(b"fLaC\x00\x00\x00\x22");
    let mut asf = ASF_GUID.to_vec();
    asf.extend_from_slice(&[0; 14]);
    // An ADTS header (AAC LC, 44.1 kHz, stereo) of a 100-byte frame, twice.
    let adts_header = [0xFF, 0xF1, 0x50, 0x80, 0x0C, 0x9F, 0xFC];
    let mut adts = Vec::new();
    for _ in 0..2 {
        adts.extend_from_slice(&adts_header);
        adts.resize(adts.len() + 93, 0);
    }
    vec![
        (mp3_frames(2), Format::MpegAudio),
        (adts, Format::Adts),
        (b"fLaC\x00\x00\x00\x22".to_vec(), Format::Flac),
        (ogg_opus, Format::Ogg),
        (ogg_speex, Format::Speex),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec(), Format::Wave),
        (b"FORM\x00\x00\x00\x00AIFFCOMM".to_vec(), Format::Aiff),
        (b"FORM\x00\x00\x00\x00AIFCFVER".to_vec(), Format::Aiff),
        (
            b"\x00\x00\x00\x20ftypM4A \x00\x00".to_vec(),
            Format::Mp4Audio,
        ),
        (b"caff\x00\x01\x00\x00".to_vec(), Format::Caf),
        (vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F], Format::Matroska),
        (id3_flac, Format::Flac),
        (b"wvpk\x00\x00\x00\x00".to_vec(), Format::WavPack),
        (b"MAC \x96\x0f".to_vec(), Format::MonkeysAudio),
        (asf, Format::WindowsMedia),
        (b"MPCK\x00".to_vec(), Format::Musepack),
        (b"DSD \x1c\x00".to_vec(), Format::Dsf),
        (b"FRM8\x00".to_vec(), Format::Dsdiff),
        (b"TTA1\x01\x00".to_vec(), Format::TrueAudio),
        (b"MThd\x00\x00\x00\x06".to_vec(), Format::Midi),
    ]
}

#[test]
fn every_signature_is_recognised_and_no_prefix_of_it_is_misread() {
    for (bytes, format) in samples() {
        assert_eq!(sniff(&bytes), Some(format), "{bytes:02x?}");
        // Shorter input is not recognised, recognised rightly (the signature was whole), or
        // (an Ogg stream whose packet magic was cut off, an ID3 tag whose body was) recognised
        // as the broader format: never as something else.
        for len in 0..bytes.len() {
            let got = sniff(&bytes[..len]);
            let broader = match format {
                Format::Speex => Some(Format::Ogg),
                Format::Flac => Some(Format::Id3Tagged),
                _ => None,
            };
            assert!(
                got.is_none() || got == Some(format) || got == broader,
                "{format:?} cut at {len}: {got:?}"
            );
        }
    }
}

#[test]
fn an_id3_tag_longer_than_the_sniffed_bytes_counts_as_tagged_audio() {
    let mut head = b"ID3\x03\x00\x00\x00\x01\x00\x00".to_vec(); // 16 KiB body
    head = with_len(head, 100);
    assert_eq!(sniff(&head), Some(Format::Id3Tagged));
    let mut mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x0a".to_vec();
    mp3.extend_from_slice(&[0; 10]);
    mp3.extend_from_slice(&mp3_frames(2));
    assert_eq!(sniff(&mp3), Some(Format::MpegAudio));
}

#[test]
fn a_single_frame_sync_or_text_is_not_audio() {
    assert_eq!(sniff(&mp3_frames(1)), None, "the second header is missing");
    assert_eq!(sniff(b"just some text that is not audio at all"), None);
    assert_eq!(sniff(&[0xFF, 0xFB]), None);
    assert_eq!(sniff(b"\x00\x00\x00\x20ftypisom"), None, "a video brand");
    // A header with the reserved version, or a bad bitrate, is no header.
    let mut bad = mp3_frames(2);
    bad[1] = 0xEB;
    assert_eq!(sniff(&bad), None);
}

#[test]
fn mpeg_frame_lengths_follow_the_standard() {
    assert_eq!(mpeg_frame_len(&MP3_HEADER), Some(417));
    // Padded: one byte more.
    assert_eq!(mpeg_frame_len(&[0xFF, 0xFB, 0x92, 0x64]), Some(418));
    // MPEG-2 layer III, 64 kb/s, 22.05 kHz: 72 * 64000 / 22050 = 208.
    assert_eq!(mpeg_frame_len(&[0xFF, 0xF3, 0x80, 0x64]), Some(208));
    // MPEG-1 layer II, 192 kb/s, 48 kHz: 144 * 192000 / 48000 = 576.
    assert_eq!(mpeg_frame_len(&[0xFF, 0xFD, 0xA4, 0x64]), Some(576));
    // Free format (bitrate index 0) cannot be measured.
    assert_eq!(mpeg_frame_len(&[0xFF, 0xFB, 0x00, 0x64]), None);
}

#[test]
fn reasons_come_from_content_first_then_from_the_extension() {
    let wma = Path::new("song.mp3");
    let mut asf = ASF_GUID.to_vec();
    asf.extend_from_slice(&[0; 8]);
    assert_eq!(
        unsupported_reason(wma, &asf).as_deref(),
        Some("Windows Media Audio is not supported")
    );
    assert_eq!(unsupported_reason(Path::new("x.wma"), &mp3_frames(2)), None);
    assert_eq!(
        unsupported_reason(Path::new("x.WV"), b"").as_deref(),
        Some("WavPack is not supported")
    );
    assert_eq!(unsupported_reason(Path::new("x.flac"), b"junk"), None);
    assert_eq!(unsupported_reason(Path::new("noext"), b""), None);
}

#[test]
fn extension_lists_do_not_overlap() {
    for (ext, _) in UNDECODABLE_EXTENSIONS {
        assert!(!DECODABLE_EXTENSIONS.contains(ext), "{ext}");
        assert_eq!(ext.to_ascii_lowercase(), *ext);
    }
}

#[test]
fn random_and_mutated_heads_never_panic() {
    use crate::fuzz::{check, mutate, random_bytes};
    use rand::Rng;
    let valid: Vec<Vec<u8>> = samples().into_iter().map(|(b, _)| b).collect();
    check("sniff any head", 1000, |rng| {
        let head = if rng.gen_bool(0.5) {
            let pick = rng.gen_range(0..valid.len());
            mutate(rng, &valid[pick])
        } else {
            random_bytes(rng, SNIFF_BYTES)
        };
        let _ = sniff(&head);
    });
}

#[test]
fn a_head_of_nested_empty_id3_tags_is_sniffed_without_deep_recursion_trouble() {
    // Each empty tag is 10 bytes, so a whole head of them nests sniff about 400 deep.
    let head = b"ID3\x04\x00\x00\x00\x00\x00\x00".repeat(SNIFF_BYTES / 10);
    assert_eq!(sniff(&head), Some(Format::Id3Tagged));
}
