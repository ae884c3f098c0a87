//! ICY (SHOUTcast) in-band metadata: after every `metaint` bytes of audio, one length byte
//! (×16) and that many bytes of `StreamTitle='…';`, zero-padded. Pure, so it is tested without
//! a socket; the title is given per piece of audio so it changes exactly where the track does.

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

    /// Appends `audio` to `out`, inserting a metadata block wherever the interval falls; a block
    /// inside this piece carries `title`.
    pub fn push(&mut self, audio: &[u8], title: &str, out: &mut Vec<u8>) {
        let mut rest = audio;
        while !rest.is_empty() {
            let n = rest.len().min(self.until_block);
            out.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            self.until_block -= n;
            if self.until_block == 0 {
                self.block(title, out);
                self.until_block = self.metaint;
            }
        }
    }

    fn block(&mut self, title: &str, out: &mut Vec<u8>) {
        if self.announced.as_deref() == Some(title) {
            out.push(0);
            return;
        }
        let text = format!("StreamTitle='{}';", sanitize(title));
        let mut bytes = text.into_bytes();
        bytes.truncate(255 * 16);
        let blocks = bytes.len().div_ceil(16);
        out.push(blocks as u8);
        let start = out.len();
        out.extend_from_slice(&bytes);
        out.resize(start + blocks * 16, 0);
        self.announced = Some(title.to_string());
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
        let mut out = Vec::new();
        let audio: Vec<u8> = (0..350).map(|i| (i % 251) as u8).collect();
        icy.push(&audio[..150], "A - One", &mut out);
        icy.push(&audio[150..250], "A - One", &mut out);
        icy.push(&audio[250..], "B - It's Two", &mut out);
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
