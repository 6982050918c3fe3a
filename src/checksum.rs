//! CRC-32 and Adler-32: the two checksums that guard compressed files.
//!
//! Book chapter: "Reading MNIST". CRC-32 (IEEE 802.3, the reflected polynomial 0xEDB88320)
//! closes every gzip member, every PNG chunk and our model file; Adler-32 closes every zlib
//! stream (PNG's image data). Both are computed here byte by byte from a 256-entry table.
//!
//! Left out: the faster "slicing-by-8" and carry-less-multiply CRC variants, and the other
//! CRC-32 polynomials (Castagnoli etc.); MNIST's 10 MB file checksums in milliseconds as is.

/// The reflected form of the IEEE CRC-32 polynomial x³² + x²⁶ + … + x + 1.
const POLY: u32 = 0xEDB8_8320;

/// `TABLE[b]` is the CRC register after shifting byte `b` through eight polynomial steps.
const TABLE: [u32; 256] = make_table();

// ANCHOR: crc_table
const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        let mut crc = b as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[b] = crc;
        b += 1;
    }
    table
}
// ANCHOR_END: crc_table

/// An incremental CRC-32 (IEEE): feed bytes with [`Crc32::update`], read with
/// [`Crc32::finish`]. Splitting the input anywhere gives the same result as [`crc32`].
#[derive(Clone, Debug)]
pub struct Crc32 {
    /// The running register, kept inverted as the standard prescribes (starts at 0xFFFFFFFF).
    state: u32,
}

impl Crc32 {
    /// A CRC of no bytes yet.
    pub fn new() -> Self {
        Crc32 { state: !0 }
    }

    // ANCHOR: crc_update
    /// Feeds `bytes` through the register, one table lookup per byte.
    ///
    /// Book: "Reading MNIST".
    pub fn update(&mut self, bytes: &[u8]) {
        let mut crc = self.state;
        for &byte in bytes {
            crc = TABLE[((crc ^ byte as u32) & 0xFF) as usize] ^ (crc >> 8);
        }
        self.state = crc;
    }
    // ANCHOR_END: crc_update

    /// The CRC-32 of everything fed so far (the register, inverted back).
    pub fn finish(&self) -> u32 {
        !self.state
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

/// CRC-32 (IEEE) of `bytes` in one call.
///
/// Book: "Reading MNIST".
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.finish()
}

/// Adler-32 (RFC 1950 §8.2): `A = 1 + Σ bytes`, `B = Σ A after each byte`, both mod 65521,
/// packed as `B << 16 | A`.
pub fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    // 5552 is the largest n for which the sums cannot overflow u32 before the modulo
    // (zlib's NMAX), so we take the modulo once per chunk instead of once per byte.
    const NMAX: usize = 5552;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in bytes.chunks(NMAX) {
        for &byte in chunk {
            a += byte as u32;
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The "check" value every CRC catalogue lists for CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn crc32_empty_is_zero() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(Crc32::new().finish(), 0);
    }

    #[test]
    fn crc32_incremental_matches_one_shot() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let whole = crc32(&data);
        for split in [0, 1, 17, 500, 999, 1000] {
            let mut crc = Crc32::default();
            crc.update(&data[..split]);
            crc.update(&data[split..]);
            assert_eq!(crc.finish(), whole, "split at {split}");
        }
    }

    #[test]
    fn crc32_single_bit() {
        // Worked by hand: "a" (0x61) is the standard single-byte example, 0xE8B7BE43.
        assert_eq!(crc32(b"a"), 0xE8B7_BE43);
    }

    #[test]
    fn adler32_wikipedia() {
        // The worked example on Wikipedia's Adler-32 page.
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn adler32_empty_is_one() {
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn adler32_long_input_matches_naive() {
        // 100,000 bytes of 0xFF crosses many NMAX chunks; the naive per-byte modulo is the oracle.
        let data = vec![0xFFu8; 100_000];
        let (mut a, mut b) = (1u64, 0u64);
        for &byte in &data {
            a = (a + byte as u64) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler32(&data), ((b << 16) | a) as u32);
    }
}
