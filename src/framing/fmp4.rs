//! Fragmented MP4 for MP3 frames (what Firefox's MediaSource accepts as
//! `audio/mp4; codecs="mp3"`): one init segment (`ftyp` + `moov`), then a `moof` + `mdat`
//! fragment per batch of frames, timed by their absolute frame index. Pure byte building.
use crate::units::{MP3_FRAME_SAMPLES, SAMPLE_RATE};

/// MPEG-1 Audio (MP3) in the MP4 object type registry.
const OBJECT_TYPE_MP3: u8 = 0x6B;

pub(super) fn boxed(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = 8 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.extend_from_slice(kind);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// A "full box": version and 24-bit flags before the body.
pub(super) fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut head = flags.to_be_bytes();
    head[0] = version;
    boxed(kind, &[&head, body])
}

pub(super) fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// Identity matrix of `mvhd` and `tkhd`.
fn matrix() -> Vec<u8> {
    [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}

/// The init segment for a stereo 44.1 kHz MP3 track with id 1.
pub fn init_segment() -> Vec<u8> {
    init(SAMPLE_RATE, &mp4a(), MP3_FRAME_SAMPLES as u32)
}

/// An init segment for one audio track (id 1) with this timescale, sample entry and sample
/// duration.
pub(super) fn init(timescale: u32, entry: &[u8], sample_duration: u32) -> Vec<u8> {
    let ftyp = boxed(b"ftyp", &[b"iso6", &be32(0), b"iso6", b"isom", b"mp41"]);
    let mut mvhd = Vec::new();
    mvhd.extend(be32(0)); // creation
    mvhd.extend(be32(0)); // modification
    mvhd.extend(be32(timescale)); // timescale
    mvhd.extend(be32(0)); // duration: unknown, fragmented
    mvhd.extend(be32(0x0001_0000)); // rate 1.0
    mvhd.extend([0x01, 0x00, 0, 0]); // volume 1.0, reserved
    mvhd.extend([0u8; 8]);
    mvhd.extend(matrix());
    mvhd.extend([0u8; 24]);
    mvhd.extend(be32(2)); // next track id
    let mvhd = full(b"mvhd", 0, 0, &mvhd);

    let mut tkhd = Vec::new();
    tkhd.extend(be32(0));
    tkhd.extend(be32(0));
    tkhd.extend(be32(1)); // track id
    tkhd.extend(be32(0));
    tkhd.extend(be32(0)); // duration
    tkhd.extend([0u8; 8]);
    tkhd.extend([0, 0, 0, 0]); // layer, alternate group
    tkhd.extend([0x01, 0x00, 0, 0]); // volume, reserved
    tkhd.extend(matrix());
    tkhd.extend(be32(0)); // width
    tkhd.extend(be32(0)); // height
    let tkhd = full(b"tkhd", 0, 0x3, &tkhd); // enabled, in movie

    let mut mdhd = Vec::new();
    mdhd.extend(be32(0));
    mdhd.extend(be32(0));
    mdhd.extend(be32(timescale));
    mdhd.extend(be32(0));
    mdhd.extend([0x55, 0xC4, 0, 0]); // language "und"
    let mdhd = full(b"mdhd", 0, 0, &mdhd);
    let hdlr = full(
        b"hdlr",
        0,
        0,
        &[&be32(0)[..], b"soun", &[0u8; 12], b"Drift\0"].concat(),
    );

    let smhd = full(b"smhd", 0, 0, &[0u8; 4]);
    let dref = full(
        b"dref",
        0,
        0,
        &[&be32(1)[..], &full(b"url ", 0, 1, &[])].concat(),
    );
    let dinf = boxed(b"dinf", &[&dref]);

    let stsd = full(b"stsd", 0, 0, &[&be32(1)[..], entry].concat());
    let empty_table = |k: &[u8; 4]| full(k, 0, 0, &be32(0));
    let stsz = full(b"stsz", 0, 0, &[be32(0), be32(0)].concat());
    let stbl = boxed(
        b"stbl",
        &[
            &stsd,
            &empty_table(b"stts"),
            &empty_table(b"stsc"),
            &stsz,
            &empty_table(b"stco"),
        ],
    );
    let minf = boxed(b"minf", &[&smhd, &dinf, &stbl]);
    let mdia = boxed(b"mdia", &[&mdhd, &hdlr, &minf]);
    let trak = boxed(b"trak", &[&tkhd, &mdia]);
    let trex = full(
        b"trex",
        0,
        0,
        &[be32(1), be32(1), be32(sample_duration), be32(0), be32(0)].concat(),
    );
    let mvex = boxed(b"mvex", &[&trex]);
    let moov = boxed(b"moov", &[&mvhd, &trak, &mvex]);
    [ftyp, moov].concat()
}

/// The fields every stereo audio sample entry starts with (ISO/IEC 14496-12), at `rate` Hz.
pub(super) fn audio_entry(rate: u32) -> Vec<u8> {
    let mut entry = Vec::new();
    entry.extend([0u8; 6]); // reserved
    entry.extend(1u16.to_be_bytes()); // data reference index
    entry.extend([0u8; 8]);
    entry.extend(2u16.to_be_bytes()); // channels
    entry.extend(16u16.to_be_bytes()); // sample size
    entry.extend([0u8; 4]);
    entry.extend(be32(rate << 16));
    entry
}

/// The sample entry: `mp4a` with an `esds` naming MP3 as the object type.
fn mp4a() -> Vec<u8> {
    let entry = audio_entry(SAMPLE_RATE);
    // ES descriptor (tag 3) holding a decoder config (tag 4) and an SL config (tag 6).
    let dec_config = [
        &[OBJECT_TYPE_MP3, 0x15][..], // object type, stream type audio (5 << 2 | 1)
        &[0, 0, 0],                   // buffer size
        &be32(320_000),               // max bitrate
        &be32(0),                     // average bitrate (VBR or unknown)
    ]
    .concat();
    let descriptor =
        |tag: u8, body: &[u8]| -> Vec<u8> { [&[tag, body.len() as u8][..], body].concat() };
    let es = descriptor(
        3,
        &[
            &[0, 1, 0][..],
            &descriptor(4, &dec_config),
            &descriptor(6, &[2]),
        ]
        .concat(),
    );
    let esds = full(b"esds", 0, 0, &es);
    boxed(b"mp4a", &[&entry, &esds])
}

/// One fragment holding `frames` (whole MP3 frames) whose first frame has absolute index
/// `first_frame`; `sequence` counts fragments from 1.
pub fn fragment(sequence: u32, first_frame: u64, frames: &[&[u8]]) -> Vec<u8> {
    let mut out = fragment_header(sequence, first_frame, frames.iter().map(|f| f.len()));
    frames.iter().for_each(|f| out.extend_from_slice(f));
    out
}

/// Everything of a fragment before its frames' bytes (`moof` and the `mdat` header), for
/// frames of these sizes: a stream writes this, then the frames as they are.
pub fn fragment_header(
    sequence: u32,
    first_frame: u64,
    sizes: impl ExactSizeIterator<Item = usize> + Clone,
) -> Vec<u8> {
    let duration = MP3_FRAME_SAMPLES as u32;
    timed_fragment_header(sequence, first_frame * duration as u64, duration, sizes)
}

/// [`fragment_header`] for samples of `duration` each, the first at `base_time` (timescale
/// units).
pub(super) fn timed_fragment_header(
    sequence: u32,
    base_time: u64,
    duration: u32,
    sizes: impl ExactSizeIterator<Item = usize> + Clone,
) -> Vec<u8> {
    let count = sizes.len();
    let mfhd = full(b"mfhd", 0, 0, &be32(sequence));
    // default-base-is-moof: data offsets count from the start of this moof.
    let tfhd = full(b"tfhd", 0, 0x02_0008, &[be32(1), be32(duration)].concat());
    let tfdt = full(b"tfdt", 1, 0, &base_time.to_be_bytes());
    let trun_len = 8 + 4 + 4 + 4 + 4 * count;
    let traf_len = 8 + tfhd.len() + tfdt.len() + trun_len;
    let moof_len = 8 + mfhd.len() + traf_len;
    let data_offset = (moof_len + 8) as u32;
    let mut trun = Vec::with_capacity(trun_len);
    trun.extend(be32(count as u32));
    trun.extend(be32(data_offset));
    for size in sizes.clone() {
        trun.extend(be32(size as u32));
    }
    // data-offset present, sample-size present.
    let trun = full(b"trun", 0, 0x00_0201, &trun);
    let traf = boxed(b"traf", &[&tfhd, &tfdt, &trun]);
    let mut out = boxed(b"moof", &[&mfhd, &traf]);
    debug_assert_eq!(out.len(), moof_len);
    let payload: usize = sizes.sum();
    out.extend(be32((8 + payload) as u32));
    out.extend(b"mdat");
    out
}

#[cfg(test)]
#[path = "fmp4_tests.rs"]
pub(crate) mod tests;
