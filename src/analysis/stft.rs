//! Short-time Fourier transforms for the feature extractors: shared FFT plans, a Hann window
//! and buffers reused from frame to frame, power spectra out.
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::{Arc, Mutex, OnceLock};

/// One planner for the whole process: plans are cached by size and shared by every thread, so
/// analysing a track never pays for planning again.
fn planner() -> &'static Mutex<RealFftPlanner<f32>> {
    static PLANNER: OnceLock<Mutex<RealFftPlanner<f32>>> = OnceLock::new();
    PLANNER.get_or_init(|| Mutex::new(RealFftPlanner::new()))
}

/// The forward real FFT of `len` samples.
pub fn forward(len: usize) -> Arc<dyn RealToComplex<f32>> {
    // A poisoned lock only means another thread panicked while planning; the cache is fine.
    let mut planner = planner().lock().unwrap_or_else(|e| e.into_inner());
    planner.plan_fft_forward(len)
}

/// The inverse real FFT producing `len` samples.
pub fn inverse(len: usize) -> Arc<dyn ComplexToReal<f32>> {
    let mut planner = planner().lock().unwrap_or_else(|e| e.into_inner());
    planner.plan_fft_inverse(len)
}

/// Hann-windowed power spectra of frames of one size.
pub struct Stft {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
}

impl Stft {
    pub fn new(size: usize) -> Stft {
        let fft = forward(size);
        let window = (0..size)
            .map(|i| {
                let phase = std::f32::consts::TAU * i as f32 / size as f32;
                0.5 - 0.5 * phase.cos()
            })
            .collect();
        Stft {
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; size / 2 + 1],
            fft,
            window,
        }
    }

    /// Samples per frame.
    pub fn size(&self) -> usize {
        self.window.len()
    }

    /// Number of whole frames of this size, `hop` apart, in `len` samples (at least one when
    /// there is any signal: a short signal is one zero-padded frame).
    pub fn frame_count(&self, len: usize, hop: usize) -> usize {
        if len == 0 {
            0
        } else if len <= self.size() {
            1
        } else {
            (len - self.size()) / hop + 1
        }
    }

    /// Power spectrum |X(k)|², k = 0 ..= size / 2, of the frame that starts at `start`.
    pub fn power(&mut self, signal: &[f32], start: usize) -> &[f32] {
        let end = (start + self.size()).min(signal.len());
        let frame = &signal[start.min(end)..end];
        for ((x, s), w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *x = s * w;
        }
        self.input[frame.len()..].fill(0.0);
        // The buffers come from the plan itself, so their lengths are always right.
        self.fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffers made by the plan");
        for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
            *p = c.norm_sqr();
        }
        &self.power
    }
}
