//! Measuring one file: decode it and run the analysis over its audio. Decoder panics are
//! caught: untrusted bytes must cost one file, not the scan.
use crate::analysis::analyse;
use crate::audio::decode::decode_all;
use crate::model::Analysis;
use crate::units::{Frames, SAMPLE_RATE};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Shorter decoded audio than this is not a track (a truncated or broken file, a click).
pub const MIN_DURATION: Frames = Frames(SAMPLE_RATE as u64 / 2);

/// Decodes and analyses one file, or says why it cannot be a track.
pub fn analyse_file(path: &Path) -> Result<Analysis, String> {
    let run = || {
        let pcm = decode_all(path).map_err(|e| e.to_string())?;
        let analysis = analyse(&pcm);
        if analysis.duration < MIN_DURATION {
            return Err(format!(
                "only {:.2} s of audio could be decoded (at least {:.1} s needed)",
                analysis.duration.secs(),
                MIN_DURATION.secs()
            ));
        }
        Ok(analysis)
    };
    catch_unwind(AssertUnwindSafe(run))
        .unwrap_or_else(|_| Err("the decoder crashed on this file".into()))
}
