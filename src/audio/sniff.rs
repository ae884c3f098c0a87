//! Recognising audio by its first bytes and its name: which format a file is whatever its
//! extension claims, and, for the formats Drift knows but cannot decode, a reason a person
//! understands ("WavPack is not supported") instead of a decoder's "unsupported codec".
use std::path::Path;

/// Leading bytes the sniffers look at: an ID3v2 header, an Ogg page with its first packet's
/// magic, and two MPEG frames (a layer III frame is at most 1,441 bytes) all fit.
pub const SNIFF_BYTES: usize = 4096;

/// A file format recognised from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// An ID3v2 tag whose end lies past the sniffed bytes; what follows is probably MPEG audio.
    Id3Tagged,
    /// MPEG-1/2/2.5 audio layer I, II or III (two consecutive frame headers).
    MpegAudio,
    /// Raw AAC in ADTS framing (two consecutive frame headers).
    Adts,
    Flac,
    /// An Ogg stream of Vorbis, Opus or FLAC (or something else, which the decoder reports).
    Ogg,
    Wave,
    Aiff,
    /// An MP4/M4A file with an audio brand.
    Mp4Audio,
    Caf,
    /// Matroska or WebM (EBML).
    Matroska,
    // Recognised, but Drift has no decoder for them.
    Speex,
    WavPack,
    MonkeysAudio,
    WindowsMedia,
    Musepack,
    Dsf,
    Dsdiff,
    TrueAudio,
    SunAu,
    Amr,
    Midi,
    RealAudio,
    Tak,
    OptimFrog,
    Shorten,
}

impl Format {
    /// The name a person knows the format by.
    pub fn name(self) -> &'static str {
        match self {
            Format::Id3Tagged => "ID3-tagged audio",
            Format::MpegAudio => "MPEG audio",
            Format::Adts => "AAC (ADTS)",
            Format::Flac => "FLAC",
            Format::Ogg => "Ogg",
            Format::Wave => "WAV",
            Format::Aiff => "AIFF",
            Format::Mp4Audio => "MPEG-4 audio",
            Format::Caf => "Core Audio Format",
            Format::Matroska => "Matroska/WebM",
            Format::Speex => "Speex",
            Format::WavPack => "WavPack",
            Format::MonkeysAudio => "Monkey's Audio (APE)",
            Format::WindowsMedia => "Windows Media Audio",
            Format::Musepack => "Musepack",
            Format::Dsf => "DSD audio (DSF)",
            Format::Dsdiff => "DSD audio (DSDIFF)",
            Format::TrueAudio => "True Audio (TTA)",
            Format::SunAu => "Sun audio (AU)",
            Format::Amr => "AMR speech audio",
            Format::Midi => "MIDI",
            Format::RealAudio => "RealAudio",
            Format::Tak => "TAK",
            Format::OptimFrog => "OptimFROG",
            Format::Shorten => "Shorten",
        }
    }

    /// Whether Drift has a decoder for the format.
    pub fn decodable(self) -> bool {
        matches!(
            self,
            Format::Id3Tagged
                | Format::MpegAudio
                | Format::Adts
                | Format::Flac
                | Format::Ogg
                | Format::Wave
                | Format::Aiff
                | Format::Mp4Audio
                | Format::Caf
                | Format::Matroska
        )
    }
}

/// Extensions (lower case) of formats Drift decodes.
pub const DECODABLE_EXTENSIONS: &[&str] = &[
    "mp3", "mp2", "mp1", "mpa", "mpga", "flac", "wav", "wave", "ogg", "oga", "opus", "m4a", "m4b",
    "m4r", "m4p", "mp4", "aac", "adts", "alac", "aif", "aiff", "aifc", "caf", "mka", "webm",
    "weba",
];

/// Extensions (lower case) of audio formats Drift recognises but cannot decode, with the name
/// the failure reason uses.
pub const UNDECODABLE_EXTENSIONS: &[(&str, &str)] = &[
    ("wma", "Windows Media Audio"),
    ("asf", "Windows Media Audio"),
    ("ape", "Monkey's Audio (APE)"),
    ("wv", "WavPack"),
    ("mpc", "Musepack"),
    ("mp+", "Musepack"),
    ("mpp", "Musepack"),
    ("dsf", "DSD audio (DSF)"),
    ("dff", "DSD audio (DSDIFF)"),
    ("tta", "True Audio (TTA)"),
    ("ac3", "Dolby Digital (AC-3)"),
    ("eac3", "Dolby Digital Plus (E-AC-3)"),
    ("dts", "DTS"),
    ("amr", "AMR speech audio"),
    ("awb", "AMR speech audio"),
    ("ra", "RealAudio"),
    ("rm", "RealAudio"),
    ("mid", "MIDI"),
    ("midi", "MIDI"),
    ("kar", "MIDI"),
    ("mod", "tracker module"),
    ("xm", "tracker module"),
    ("it", "tracker module"),
    ("s3m", "tracker module"),
    ("spx", "Speex"),
    ("tak", "TAK"),
    ("ofr", "OptimFROG"),
    ("ofs", "OptimFROG"),
    ("shn", "Shorten"),
    ("au", "Sun audio (AU)"),
    ("snd", "Sun audio (AU)"),
    ("voc", "Creative Voice"),
    ("w64", "Sony Wave64"),
    ("aa", "Audible audiobook"),
    ("aax", "Audible audiobook"),
    ("gsm", "GSM audio"),
];

/// The file's extension in lower case, if it has one.
pub fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

/// Why Drift cannot decode a file it recognises as audio, from its content first (a WMA file
/// named `.mp3` is still WMA) and else its extension; `None` when it is worth trying to decode.
pub fn unsupported_reason(path: &Path, head: &[u8]) -> Option<String> {
    if let Some(format) = sniff(head) {
        return (!format.decodable()).then(|| format!("{} is not supported", format.name()));
    }
    let ext = extension(path)?;
    UNDECODABLE_EXTENSIONS
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, name)| format!("{name} is not supported"))
}

/// The audio format `head` (a file's first bytes, up to [`SNIFF_BYTES`]) starts with, if any.
/// Input too short to hold a whole signature is not recognised.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if let Some(after) = id3v2_len(head) {
        // The format is what follows the tag, when we have it.
        return Some(match head.get(after..) {
            Some(rest) if !rest.is_empty() => sniff(rest).unwrap_or(Format::Id3Tagged),
            _ => Format::Id3Tagged,
        });
    }
    let magic = |offset: usize, sig: &[u8]| head.get(offset..offset + sig.len()) == Some(sig);
    let found = if magic(0, b"fLaC") {
        Format::Flac
    } else if magic(0, b"OggS") {
        ogg_codec(head)
    } else if magic(0, b"RIFF") && magic(8, b"WAVE") {
        Format::Wave
    } else if magic(0, b"FORM") && (magic(8, b"AIFF") || magic(8, b"AIFC")) {
        Format::Aiff
    } else if magic(4, b"ftyp") && is_audio_brand(head.get(8..12)?) {
        Format::Mp4Audio
    } else if magic(0, b"caff") {
        Format::Caf
    } else if magic(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        Format::Matroska
    } else if magic(0, b"wvpk") {
        Format::WavPack
    } else if magic(0, b"MAC ") {
        Format::MonkeysAudio
    } else if magic(0, &ASF_GUID) {
        Format::WindowsMedia
    } else if magic(0, b"MPCK") || magic(0, b"MP+") {
        Format::Musepack
    } else if magic(0, b"DSD ") {
        Format::Dsf
    } else if magic(0, b"FRM8") {
        Format::Dsdiff
    } else if magic(0, b"TTA1") {
        Format::TrueAudio
    } else if magic(0, b".snd") {
        Format::SunAu
    } else if magic(0, b"#!AMR") {
        Format::Amr
    } else if magic(0, b"MThd") {
        Format::Midi
    } else if magic(0, b".ra\xfd") || magic(0, b".RMF") {
        Format::RealAudio
    } else if magic(0, b"tBaK") {
        Format::Tak
    } else if magic(0, b"OFR ") {
        Format::OptimFrog
    } else if magic(0, b"ajkg") {
        Format::Shorten
    } else if two_frames(head, mpeg_frame_len) {
        Format::MpegAudio
    } else if two_frames(head, adts_frame_len) {
        Format::Adts
    } else {
        return None;
    };
    Some(found)
}

/// The header GUID of ASF, the container of Windows Media Audio.
const ASF_GUID: [u8; 16] = [
    0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
];

/// Bytes taken by an ID3v2 tag at the start of `head` (header, body and footer), if one is there.
fn id3v2_len(head: &[u8]) -> Option<usize> {
    let h = head.get(..10)?;
    if &h[..3] != b"ID3" || h[3] == 0xFF || h[6..10].iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    // The size is "syncsafe": seven bits per byte, so no byte of it looks like an MPEG sync.
    let body = h[6..10].iter().fold(0usize, |n, &b| (n << 7) | b as usize);
    let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + body + footer)
}

/// Which codec an Ogg stream carries, from the magic of the first page's first packet. Speex
/// is told apart (no decoder); anything else is left to the decoder to accept or report.
fn ogg_codec(head: &[u8]) -> Format {
    let segments = head.get(26).map_or(0, |&n| n as usize);
    match head.get(27 + segments..) {
        Some(packet) if packet.starts_with(b"Speex   ") => Format::Speex,
        _ => Format::Ogg,
    }
}

/// MP4 major brands of audio files (iTunes AAC/ALAC, audiobooks, protected and Flash audio).
fn is_audio_brand(brand: &[u8]) -> bool {
    [b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "]
        .iter()
        .any(|b| &b[..] == brand)
}

/// Whether `head` starts with a frame header and a second header follows where the first frame
/// ends. One header alone is two bytes of sync that random data matches too often.
fn two_frames(head: &[u8], frame_len: fn(&[u8]) -> Option<usize>) -> bool {
    frame_len(head)
        .and_then(|len| head.get(len..))
        .and_then(frame_len)
        .is_some()
}

/// Length in bytes of the MPEG audio frame whose header starts `b` (ISO 11172-3 / 13818-3),
/// or `None` if `b` does not start with a valid header of a fixed bitrate.
fn mpeg_frame_len(b: &[u8]) -> Option<usize> {
    let h = b.get(..4)?;
    if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    let layer = (h[1] >> 1) & 3; // 0: reserved, 1: III, 2: II, 3: I
    let bitrate_index = (h[2] >> 4) as usize;
    let rate_index = ((h[2] >> 2) & 3) as usize;
    let padding = ((h[2] >> 1) & 1) as usize;
    // Index 0 is "free format", whose length cannot be computed from the header.
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const V1_L1: [usize; 15] = [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ];
    const V1_L2: [usize; 15] = [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ];
    const V1_L3: [usize; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const V2_L1: [usize; 15] = [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ];
    const V2_L23: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let mpeg1 = version == 3;
    let kbps = match (mpeg1, layer) {
        (true, 3) => V1_L1,
        (true, 2) => V1_L2,
        (true, _) => V1_L3,
        (false, 3) => V2_L1,
        (false, _) => V2_L23,
    }[bitrate_index];
    let halvings = match version {
        3 => 0,
        2 => 1,
        _ => 2,
    };
    let rate = [44_100, 48_000, 32_000][rate_index] >> halvings;
    let bits = kbps * 1000;
    Some(match layer {
        3 => (12 * bits / rate + padding) * 4,
        1 if !mpeg1 => 72 * bits / rate + padding,
        _ => 144 * bits / rate + padding,
    })
}

/// Length in bytes of the ADTS frame whose header starts `b`, if it is a valid header.
fn adts_frame_len(b: &[u8]) -> Option<usize> {
    let h = b.get(..7)?;
    // Sync, then layer 00 (what tells ADTS from MPEG audio), and a valid sampling index.
    if h[0] != 0xFF || h[1] & 0xF6 != 0xF0 || (h[2] >> 2) & 0xF > 12 {
        return None;
    }
    let len = ((h[3] as usize & 3) << 11) | ((h[4] as usize) << 3) | (h[5] as usize >> 5);
    (len >= 7).then_some(len)
}

#[cfg(test)]
#[path = "sniff_tests.rs"]
mod tests;
