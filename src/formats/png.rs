//! PNG files (ISO/IEC 15948), written and read with the crate's own zlib.
//!
//! Book chapter: "Looking inside". A PNG is an 8-byte signature, then chunks, each
//! `length (4 bytes, big-endian) · type (4 ASCII) · data · CRC-32 of type and data`. The image
//! lives in IHDR (size, bit depth, colour type) and IDAT (a zlib stream of the *filtered*
//! rows: each row starts with a filter byte 0–4 saying how its bytes were predicted from the
//! pixel to the left, the one above, or both (Paeth), so flat pictures compress well).
//!
//! Writing: 8-bit grey or RGB, every row given the filter that makes its bytes smallest,
//! compressed with [`crate::formats::deflate`]. Reading: colour types 0 (grey), 2 (RGB), 3 (palette),
//! 4 (grey + alpha), 6 (RGBA), bit depth 8 (and 16, keeping the high byte), all five filters,
//! CRCs checked; every malformed file is an `Err`, never a panic. The size IHDR declares is
//! checked against [`MAX_PIXELS`] before anything is inflated, and inflating stops at exactly
//! the bytes that size needs, so a small file cannot inflate to more than its header admits.
//!
//! Left out: interlaced images, bit depths 1, 2 and 4, gamma/colour-space chunks (ignored), and
//! ancillary chunks in general.

use crate::formats::checksum::Crc32;
use crate::formats::deflate::zlib_fixed;
use crate::formats::inflate::zlib_decompress_limited;
use crate::formats::read::read_limited;
use crate::{Error, Result};
use std::path::Path;

/// The 8 bytes every PNG file starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

/// The largest picture decoded (PNG or PGM), in pixels: 2²⁴, e.g. 4096 × 4096. At 16-bit
/// RGBA that is 128 MiB of image data, the most a PNG may inflate to.
pub const MAX_PIXELS: usize = 1 << 24;

/// The largest picture file read (PNG or PGM): 256 MiB, room for [`MAX_PIXELS`] pixels at
/// 16-bit RGBA stored uncompressed, or as ASCII PGM.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// An 8-bit image: `pixels` holds `height` rows of `width × channels` bytes, top row first.
/// `channels` is 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Bytes per pixel: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    pub channels: usize,
    /// `height × width × channels` bytes, row by row.
    pub pixels: Vec<u8>,
}

impl Image {
    /// An image of `width × height` pixels of `channels` bytes each.
    ///
    /// # Panics
    /// If `pixels.len()` is not `width × height × channels`, or `channels` is not 1–4.
    #[track_caller]
    pub fn new(width: usize, height: usize, channels: usize, pixels: Vec<u8>) -> Self {
        assert!(
            (1..=4).contains(&channels),
            "channels must be 1-4, got {channels}"
        );
        assert_eq!(
            pixels.len(),
            width * height * channels,
            "pixels for a {width}x{height}x{channels} image"
        );
        Image {
            width,
            height,
            channels,
            pixels,
        }
    }

    /// Luminance of every pixel (ITU-R BT.601 weights), alpha composited onto white, so a
    /// drawing on a transparent canvas reads as ink on paper. Returns `width × height` bytes.
    pub fn to_grey(&self) -> Vec<u8> {
        self.pixels
            .chunks_exact(self.channels)
            .map(|p| {
                let (y, alpha) = match p {
                    [g] => (*g as f32, 255.0),
                    [g, a] => (*g as f32, *a as f32),
                    [r, g, b] => (luma(*r, *g, *b), 255.0),
                    [r, g, b, a] => (luma(*r, *g, *b), *a as f32),
                    _ => unreachable!("channels is 1-4"),
                };
                let t = alpha / 255.0;
                (y * t + 255.0 * (1.0 - t)).round() as u8
            })
            .collect()
    }
}

fn luma(r: u8, g: u8, b: u8) -> f32 {
    0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32
}

// ---------------------------------------------------------------------------------------
// Writing

// ANCHOR: chunk
/// Appends one chunk: length, type, data, CRC-32 of type and data.
fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = Crc32::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finish().to_be_bytes());
}
// ANCHOR_END: chunk

/// PNG colour type for 1–4 channels of 8 bits.
fn colour_type(channels: usize) -> u8 {
    [0, 4, 2, 6][channels - 1]
}

/// The bytes of a PNG file holding `image`, each row filtered with whichever of the five
/// filters gives the smallest sum of |byte as i8| (the usual heuristic), or with `filter`.
fn encode_with(image: &Image, filter: Option<u8>) -> Vec<u8> {
    let bpp = image.channels;
    let stride = image.width * bpp;
    let mut raw = Vec::with_capacity(image.height * (stride + 1));
    let zero_row = vec![0u8; stride];
    for y in 0..image.height {
        let row = &image.pixels[y * stride..(y + 1) * stride];
        let above = if y == 0 {
            &zero_row[..]
        } else {
            &image.pixels[(y - 1) * stride..y * stride]
        };
        let candidates: Vec<u8> = match filter {
            Some(f) => vec![f],
            None => (0..5).collect(),
        };
        let best = candidates
            .into_iter()
            .map(|f| (f, filter_row(f, row, above, bpp)))
            .min_by_key(|(_, bytes)| {
                bytes
                    .iter()
                    .map(|&b| (b as i8).unsigned_abs() as u32)
                    .sum::<u32>()
            })
            .expect("at least one filter");
        raw.push(best.0);
        raw.extend_from_slice(&best.1);
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(image.width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(image.height as u32).to_be_bytes());
    // bit depth 8, colour type, compression 0, filter method 0, no interlace
    ihdr.extend_from_slice(&[8, colour_type(bpp), 0, 0, 0]);
    let mut out = SIGNATURE.to_vec();
    write_chunk(&mut out, b"IHDR", &ihdr);
    write_chunk(&mut out, b"IDAT", &zlib_fixed(&raw));
    write_chunk(&mut out, b"IEND", &[]);
    out
}

/// The bytes of a PNG file holding `image` (8-bit, its channels decide the colour type).
pub fn encode(image: &Image) -> Vec<u8> {
    encode_with(image, None)
}

/// Writes `image` as a PNG file at `path`, only ever as a regular file
/// ([`crate::formats::output::write_file`]).
pub fn write(path: &Path, image: &Image) -> Result<()> {
    crate::formats::output::write_file(path, &encode(image))
}

// ANCHOR: paeth
/// Paeth's predictor (PNG spec §9.4): whichever of left `a`, above `b`, upper-left `c` is
/// closest to `a + b − c`, ties broken in that order.
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = (
        (p - a as i16).abs(),
        (p - b as i16).abs(),
        (p - c as i16).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}
// ANCHOR_END: paeth

/// The predictor of filter `f` for byte `i` of a row: from left `a`, above `b`, upper-left `c`.
fn predict(f: u8, a: u8, b: u8, c: u8) -> u8 {
    match f {
        0 => 0,
        1 => a,
        2 => b,
        3 => ((a as u16 + b as u16) / 2) as u8,
        _ => paeth(a, b, c),
    }
}

/// Filters `row` (bytes) with filter `f` given the unfiltered row `above`; `bpp` bytes per pixel.
fn filter_row(f: u8, row: &[u8], above: &[u8], bpp: usize) -> Vec<u8> {
    (0..row.len())
        .map(|i| {
            let a = if i >= bpp { row[i - bpp] } else { 0 };
            let c = if i >= bpp { above[i - bpp] } else { 0 };
            row[i].wrapping_sub(predict(f, a, above[i], c))
        })
        .collect()
}

/// Undoes filter `f` in place on `row`, given the already unfiltered row `above` (`None`
/// for the first row, whose row above counts as zeros).
fn unfilter_row(f: u8, row: &mut [u8], above: Option<&[u8]>, bpp: usize) {
    let up = |i: usize| above.map_or(0, |above| above[i]);
    for i in 0..row.len() {
        let a = if i >= bpp { row[i - bpp] } else { 0 };
        let c = if i >= bpp { up(i - bpp) } else { 0 };
        row[i] = row[i].wrapping_add(predict(f, a, up(i), c));
    }
}

// ---------------------------------------------------------------------------------------
// Reading

/// IHDR's fields.
struct Header {
    width: usize,
    height: usize,
    bit_depth: u8,
    colour_type: u8,
}

impl Header {
    /// Samples per pixel in the file (palette images have one index each).
    fn samples(&self) -> usize {
        match self.colour_type {
            0 | 3 => 1,
            4 => 2,
            2 => 3,
            _ => 4,
        }
    }

    /// Bytes per pixel in the filtered data (samples × bytes per sample).
    fn bytes_per_pixel(&self) -> usize {
        self.samples() * self.bit_depth as usize / 8
    }

    /// Bytes in the inflated image data: each row's filter byte, then its pixels.
    /// At most [`MAX_PIXELS`] · 8 + height, once [`parse_header`] has passed the header.
    fn data_bytes(&self) -> usize {
        self.height * (1 + self.width * self.bytes_per_pixel())
    }
}

fn corrupt(reason: impl Into<String>) -> Error {
    Error::corrupt("PNG file", reason)
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Splits the file into (type, data) chunks, checking every CRC.
fn chunks(bytes: &[u8]) -> Result<Vec<([u8; 4], &[u8])>> {
    if bytes.len() < 8 || bytes[..8] != SIGNATURE {
        return Err(corrupt(
            "it does not start with the PNG signature (is it really a .png?)",
        ));
    }
    let mut out = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let header = bytes
            .get(at..at + 8)
            .ok_or_else(|| corrupt("a chunk header is cut off"))?;
        let len = be32(header) as usize;
        let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
        let end = at
            .checked_add(8 + len + 4)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| Error::Truncated {
                what: format!("PNG chunk {}", String::from_utf8_lossy(&kind)),
                needed: (at + 12 + len) as u64,
                available: bytes.len() as u64,
            })?;
        let data = &bytes[at + 8..at + 8 + len];
        let mut crc = Crc32::new();
        crc.update(&kind);
        crc.update(data);
        let stored = be32(&bytes[end - 4..end]);
        if stored != crc.finish() {
            return Err(Error::Checksum {
                what: format!("PNG chunk {}", String::from_utf8_lossy(&kind)),
                expected: stored,
                got: crc.finish(),
            });
        }
        out.push((kind, data));
        at = end;
        if &kind == b"IEND" {
            return Ok(out);
        }
    }
    Err(corrupt("it has no IEND chunk (the file is cut off)"))
}

fn parse_header(data: &[u8]) -> Result<Header> {
    if data.len() != 13 {
        return Err(corrupt(format!(
            "IHDR has {} bytes, expected 13",
            data.len()
        )));
    }
    let header = Header {
        width: be32(&data[0..4]) as usize,
        height: be32(&data[4..8]) as usize,
        bit_depth: data[8],
        colour_type: data[9],
    };
    if header.width == 0 || header.height == 0 {
        return Err(corrupt(format!(
            "image size {}x{} is empty",
            header.width, header.height
        )));
    }
    let pixels = header.width as u64 * header.height as u64;
    if pixels > MAX_PIXELS as u64 {
        return Err(Error::TooLarge {
            what: format!("pixels in a PNG image ({}x{})", header.width, header.height),
            got: pixels,
            limit: MAX_PIXELS as u64,
        });
    }
    let depth_ok = match header.colour_type {
        0 | 2 | 4 | 6 => matches!(header.bit_depth, 8 | 16),
        3 => header.bit_depth == 8,
        _ => {
            return Err(corrupt(format!(
                "unknown colour type {}",
                header.colour_type
            )))
        }
    };
    if !depth_ok {
        return Err(Error::Invalid(format!(
            "PNG bit depth {} with colour type {} is not supported; re-save the image as \
             8-bit greyscale, RGB or RGBA",
            header.bit_depth, header.colour_type
        )));
    }
    if data[10] != 0 || data[11] != 0 {
        return Err(corrupt("unknown compression or filter method"));
    }
    if data[12] != 0 {
        return Err(Error::Invalid(
            "interlaced (Adam7) PNGs are not supported; re-save the image without interlacing"
                .into(),
        ));
    }
    Ok(header)
}

/// Decodes a PNG file's bytes into an 8-bit [`Image`] (palette images become RGB or RGBA,
/// 16-bit samples keep their high byte).
pub fn decode(bytes: &[u8]) -> Result<Image> {
    let chunks = chunks(bytes)?;
    let (first, ihdr) = chunks.first().ok_or_else(|| corrupt("no chunks"))?;
    if first != b"IHDR" {
        return Err(corrupt("the first chunk is not IHDR"));
    }
    let header = parse_header(ihdr)?;
    let mut palette: Option<&[u8]> = None;
    let mut transparency: Option<&[u8]> = None;
    let mut zlib = Vec::new();
    for (kind, data) in &chunks[1..] {
        match kind {
            b"PLTE" => palette = Some(data),
            b"tRNS" => transparency = Some(data),
            b"IDAT" => zlib.extend_from_slice(data),
            _ => {}
        }
    }
    if zlib.is_empty() {
        return Err(corrupt("it has no IDAT chunk"));
    }
    let samples = unfiltered_samples(&header, inflate_image_data(&header, &zlib)?)?;
    if header.colour_type == 3 {
        let palette = palette.ok_or_else(|| corrupt("a palette image without a PLTE chunk"))?;
        return expand_palette(&header, &samples, palette, transparency);
    }
    let channels = header.samples();
    Ok(Image::new(header.width, header.height, channels, samples))
}

/// Inflates the concatenated IDAT data, stopping at the bytes the header declares: more is
/// corrupt, and never allocated.
fn inflate_image_data(header: &Header, zlib: &[u8]) -> Result<Vec<u8>> {
    let expected = header.data_bytes();
    let raw = zlib_decompress_limited(zlib, expected).map_err(|err| match err {
        Error::TooLarge { .. } => corrupt(format!(
            "the image data holds more than the {expected} bytes its {}x{} header declares",
            header.width, header.height
        )),
        other => other,
    })?;
    if raw.len() != expected {
        return Err(corrupt(format!(
            "the image data holds {} bytes, expected {expected} for {}x{}",
            raw.len(),
            header.width,
            header.height
        )));
    }
    Ok(raw)
}

/// Undoes the row filters in place (the inflated data: rows of a filter byte then `stride`
/// bytes, `raw.len()` = [`Header::data_bytes`]); returns one 8-bit sample per channel per
/// pixel, reusing `raw`'s memory.
fn unfiltered_samples(header: &Header, mut raw: Vec<u8>) -> Result<Vec<u8>> {
    let bytes_per_sample = header.bit_depth as usize / 8;
    let bpp = header.bytes_per_pixel();
    let stride = header.width * bpp;
    for y in 0..header.height {
        let start = y * (stride + 1);
        let filter = raw[start];
        if filter > 4 {
            return Err(corrupt(format!("row {y} has unknown filter type {filter}")));
        }
        let (done, rest) = raw.split_at_mut(start + 1);
        // The row above, already unfiltered, ends just before this row's filter byte.
        let above = (y > 0).then(|| &done[start - stride..start]);
        unfilter_row(filter, &mut rest[..stride], above, bpp);
    }
    // Drop the filter bytes, and keep the high byte of 16-bit samples (big-endian: it comes
    // first). Every sample moves to an index no larger than its own, so in place is safe.
    let mut n = 0;
    for y in 0..header.height {
        for i in (0..stride).step_by(bytes_per_sample) {
            raw[n] = raw[y * (stride + 1) + 1 + i];
            n += 1;
        }
    }
    raw.truncate(n);
    Ok(raw)
}

fn expand_palette(
    header: &Header,
    indices: &[u8],
    plte: &[u8],
    trns: Option<&[u8]>,
) -> Result<Image> {
    if plte.is_empty() || !plte.len().is_multiple_of(3) {
        return Err(corrupt(format!(
            "PLTE has {} bytes, not a multiple of 3",
            plte.len()
        )));
    }
    let channels = if trns.is_some() { 4 } else { 3 };
    let mut pixels = Vec::with_capacity(indices.len() * channels);
    for &i in indices {
        let i = i as usize;
        let rgb = plte
            .get(3 * i..3 * i + 3)
            .ok_or_else(|| corrupt(format!("palette index {i} is past the palette's end")))?;
        pixels.extend_from_slice(rgb);
        if let Some(alpha) = trns {
            pixels.push(alpha.get(i).copied().unwrap_or(255));
        }
    }
    Ok(Image::new(header.width, header.height, channels, pixels))
}

/// Reads and decodes the PNG file at `path` (a regular file of at most [`MAX_FILE_BYTES`]).
pub fn read(path: &Path) -> Result<Image> {
    let bytes = read_limited(path, MAX_FILE_BYTES, "bytes in a picture file")?;
    decode(&bytes).map_err(|e| match e {
        Error::Corrupt { reason, .. } => Error::corrupt(path.display().to_string(), reason),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::inflate::zlib_stored;
    use crate::formats::mutate::{run_mutations, Layout};
    use proptest::prelude::*;

    /// A PNG file assembled by hand from IHDR fields and already-filtered rows.
    fn hand_png(
        width: u32,
        height: u32,
        depth: u8,
        colour: u8,
        extra: &[(&[u8; 4], Vec<u8>)],
        raw: &[u8],
    ) -> Vec<u8> {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[depth, colour, 0, 0, 0]);
        let mut out = SIGNATURE.to_vec();
        write_chunk(&mut out, b"IHDR", &ihdr);
        for (kind, data) in extra {
            write_chunk(&mut out, kind, data);
        }
        write_chunk(&mut out, b"IDAT", &zlib_stored(raw));
        write_chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn paeth_matches_the_spec_examples() {
        // p = a + b − c; nearest wins, ties go a, then b, then c.
        assert_eq!(paeth(10, 20, 10), 20); // p = 20: b exact
        assert_eq!(paeth(20, 10, 10), 20); // p = 20: a exact
        assert_eq!(paeth(10, 10, 30), 10); // p = −10: a and b tie, a wins
        assert_eq!(paeth(100, 50, 90), 50); // p = 60: |60−100|=40, |60−50|=10, |60−90|=30
    }

    #[test]
    fn hand_filtered_rows_decode() {
        // 2x2 grey. Row 0 "Sub": 10, +5 → 10, 15. Row 1 "Paeth": above 10, 15.
        // Pixel (1,0): a=0,b=10,c=0 → p=10, nearest b → 10+3=13.
        // Pixel (1,1): a=13,b=15,c=10 → p=18: |5|,|3|,|8| → b=15, +1 → 16.
        let raw = [1, 10, 5, 4, 3, 1];
        let png = hand_png(2, 2, 8, 0, &[], &raw);
        let image = decode(&png).unwrap();
        assert_eq!(image.pixels, vec![10, 15, 13, 16]);
        // Row 1 as "Up" (+1, +2) and "Average": (0+10)/2+1=6, (6+15)/2+1=11.
        let up = decode(&hand_png(2, 2, 8, 0, &[], &[0, 10, 15, 2, 1, 2])).unwrap();
        assert_eq!(up.pixels, vec![10, 15, 11, 17]);
        let avg = decode(&hand_png(2, 2, 8, 0, &[], &[0, 10, 15, 3, 1, 1])).unwrap();
        assert_eq!(avg.pixels, vec![10, 15, 6, 11]);
    }

    #[test]
    fn palette_and_sixteen_bit_and_alpha() {
        let plte = vec![255, 0, 0, 0, 0, 255];
        let png = hand_png(2, 1, 8, 3, &[(b"PLTE", plte)], &[0, 1, 0]);
        assert_eq!(decode(&png).unwrap().pixels, vec![0, 0, 255, 255, 0, 0]);
        let png = hand_png(1, 1, 16, 0, &[], &[0, 0xAB, 0xCD]);
        assert_eq!(decode(&png).unwrap().pixels, vec![0xAB]);
        // Grey 0 with alpha 0 over white reads as white; opaque black stays black.
        let png = hand_png(2, 1, 8, 4, &[], &[0, 0, 0, 0, 255]);
        assert_eq!(decode(&png).unwrap().to_grey(), vec![255, 0]);
    }

    #[test]
    fn unsupported_and_broken_files_are_clear_errors() {
        let interlaced = {
            let mut p = hand_png(1, 1, 8, 0, &[], &[0, 0]);
            p[8 + 8 + 12] = 1; // IHDR's interlace byte, then its CRC again
            let crc = crate::formats::checksum::crc32(&p[12..29]);
            p[29..33].copy_from_slice(&crc.to_be_bytes());
            p
        };
        assert!(format!("{}", decode(&interlaced).unwrap_err()).contains("interlaced"));
        let four_bit = hand_png(2, 1, 4, 0, &[], &[0, 0x12]);
        assert!(format!("{}", decode(&four_bit).unwrap_err()).contains("bit depth 4"));
        assert!(decode(b"GIF89a").is_err());
        let good = encode(&Image::new(3, 2, 1, vec![1, 2, 3, 4, 5, 6]));
        for cut in [9, 20, good.len() - 13, good.len() - 1] {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let wrong_size = hand_png(3, 3, 8, 0, &[], &[0, 1, 2, 3]);
        assert!(format!("{}", decode(&wrong_size).unwrap_err()).contains("expected 12"));
    }

    /// `hand_png` with its IDAT compressed (so a few KB can hold megabytes of zeros).
    fn compressed_png(width: u32, height: u32, raw: &[u8]) -> Vec<u8> {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
        let mut out = SIGNATURE.to_vec();
        write_chunk(&mut out, b"IHDR", &ihdr);
        write_chunk(&mut out, b"IDAT", &zlib_fixed(raw));
        write_chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn image_data_beyond_the_declared_size_is_never_inflated() {
        // A 1×1 picture whose IDAT inflates to 10 MB. What this guards against: all 10 MB were inflated (up to
        // the 1 GiB cap), then found to be the wrong length.
        let bomb = compressed_png(1, 1, &vec![0u8; 10_000_000]);
        assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
        let err = decode(&bomb).unwrap_err();
        assert!(
            err.to_string()
                .contains("more than the 2 bytes its 1x1 header declares"),
            "{err}"
        );
        // A header over the pixel limit is refused before any inflating (before: 5000 × 5000
        // was under the old 2²⁶ limit and inflated).
        let err = decode(&compressed_png(5000, 5000, &[0])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::TooLarge {
                    got: 25_000_000,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn written_file_has_the_standard_chunk_layout() {
        let png = encode(&Image::new(1, 1, 3, vec![1, 2, 3]));
        assert_eq!(&png[..8], &SIGNATURE);
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        // IEND's CRC is the CRC-32 of "IEND": ae 42 60 82, in every PNG ever written.
        assert_eq!(&png[png.len() - 4..], &[0xAE, 0x42, 0x60, 0x82]);
    }

    /// Makes a mutated file's checksums right again, as far as its chunk layout still allows
    /// finding them: an IDAT's Adler-32 (when its deflate data still inflates), then every
    /// chunk's CRC; so mutations reach the filter bytes and pixels behind them.
    fn fix_checksums(png: &mut [u8]) {
        let mut at = 8;
        while let Some(header) = png.get(at..at + 8) {
            let end = at + 12 + be32(header) as usize;
            if end > png.len() {
                return;
            }
            let data = &png[at + 8..end - 4];
            if &header[4..] == b"IDAT" && data.len() >= 6 {
                if let Ok(raw) = crate::formats::inflate::inflate(&data[2..]) {
                    let adler = crate::formats::checksum::adler32(&raw).to_be_bytes();
                    png[end - 8..end - 4].copy_from_slice(&adler);
                }
            }
            let crc = crate::formats::checksum::crc32(&png[at + 4..end - 4]);
            png[end - 4..end].copy_from_slice(&crc.to_be_bytes());
            at = end;
        }
    }

    #[test]
    fn mutated_files_never_panic() {
        // 10,000 mutations of grey, grey + alpha, RGB and RGBA files, a palette file with
        // transparency and a 16-bit file; half with their checksums made right again.
        let mut seeds: Vec<Vec<u8>> = (1..=4)
            .map(|c| encode(&Image::new(3, 2, c, (0..6 * c as u8).collect())))
            .collect();
        let plte = (b"PLTE", vec![255, 0, 0, 0, 0, 255]);
        let trns = (b"tRNS", vec![0]);
        seeds.push(hand_png(2, 1, 8, 3, &[plte, trns], &[0, 1, 0]));
        seeds.push(hand_png(1, 2, 16, 0, &[], &[1, 0xAB, 0xCD, 4, 0, 1]));
        let layout = Layout {
            magic: 8,
            header: 33,
        };
        run_mutations(&seeds, layout, fix_checksums, |input| drop(decode(input)));
    }

    fn image_strategy() -> impl Strategy<Value = Image> {
        (1usize..12, 1usize..12, 1usize..=4).prop_flat_map(|(w, h, c)| {
            proptest::collection::vec(any::<u8>(), w * h * c)
                .prop_map(move |px| Image::new(w, h, c, px))
        })
    }

    proptest! {
        #[test]
        fn every_filter_round_trips(image in image_strategy(), filter in 0u8..5) {
            prop_assert_eq!(decode(&encode_with(&image, Some(filter))).unwrap(), image);
        }

        #[test]
        fn adaptive_filters_round_trip(image in image_strategy()) {
            prop_assert_eq!(decode(&encode(&image)).unwrap(), image);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
            let mut with_signature = SIGNATURE.to_vec();
            with_signature.extend_from_slice(&bytes);
            let _ = decode(&with_signature);
        }

        #[test]
        fn random_chunk_contents_with_good_crcs_never_panic(
            w in 0u32..6, h in 0u32..6, depth in 0u8..20, colour in 0u8..8,
            plte in proptest::collection::vec(any::<u8>(), 0..10),
            raw in proptest::collection::vec(any::<u8>(), 0..60),
        ) {
            let _ = decode(&hand_png(w, h, depth, colour, &[(b"PLTE", plte)], &raw));
        }

        #[test]
        fn corrupted_files_never_panic(image in image_strategy(), at in any::<usize>(), byte in any::<u8>()) {
            let mut png = encode(&image);
            let at = at % png.len();
            png[at] = byte;
            let _ = decode(&png);
        }
    }
}
