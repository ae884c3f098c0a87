//! Test support for property tests of the parsers that read outside input: seeded random
//! bytes, mutations of valid input (bit flips, truncation, insertion, duplicated and deleted
//! spans) and random split points. Seeded loops rather than a property-testing crate: no new
//! dependency to build, every case reproduces from the seed printed when it fails, and
//! `DRIFT_FUZZ_CASES=N` runs N cases per property instead of the quick default for a long hunt.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub type FuzzRng = ChaCha8Rng;

/// Runs `case` for `default_cases` seeds (or `DRIFT_FUZZ_CASES`; `DRIFT_FUZZ_SEED` replays one
/// seed); a failing case names its seed before the panic goes on.
pub fn check(name: &str, default_cases: u64, mut case: impl FnMut(&mut FuzzRng)) {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let seeds: Vec<u64> = match env("DRIFT_FUZZ_SEED") {
        Some(s) => vec![s],
        None => (0..env("DRIFT_FUZZ_CASES").unwrap_or(default_cases)).collect(),
    };
    for seed in seeds {
        let mut rng = FuzzRng::seed_from_u64(seed);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&mut rng)));
        if let Err(panic) = run {
            eprintln!("{name}: failed with seed {seed} (replay: DRIFT_FUZZ_SEED={seed})");
            std::panic::resume_unwind(panic);
        }
    }
}

/// Random bytes, up to `max_len`, often dense in 0xFF and other values parsers treat specially
/// so that sync words and length fields turn up more often than by chance.
pub fn random_bytes(rng: &mut FuzzRng, max_len: usize) -> Vec<u8> {
    let len = rng.gen_range(0..=max_len);
    let special = rng.gen_bool(0.5);
    (0..len)
        .map(|_| {
            if special && rng.gen_bool(0.3) {
                [0x00, 0xFF, 0xFB, 0x7F, 0x80, 0xE0][rng.gen_range(0..6)]
            } else {
                rng.gen()
            }
        })
        .collect()
}

/// `data` with one to four random mutations.
pub fn mutate(rng: &mut FuzzRng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let at = rng.gen_range(0..=d.len());
        match rng.gen_range(0..7) {
            // Flip one bit.
            0 if at < d.len() => d[at] ^= 1 << rng.gen_range(0..8),
            // Overwrite a byte with an extreme value.
            1 if at < d.len() => d[at] = [0x00, 0xFF, 0x7F, 0x80][rng.gen_range(0..4)],
            // Truncate.
            2 => d.truncate(at),
            // Insert random bytes.
            3 => {
                let ins = random_bytes(rng, 16);
                d.splice(at..at, ins);
            }
            // Duplicate a span somewhere else.
            4 if !d.is_empty() => {
                let (from, len) = span(rng, d.len());
                let copy = d[from..from + len].to_vec();
                let to = rng.gen_range(0..=d.len());
                d.splice(to..to, copy);
            }
            // Delete a span.
            5 if !d.is_empty() => {
                let (from, len) = span(rng, d.len());
                d.drain(from..from + len);
            }
            // Overwrite four bytes with a large big-endian number (a length field gone wild).
            6 if at + 4 <= d.len() => {
                let v: u32 = [u32::MAX, 0x8000_0000, 0x7FFF_FFFF, rng.gen()][rng.gen_range(0..4)];
                d[at..at + 4].copy_from_slice(&v.to_be_bytes());
            }
            _ => {}
        }
    }
    d
}

/// A random span inside a buffer of `len > 0` bytes: (start, length), at most 4 KiB.
fn span(rng: &mut FuzzRng, len: usize) -> (usize, usize) {
    let from = rng.gen_range(0..len);
    (from, rng.gen_range(1..=(len - from).min(4096)))
}

/// `data` cut into pieces at random boundaries (empty pieces included, as a network may give).
pub fn random_pieces<'a>(rng: &mut FuzzRng, data: &'a [u8]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = (0..rng.gen_range(0..12))
        .map(|_| rng.gen_range(0..=data.len()))
        .collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut from = 0;
    for c in cuts.into_iter().chain([data.len()]) {
        pieces.push(&data[from..c]);
        from = c;
    }
    pieces
}

/// Whether `parts` occur in `haystack` in order without overlapping (each part a contiguous
/// run of bytes): what a splitter that only cuts and skips may return.
pub fn in_order_within(parts: &[&[u8]], haystack: &[u8]) -> bool {
    let mut at = 0;
    parts.iter().all(
        |p| match haystack[at..].windows(p.len().max(1)).position(|w| w == *p) {
            Some(i) if !p.is_empty() => {
                at += i + p.len();
                true
            }
            _ => p.is_empty(),
        },
    )
}
