//! Pure audio code: decoding, resampling, DSP, crossfades, MP3 encoding and frame splitting.
//! Nothing here knows about tokio, HTTP or SQLite.
mod container_fixes;
pub mod crossfade;
pub mod decode;
mod downmix;
pub mod dsp;
pub mod encode;
pub mod mp3_frames;
mod opus;
pub mod opus_encode;
pub mod resample;
pub mod sniff;
