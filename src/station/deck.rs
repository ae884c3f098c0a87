//! One track on the mix timeline: its decoder and read-ahead buffer, its gain, where it starts
//! in the stream, and its fades. Mixing a deck into a block is a pure function of the stream
//! position, which is what makes the engine reproducible from a checkpoint.
use crate::audio::crossfade::Fade;
use crate::audio::decode::{DecodeError, PcmReader};
use crate::model::Track;
use crate::units::{Frames, StreamPos, CHANNELS};
use serde::{Deserialize, Serialize};

/// What a checkpoint records of a deck; the audio (and, unless `gain` says, the gain) is
/// derived again from the track.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeckPlan {
    pub track: crate::model::TrackId,
    /// Stream position at which the file frame `entry` is heard.
    pub start: StreamPos,
    /// The file frame heard at `start`: the cue-in, a beat (beat-aligned transitions) or 0 (a
    /// gapless album join). `None` in checkpoints from before it existed: the cue-in.
    #[serde(default)]
    pub entry: Option<Frames>,
    pub fade_in: Fade,
    pub fade_out: Fade,
    /// The deck's gain (amplitude) when it is not the one its track's loudness asks for: an
    /// album successor joined gaplessly keeps the gain of the track before it, so the album
    /// plays at one gain — its tracks' own level differences as mastered, no step at a join.
    /// `None` (and in checkpoints from before it existed): the track's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain: Option<f32>,
}

pub struct Deck {
    pub track: Track,
    pub plan: DeckPlan,
    pub gain: f32,
    reader: Option<PcmReader>,
    /// Decoded audio from file offset `buf_start` on.
    buf: Vec<f32>,
    buf_start: Frames,
    /// File offset where decodable audio ended before cue-out (a truncated or corrupt file).
    pub data_end: Option<Frames>,
    /// Why decoding stopped early, if it did.
    pub failure: Option<String>,
}

impl Deck {
    /// Opens the track and positions its decoder for stream position `from` (exactly: the
    /// decoder decodes and discards up to there).
    pub fn open(
        track: Track,
        plan: DeckPlan,
        gain: f32,
        from: StreamPos,
    ) -> Result<Deck, DecodeError> {
        let mut reader = PcmReader::open(&track.path)?;
        let offset =
            plan.entry.unwrap_or(track.analysis.cue_in) + from.0.saturating_sub(plan.start.0);
        let skipped = reader.skip(offset)?;
        let mut deck = Deck {
            track,
            plan,
            gain,
            reader: Some(reader),
            buf: Vec::new(),
            buf_start: skipped,
            data_end: None,
            failure: None,
        };
        if skipped < offset {
            deck.data_end = Some(skipped);
            deck.failure = Some("the file ended before its analysed length".into());
        }
        Ok(deck)
    }

    /// Where this deck stops sounding.
    pub fn end(&self) -> StreamPos {
        self.plan.fade_out.end()
    }

    /// The file frame heard at the deck's start.
    pub fn entry(&self) -> Frames {
        self.plan.entry.unwrap_or(self.track.analysis.cue_in)
    }

    /// The stream position at which file frame `file` is heard (clamped to the deck's start).
    pub fn stream_pos(&self, file: Frames) -> StreamPos {
        self.plan.start + file.saturating_sub(self.entry())
    }

    fn file_offset(&self, pos: StreamPos) -> Frames {
        self.entry() + Frames(pos.0 .0.saturating_sub(self.plan.start.0 .0))
    }

    /// The stream position at which the file's audio runs out early, if it does.
    pub fn early_end(&self) -> Option<StreamPos> {
        Some(self.stream_pos(self.data_end?))
    }

    /// Decodes ahead so that everything up to stream position `until` is buffered (or known
    /// to be missing), and drops audio before `keep_from` (in batches, see below).
    pub fn fill(&mut self, keep_from: StreamPos, until: StreamPos) {
        let drop = self.file_offset(keep_from).saturating_sub(self.buf_start);
        let drop = drop.samples().min(self.buf.len());
        // Dropping shifts the whole read-ahead down; doing it once the dead part is as long as
        // the live one (not every block) keeps that copy off the profile.
        if drop > 0 && drop * 2 >= self.buf.len() {
            self.buf.drain(..drop);
            self.buf_start += Frames((drop / CHANNELS) as u64);
        }
        let want = self.file_offset(until.min(self.end()));
        while let Some(reader) = &mut self.reader {
            let have = self.buf_start + Frames((self.buf.len() / CHANNELS) as u64);
            if have >= want {
                break;
            }
            match reader.read(&mut self.buf, want - have) {
                Ok(Frames(0)) => {
                    self.reader = None;
                    if have < self.track.analysis.cue_out {
                        self.data_end = Some(have);
                        self.failure = Some("the file ended before its analysed length".into());
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    self.reader = None;
                    self.data_end = Some(have);
                    self.failure = Some(e.to_string());
                }
            }
        }
    }

    /// Adds this deck's sound for the block starting at `at` into `out` (interleaved stereo).
    pub fn mix_into(&self, out: &mut [f32], at: StreamPos) {
        let n = (out.len() / CHANNELS) as u64;
        let from = at.0 .0.max(self.plan.start.0 .0);
        let to = (at.0 .0 + n).min(self.end().0 .0);
        for p in from..to {
            let pos = StreamPos(Frames(p));
            let file = self.file_offset(pos);
            if file < self.buf_start {
                continue;
            }
            let i = (file - self.buf_start).samples();
            if i + 1 >= self.buf.len() {
                break;
            }
            let g = self.gain * self.plan.fade_in.gain_at(pos) * self.plan.fade_out.gain_at(pos);
            let o = ((p - at.0 .0) as usize) * CHANNELS;
            out[o] += self.buf[i] * g;
            out[o + 1] += self.buf[i + 1] * g;
        }
    }
}
