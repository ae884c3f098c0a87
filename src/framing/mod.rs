//! How a listener's MP3 frames go on the wire: as they are (`audio/mpeg`), with ICY metadata
//! interleaved, or as fragmented MP4 (`audio/mp4`, for MediaSource engines that take MP3 only
//! in MP4). Pure: frames in, pieces out. Audio pieces are the ring's own frames (or slices of
//! them), so a thousand listeners share one copy; only headers and metadata are new bytes.
pub mod fmp4;
pub mod icy;

use bytes::Bytes;
use icy::IcyInterleaver;
use std::sync::OnceLock;

pub enum Framing {
    Mp3,
    Icy(IcyInterleaver),
    /// Fragments sent so far: the init segment goes before the first.
    Fmp4 {
        fragments: u32,
    },
}

impl Framing {
    /// Raw MP3, or with ICY metadata every [`icy::METAINT`] bytes when the client asked.
    pub fn mp3(icy: bool) -> Framing {
        if icy {
            Framing::Icy(IcyInterleaver::new(icy::METAINT))
        } else {
            Framing::Mp3
        }
    }

    pub fn fmp4() -> Framing {
        Framing::Fmp4 { fragments: 0 }
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            Framing::Fmp4 { .. } => "audio/mp4",
            _ => "audio/mpeg",
        }
    }

    /// Appends to `out` the pieces that carry `frames`, whose first has absolute frame index
    /// `first`. `title` names the track audible at a frame index (asked only where an ICY
    /// metadata block falls).
    pub fn wrap(
        &mut self,
        first: u64,
        frames: &[Bytes],
        title: &mut dyn FnMut(u64) -> String,
        out: &mut Vec<Bytes>,
    ) {
        match self {
            Framing::Mp3 => out.extend(frames.iter().cloned()),
            Framing::Icy(icy) => {
                for (i, f) in (first..).zip(frames) {
                    icy.push(f, &mut || title(i), out);
                }
            }
            Framing::Fmp4 { fragments } => {
                if *fragments == 0 {
                    static INIT: OnceLock<Bytes> = OnceLock::new();
                    out.push(INIT.get_or_init(|| fmp4::init_segment().into()).clone());
                }
                *fragments += 1;
                let sizes = frames.iter().map(|f| f.len());
                out.push(fmp4::fragment_header(*fragments, first, sizes).into());
                out.extend(frames.iter().cloned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames() -> Vec<Bytes> {
        (0..5u8).map(|i| Bytes::from(vec![i; 400])).collect()
    }

    #[test]
    fn mp3_pieces_are_the_frames_themselves() {
        let f = frames();
        let mut out = Vec::new();
        Framing::mp3(false).wrap(7, &f, &mut |_| unreachable!(), &mut out);
        assert_eq!(out, f);
        // Shared, not copied.
        assert_eq!(out[2].as_ptr(), f[2].as_ptr());
    }

    #[test]
    fn icy_titles_come_from_the_frame_where_the_block_falls() {
        let mut framing = Framing::Icy(IcyInterleaver::new(1000));
        let mut out = Vec::new();
        let mut asked = Vec::new();
        framing.wrap(
            10,
            &frames(),
            &mut |i| {
                asked.push(i);
                format!("track of frame {i}")
            },
            &mut out,
        );
        // 2000 bytes of audio: blocks after byte 1000 (inside frame 12) and 2000 (end of 14).
        assert_eq!(asked, vec![12, 14]);
        let (audio, titles) = icy::strip(&out.concat(), 1000);
        assert_eq!(audio, frames().concat());
        assert_eq!(titles[0], (1000, "track of frame 12".to_string()));
    }

    #[test]
    fn fmp4_sends_the_init_segment_once_then_fragments_equal_to_the_whole_builder() {
        let f = frames();
        let mut framing = Framing::fmp4();
        let mut out = Vec::new();
        framing.wrap(3, &f[..2], &mut |_| unreachable!(), &mut out);
        let init = fmp4::init_segment();
        let first = out.concat();
        assert_eq!(&first[..init.len()], &init[..]);
        let refs: Vec<&[u8]> = f[..2].iter().map(|b| b.as_ref()).collect();
        assert_eq!(&first[init.len()..], &fmp4::fragment(1, 3, &refs)[..]);
        out.clear();
        framing.wrap(5, &f[2..], &mut |_| unreachable!(), &mut out);
        let refs: Vec<&[u8]> = f[2..].iter().map(|b| b.as_ref()).collect();
        assert_eq!(out.concat(), fmp4::fragment(2, 5, &refs));
    }
}
