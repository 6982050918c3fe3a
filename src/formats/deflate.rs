//! A small DEFLATE *compressor* (RFC 1951): greedy LZ77 matching with a hash chain, coded with
//! the fixed Huffman code of §3.2.6, wrapped as zlib (RFC 1950) for PNG's IDAT.
//!
//! Book chapter: "Looking inside". The pictures the project draws are mostly flat colour and
//! upscaled pixels, so "copy the row above" matches shrink them from hundreds of kilobytes
//! (stored blocks, [`crate::formats::inflate::zlib_stored`]) to a few. The decoder that reads these
//! streams back is [`crate::formats::inflate`]; the tests round-trip through it.
//!
//! Left out: dynamic Huffman codes (they would save perhaps another 20%), lazy matching and
//! compression levels.

use crate::formats::checksum::adler32;
use crate::formats::inflate::{DIST_BASE, DIST_EXTRA, LENGTH_BASE, LENGTH_EXTRA};

/// DEFLATE's window: matches reach back at most 32 KiB.
const WINDOW: usize = 32 * 1024;
/// Shortest and longest match DEFLATE can code.
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
/// How many earlier positions with the same 3-byte hash we try before settling.
const MAX_CHAIN: usize = 48;
const HASH_BITS: u32 = 15;

/// Packs bits into bytes least-significant bit first, as DEFLATE requires.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn new() -> Self {
        BitWriter {
            out: Vec::new(),
            acc: 0,
            n: 0,
        }
    }

    /// The low `n` bits of `value`, least significant first (header fields, extra bits).
    fn bits(&mut self, value: u32, n: u32) {
        self.acc |= (value as u64) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code of `len` bits: codes are sent most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        let reversed = code.reverse_bits() >> (32 - len);
        self.bits(reversed, len);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// Writes literal/length symbol `sym` (0..=285) in the fixed code (RFC 1951 §3.2.6).
fn fixed_symbol(w: &mut BitWriter, sym: u32) {
    match sym {
        0..=143 => w.code(0x30 + sym, 8),
        144..=255 => w.code(0x190 + sym - 144, 9),
        256..=279 => w.code(sym - 256, 7),
        _ => w.code(0xC0 + sym - 280, 8),
    }
}

/// Index of the last entry of `base` that is ≤ `value` (the code whose range holds it).
fn code_for(base: &[u16], value: usize) -> usize {
    base.iter().rposition(|&b| b as usize <= value).unwrap_or(0)
}

fn write_match(w: &mut BitWriter, length: usize, distance: usize) {
    let lc = code_for(&LENGTH_BASE, length);
    fixed_symbol(w, 257 + lc as u32);
    let extra = (length - LENGTH_BASE[lc] as usize) as u32;
    w.bits(extra, LENGTH_EXTRA[lc] as u32);
    let dc = code_for(&DIST_BASE, distance);
    w.code(dc as u32, 5);
    let extra = (distance - DIST_BASE[dc] as usize) as u32;
    w.bits(extra, DIST_EXTRA[dc] as u32);
}

fn hash3(data: &[u8], i: usize) -> usize {
    let v = (data[i] as u32) << 16 | (data[i + 1] as u32) << 8 | data[i + 2] as u32;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// Hash chains: `head[h]` is the latest position whose next 3 bytes hash to `h`, `prev[i]` the
/// one before position `i` with the same hash. `usize::MAX` means "none".
struct Chains {
    head: Vec<usize>,
    prev: Vec<usize>,
}

impl Chains {
    fn new(n: usize) -> Self {
        Chains {
            head: vec![usize::MAX; 1 << HASH_BITS],
            prev: vec![usize::MAX; n],
        }
    }

    fn insert(&mut self, data: &[u8], i: usize) {
        if i + MIN_MATCH <= data.len() {
            let h = hash3(data, i);
            self.prev[i] = self.head[h];
            self.head[h] = i;
        }
    }

    /// Longest (length, distance) match for position `i` among earlier positions.
    fn longest_match(&self, data: &[u8], i: usize) -> (usize, usize) {
        if i + MIN_MATCH > data.len() {
            return (0, 0);
        }
        let (mut best_len, mut best_dist) = (0, 0);
        let max_len = MAX_MATCH.min(data.len() - i);
        let mut candidate = self.head[hash3(data, i)];
        for _ in 0..MAX_CHAIN {
            // Anything older than the window cannot be referenced.
            if candidate == usize::MAX || i - candidate > WINDOW {
                break;
            }
            let len = (0..max_len)
                .take_while(|&k| data[candidate + k] == data[i + k])
                .count();
            if len > best_len {
                (best_len, best_dist) = (len, i - candidate);
                if len == max_len {
                    break;
                }
            }
            candidate = self.prev[candidate];
        }
        (best_len, best_dist)
    }
}

/// A raw DEFLATE stream for `data`: one final block with the fixed Huffman code, literals and
/// greedy LZ77 matches. Any inflater (ours: [`crate::formats::inflate::inflate`]) reads it back.
pub fn deflate_fixed(data: &[u8]) -> Vec<u8> {
    let mut w = BitWriter::new();
    w.bits(1, 1); // BFINAL
    w.bits(1, 2); // BTYPE = 01, fixed Huffman
    let mut chains = Chains::new(data.len());
    let mut i = 0;
    while i < data.len() {
        let (len, dist) = chains.longest_match(data, i);
        let step = if len >= MIN_MATCH {
            write_match(&mut w, len, dist);
            len
        } else {
            fixed_symbol(&mut w, data[i] as u32);
            1
        };
        for k in i..i + step {
            chains.insert(data, k);
        }
        i += step;
    }
    fixed_symbol(&mut w, 256); // end of block
    w.finish()
}

/// A zlib stream (RFC 1950) for `data`: header 78 01, [`deflate_fixed`], Adler-32 big-endian.
pub fn zlib_fixed(data: &[u8]) -> Vec<u8> {
    // CMF 0x78: deflate, 32 KiB window; FLG 0x01 makes 0x7801 a multiple of 31.
    let mut out = vec![0x78, 0x01];
    out.extend_from_slice(&deflate_fixed(data));
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::inflate::{inflate, zlib_decompress};
    use proptest::prelude::*;

    #[test]
    fn empty_input_is_one_end_of_block() {
        // 3 header bits + 7-bit end-of-block code = 10 bits = 2 bytes: 03 00 (zlib's output).
        assert_eq!(deflate_fixed(&[]), vec![0x03, 0x00]);
        assert_eq!(inflate(&deflate_fixed(&[])).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn python_zlib_agrees_on_a_literal() {
        // zlib.compress(b"a", 9)[2:-4] with the fixed code is 4b 04 00.
        assert_eq!(deflate_fixed(b"a"), vec![0x4b, 0x04, 0x00]);
    }

    #[test]
    fn repetitive_data_shrinks_and_round_trips() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i / 7 % 13) as u8).collect();
        let z = zlib_fixed(&data);
        assert!(z.len() < data.len() / 20, "{} bytes", z.len());
        assert_eq!(zlib_decompress(&z).unwrap(), data);
    }

    #[test]
    fn every_length_and_a_far_distance_round_trip() {
        // A random 40 KB block repeated: matches at distance 40000 > WINDOW are not allowed,
        // shorter repeats at every length 3..=258 are.
        let mut rng = crate::rng::Rng::new(5);
        let mut data: Vec<u8> = (0..20_000).map(|_| rng.below(256) as u8).collect();
        for len in 3..=258 {
            let start = rng.below(data.len() - len);
            let copy = data[start..start + len].to_vec();
            data.extend_from_slice(&copy);
            data.push(rng.below(256) as u8);
        }
        assert_eq!(inflate(&deflate_fixed(&data)).unwrap(), data);
    }

    proptest! {
        #[test]
        fn round_trips(data in proptest::collection::vec(0u8..4, 0..5000)) {
            prop_assert_eq!(zlib_decompress(&zlib_fixed(&data)).unwrap(), data);
        }
    }
}
