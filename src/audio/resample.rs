//! Streaming sample-rate conversion of interleaved stereo to Drift's 44.1 kHz (rubato FFT).
use crate::units::{CHANNELS, SAMPLE_RATE};
use rubato::{FftFixedIn, Resampler};

/// Why a resampler could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot resample from {from} Hz: {source}")]
pub struct ResampleError {
    from: u32,
    #[source]
    source: rubato::ResamplerConstructionError,
}

/// Converts interleaved stereo at some input rate to interleaved stereo at [`SAMPLE_RATE`].
/// Input may arrive in pieces of any size; output is identical however the input is split,
/// which is what makes decoding deterministic from a checkpoint.
pub struct StereoResampler {
    inner: FftFixedIn<f32>,
    /// Planar input waiting for a whole resampler chunk.
    pending: [Vec<f32>; CHANNELS],
    /// Output frames still to drop: the resampler's own delay, so output time 0 = input time 0.
    to_drop: usize,
    /// Input frames consumed, to know how much output the tail must produce.
    frames_in: u64,
    frames_out: u64,
    from: u32,
}

const CHUNK: usize = 1024;

impl StereoResampler {
    pub fn new(from: u32) -> Result<StereoResampler, ResampleError> {
        let inner = FftFixedIn::new(from as usize, SAMPLE_RATE as usize, CHUNK, 2, CHANNELS)
            .map_err(|source| ResampleError { from, source })?;
        let to_drop = inner.output_delay();
        Ok(StereoResampler {
            inner,
            pending: [Vec::new(), Vec::new()],
            to_drop,
            frames_in: 0,
            frames_out: 0,
            from,
        })
    }

    /// Feeds interleaved stereo input; appends whatever output is ready to `out`.
    pub fn push(&mut self, interleaved: &[f32], out: &mut Vec<f32>) {
        for frame in interleaved.chunks_exact(CHANNELS) {
            self.pending[0].push(frame[0]);
            self.pending[1].push(frame[1]);
        }
        self.frames_in += (interleaved.len() / CHANNELS) as u64;
        loop {
            let need = self.inner.input_frames_next();
            if self.pending[0].len() < need {
                break;
            }
            let chunk: Vec<Vec<f32>> = self.pending.iter().map(|c| c[..need].to_vec()).collect();
            for c in self.pending.iter_mut() {
                c.drain(..need);
            }
            let planar = self
                .inner
                .process(&chunk, None)
                .expect("resampler chunk has the size it asked for");
            self.emit(&planar, u64::MAX, out);
        }
    }

    /// Flushes the remaining input (and the resampler's delay line) to `out`.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let expected = self.frames_in * SAMPLE_RATE as u64 / self.from as u64;
        while self.frames_out < expected {
            let rest: Vec<Vec<f32>> = self.pending.iter_mut().map(std::mem::take).collect();
            let input = if rest[0].is_empty() {
                None
            } else {
                Some(&rest[..])
            };
            let planar = self
                .inner
                .process_partial(input, None)
                .expect("partial chunk is never larger than a whole one");
            if planar[0].is_empty() {
                break;
            }
            self.emit(&planar, expected, out);
        }
    }

    fn emit(&mut self, planar: &[Vec<f32>], limit: u64, out: &mut Vec<f32>) {
        let skip = self.to_drop.min(planar[0].len());
        self.to_drop -= skip;
        for (&left, &right) in planar[0][skip..].iter().zip(&planar[1][skip..]) {
            if self.frames_out >= limit {
                return;
            }
            out.push(left);
            out.push(right);
            self.frames_out += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, hz: f32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .flat_map(|i| {
                let v = (i as f32 / rate as f32 * hz * std::f32::consts::TAU).sin() * 0.5;
                [v, v]
            })
            .collect()
    }

    #[test]
    fn converts_48k_to_44k1_keeping_length_and_pitch() {
        let input = sine(48_000, 1000.0, 1.0);
        let mut r = StereoResampler::new(48_000).unwrap();
        let mut out = Vec::new();
        for piece in input.chunks(2 * 777) {
            r.push(piece, &mut out);
        }
        r.finish(&mut out);
        assert_eq!(out.len() / 2, 44_100);
        // Zero crossings of a 1 kHz tone over the middle half second: about 1000.
        let mid = &out[2 * 11_025..2 * 33_075];
        let crossings = mid
            .chunks(2)
            .zip(mid.chunks(2).skip(1))
            .filter(|(a, b)| (a[0] < 0.0) != (b[0] < 0.0))
            .count();
        assert!((995..=1005).contains(&crossings), "{crossings}");
    }

    #[test]
    fn output_does_not_depend_on_how_input_is_split() {
        let input = sine(22_050, 440.0, 0.5);
        let run = |piece: usize| {
            let mut r = StereoResampler::new(22_050).unwrap();
            let mut out = Vec::new();
            for p in input.chunks(piece * 2) {
                r.push(p, &mut out);
            }
            r.finish(&mut out);
            out
        };
        assert_eq!(run(100), run(4096));
    }
}
