//! The broadcast ring: a session's recent MP3 frames, addressed by absolute frame index (frame
//! i starts at stream position i × 1152). Listeners keep their own cursor (a frame index), so
//! nobody pops frames for anyone else, a slow listener cannot hold the engine back, and a splice
//! simply replaces the frames from some index on. Pure data; the session adds the waking up.
use crate::units::{Frames, StreamPos, MP3_FRAME_SAMPLES};
use bytes::Bytes;
use std::collections::VecDeque;

/// A listener's cursor fell behind the oldest frame kept: it was too slow and is dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct Lagged {
    pub cursor: u64,
    pub tail: u64,
}

pub struct Ring {
    /// Frame index of `frames[0]`.
    tail: u64,
    frames: VecDeque<Bytes>,
    /// Frames kept at most; older ones are evicted.
    capacity: usize,
    /// Bytes currently held, for metrics and the memory bound.
    bytes: usize,
}

/// Frame index that contains stream position `pos`.
pub fn frame_index(pos: StreamPos) -> u64 {
    pos.frames() / MP3_FRAME_SAMPLES
}

/// Stream position at which frame `index` starts.
pub fn frame_pos(index: u64) -> StreamPos {
    StreamPos(Frames(index * MP3_FRAME_SAMPLES))
}

impl Ring {
    /// A ring that keeps `keep` of audio and starts at frame `start`.
    pub fn new(keep: Frames, start: u64) -> Ring {
        Ring {
            tail: start,
            frames: VecDeque::new(),
            capacity: keep.0.div_ceil(MP3_FRAME_SAMPLES).max(1) as usize,
            bytes: 0,
        }
    }

    /// A ring of at most `count` entries starting at index `start` (the Opus packet ring, whose
    /// entries are 20 ms packets, not MP3 frames).
    pub fn with_capacity(count: usize, start: u64) -> Ring {
        Ring {
            tail: start,
            frames: VecDeque::new(),
            capacity: count.max(1),
            bytes: 0,
        }
    }

    /// Empties the ring (and frees its memory); the next push has index `start`.
    pub fn reset(&mut self, start: u64) {
        self.frames = VecDeque::new();
        self.bytes = 0;
        self.tail = start;
    }

    /// Index of the oldest frame held.
    pub fn tail(&self) -> u64 {
        self.tail
    }
    /// Index one past the newest frame.
    pub fn head(&self) -> u64 {
        self.tail + self.frames.len() as u64
    }
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends the next frame (index `head()`), evicting the oldest if full.
    pub fn push(&mut self, frame: Bytes) {
        self.bytes += frame.len();
        self.frames.push_back(frame);
        while self.frames.len() > self.capacity {
            if let Some(f) = self.frames.pop_front() {
                self.bytes -= f.len();
            }
            self.tail += 1;
        }
    }

    /// Drops every frame from `index` on (the start of a splice); later pushes continue there.
    /// An index before the tail empties the ring and restarts it at `index`.
    pub fn truncate_from(&mut self, index: u64) {
        if index <= self.tail {
            self.frames.clear();
            self.bytes = 0;
            self.tail = index;
            return;
        }
        let keep = (index - self.tail) as usize;
        while self.frames.len() > keep {
            if let Some(f) = self.frames.pop_back() {
                self.bytes -= f.len();
            }
        }
    }

    /// Appends up to `max_frames` frames from `cursor` on to `out` (shared, not copied) and
    /// returns how many. None means the listener is at the head and waits.
    pub fn read_into(
        &self,
        cursor: u64,
        max_frames: usize,
        out: &mut Vec<Bytes>,
    ) -> Result<usize, Lagged> {
        if cursor < self.tail {
            return Err(Lagged {
                cursor,
                tail: self.tail,
            });
        }
        let from = (cursor - self.tail) as usize;
        let before = out.len();
        out.extend(self.frames.iter().skip(from).take(max_frames).cloned());
        Ok(out.len() - before)
    }

    /// The last `length` of audio (rounded to whole frames) before position `end`, clamped to
    /// what is held: the index of the first frame and the frames. For "save".
    pub fn last(&self, length: Frames, end: StreamPos) -> (u64, Vec<Bytes>) {
        let count = (length.0 as f64 / MP3_FRAME_SAMPLES as f64).round() as u64;
        let b = frame_index(end).min(self.head());
        let a = b.saturating_sub(count).max(self.tail);
        let frames = (a..b)
            .map(|i| self.frames[(i - self.tail) as usize].clone())
            .collect();
        (a, frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(i: u64) -> Bytes {
        Bytes::from(vec![i as u8; 10])
    }

    fn read(r: &Ring, cursor: u64, max: usize) -> Result<(Vec<Bytes>, u64), Lagged> {
        let mut out = Vec::new();
        let n = r.read_into(cursor, max, &mut out)?;
        Ok((out, cursor + n as u64))
    }

    #[test]
    fn listeners_read_independently_and_slow_ones_lag_out() {
        let mut r = Ring::new(Frames(5 * MP3_FRAME_SAMPLES), 100);
        for i in 100..103 {
            r.push(frame(i));
        }
        let (a, next) = read(&r, 100, 10).unwrap();
        assert_eq!((a.len(), next), (3, 103));
        let (b, next_b) = read(&r, 101, 1).unwrap();
        assert_eq!((b[0][0], next_b), (101, 102));
        for i in 103..110 {
            r.push(frame(i));
        }
        assert_eq!((r.tail(), r.head()), (105, 110));
        assert_eq!(r.bytes(), 50);
        assert_eq!(
            read(&r, 101, 10),
            Err(Lagged {
                cursor: 101,
                tail: 105
            })
        );
        assert_eq!(read(&r, 110, 10).unwrap().0.len(), 0);
    }

    #[test]
    fn a_splice_replaces_frames_from_an_index() {
        let mut r = Ring::new(Frames(100 * MP3_FRAME_SAMPLES), 0);
        for i in 0..10 {
            r.push(frame(i));
        }
        r.truncate_from(6);
        assert_eq!(r.head(), 6);
        r.push(frame(60));
        let (f, _) = read(&r, 5, 10).unwrap();
        assert_eq!(f.iter().map(|b| b[0]).collect::<Vec<_>>(), vec![5, 60]);
        r.truncate_from(0);
        assert_eq!((r.tail(), r.head()), (0, 0));
    }

    #[test]
    fn last_takes_whole_frames_before_a_position() {
        let mut r = Ring::new(Frames(100 * MP3_FRAME_SAMPLES), 0);
        for i in 0..10 {
            r.push(frame(i));
        }
        let (first, f) = r.last(Frames(2 * MP3_FRAME_SAMPLES + 10), frame_pos(6) + Frames(5));
        assert_eq!((first, f.len(), f[0][0]), (4, 2, 4));
        let (first, f) = r.last(Frames(100 * MP3_FRAME_SAMPLES), frame_pos(60));
        assert_eq!((first, f.len()), (0, 10));
        assert_eq!(frame_index(frame_pos(7)), 7);
    }
}
