//! ICY (SHOUTcast) in-band metadata: after every `metaint` bytes of audio, one length byte
//! (×16) and that many bytes of `StreamTitle='…';`, zero-padded. Pure, so it is tested without
//! a socket; the title is asked for only where a block falls, for the audio right there.
use bytes::Bytes;

/// The interval every Drift stream uses (what the issue and common players expect).
pub const METAINT: usize = 16_000;

pub struct IcyInterleaver {
    metaint: usize,
    /// Audio bytes still to send before the next metadata block.
    until_block: usize,
    /// Title last announced, so unchanged titles cost a single zero byte.
    announced: Option<String>,
}

impl IcyInterleaver {
    pub fn new(metaint: usize) -> IcyInterleaver {
        IcyInterleaver {
            metaint,
            until_block: metaint,
            announced: None,
        }
    }

    /// Appends `audio` to `out` — as slices of it, never copied — inserting a metadata block
    /// wherever the interval falls; a block asks `title` for the title to carry.
    pub fn push(&mut self, audio: &Bytes, title: &mut dyn FnMut() -> String, out: &mut Vec<Bytes>) {
        let mut at = 0;
        while at < audio.len() {
            let n = (audio.len() - at).min(self.until_block);
            out.push(audio.slice(at..at + n));
            at += n;
            self.until_block -= n;
            if self.until_block == 0 {
                out.push(self.block(&title()));
                self.until_block = self.metaint;
            }
        }
    }

    fn block(&mut self, title: &str) -> Bytes {
        if self.announced.as_deref() == Some(title) {
            return Bytes::from_static(&[0]);
        }
        let text = format!("StreamTitle='{}';", sanitize(title));
        let mut bytes = text.into_bytes();
        bytes.truncate(255 * 16);
        let blocks = bytes.len().div_ceil(16);
        let mut out = Vec::with_capacity(1 + blocks * 16);
        out.push(blocks as u8);
        out.extend_from_slice(&bytes);
        out.resize(1 + blocks * 16, 0);
        self.announced = Some(title.to_string());
        Bytes::from(out)
    }
}

/// A quote would end the value early in most players' parsers.
fn sanitize(title: &str) -> String {
    title.replace('\'', "’").replace(['\r', '\n', '\0'], " ")
}

/// Splits an ICY stream back into audio and titles (used by tests and tools).
pub fn strip(data: &[u8], metaint: usize) -> (Vec<u8>, Vec<(usize, String)>) {
    let mut audio = Vec::new();
    let mut titles = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let n = metaint.min(data.len() - i);
        audio.extend_from_slice(&data[i..i + n]);
        i += n;
        if n < metaint || i >= data.len() {
            break;
        }
        let len = data[i] as usize * 16;
        i += 1;
        let meta = &data[i..(i + len).min(data.len())];
        i += len;
        let text = String::from_utf8_lossy(meta)
            .trim_end_matches('\0')
            .to_string();
        if let Some(t) = text
            .strip_prefix("StreamTitle='")
            .and_then(|t| t.strip_suffix("';"))
        {
            titles.push((audio.len(), t.to_string()));
        }
    }
    (audio, titles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_fall_every_metaint_bytes_and_titles_round_trip() {
        let mut icy = IcyInterleaver::new(100);
        let mut pieces = Vec::new();
        let audio = Bytes::from((0..350).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
        icy.push(&audio.slice(..150), &mut || "A - One".into(), &mut pieces);
        icy.push(
            &audio.slice(150..250),
            &mut || "A - One".into(),
            &mut pieces,
        );
        icy.push(
            &audio.slice(250..),
            &mut || "B - It's Two".into(),
            &mut pieces,
        );
        let out = pieces.concat();
        let (back, titles) = strip(&out, 100);
        assert_eq!(back, audio);
        assert_eq!(
            titles,
            vec![
                (100, "A - One".to_string()),
                (300, "B - It’s Two".to_string())
            ]
        );
        // The unchanged title at byte 200 cost exactly one zero byte.
        let first_block = 1 + 16 * out[100] as usize;
        assert_eq!(out[100 + first_block + 100], 0);
    }
}
