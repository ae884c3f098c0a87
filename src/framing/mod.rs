//! How a listener's MP3 frames go on the wire: as they are (`audio/mpeg`), with ICY metadata
//! interleaved, or as fragmented MP4 (`audio/mp4`, for MediaSource engines that take MP3 only
//! in MP4). Pure: frames in, pieces out. Audio pieces are the ring's own frames (or slices of
//! them), so a thousand listeners share one copy; only headers and metadata are new bytes.
pub mod fmp4;
pub mod fmp4_opus;
pub mod icy;
pub mod ogg;

use bytes::Bytes;
use icy::IcyInterleaver;
use std::sync::OnceLock;

/// What players show for a track.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Title {
    pub artist: String,
    pub title: String,
}

impl Title {
    /// "Artist - Title" (the title alone without an artist), as ICY's StreamTitle.
    pub fn display(&self) -> String {
        if self.artist.is_empty() {
            self.title.clone()
        } else {
            format!("{} - {}", self.artist, self.title)
        }
    }
}

/// Where the title changes in entries [from, end): each entry whose title differs from the
/// one before (the first compared with `current`), found by bisection (the title is asked a
/// few times per batch, not for every entry). Assumes a title does not come back within one
/// batch (a batch is well under a second).
pub fn title_changes(
    from: u64,
    end: u64,
    current: Option<&Title>,
    title: &mut dyn FnMut(u64) -> Title,
) -> Vec<(u64, Title)> {
    let mut out = Vec::new();
    let mut current = current.cloned();
    let mut lo = from;
    while lo < end {
        let last = title(end - 1);
        if current.as_ref() == Some(&last) {
            break;
        }
        // The first entry in [lo, end) whose title is not `current`.
        let (mut a, mut b) = (lo, end - 1);
        while a < b {
            let mid = a + (b - a) / 2;
            if current.as_ref() == Some(&title(mid)) {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        let t = title(a);
        out.push((a, t.clone()));
        current = Some(t);
        lo = a + 1;
    }
    out
}

pub enum Framing {
    Mp3,
    Icy(IcyInterleaver),
    /// Fragments sent so far: the init segment goes before the first.
    Fmp4 {
        fragments: u32,
    },
    /// Opus packets in fragmented MP4, with an `emsg` where the title changes.
    Fmp4Opus {
        fragments: u32,
        title: Option<Title>,
    },
    /// Opus packets in Ogg pages, a new link at each title.
    Ogg(ogg::OggOpus),
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

    /// Opus in fragmented MP4 (no pre-roll: the stream starts at a packet it decodes from).
    pub fn fmp4_opus() -> Framing {
        Framing::Fmp4Opus {
            fragments: 0,
            title: None,
        }
    }

    /// Ogg Opus whose first `preroll` packets are decoder pre-roll.
    pub fn ogg(preroll: u64) -> Framing {
        Framing::Ogg(ogg::OggOpus::new(preroll))
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            Framing::Fmp4 { .. } => "audio/mp4",
            Framing::Fmp4Opus { .. } => "audio/mp4; codecs=\"opus\"",
            Framing::Ogg(_) => "audio/ogg; codecs=opus",
            _ => "audio/mpeg",
        }
    }

    /// Appends to `out` the pieces that carry `frames` (MP3 frames or Opus packets), whose
    /// first has absolute index `first`. `title` names the track audible at an index (asked
    /// only where an ICY metadata block falls, or where a title may change).
    pub fn wrap(
        &mut self,
        first: u64,
        frames: &[Bytes],
        title: &mut dyn FnMut(u64) -> Title,
        out: &mut Vec<Bytes>,
    ) {
        match self {
            Framing::Mp3 => out.extend(frames.iter().cloned()),
            Framing::Icy(icy) => {
                for (i, f) in (first..).zip(frames) {
                    icy.push(f, &mut || title(i).display(), out);
                }
            }
            Framing::Ogg(ogg) => ogg.push(first, frames, title, out),
            Framing::Fmp4Opus {
                fragments,
                title: shown,
            } => {
                if *fragments == 0 {
                    static INIT: OnceLock<Bytes> = OnceLock::new();
                    let init = || fmp4_opus::init_segment(0, crate::units::SAMPLE_RATE).into();
                    out.push(INIT.get_or_init(init).clone());
                }
                let end = first + frames.len() as u64;
                for (at, t) in title_changes(first, end, shown.as_ref(), title) {
                    out.push(fmp4_opus::title_message(at, at as u32, &t.display()).into());
                    *shown = Some(t);
                }
                *fragments += 1;
                let sizes = frames.iter().map(|f| f.len());
                out.push(fmp4_opus::fragment_header(*fragments, first, sizes).into());
                out.extend(frames.iter().cloned());
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
                Title {
                    artist: String::new(),
                    title: format!("track of frame {i}"),
                }
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
    fn title_changes_are_found_by_bisection() {
        let t = |s: &str| Title {
            artist: String::new(),
            title: s.into(),
        };
        let mut asked = 0;
        let mut at = |i: u64| {
            asked += 1;
            t(if i < 13 {
                "a"
            } else if i < 15 {
                "b"
            } else {
                "c"
            })
        };
        let changes = title_changes(10, 26, Some(&t("a")), &mut at);
        assert_eq!(changes, vec![(13, t("b")), (15, t("c"))]);
        assert!(asked < 16, "asked {asked} times for 16 entries");
        assert_eq!(
            title_changes(10, 26, Some(&t("c")), &mut |_| t("c")),
            vec![]
        );
        assert_eq!(
            title_changes(4, 6, None, &mut |_| t("c")),
            vec![(4, t("c"))]
        );
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
