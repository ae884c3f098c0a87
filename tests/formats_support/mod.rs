//! The generated library of tests/formats.rs: one short piece of music per format, made once
//! per test binary with Debian's ffmpeg, tagged and with a small PNG cover (added with lofty
//! where ffmpeg cannot embed one), and the reference tools (ffprobe, ebur128) run on it.
use lofty::config::WriteOptions;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::tag::{Accessor, Tag, TagExt, TagType};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Length of every generated piece.
pub const MUSIC_SECS: f64 = 7.0;

/// Two voices of sines with a slow tremolo and short noise bursts, at `rate`, per channel.
fn music(rate: u32) -> String {
    format!(
        "aevalsrc=0.25*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.15*sin(2*PI*330*t)\
         +0.1*(random(0)-0.5)*lt(mod(t\\,0.5)\\,0.05)\
         |0.25*sin(2*PI*277*t)+0.15*sin(2*PI*440*t)*lt(mod(t\\,1)\\,0.6):s={rate}:d={MUSIC_SECS}"
    )
}

/// One generated file.
pub struct Case {
    pub name: &'static str,
    pub path: PathBuf,
    /// The file's own sample rate.
    pub rate: u32,
    /// Whether decoding must give exactly the encoded samples (lossless, or gapless info).
    pub exact: bool,
}

impl Case {
    /// The title tag written into the file (unique, so a render's track list names it).
    pub fn title(&self) -> String {
        format!("Tone {}", self.name)
    }
}

/// (file name, sample rate, exact, ffmpeg output options, whether ffmpeg embeds the cover; if
/// not, the tag type lofty adds it in).
type Spec = (
    &'static str,
    u32,
    bool,
    &'static [&'static str],
    Option<TagType>,
);

#[rustfmt::skip]
const SPECS: &[Spec] = &[
    ("cbr.mp3", 44_100, true, &["-c:a", "libmp3lame", "-b:a", "192k", "-write_id3v1", "1"], None),
    ("vbr.mp3", 44_100, true, &["-c:a", "libmp3lame", "-q:a", "2"], None),
    // No ID3v2 at all: the tags and the cover are in an APE tag.
    ("ape.mp3", 44_100, true, &["-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "0"], Some(TagType::Ape)),
    ("flac16.flac", 44_100, true, &["-c:a", "flac", "-sample_fmt", "s16"], None),
    ("flac24_96k.flac", 96_000, true, &["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"], None),
    ("flac24_192k.flac", 192_000, true, &["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"], None),
    ("surround.flac", 48_000, true, &["-af", SURROUND, "-c:a", "flac"], None),
    ("aac.m4a", 44_100, true, &["-c:a", "aac", "-b:a", "160k"], None),
    ("alac.m4a", 44_100, true, &["-c:a", "alac"], None),
    ("vorbis.ogg", 44_100, true, &["-c:a", "libvorbis", "-q:a", "4"], Some(TagType::VorbisComments)),
    ("opus.opus", 48_000, true, &["-c:a", "libopus", "-b:a", "128k"], Some(TagType::VorbisComments)),
    ("opus_in.ogg", 48_000, true, &["-c:a", "libopus", "-b:a", "96k"], Some(TagType::VorbisComments)),
    ("pcm16.wav", 44_100, true, &["-c:a", "pcm_s16le"], Some(TagType::Id3v2)),
    ("pcm24.wav", 48_000, true, &["-c:a", "pcm_s24le"], Some(TagType::Id3v2)),
    ("float.wav", 44_100, true, &["-c:a", "pcm_f32le"], Some(TagType::Id3v2)),
    ("aiff16.aiff", 44_100, true, &["-c:a", "pcm_s16be", "-write_id3v2", "1"], Some(TagType::Id3v2)),
    ("aiff24.aiff", 96_000, true, &["-c:a", "pcm_s24be", "-write_id3v2", "1"], Some(TagType::Id3v2)),
    ("float.aiff", 44_100, true, &["-c:a", "pcm_f32be", "-write_id3v2", "1"], Some(TagType::Id3v2)),
];

/// The two voices spread over 5.1: fronts, centre, LFE and surrounds all carry sound.
pub const SURROUND: &str = "pan=5.1|c0=c0|c1=c1|c2=0.5*c0+0.5*c1|c3=0.3*c0|c4=0.6*c0|c5=0.6*c1";

/// Drift's fold-down of that 5.1 to stereo (`audio::downmix`: sides to their side, the centre
/// at −3 dB to both, no LFE, divided by the sum of weights), for the loudness reference: what
/// Drift measures and plays of a surround file is this stereo.
pub const SURROUND_AS_PLAYED: &str =
    "pan=stereo|c0=0.369398*c0+0.261203*c2+0.369398*c4|c1=0.369398*c1+0.261203*c2+0.369398*c5";

pub struct Library {
    _dir: tempfile::TempDir,
    root: PathBuf,
    cover: Vec<u8>,
    pub cases: Vec<Case>,
}

impl Library {
    pub fn dir(&self) -> &str {
        self.root.to_str().unwrap()
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
    pub fn cover(&self) -> &[u8] {
        &self.cover
    }

    /// Encodes the 44.1 kHz music with `options` into `out` (no tags).
    pub fn encode(&self, options: &[&str], out: &Path) {
        let mut args = vec!["-f", "lavfi", "-i"];
        let src = music(44_100);
        args.push(&src);
        args.extend_from_slice(options);
        args.push(out.to_str().unwrap());
        run_ffmpeg(&args);
    }
}

/// The library, generated on first use by whichever test gets there first.
pub fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(generate)
}

fn generate() -> Library {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("music");
    std::fs::create_dir_all(&root).unwrap();
    let png = dir.path().join("cover.png");
    run_ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0x3366cc:s=16x16",
        "-frames:v",
        "1",
        png.to_str().unwrap(),
    ]);
    let cover = std::fs::read(&png).unwrap();
    // All encoders at once: the files are independent.
    let cases: Vec<Case> = std::thread::scope(|s| {
        let jobs: Vec<_> = SPECS
            .iter()
            .map(|spec| {
                let (root, png, cover) = (&root, &png, &cover);
                s.spawn(move || make(spec, root, png, cover))
            })
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    Library {
        _dir: dir,
        root,
        cover,
        cases,
    }
}

fn make(spec: &Spec, root: &Path, png: &Path, cover: &[u8]) -> Case {
    let &(name, rate, exact, options, lofty_tag) = spec;
    let case = Case {
        name,
        path: root.join(name),
        rate,
        exact,
    };
    let title = format!("title={}", case.title());
    let src = music(rate);
    let mut args = vec!["-f", "lavfi", "-i", &src];
    if lofty_tag.is_none() {
        args.extend([
            "-i",
            png.to_str().unwrap(),
            "-map",
            "0:a",
            "-map",
            "1:v",
            "-c:v",
            "copy",
        ]);
        args.extend(["-disposition:v", "attached_pic"]);
    }
    args.extend_from_slice(options);
    args.extend([
        "-metadata",
        &title,
        "-metadata",
        "artist=Drift Test Ensemble",
    ]);
    args.extend([
        "-metadata",
        "album=Every Format",
        case.path.to_str().unwrap(),
    ]);
    run_ffmpeg(&args);
    if let Some(tag_type) = lofty_tag {
        let mut tag = Tag::new(tag_type);
        tag.set_title(case.title());
        tag.set_artist("Drift Test Ensemble".into());
        tag.set_album("Every Format".into());
        let picture = Picture::new_unchecked(
            PictureType::CoverFront,
            Some(MimeType::Png),
            None,
            cover.to_vec(),
        );
        tag.push_picture(picture);
        if tag_type == TagType::Ape {
            // lofty writes a generic tag's pictures to APE only through its own APE type.
            let ape: lofty::ape::ApeTag = tag.into();
            ape.save_to_path(&case.path, WriteOptions::default())
                .unwrap();
        } else {
            tag.save_to_path(&case.path, WriteOptions::default())
                .unwrap();
        }
    }
    case
}

fn run_ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed (scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs ffmpeg with `args`; returns what it printed on stderr.
pub fn ffmpeg(args: &[&str]) -> String {
    let out = Command::new("ffmpeg")
        .arg("-hide_banner")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The duration ffprobe states for the file's audio stream, in seconds.
pub fn ffprobe_secs(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=duration",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("ffprobe {}: {text}", path.display()))
}

/// Integrated loudness (LUFS) by ffmpeg's ebur128 filter, of the file as Drift plays it (a
/// surround file through Drift's fold-down).
pub fn ebur128_lufs(path: &Path) -> f64 {
    let surround = path.file_name().unwrap() == "surround.flac";
    let filter = if surround {
        format!("{SURROUND_AS_PLAYED},ebur128")
    } else {
        "ebur128".to_string()
    };
    let log = ffmpeg(&[
        "-nostats",
        "-i",
        path.to_str().unwrap(),
        "-filter_complex",
        &filter,
        "-f",
        "null",
        "-",
    ]);
    let summary = &log[log.rfind("Summary:").expect("an ebur128 summary")..];
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with("I:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs the `drift` binary with `args` followed by `last` (a path); returns its output.
pub fn drift(args: &[&str], last: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_drift"))
        .args(args)
        .arg(last)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "drift {args:?}: {text}");
    text
}
