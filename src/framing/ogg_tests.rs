//! Tests of the Ogg Opus writer: a page reader fed the output in pieces split at every
//! boundary gets back the packets, links, headers and granule positions.
use super::*;

/// One page as read back.
#[derive(Debug, Clone, PartialEq)]
struct Page {
    flags: u8,
    granule: u64,
    serial: u32,
    sequence: u32,
    packets: Vec<Vec<u8>>,
}

/// An incremental page reader: bytes go in in any pieces, whole pages (CRC checked) come out.
#[derive(Default)]
struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Page>) {
        self.buf.extend_from_slice(bytes);
        loop {
            if self.buf.len() < 27 {
                return;
            }
            assert_eq!(&self.buf[..4], b"OggS", "capture pattern");
            let n = self.buf[26] as usize;
            if self.buf.len() < 27 + n {
                return;
            }
            let lacing = self.buf[27..27 + n].to_vec();
            let body: usize = lacing.iter().map(|l| *l as usize).sum();
            let len = 27 + n + body;
            if self.buf.len() < len {
                return;
            }
            let mut page = self.buf[..len].to_vec();
            let crc = u32::from_le_bytes(page[22..26].try_into().unwrap());
            page[22..26].fill(0);
            assert_eq!(crc32(&page), crc, "page CRC");
            let mut packets = Vec::new();
            let mut cur = Vec::new();
            let mut at = 27 + n;
            for l in &lacing {
                cur.extend_from_slice(&page[at..at + *l as usize]);
                at += *l as usize;
                if *l < 255 {
                    packets.push(std::mem::take(&mut cur));
                }
            }
            assert!(cur.is_empty(), "a packet continues past the page");
            out.push(Page {
                flags: page[5],
                granule: u64::from_le_bytes(page[6..14].try_into().unwrap()),
                serial: u32::from_le_bytes(page[14..18].try_into().unwrap()),
                sequence: u32::from_le_bytes(page[18..22].try_into().unwrap()),
                packets,
            });
            self.buf.drain(..len);
        }
    }
}

fn title(t: &str) -> Title {
    Title {
        artist: "Ann".into(),
        title: t.into(),
    }
}

/// Packet n of the test: sizes that exercise lacing (0, 254, 255, 510, 1275 bytes…).
fn packet(n: u64) -> Bytes {
    let len = [3usize, 254, 255, 256, 510, 1275, 0, 700][n as usize % 8];
    Bytes::from(vec![(n % 251) as u8; len])
}

/// Writes packets `first..first + count` in batches of `batch`, the track changing at
/// packet `change`.
fn write(first: u64, count: u64, batch: u64, preroll: u64, change: u64) -> Vec<u8> {
    let mut w = OggOpus::new(preroll);
    let mut out = Vec::new();
    let mut at = first;
    while at < first + count {
        let n = batch.min(first + count - at);
        let ps: Vec<Bytes> = (at..at + n).map(packet).collect();
        let mut t = |i: u64| title(if i < change { "One" } else { "Two" });
        w.push(at, &ps, &mut t, &mut out);
        at += n;
    }
    out.concat()
}

#[test]
fn the_crc_is_ogg_s() {
    // CRC-32 with polynomial 0x04C11DB7, initial value 0, no reflection, no final xor.
    assert_eq!(crc32(b"123456789"), 0x89A1_897F);
    assert_eq!(crc32(b""), 0);
}

#[test]
fn pages_split_at_every_boundary_read_back_the_same() {
    let bytes = write(100, 40, 7, 4, 120);
    let mut whole = Vec::new();
    Reader::default().feed(&bytes, &mut whole);
    for cut in 0..bytes.len() {
        let mut r = Reader::default();
        let mut pages = Vec::new();
        r.feed(&bytes[..cut], &mut pages);
        r.feed(&bytes[cut..], &mut pages);
        assert_eq!(pages, whole, "split at {cut}");
        assert!(r.buf.is_empty());
    }
    // 255 lacing values at most: 7 packets of up to 1275 bytes fit in a page.
    let big: Vec<Bytes> = (0..60).map(|_| Bytes::from(vec![1u8; 1275])).collect();
    let mut out = Vec::new();
    OggOpus::new(0).push(0, &big, &mut |_| title("x"), &mut out);
    let mut pages = Vec::new();
    Reader::default().feed(&out.concat(), &mut pages);
    let audio: Vec<&Page> = pages.iter().skip(2).collect();
    assert!(audio.len() > 1, "60 large packets need several pages");
    assert_eq!(audio.iter().map(|p| p.packets.len()).sum::<usize>(), 60);
    assert_eq!(audio.last().unwrap().granule, 60 * 960);
}

#[test]
fn links_carry_headers_titles_pre_skip_and_granules() {
    let bytes = write(100, 40, 7, 4, 120);
    let mut pages = Vec::new();
    Reader::default().feed(&bytes, &mut pages);
    let serials: Vec<u32> = pages.iter().map(|p| p.serial).collect();
    let first = serials[0];
    let split = serials.iter().position(|s| *s != first).unwrap();
    let (a, b) = pages.split_at(split);
    for (link, pre_skip, titled, audio_packets) in [(a, 4u16, "One", 20usize), (b, 4, "Two", 24)] {
        assert_eq!(link[0].flags, 2, "BOS");
        assert_eq!(link[0].packets[0], opus_head(pre_skip * 960));
        let tags = &link[1].packets[0];
        assert!(tags.starts_with(b"OpusTags"));
        let text = String::from_utf8_lossy(tags);
        assert!(
            text.contains(&format!("TITLE={titled}")) && text.contains("ARTIST=Ann"),
            "{text}"
        );
        let seqs: Vec<u32> = link.iter().map(|p| p.sequence).collect();
        assert_eq!(seqs, (0..link.len() as u32).collect::<Vec<_>>());
        assert!(link.iter().all(|p| p.serial == link[0].serial));
        let audio: Vec<Vec<u8>> = link[2..].iter().flat_map(|p| p.packets.clone()).collect();
        assert_eq!(audio.len(), audio_packets);
        // Granule positions count the link's samples so far, pre-skip included.
        let mut n = 0;
        for p in &link[2..] {
            n += p.packets.len() as u64;
            assert_eq!(p.granule, n * 960);
        }
    }
    assert_eq!(
        a.last().unwrap().flags & 4,
        4,
        "the first link ends with EOS"
    );
    // The first link: packets 100..120 (100..104 pre-roll); the second re-sends 116..120
    // before the new track's first packet.
    let audio_b: Vec<Vec<u8>> = b[2..].iter().flat_map(|p| p.packets.clone()).collect();
    let want: Vec<Vec<u8>> = (116..140).map(|n| packet(n).to_vec()).collect();
    assert_eq!(audio_b, want);
}

#[test]
fn a_change_during_the_pre_roll_is_not_a_new_link() {
    let bytes = write(100, 20, 20, 4, 102);
    let mut pages = Vec::new();
    Reader::default().feed(&bytes, &mut pages);
    assert!(pages.iter().all(|p| p.serial == pages[0].serial));
    assert!(String::from_utf8_lossy(&pages[1].packets[0]).contains("TITLE=Two"));
}
