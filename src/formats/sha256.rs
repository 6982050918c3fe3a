//! SHA-256 (FIPS 180-4 §6.2), used to check downloaded MNIST files against pinned digests.
//!
//! Book chapter: "Reading MNIST". The message is padded to a multiple of 64 bytes (a 1 bit,
//! zeros, then the length in bits as a big-endian u64) and each 64-byte block is folded into
//! eight 32-bit words by 64 rounds of the compression function.
//!
//! Left out: SHA-224/384/512, HMAC, and hardware SHA instructions. This is an integrity check
//! against accidental corruption and wrong files, not a vetted cryptographic implementation
//! (no constant-time guarantees are needed for hashing public data).

/// Round constants K₀…K₆₃: the first 32 bits of the fractional parts of the cube roots of
/// the first 64 primes (FIPS 180-4 §4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Initial hash value H⁽⁰⁾: the first 32 bits of the fractional parts of the square roots of
/// the first 8 primes (FIPS 180-4 §5.3.3).
const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// An incremental SHA-256: [`Sha256::update`] any number of times, then [`Sha256::finish`].
#[derive(Clone, Debug)]
pub struct Sha256 {
    /// The eight working hash words H₀…H₇.
    h: [u32; 8],
    /// Bytes of a partial block not yet compressed: `block[..filled]`.
    block: [u8; 64],
    filled: usize,
    /// Total message length so far, in bytes.
    length: u64,
}

impl Sha256 {
    /// A hash of no bytes yet.
    pub fn new() -> Self {
        Sha256 {
            h: H0,
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    /// Appends `bytes` to the message, compressing each full 64-byte block.
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.length = self.length.wrapping_add(bytes.len() as u64);
        if self.filled > 0 {
            let take = (64 - self.filled).min(bytes.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&bytes[..take]);
            self.filled += take;
            bytes = &bytes[take..];
            if self.filled < 64 {
                return;
            }
            let block = self.block;
            compress(&mut self.h, &block);
            self.filled = 0;
        }
        let mut blocks = bytes.chunks_exact(64);
        for block in &mut blocks {
            compress(&mut self.h, block.try_into().expect("chunks_exact(64)"));
        }
        let rest = blocks.remainder();
        self.block[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// Pads the message (FIPS 180-4 §5.1.1) and returns the 32-byte digest.
    pub fn finish(mut self) -> [u8; 32] {
        let bit_length = self.length.wrapping_mul(8);
        // 0x80, then zeros until 8 bytes short of a block boundary, then the bit length.
        let zeros = (64 + 56 - (self.filled + 1) % 64) % 64;
        let mut padding = [0u8; 72];
        padding[0] = 0x80;
        padding[1 + zeros..1 + zeros + 8].copy_from_slice(&bit_length.to_be_bytes());
        let length = self.length;
        self.update(&padding[..1 + zeros + 8]);
        self.length = length;
        debug_assert_eq!(self.filled, 0);
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(self.h) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }
}

impl Default for Sha256 {
    fn default() -> Self {
        Self::new()
    }
}

// ANCHOR: compress
/// The SHA-256 compression function (FIPS 180-4 §6.2.2) on one 64-byte block.
fn compress(h: &mut [u32; 8], block: &[u8; 64]) {
    // Message schedule W₀…W₆₃.
    let mut w = [0u32; 64];
    for (t, word) in block.chunks_exact(4).enumerate() {
        w[t] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
    }
    for t in 16..64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16]
            .wrapping_add(s0)
            .wrapping_add(w[t - 7])
            .wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = *h;
    for t in 0..64 {
        let big_s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = hh
            .wrapping_add(big_s1)
            .wrapping_add(ch)
            .wrapping_add(K[t])
            .wrapping_add(w[t]);
        let big_s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = big_s0.wrapping_add(maj);
        hh = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (hi, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
        *hi = hi.wrapping_add(v);
    }
}
// ANCHOR_END: compress

/// SHA-256 of `bytes` in one call.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(bytes);
    hasher.finish()
}

/// Lower-case hexadecimal, two digits per byte (the form `sha256sum` prints).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        hex.push(DIGITS[(b >> 4) as usize] as char);
        hex.push(DIGITS[(b & 15) as usize] as char);
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected digests: FIPS 180-4 examples / NIST CSRC "SHA256.pdf" and the NESSIE vectors.

    #[test]
    fn abc() {
        assert_eq!(
            to_hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn empty() {
        assert_eq!(
            to_hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn two_block_448_bits() {
        assert_eq!(
            to_hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn one_million_a() {
        let mut hasher = Sha256::new();
        // Fed in uneven pieces to exercise the partial-block path too.
        let chunk = [b'a'; 999];
        let mut left = 1_000_000;
        while left > 0 {
            let n = left.min(chunk.len());
            hasher.update(&chunk[..n]);
            left -= n;
        }
        assert_eq!(
            to_hex(&hasher.finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn every_split_point_gives_the_same_digest() {
        // 200 bytes covers splits inside the first, second, third and fourth block.
        let message: Vec<u8> = (0..200u32).map(|i| (i * 31 + 7) as u8).collect();
        let whole = sha256(&message);
        for split in 0..=message.len() {
            let mut hasher = Sha256::default();
            hasher.update(&message[..split]);
            hasher.update(&message[split..]);
            assert_eq!(hasher.finish(), whole, "split at {split}");
        }
    }

    #[test]
    fn lengths_around_the_padding_boundary() {
        // 55 bytes fits the length in one block, 56 needs a second; both must agree with the
        // incremental byte-at-a-time path.
        for len in 50..=70 {
            let message = vec![b'x'; len];
            let mut hasher = Sha256::new();
            for byte in &message {
                hasher.update(std::slice::from_ref(byte));
            }
            assert_eq!(hasher.finish(), sha256(&message), "length {len}");
        }
    }

    #[test]
    fn hex_digits() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
