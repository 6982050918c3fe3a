//! DEFLATE decompression (RFC 1951) with its gzip (RFC 1952) and zlib (RFC 1950) wrappers,
//! plus a stored-blocks-only *compressor* for writing PNG and test data.
//!
//! Book chapter: "Reading MNIST". MNIST ships as `.gz` files, so reading it from scratch means
//! undoing gzip: a small header, a DEFLATE stream, then a CRC-32 and the length as a trailer.
//! A DEFLATE stream is a run of blocks, each stored (raw bytes), or Huffman-coded with a fixed
//! or a per-block ("dynamic") code. Huffman-coded blocks mix literal bytes with
//! (length, distance) pairs that copy earlier output: "repeat the 258 bytes that began 784
//! bytes ago" is how background shared with the previous 28×28 image costs only a few bits.
//!
//! Decoding is table-driven: the next `FAST_BITS` (10) bits of input index a table that gives
//! the symbol and its code length in one lookup; the rare longer codes fall back to the
//! canonical bit-at-a-time walk from Mark Adler's `puff.c`, which is also the reference for every
//! validity check here. Every malformed input is an `Err`, never a panic, and output is capped
//! at [`MAX_OUTPUT`] bytes so a hostile file cannot exhaust memory.
//!
//! Left out: compression beyond stored blocks (std has no encoder and we only need to *read*
//! compressed data), preset dictionaries in zlib streams, and streaming (everything is in
//! memory: MNIST's largest file inflates to 47 MB).

use crate::formats::checksum::{adler32, Crc32};
use crate::{Error, Result};

/// The most output any call will produce (1 GiB); more is reported as corrupt.
pub const MAX_OUTPUT: usize = 1 << 30;

/// Bits resolved by one lookup in a Huffman decoding table; longer codes take the slow path.
const FAST_BITS: u32 = 10;
const FAST_MASK: u64 = (1 << FAST_BITS) - 1;

/// Longest Huffman code DEFLATE allows.
const MAX_CODE_BITS: usize = 15;

/// Base match length for length symbols 257..=285 (RFC 1951 §3.2.5).
pub(crate) const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
/// Extra bits after each length symbol.
pub(crate) const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distance for distance symbols 0..=29.
pub(crate) const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
/// Extra bits after each distance symbol.
pub(crate) const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which a dynamic block lists the code-length code's lengths (RFC 1951 §3.2.7).
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

// ---------------------------------------------------------------------------------------------
// Reading bits
// ---------------------------------------------------------------------------------------------

/// Reads a DEFLATE stream's bits, least significant bit of each byte first.
struct Bits<'a> {
    data: &'a [u8],
    /// Next byte of `data` not yet loaded into `buf`.
    pos: usize,
    /// Loaded bits, next bit in bit 0. Bits at and above `count` may hold copies of bytes not
    /// yet counted as loaded; they are always the true next bits, so OR-ing them in again later
    /// is harmless, and every read masks to what it needs.
    buf: u64,
    /// Number of valid bits in `buf`.
    count: u32,
    /// Names the stream in errors ("deflate stream", "gzip data").
    what: &'a str,
    /// Where `data` starts in the enclosing file (after a gzip or zlib header), so that
    /// error messages count bytes of the file, not of the stream.
    base: usize,
    /// The most bytes the output may hold ([`MAX_OUTPUT`] except in tests).
    limit: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], base: usize, what: &'a str) -> Self {
        Bits {
            data,
            pos: 0,
            buf: 0,
            count: 0,
            what,
            base,
            limit: MAX_OUTPUT,
        }
    }

    /// Loads bytes until at least 56 bits are buffered or the input is exhausted.
    #[inline(always)]
    fn refill(&mut self) {
        if self.pos + 8 <= self.data.len() {
            // Fast path: one unaligned 8-byte load, keep as many whole bytes as fit.
            let word = u64::from_le_bytes(self.data[self.pos..self.pos + 8].try_into().unwrap());
            self.buf |= word << self.count;
            let bytes = (63 - self.count) / 8;
            self.pos += bytes as usize;
            self.count += bytes * 8;
        } else {
            while self.count <= 56 && self.pos < self.data.len() {
                self.buf |= (self.data[self.pos] as u64) << self.count;
                self.pos += 1;
                self.count += 8;
            }
        }
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.buf >>= n;
        self.count -= n;
    }

    /// Reads an `n`-bit number (n ≤ 32), first bit in the least significant place.
    #[inline(always)]
    fn take(&mut self, n: u32) -> Result<u32> {
        if self.count < n {
            self.refill();
            if self.count < n {
                return Err(self.truncated());
            }
        }
        let value = (self.buf & ((1u64 << n) - 1)) as u32;
        self.consume(n);
        Ok(value)
    }

    /// Drops the bits up to the next byte boundary (before a stored block's header).
    fn align_to_byte(&mut self) {
        let n = self.count % 8;
        self.consume(n);
    }

    /// Index of the first byte not consumed (valid after [`Bits::align_to_byte`]).
    fn byte_position(&self) -> usize {
        self.pos - (self.count / 8) as usize
    }

    /// Restarts reading at byte `pos`, discarding the buffer.
    fn seek(&mut self, pos: usize) {
        self.pos = pos;
        self.buf = 0;
        self.count = 0;
    }

    fn truncated(&self) -> Error {
        Error::Truncated {
            what: self.what.to_string(),
            needed: (self.base + self.data.len()) as u64 + 1,
            available: (self.base + self.data.len()) as u64,
        }
    }

    fn corrupt(&self, reason: impl Into<String>) -> Error {
        Error::corrupt(self.what, reason)
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical Huffman codes
// ---------------------------------------------------------------------------------------------

/// A canonical Huffman code, built from a code length per symbol (RFC 1951 §3.2.2).
struct Huffman {
    /// Indexed by the next `FAST_BITS` input bits: `symbol << 4 | length`, or 0 when the code
    /// there is longer than `FAST_BITS` or unassigned (then [`Huffman::decode_slow`] decides).
    fast: [u16; 1 << FAST_BITS],
    /// `counts[len]`: how many symbols have a code of `len` bits.
    counts: [u16; MAX_CODE_BITS + 1],
    /// Symbols ordered by code (shorter codes first, then by symbol): the canonical order.
    symbols: [u16; 288],
}

impl Huffman {
    /// Builds the code for `lengths[symbol]` (0 = symbol unused).
    ///
    /// An over-subscribed code (more codes than bit patterns) is always an error. An
    /// incomplete code is only allowed when `allow_incomplete` and it has at most one symbol,
    /// as `puff.c` allows (a block may use a single distance code, or none).
    fn new(lengths: &[u8], allow_incomplete: bool, what: &str) -> Result<Huffman> {
        let mut counts = [0u16; MAX_CODE_BITS + 1];
        for &len in lengths {
            counts[len as usize] += 1;
        }
        counts[0] = 0;
        // `left` is how many codes of the current length are still unassigned.
        let mut left: i32 = 1;
        for &count in &counts[1..] {
            left = 2 * left - count as i32;
            if left < 0 {
                return Err(Error::corrupt(what, "over-subscribed Huffman code"));
            }
        }
        let used: u16 = counts.iter().sum();
        if left > 0 && !(allow_incomplete && used <= 1) {
            return Err(Error::corrupt(what, "incomplete Huffman code"));
        }

        // Canonical order: offsets[len] is where symbols of length `len` start in `symbols`.
        let mut offsets = [0u16; MAX_CODE_BITS + 2];
        for len in 1..=MAX_CODE_BITS {
            offsets[len + 1] = offsets[len] + counts[len];
        }
        let mut symbols = [0u16; 288];
        // The first code of each length (RFC 1951 §3.2.2 step 2).
        let mut next_code = [0u32; MAX_CODE_BITS + 1];
        let mut code = 0u32;
        for len in 1..=MAX_CODE_BITS {
            code = (code + counts[len - 1] as u32) << 1;
            next_code[len] = code;
        }
        let mut fast = [0u16; 1 << FAST_BITS];
        for (symbol, &len) in lengths.iter().enumerate() {
            if len == 0 {
                continue;
            }
            let len = len as usize;
            symbols[offsets[len] as usize] = symbol as u16;
            offsets[len] += 1;
            let code = next_code[len];
            next_code[len] += 1;
            if len as u32 <= FAST_BITS {
                // Codes are sent most significant bit first, but we read bits LSB first, so
                // the table is indexed by the reversed code, with every possible tail.
                let reversed = code.reverse_bits() >> (32 - len);
                let entry = ((symbol as u16) << 4) | len as u16;
                let mut index = reversed as usize;
                while index < fast.len() {
                    fast[index] = entry;
                    index += 1 << len;
                }
            }
        }
        Ok(Huffman {
            fast,
            counts,
            symbols,
        })
    }

    /// Decodes one symbol.
    #[inline(always)]
    fn decode(&self, bits: &mut Bits) -> Result<u16> {
        if bits.count < MAX_CODE_BITS as u32 {
            bits.refill();
        }
        let entry = self.fast[(bits.buf & FAST_MASK) as usize];
        let len = (entry & 15) as u32;
        if len != 0 && len <= bits.count {
            bits.consume(len);
            return Ok(entry >> 4);
        }
        self.decode_slow(bits)
    }

    // ANCHOR: decode_slow
    /// The canonical decode of `puff.c`: extend the code one bit at a time; codes of each
    /// length are consecutive integers starting at `first`.
    #[cold]
    fn decode_slow(&self, bits: &mut Bits) -> Result<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..=MAX_CODE_BITS {
            if len as u32 > bits.count {
                return Err(bits.truncated());
            }
            code |= ((bits.buf >> (len - 1)) & 1) as i32;
            let count = self.counts[len] as i32;
            if code - first < count {
                bits.consume(len as u32);
                return Ok(self.symbols[(index + code - first) as usize]);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(bits.corrupt("invalid Huffman code (no symbol has this bit pattern)"))
    }
    // ANCHOR_END: decode_slow
}

/// The fixed literal/length and distance codes of block type 1 (RFC 1951 §3.2.6).
fn fixed_codes(what: &str) -> Result<(Huffman, Huffman)> {
    let mut lengths = [0u8; 288];
    lengths[..144].fill(8);
    lengths[144..256].fill(9);
    lengths[256..280].fill(7);
    lengths[280..].fill(8);
    let litlen = Huffman::new(&lengths, false, what)?;
    // 32 five-bit codes make a complete code; symbols 30 and 31 are rejected when decoded.
    let distance = Huffman::new(&[5u8; 32], false, what)?;
    Ok((litlen, distance))
}

// ---------------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------------

/// Inflates the DEFLATE stream at the start of `data`, appending to `out` until `out` would
/// hold more than `limit` bytes; returns how many bytes of `data` the stream used (it ends on
/// a byte boundary after the final block). `base` is where `data` starts in the whole file,
/// for error messages.
fn inflate_limited(
    data: &[u8],
    base: usize,
    out: &mut Vec<u8>,
    what: &str,
    limit: usize,
) -> Result<usize> {
    let mut bits = Bits::new(data, base, what);
    bits.limit = limit;
    loop {
        let is_final = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => stored_block(&mut bits, out)?,
            1 => {
                let (litlen, distance) = fixed_codes(what)?;
                huffman_block(&mut bits, out, &litlen, &distance)?;
            }
            2 => {
                let (litlen, distance) = dynamic_codes(&mut bits)?;
                huffman_block(&mut bits, out, &litlen, &distance)?;
            }
            block_type => {
                return Err(bits.corrupt(format!("invalid block type {block_type}")));
            }
        }
        if is_final {
            bits.align_to_byte();
            return Ok(bits.byte_position());
        }
    }
}

// ANCHOR: stored_block
/// Block type 0: LEN, NLEN (its ones' complement), then LEN raw bytes.
fn stored_block(bits: &mut Bits, out: &mut Vec<u8>) -> Result<()> {
    bits.align_to_byte();
    let len = bits.take(16)? as usize;
    let nlen = bits.take(16)? as usize;
    if len != !nlen & 0xFFFF {
        return Err(bits.corrupt(format!(
            "stored block length does not match its complement (LEN {len}, NLEN {nlen})"
        )));
    }
    let start = bits.byte_position();
    let end = start + len;
    if end > bits.data.len() {
        return Err(Error::Truncated {
            what: bits.what.to_string(),
            needed: (bits.base + end) as u64,
            available: (bits.base + bits.data.len()) as u64,
        });
    }
    check_room(bits, out, len)?;
    out.extend_from_slice(&bits.data[start..end]);
    bits.seek(end);
    Ok(())
}
// ANCHOR_END: stored_block

/// Refuses to grow `out` past the output limit (at most [`MAX_OUTPUT`]).
#[inline(always)]
fn check_room(bits: &Bits, out: &[u8], more: usize) -> Result<()> {
    if out.len() + more > bits.limit {
        return Err(Error::TooLarge {
            what: format!("decompressed bytes in {} (at least)", bits.what),
            got: (out.len() + more) as u64,
            limit: bits.limit as u64,
        });
    }
    Ok(())
}

// ANCHOR: dynamic_codes
/// Block type 2's header: the code-length code, then the literal/length and distance code
/// lengths run-length coded with it (RFC 1951 §3.2.7).
fn dynamic_codes(bits: &mut Bits) -> Result<(Huffman, Huffman)> {
    let hlit = bits.take(5)? as usize + 257;
    let hdist = bits.take(5)? as usize + 1;
    let hclen = bits.take(4)? as usize + 4;
    if hlit > 286 || hdist > 30 {
        return Err(bits.corrupt(format!(
            "too many length or distance symbols ({hlit} literal/length, {hdist} distance)"
        )));
    }
    let mut code_lengths = [0u8; 19];
    for &symbol in &CODE_LENGTH_ORDER[..hclen] {
        code_lengths[symbol] = bits.take(3)? as u8;
    }
    let code_length_code = Huffman::new(&code_lengths, false, bits.what)?;

    let mut lengths = [0u8; 286 + 30];
    let mut i = 0;
    while i < hlit + hdist {
        let symbol = code_length_code.decode(bits)?;
        let (value, repeat) = match symbol {
            0..=15 => (symbol as u8, 1),
            16 => {
                if i == 0 {
                    return Err(bits.corrupt("code length repeat (16) with no previous length"));
                }
                (lengths[i - 1], 3 + bits.take(2)? as usize)
            }
            17 => (0, 3 + bits.take(3)? as usize),
            _ => (0, 11 + bits.take(7)? as usize),
        };
        if i + repeat > hlit + hdist {
            return Err(bits.corrupt("code length repeat runs past the last symbol"));
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return Err(bits.corrupt("no code for the end-of-block symbol (256)"));
    }
    let litlen = Huffman::new(&lengths[..hlit], true, bits.what)?;
    let distance = Huffman::new(&lengths[hlit..hlit + hdist], true, bits.what)?;
    Ok((litlen, distance))
}
// ANCHOR_END: dynamic_codes

// ANCHOR: huffman_block
/// Block types 1 and 2: literals and (length, distance) copies until symbol 256.
fn huffman_block(
    bits: &mut Bits,
    out: &mut Vec<u8>,
    litlen: &Huffman,
    distance: &Huffman,
) -> Result<()> {
    loop {
        let symbol = litlen.decode(bits)? as usize;
        if symbol < 256 {
            check_room(bits, out, 1)?;
            out.push(symbol as u8);
            continue;
        }
        if symbol == 256 {
            return Ok(());
        }
        let index = symbol - 257;
        if index >= LENGTH_BASE.len() {
            return Err(bits.corrupt(format!("invalid literal/length symbol {symbol}")));
        }
        let len = LENGTH_BASE[index] as usize + bits.take(LENGTH_EXTRA[index] as u32)? as usize;
        let dist_symbol = distance.decode(bits)? as usize;
        if dist_symbol >= DIST_BASE.len() {
            return Err(bits.corrupt(format!("invalid distance symbol {dist_symbol}")));
        }
        let dist =
            DIST_BASE[dist_symbol] as usize + bits.take(DIST_EXTRA[dist_symbol] as u32)? as usize;
        if dist > out.len() {
            return Err(bits.corrupt(format!(
                "distance {dist} reaches before the start of the output ({} bytes so far)",
                out.len()
            )));
        }
        check_room(bits, out, len)?;
        copy_match(out, dist, len);
    }
}
// ANCHOR_END: huffman_block

// ANCHOR: copy_match
/// Appends `len` bytes copied from `dist` bytes back; the source may overlap what is being
/// written (dist < len repeats the last `dist` bytes), as LZ77 intends.
#[inline(always)]
fn copy_match(out: &mut Vec<u8>, dist: usize, len: usize) {
    let start = out.len() - dist;
    if dist == 1 {
        let byte = out[start];
        out.resize(out.len() + len, byte);
    } else if dist >= len {
        out.extend_from_within(start..start + len);
    } else {
        // The output is periodic with period `dist` from `start` on, so copying whole periods
        // of the original `dist` bytes reproduces the byte-by-byte overlapping copy.
        let mut left = len;
        while left > 0 {
            let n = left.min(dist);
            out.extend_from_within(start..start + n);
            left -= n;
        }
    }
}
// ANCHOR_END: copy_match

// ---------------------------------------------------------------------------------------------
// Public API: raw DEFLATE, gzip, zlib
// ---------------------------------------------------------------------------------------------

/// Inflates a raw DEFLATE stream (RFC 1951). Bytes after the final block are ignored.
///
/// Book: "Reading MNIST".
pub fn inflate(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    inflate_limited(data, 0, &mut out, "deflate stream", MAX_OUTPUT)?;
    Ok(out)
}

/// The gzip magic bytes (RFC 1952 §2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// gzip header flag bits (RFC 1952 §2.3.1).
const FTEXT: u8 = 1;
const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

/// True when `data` starts with the gzip magic bytes 1f 8b.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&GZIP_MAGIC)
}

// ANCHOR: gunzip
/// Decompresses a gzip file (RFC 1952): one or more members, each a header, a DEFLATE stream
/// and a trailer whose CRC-32 and ISIZE (length mod 2³²) are both checked. At most
/// [`MAX_OUTPUT`] bytes; see [`gunzip_limited`].
///
/// Book: "Reading MNIST".
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>> {
    gunzip_limited(data, MAX_OUTPUT)
}

/// [`gunzip`] of at most `limit` bytes (capped at [`MAX_OUTPUT`]). The last member's ISIZE
/// is checked against the limit *before* anything is inflated, and inflating stops at the
/// limit, so a file whose trailer lies costs no more than `limit` bytes either.
///
/// # Errors
/// [`Error::TooLarge`] when ISIZE or the output passes the limit, and everything [`gunzip`]
/// refuses.
pub fn gunzip_limited(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    const WHAT: &str = "gzip data";
    let limit = limit.min(MAX_OUTPUT);
    // ISIZE of the last member is the whole output's length for the usual single member;
    // it pre-sizes the output, within DEFLATE's 1032:1 largest expansion.
    let capacity = match data.len().checked_sub(4) {
        Some(at) if data.len() >= 18 => {
            let isize = u32::from_le_bytes(data[at..].try_into().unwrap()) as usize;
            if isize > limit {
                return Err(Error::TooLarge {
                    // A cut-off file's last four bytes are not its trailer: say so.
                    what: format!(
                        "decompressed bytes declared by the trailer (ISIZE) of {WHAT}, or the \
                         file is cut off and those are not its trailer"
                    ),
                    got: isize as u64,
                    limit: limit as u64,
                });
            }
            isize.min(data.len().saturating_mul(1032))
        }
        _ => 0,
    };
    let mut out = Vec::with_capacity(capacity);
    // MNIST's images are inflated here and then read in shuffled order, image by image.
    crate::linalg::advise_large_pages(out.spare_capacity_mut());
    let mut rest = data;
    loop {
        let used = gunzip_member(rest, &mut out, WHAT, limit)?;
        rest = &rest[used..];
        if rest.is_empty() {
            return Ok(out);
        }
        if !is_gzip(rest) {
            return Err(Error::corrupt(
                WHAT,
                format!(
                    "{} bytes after the end of the gzip data are not another gzip member",
                    rest.len()
                ),
            ));
        }
    }
}
// ANCHOR_END: gunzip

/// Decodes one gzip member at the start of `data` into `out`; returns the bytes it used.
fn gunzip_member(data: &[u8], out: &mut Vec<u8>, what: &str, limit: usize) -> Result<usize> {
    let truncated = |needed: usize| Error::Truncated {
        what: what.to_string(),
        needed: needed as u64,
        available: data.len() as u64,
    };
    if data.len() < 10 {
        return Err(truncated(10));
    }
    if !is_gzip(data) {
        return Err(Error::BadMagic {
            what: "gzip file".to_string(),
            expected: 0x1f8b,
            got: u16::from_be_bytes([data[0], data[1]]) as u32,
        });
    }
    if data[2] != 8 {
        return Err(Error::corrupt(
            what,
            format!("compression method {} is not deflate (8)", data[2]),
        ));
    }
    let flags = data[3];
    if flags & !(FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT) != 0 {
        return Err(Error::corrupt(
            what,
            format!("reserved header flag bits are set ({flags:#04x})"),
        ));
    }
    // MTIME (4), XFL (1), OS (1) carry nothing we need.
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        if data.len() < pos + 2 {
            return Err(truncated(pos + 2));
        }
        let xlen = u16::from_le_bytes([data[pos], data[pos + 1]]) as usize;
        pos += 2 + xlen;
        if data.len() < pos {
            return Err(truncated(pos));
        }
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            // A zero-terminated Latin-1 string: the original file name, or a comment.
            match data[pos..].iter().position(|&b| b == 0) {
                Some(nul) => pos += nul + 1,
                None => return Err(truncated(data.len() + 1)),
            }
        }
    }
    if flags & FHCRC != 0 {
        if data.len() < pos + 2 {
            return Err(truncated(pos + 2));
        }
        let stored = u16::from_le_bytes([data[pos], data[pos + 1]]) as u32;
        let mut crc = Crc32::new();
        crc.update(&data[..pos]);
        let computed = crc.finish() & 0xFFFF;
        if stored != computed {
            return Err(Error::Checksum {
                what: format!("{what} header"),
                expected: stored,
                got: computed,
            });
        }
        pos += 2;
    }

    let start = out.len();
    pos += inflate_limited(&data[pos..], pos, out, what, limit)?;
    if data.len() < pos + 8 {
        return Err(truncated(pos + 8));
    }
    // ANCHOR: gzip_trailer
    let stored_crc = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap());
    let stored_size = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap());
    let mut crc = Crc32::new();
    crc.update(&out[start..]);
    if crc.finish() != stored_crc {
        return Err(Error::Checksum {
            what: what.to_string(),
            expected: stored_crc,
            got: crc.finish(),
        });
    }
    let size = out.len() - start;
    if size as u32 != stored_size {
        return Err(Error::corrupt(
            what,
            format!("ISIZE trailer says {stored_size} bytes (mod 2^32) but {size} were inflated"),
        ));
    }
    // ANCHOR_END: gzip_trailer
    Ok(pos + 8)
}

/// Decompresses a zlib stream (RFC 1950): a 2-byte header (CMF, FLG), a DEFLATE stream, and
/// the Adler-32 of the output, big-endian. Trailing bytes are an error. At most
/// [`MAX_OUTPUT`] bytes; see [`zlib_decompress_limited`].
pub fn zlib_decompress(data: &[u8]) -> Result<Vec<u8>> {
    zlib_decompress_limited(data, MAX_OUTPUT)
}

/// [`zlib_decompress`] of at most `limit` bytes (capped at [`MAX_OUTPUT`]): inflating stops
/// with [`Error::TooLarge`] at the limit. A PNG passes the size its header declares.
pub fn zlib_decompress_limited(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    const WHAT: &str = "zlib stream";
    if data.len() < 2 {
        return Err(Error::Truncated {
            what: WHAT.to_string(),
            needed: 2,
            available: data.len() as u64,
        });
    }
    let (cmf, flg) = (data[0], data[1]);
    if !(cmf as u16 * 256 + flg as u16).is_multiple_of(31) {
        return Err(Error::corrupt(
            WHAT,
            format!("header check bits are wrong (CMF {cmf:#04x}, FLG {flg:#04x})"),
        ));
    }
    if cmf & 15 != 8 || cmf >> 4 > 7 {
        return Err(Error::corrupt(
            WHAT,
            format!("compression method/window {cmf:#04x} is not deflate with a ≤32 KiB window"),
        ));
    }
    if flg & 0x20 != 0 {
        return Err(Error::corrupt(
            WHAT,
            "preset dictionaries are not supported",
        ));
    }
    let mut out = Vec::new();
    let end = 2 + inflate_limited(&data[2..], 2, &mut out, WHAT, limit.min(MAX_OUTPUT))?;
    if data.len() < end + 4 {
        return Err(Error::Truncated {
            what: WHAT.to_string(),
            needed: end as u64 + 4,
            available: data.len() as u64,
        });
    }
    let stored = u32::from_be_bytes(data[end..end + 4].try_into().unwrap());
    let computed = adler32(&out);
    if stored != computed {
        return Err(Error::Checksum {
            what: WHAT.to_string(),
            expected: stored,
            got: computed,
        });
    }
    if data.len() > end + 4 {
        return Err(Error::corrupt(
            WHAT,
            format!("{} bytes after the Adler-32 trailer", data.len() - end - 4),
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Writing: stored blocks only
// ---------------------------------------------------------------------------------------------

/// Longest stored block: LEN is 16 bits.
const MAX_STORED: usize = 65535;

/// A raw DEFLATE stream holding `data` uncompressed, in stored blocks of at most 65,535 bytes
/// (5 bytes of header each). Valid input for [`inflate`] and any other inflater.
pub fn deflate_stored(data: &[u8]) -> Vec<u8> {
    let blocks = data.len().div_ceil(MAX_STORED).max(1);
    let mut out = Vec::with_capacity(data.len() + 5 * blocks);
    let mut chunks = data.chunks(MAX_STORED).peekable();
    if chunks.peek().is_none() {
        // An empty input still needs one (final, empty) block.
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
        return out;
    }
    while let Some(chunk) = chunks.next() {
        // BFINAL in bit 0, BTYPE = 00, then padding to the byte boundary: one whole byte.
        out.push(chunks.peek().is_none() as u8);
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// A zlib stream (RFC 1950) holding `data` in stored blocks: header 78 01, the blocks of
/// [`deflate_stored`], then the Adler-32, big-endian. PNG's IDAT data is exactly this.
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    // CMF 0x78: deflate with a 32 KiB window; FLG 0x01 makes 0x7801 a multiple of 31.
    let mut out = vec![0x78, 0x01];
    out.extend_from_slice(&deflate_stored(data));
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::checksum::crc32;
    use crate::formats::mutate::{run_mutations, Layout};
    use proptest::prelude::*;

    /// Writes DEFLATE bits by hand, for streams no compressor would produce.
    struct BitWriter {
        bytes: Vec<u8>,
        bit: u32,
    }

    impl BitWriter {
        fn new() -> Self {
            BitWriter {
                bytes: Vec::new(),
                bit: 0,
            }
        }
        /// `value`'s low `n` bits, least significant first (header fields, extra bits).
        fn bits(&mut self, value: u32, n: u32) -> &mut Self {
            for i in 0..n {
                if self.bit == 0 {
                    self.bytes.push(0);
                }
                *self.bytes.last_mut().unwrap() |= (((value >> i) & 1) as u8) << self.bit;
                self.bit = (self.bit + 1) % 8;
            }
            self
        }
        /// A Huffman code of `len` bits, most significant bit first.
        fn code(&mut self, code: u32, len: u32) -> &mut Self {
            for i in (0..len).rev() {
                self.bits((code >> i) & 1, 1);
            }
            self
        }
    }

    fn reason(err: Error) -> String {
        match err {
            Error::Corrupt { reason, .. } => reason,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    /// The text our dynamic-block vector encodes.
    fn fox_text() -> Vec<u8> {
        (0..40u32)
            .map(|i| {
                format!(
                    "The quick brown fox {} jumps over the lazy dog; ",
                    i * i % 97
                )
            })
            .flat_map(String::into_bytes)
            .collect()
    }

    /// Python's `zlib.compressobj(9, DEFLATED, -15, 9, Z_DEFAULT_STRATEGY)` of [`fox_text`]:
    /// a single dynamic-Huffman block (1913 bytes in, 163 out).
    const FOX_DYNAMIC: &str = "9594d90dc2400c055b7925249b3dbca28d34c09104c2b1100857f55000429aff\
        276b3c7a76bbed749977ebbd5653799cd497a72a8df3f17c55b977936edfc061f97e69538685da1ff19ac53d\
        8b67081359de05966fe07c0ff923d463d07e03f5401c9f583e39c803b78576229c9f697ba0fe444f11f207c8\
        9369fbe9b1d35f42f9214f80fe0dd60dd6c7c1eb32c813a01e07eb66f419d2e7067dd670bec1fac73ff90f";

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A gzip member around `payload` (stored blocks) with header `flags` and their fields.
    fn gzip_member(payload: &[u8], flags: u8) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 255];
        if flags & FEXTRA != 0 {
            out.extend_from_slice(&[4, 0, b'x', b'y', 0, 0]);
        }
        if flags & FNAME != 0 {
            out.extend_from_slice(b"name.idx\0");
        }
        if flags & FCOMMENT != 0 {
            out.extend_from_slice(b"a comment\0");
        }
        if flags & FHCRC != 0 {
            let crc = crc32(&out) as u16;
            out.extend_from_slice(&crc.to_le_bytes());
        }
        out.extend_from_slice(&deflate_stored(payload));
        out.extend_from_slice(&crc32(payload).to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out
    }

    #[test]
    fn fixed_huffman_block() {
        // Python: zlib.compressobj(9, DEFLATED, -15, 9, Z_FIXED), "hello" ×4 with spaces.
        let data = unhex("cb48cdc9c957c8402701");
        assert_eq!(inflate(&data).unwrap(), b"hello hello hello hello");
    }

    #[test]
    fn dynamic_huffman_block() {
        let data = unhex(FOX_DYNAMIC);
        assert_eq!(
            (data[0] >> 1) & 3,
            2,
            "the vector really is a dynamic block"
        );
        let text = inflate(&data).unwrap();
        assert_eq!(text.len(), 1913);
        assert_eq!(crc32(&text), 1117909511); // Python's zlib.crc32 of the same text
        assert_eq!(text, fox_text());
    }

    #[test]
    fn stored_round_trips_at_block_boundaries() {
        for len in [0, 1, 100, 65534, 65535, 65536, 65535 * 2 + 7] {
            let data: Vec<u8> = (0..len).map(|i| (i * 13 % 251) as u8).collect();
            assert_eq!(inflate(&deflate_stored(&data)).unwrap(), data, "len {len}");
            assert_eq!(
                zlib_decompress(&zlib_stored(&data)).unwrap(),
                data,
                "len {len}"
            );
        }
    }

    #[test]
    fn overlapping_copies() {
        // Literal 'a', 'b', then length 7 distance 2 → "ababababa" (fixed codes: literals
        // 0..=143 are 8-bit codes 0x30+sym; length 7 is symbol 261 = 7-bit code 5; distance
        // 2 is symbol 1, a 5-bit code).
        let mut w = BitWriter::new();
        w.bits(1, 1).bits(1, 2);
        w.code(0x30 + b'a' as u32, 8).code(0x30 + b'b' as u32, 8);
        w.code(5, 7).code(1, 5);
        w.code(0, 7); // end of block
        assert_eq!(inflate(&w.bytes).unwrap(), b"ababababa");
    }

    #[test]
    fn output_is_capped() {
        // A "bomb": one literal then 258-byte copies at distance 1, 1000 of them (≈ 258 KB
        // from ≈ 1.5 KB). With the limit at 100,000 bytes it must stop with an error.
        let mut w = BitWriter::new();
        w.bits(1, 1).bits(1, 2).code(0x30, 8);
        for _ in 0..1000 {
            w.code(0xC5, 8).code(0, 5); // length 258 (symbol 285 = 8-bit code 0xC5), distance 1
        }
        w.code(0, 7);
        assert_eq!(inflate(&w.bytes).unwrap().len(), 1 + 258 * 1000);
        let mut out = Vec::new();
        let err = inflate_limited(&w.bytes, 0, &mut out, "bomb", 100_000).unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { limit: 100_000, .. }),
            "{err:?}"
        );
        assert!(out.len() <= 100_000);
    }

    #[test]
    fn gzip_isize_is_checked_against_the_limit_before_inflating() {
        // What this guards against: an ISIZE of 2 GiB was only found wrong after inflating everything.
        let mut gz = gzip_member(b"tiny", 0);
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&(2u32 << 30).to_le_bytes());
        match gunzip(&gz) {
            Err(Error::TooLarge { got, limit, .. }) => {
                assert_eq!((got, limit), (2 << 30, MAX_OUTPUT as u64))
            }
            other => panic!("{other:?}"),
        }
        // An ISIZE that lies low still stops at the caller's limit: a 10 MB stream of
        // zeros claiming 4 bytes, read with a limit of 1 MB.
        let zeros = crate::formats::deflate::deflate_fixed(&vec![0; 10_000_000]);
        let mut bomb = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        bomb.extend_from_slice(&zeros);
        bomb.extend_from_slice(&[0; 4]);
        bomb.extend_from_slice(&4u32.to_le_bytes());
        match gunzip_limited(&bomb, 1 << 20) {
            Err(Error::TooLarge { limit, .. }) => assert_eq!(limit, 1 << 20),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            gunzip_limited(&gzip_member(b"tiny", 0), 4).unwrap(),
            b"tiny"
        );
    }

    #[test]
    fn invalid_block_type() {
        assert_eq!(
            reason(inflate(&[0x07]).unwrap_err()),
            "invalid block type 3"
        );
    }

    #[test]
    fn distance_before_start() {
        // Fixed block whose first symbol is a match: length 3 (symbol 257 = 7-bit code 1),
        // distance 5000 (symbol 24: base 4097 + 11 extra bits holding 903).
        let mut w = BitWriter::new();
        w.bits(1, 1)
            .bits(1, 2)
            .code(1, 7)
            .code(24, 5)
            .bits(903, 11)
            .code(0, 7);
        let reason = reason(inflate(&w.bytes).unwrap_err());
        assert!(
            reason.starts_with("distance 5000 reaches before the start of the output"),
            "{reason}"
        );
    }

    #[test]
    fn over_subscribed_code() {
        // Dynamic block whose code-length code gives all 19 symbols 1-bit codes.
        let mut w = BitWriter::new();
        w.bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(15, 4);
        for _ in 0..19 {
            w.bits(1, 3);
        }
        assert_eq!(
            reason(inflate(&w.bytes).unwrap_err()),
            "over-subscribed Huffman code"
        );
    }

    #[test]
    fn stored_length_complement() {
        let reason = reason(inflate(&[0x01, 5, 0, 0, 0, 1, 2, 3, 4, 5]).unwrap_err());
        assert!(
            reason.starts_with("stored block length does not match its complement"),
            "{reason}"
        );
    }

    #[test]
    fn invalid_fixed_symbols() {
        // Literal/length 286 (8-bit code 0xC6) and distance 30 are never valid.
        let mut w = BitWriter::new();
        w.bits(1, 1).bits(1, 2).code(0xC6, 8);
        assert!(reason(inflate(&w.bytes).unwrap_err()).contains("symbol 286"));
        let mut w = BitWriter::new();
        w.bits(1, 1).bits(1, 2).code(0x30, 8).code(1, 7).code(30, 5);
        assert!(reason(inflate(&w.bytes).unwrap_err()).contains("distance symbol 30"));
    }

    #[test]
    fn truncated_streams() {
        assert!(matches!(inflate(&[]), Err(Error::Truncated { .. })));
        let stored = deflate_stored(b"some bytes");
        assert!(matches!(
            inflate(&stored[..stored.len() - 1]),
            Err(Error::Truncated { .. })
        ));
        let dynamic = unhex(FOX_DYNAMIC);
        for cut in [1, 10, 100, dynamic.len() - 1] {
            assert!(
                matches!(inflate(&dynamic[..cut]), Err(Error::Truncated { .. })),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn gzip_header_flags() {
        let payload = b"flags everywhere";
        for flags in 0..32u8 {
            let member = gzip_member(payload, flags);
            assert_eq!(gunzip(&member).unwrap(), payload, "flags {flags:#x}");
        }
    }

    #[test]
    fn gzip_header_crc_is_checked() {
        let mut member = gzip_member(b"x", FHCRC | FNAME);
        member[12] ^= 1; // a byte of the file name
        assert!(matches!(gunzip(&member), Err(Error::Checksum { .. })));
    }

    #[test]
    fn gzip_multiple_members_concatenate() {
        let mut data = gzip_member(b"first ", 0);
        data.extend(gzip_member(b"second", FNAME));
        assert_eq!(gunzip(&data).unwrap(), b"first second");
        data.push(0);
        assert!(matches!(gunzip(&data), Err(Error::Corrupt { .. })));
    }

    #[test]
    fn gzip_trailer_is_checked() {
        let member = gzip_member(b"trailer", 0);
        let n = member.len();
        let mut bad_crc = member.clone();
        bad_crc[n - 8] ^= 0x80;
        assert!(matches!(gunzip(&bad_crc), Err(Error::Checksum { .. })));
        let mut bad_size = member.clone();
        bad_size[n - 4] ^= 1;
        assert!(reason(gunzip(&bad_size).unwrap_err()).starts_with("ISIZE trailer says"));
        assert!(matches!(
            gunzip(&member[..n - 1]),
            Err(Error::Truncated { .. })
        ));
    }

    #[test]
    fn gzip_bad_magic_and_method() {
        assert!(matches!(
            gunzip(b"PK\x03\x04 not gzip"),
            Err(Error::BadMagic { got: 0x504b, .. })
        ));
        let mut member = gzip_member(b"m", 0);
        member[2] = 7;
        assert!(reason(gunzip(&member).unwrap_err()).contains("compression method 7"));
    }

    #[test]
    fn zlib_checks() {
        let good = zlib_stored(b"zlib");
        assert_eq!(&good[..2], &[0x78, 0x01]);
        let mut bad_header = good.clone();
        bad_header[1] = 0x02;
        assert!(reason(zlib_decompress(&bad_header).unwrap_err()).contains("header check"));
        let mut bad_adler = good.clone();
        *bad_adler.last_mut().unwrap() ^= 1;
        assert!(matches!(
            zlib_decompress(&bad_adler),
            Err(Error::Checksum { .. })
        ));
    }

    #[test]
    #[ignore = "needs gzip"]
    fn system_gzip_round_trip() {
        // An independent compressor: the gzip tool, at several levels (dynamic and fixed
        // blocks, long and overlapping matches).
        let mut data = fox_text().repeat(30);
        data.extend((0..70_000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8));
        data.extend(std::iter::repeat_n(0u8, 50_000));
        let path = std::env::temp_dir().join(format!("scratchnet-gzip-{}", std::process::id()));
        std::fs::write(&path, &data).unwrap();
        for level in ["-1", "-6", "-9"] {
            let output = std::process::Command::new("gzip")
                .args([level, "-c"])
                .arg(&path)
                .output()
                .expect("this test needs the gzip program on PATH");
            assert!(output.status.success(), "gzip {level} failed");
            assert_eq!(gunzip(&output.stdout).unwrap(), data, "gzip {level}");
        }
        std::fs::remove_file(&path).ok();
    }

    #[test]
    #[ignore = "needs python3"]
    fn python_zlib_round_trip() {
        // A second independent compressor: Python's zlib, every level and strategy, several
        // window sizes, on data with a skewed byte distribution so that some Huffman codes are
        // longer than FAST_BITS and take the slow path.
        const SCRIPT: &str = r#"
import random, sys, zlib
random.seed(7)
data = bytearray()
for _ in range(60000):
    data.append(min(255, int(random.expovariate(0.05))))
data += bytes(range(256)) * 40 + b"abc" * 3000
data = bytes(data)
out = sys.stdout.buffer
def emit(blob):
    out.write(len(blob).to_bytes(4, "little")); out.write(blob)
emit(data)
for level in range(0, 10):
    for strategy in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED, zlib.Z_HUFFMAN_ONLY, zlib.Z_RLE, zlib.Z_FIXED):
        for wbits in (9, 12, 15):
            c = zlib.compressobj(level, zlib.DEFLATED, wbits, 9, strategy)
            emit(c.compress(data) + c.flush())
"#;
        let output = std::process::Command::new("python3")
            .args(["-c", SCRIPT])
            .output()
            .expect("this test needs the python3 program on PATH");
        assert!(
            output.status.success(),
            "python3 failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let output = output.stdout;
        let mut blobs = Vec::new();
        let mut rest = &output[..];
        while rest.len() >= 4 {
            let n = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
            blobs.push(&rest[4..4 + n]);
            rest = &rest[4 + n..];
        }
        let (data, streams) = blobs.split_first().unwrap();
        assert_eq!(streams.len(), 10 * 5 * 3);
        let mut longest = 0;
        for (i, stream) in streams.iter().enumerate() {
            assert_eq!(&zlib_decompress(stream).unwrap(), data, "stream {i}");
            longest = longest.max(longest_code(&stream[2..]));
        }
        assert!(
            longest > FAST_BITS as usize,
            "no code longer than FAST_BITS was exercised"
        );
    }

    /// The longest literal/length code in the first block if it is dynamic (0 otherwise):
    /// proves the test data reaches [`Huffman::decode_slow`].
    fn longest_code(stream: &[u8]) -> usize {
        let mut bits = Bits::new(stream, 0, "probe");
        bits.take(1).unwrap();
        if bits.take(2).unwrap() != 2 {
            return 0;
        }
        let (litlen, _) = dynamic_codes(&mut bits).unwrap();
        (1..=MAX_CODE_BITS)
            .rev()
            .find(|&len| litlen.counts[len] > 0)
            .unwrap_or(0)
    }

    #[test]
    fn mutated_gzip_zlib_and_deflate_streams_never_panic() {
        // 10,000 mutations of each: a gzip file (the tiny IDX fixture, fixed Huffman), a zlib
        // stream of LZ77 matches, and raw deflate with a dynamic and a stored block.
        let tiny = include_bytes!("../../tests/data/tiny-images-idx3-ubyte.gz.fixture");
        let text = fox_text();
        let gz = vec![tiny.to_vec(), gzip_member(&text, FEXTRA | FNAME | FHCRC)];
        let zlib = vec![
            crate::formats::deflate::zlib_fixed(&text.repeat(3)),
            zlib_stored(&text),
        ];
        let raw = vec![unhex(FOX_DYNAMIC), deflate_stored(&text[..40])];
        let layout = |magic, header| Layout { magic, header };
        run_mutations(&gz, layout(2, 24), |_| {}, |input| drop(gunzip(input)));
        run_mutations(
            &zlib,
            layout(0, 2),
            |_| {},
            |input| drop(zlib_decompress(input)),
        );
        run_mutations(&raw, layout(0, 4), |_| {}, |input| drop(inflate(input)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = inflate(&data);
            let _ = gunzip(&data);
            let _ = zlib_decompress(&data);
            // Behind a valid header too, so the deflate decoder sees the bytes.
            let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
            gz.extend_from_slice(&data);
            let _ = gunzip(&gz);
            let mut z = vec![0x78, 0x9c];
            z.extend_from_slice(&data);
            let _ = zlib_decompress(&z);
        }

        #[test]
        fn mutated_dynamic_stream_never_panics(
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)
        ) {
            let mut data = unhex(FOX_DYNAMIC);
            for (at, xor) in flips {
                let n = data.len();
                data[at % n] ^= xor;
            }
            let _ = inflate(&data);
        }

        #[test]
        fn stored_round_trip(data in proptest::collection::vec(any::<u8>(), 0..140_000)) {
            prop_assert_eq!(inflate(&deflate_stored(&data)).unwrap(), data.clone());
            prop_assert_eq!(zlib_decompress(&zlib_stored(&data)).unwrap(), data);
        }
    }
}
