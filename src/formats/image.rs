//! Reading greyscale pictures of digits, so `scratchnet predict` can classify your own.
//!
//! Book chapter: "The image as a vector". This file reads PGM ("portable grey map"), the
//! simplest greyscale format there is, and one every image editor and `convert` can write:
//!
//! ```text
//! P2 or P5      magic: P2 = pixel values as ASCII decimals, P5 = binary bytes
//! width height  ASCII decimals, separated by any whitespace; `#` starts a comment to the
//! maxval        end of the line; maxval is 1 … 65535
//! pixels        row by row from the top left; for P5 one byte each if maxval < 256, else
//!               two bytes big-endian, after exactly one whitespace byte following maxval
//! ```
//!
//! Pixels are rescaled to 0 … 255 (`v · 255 / maxval`, rounded) as they are read, one byte
//! each; the header's width × height is checked against [`MAX_PIXELS`] (PNG's limit) and the
//! bytes that follow before anything is allocated. A PGM's 0 is black, so a
//! scanned digit is usually dark ink on white paper, the opposite of MNIST (0 = background,
//! 255 = ink); deciding whether to invert is the caller's business (see [`GreyImage::mean`]).
//! [`read_image`] also reads PNG (through [`crate::formats::png`]), choosing by the file's first bytes.
//! Left out: resizing (see [`crate::app::preprocess`]), PBM/PPM colour formats, and files holding
//! several images (only the first is read).

use crate::formats::png::{MAX_FILE_BYTES, MAX_PIXELS};
use crate::formats::read::read_limited;
use crate::{Error, Result};

/// A greyscale image, 0 … 255 per pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GreyImage {
    /// Pixels per row.
    pub width: usize,
    /// Number of rows.
    pub height: usize,
    /// (height · width): row by row from the top left.
    pub pixels: Vec<u8>,
}

impl GreyImage {
    /// The mean pixel value, 0 … 255 (0 for an empty image).
    pub fn mean(&self) -> f64 {
        let sum: u64 = self.pixels.iter().map(|&p| p as u64).sum();
        sum as f64 / self.pixels.len().max(1) as f64
    }

    /// Swaps dark and light: every pixel p becomes 255 − p.
    pub fn invert(&mut self) {
        self.pixels.iter_mut().for_each(|p| *p = 255 - *p);
    }
}

const WHAT: &str = "PGM image";

/// Parses a P2 (ASCII) or P5 (binary) PGM file's bytes.
///
/// # Errors
/// [`Error::Corrupt`] for anything that is not a well-formed PGM: another magic, a missing or
/// non-numeric header field, maxval outside 1 … 65535, a pixel above maxval, or fewer pixels
/// than width × height promise (checked before anything is allocated); [`Error::TooLarge`]
/// for more than [`MAX_PIXELS`] pixels.
pub fn read_pgm(bytes: &[u8]) -> Result<GreyImage> {
    let binary = match bytes.get(..2) {
        Some(b"P2") => false,
        Some(b"P5") => true,
        _ => {
            return Err(Error::corrupt(
                WHAT,
                "it does not start with P2 or P5, so it is not a greyscale PGM",
            ))
        }
    };
    let mut t = Tokens { bytes, pos: 2 };
    let width = t.number("width")?;
    let height = t.number("height")?;
    let maxval = t.number("maxval")?;
    if !(1..=65535).contains(&maxval) {
        return Err(Error::corrupt(
            WHAT,
            format!("maxval is {maxval}; it must be 1 to 65535"),
        ));
    }
    // Both are below 10⁹ (nine digits at most), so the product fits in a u64.
    let count = width as u64 * height as u64;
    if count > MAX_PIXELS as u64 {
        return Err(Error::TooLarge {
            what: format!("pixels in a PGM image ({width}×{height})"),
            got: count,
            limit: MAX_PIXELS as u64,
        });
    }
    let count = count as usize;
    let pixels = if binary {
        t.pos += 1; // exactly one whitespace byte separates maxval from the raster
        binary_values(&bytes[t.pos.min(bytes.len())..], count, maxval)?
    } else {
        ascii_values(&mut t, count, maxval)?
    };
    Ok(GreyImage {
        width,
        height,
        pixels,
    })
}

/// Decodes a PGM or PNG file's bytes, telling them apart by their first bytes; PNGs in
/// colour are converted to luminance (see [`crate::formats::png::Image::to_grey`]).
pub fn decode_image(bytes: &[u8]) -> Result<GreyImage> {
    if bytes.starts_with(&crate::formats::png::SIGNATURE) {
        let image = crate::formats::png::decode(bytes)?;
        return Ok(GreyImage {
            width: image.width,
            height: image.height,
            pixels: image.to_grey(),
        });
    }
    if bytes.starts_with(b"P2") || bytes.starts_with(b"P5") {
        return read_pgm(bytes);
    }
    Err(Error::corrupt(
        "image",
        "it is neither a PNG nor a greyscale PGM (P2/P5); convert it, e.g. \
         `convert photo.jpg digit.png`",
    ))
}

/// Reads a PNG or PGM picture from `path` as greyscale (a regular file of at most
/// [`MAX_FILE_BYTES`]); errors name the file.
pub fn read_image(path: &std::path::Path) -> Result<GreyImage> {
    let bytes = read_limited(path, MAX_FILE_BYTES, "bytes in a picture file")?;
    decode_image(&bytes).map_err(|e| match e {
        Error::Corrupt { reason, .. } => Error::corrupt(path.display().to_string(), reason),
        Error::Invalid(message) => Error::Invalid(format!("{}: {message}", path.display())),
        other => other,
    })
}

/// `count` binary samples, each rescaled to a byte: one byte each in the file for
/// maxval < 256, else two bytes big-endian.
fn binary_values(raster: &[u8], count: usize, maxval: usize) -> Result<Vec<u8>> {
    let per = if maxval < 256 { 1 } else { 2 };
    if count.saturating_mul(per) > raster.len() {
        return Err(Error::corrupt(
            WHAT,
            format!(
                "the header promises {count} pixels but only {} bytes of pixel data follow",
                raster.len()
            ),
        ));
    }
    raster
        .chunks_exact(per)
        .take(count)
        .map(|c| {
            let v = if per == 1 {
                c[0] as usize
            } else {
                u16::from_be_bytes([c[0], c[1]]) as usize
            };
            check_sample(v, maxval)
        })
        .collect()
}

/// `count` ASCII decimal samples, each rescaled to a byte.
fn ascii_values(t: &mut Tokens, count: usize, maxval: usize) -> Result<Vec<u8>> {
    // Every value takes at least one digit and one separator (the last needs no separator).
    let room = (t.bytes.len() - t.pos.min(t.bytes.len())).div_ceil(2);
    if count > room {
        return Err(Error::corrupt(
            WHAT,
            format!("the header promises {count} pixels but the file is too short for them"),
        ));
    }
    (0..count)
        .map(|_| check_sample(t.number("pixel value")?, maxval))
        .collect()
}

/// Sample `v` of 0 … maxval as a byte: `v · 255 / maxval`, rounded.
fn check_sample(v: usize, maxval: usize) -> Result<u8> {
    if v > maxval {
        return Err(Error::corrupt(
            WHAT,
            format!("a pixel value {v} is above maxval {maxval}"),
        ));
    }
    Ok(((v * 255 + maxval / 2) / maxval) as u8)
}

/// Whitespace- and comment-separated decimal numbers, as PGM headers are written.
struct Tokens<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Tokens<'_> {
    /// Skips whitespace and `#` comments, then reads one decimal number called `what`.
    fn number(&mut self, what: &str) -> Result<usize> {
        self.skip_space_and_comments();
        let start = self.pos;
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        let digits = &self.bytes[start..self.pos];
        let followed_by_space = !matches!(
            self.bytes.get(self.pos),
            Some(b) if !(b.is_ascii_whitespace() || *b == b'#')
        );
        if digits.is_empty() || !followed_by_space || digits.len() > 9 {
            return Err(Error::corrupt(
                WHAT,
                format!("expected the {what} as a decimal number at byte {start}"),
            ));
        }
        Ok(std::str::from_utf8(digits).unwrap().parse().unwrap())
    }

    fn skip_space_and_comments(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b'#' {
                while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                    self.pos += 1;
                }
            } else if b.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::mutate::{run_mutations, Layout};

    #[test]
    fn ascii_with_comments_and_odd_whitespace() {
        let pgm = b"P2\n# made by hand\n3 2 # width height\n15\n0 15\t7\n\n 1 2\r\n3";
        let img = read_pgm(pgm).unwrap();
        assert_eq!((img.width, img.height), (3, 2));
        // v · 255 / 15 = 17 v.
        assert_eq!(img.pixels, vec![0, 255, 119, 17, 34, 51]);
    }

    #[test]
    fn binary_8_bit() {
        let mut pgm = b"P5 2 2 255\n".to_vec();
        pgm.extend_from_slice(&[0, 10, 200, 255]);
        let img = read_pgm(&pgm).unwrap();
        assert_eq!(img.pixels, vec![0, 10, 200, 255]);
    }

    #[test]
    fn binary_whitespace_byte_can_be_a_digit_lookalike() {
        // The raster's first byte is b'5' (53): it must be read as a pixel, not as maxval.
        let mut pgm = b"P5\n1 2\n255\n".to_vec();
        pgm.extend_from_slice(b"5 ");
        assert_eq!(read_pgm(&pgm).unwrap().pixels, vec![53, 32]);
    }

    #[test]
    fn binary_16_bit_big_endian_is_rescaled() {
        let mut pgm = b"P5 2 1 65535\n".to_vec();
        pgm.extend_from_slice(&[0xFF, 0xFF, 0x80, 0x00]);
        // 0x8000 · 255 / 65535 = 127.5019… → 128.
        assert_eq!(read_pgm(&pgm).unwrap().pixels, vec![255, 128]);
    }

    #[test]
    fn malformed_files_are_errors() {
        let cases: [&[u8]; 8] = [
            b"P6 1 1 255\n\0\0\0",
            b"P2 2 2 255\n1 2 3",
            b"P5 2 2 255\n\0\0\0",
            b"P2 1 1 0\n0",
            b"P2 1 1 70000\n0",
            b"P2 1 1 9\n10",
            b"P2 x 1 9\n1",
            b"P5 4000 4000 255\n",
        ];
        for bytes in cases {
            let err = read_pgm(bytes).unwrap_err();
            assert!(matches!(err, Error::Corrupt { .. }), "{bytes:?}: {err:?}");
        }
    }

    #[test]
    fn more_pixels_than_the_limit_are_refused_before_reading_them() {
        // What this guards against: 4097 × 4097 read, at 8 bytes a sample (134 MB for a 17 MB file).
        let mut pgm = b"P5 4097 4097 255\n".to_vec();
        pgm.resize(pgm.len() + 4097 * 4097, 7);
        match read_pgm(&pgm) {
            Err(Error::TooLarge { got, limit, .. }) => {
                assert_eq!((got, limit), (4097 * 4097, MAX_PIXELS as u64))
            }
            other => panic!("{other:?}"),
        }
        let header_only = b"P2 999999999 999999999 255\n";
        assert!(matches!(read_pgm(header_only), Err(Error::TooLarge { .. })));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let mut pgm = b"P5 3 3 255\n".to_vec();
        pgm.extend_from_slice(&[9; 9]);
        for len in 0..pgm.len() {
            assert!(read_pgm(&pgm[..len]).is_err(), "length {len}");
        }
        assert!(read_pgm(&pgm).is_ok());
    }

    #[test]
    fn mutated_files_never_panic() {
        // 10,000 mutations of binary 8- and 16-bit files and an ASCII file with comments.
        let mut binary = b"P5 3 2 255\n".to_vec();
        binary.extend_from_slice(&[0, 9, 80, 255, 7, 1]);
        let mut wide = b"P5\n2 2\n65535\n".to_vec();
        wide.extend_from_slice(&[0, 1, 0xFF, 0xFF, 0x80, 0, 1, 2]);
        let ascii = b"P2\n# hand made\n3 2 # size\n15\n0 15 7\n1 2 3\n".to_vec();
        let layout = Layout {
            magic: 2,
            header: 24,
        };
        run_mutations(
            &[binary, wide, ascii],
            layout,
            |_| {},
            |input| {
                drop(read_pgm(input));
                drop(decode_image(input));
            },
        );
    }

    #[test]
    fn png_and_pgm_decode_to_the_same_grey_image() {
        let pgm = b"P5 3 1 255\n\x00\x80\xff";
        let png = crate::formats::png::encode(&crate::formats::png::Image::new(
            3,
            1,
            1,
            vec![0, 128, 255],
        ));
        assert_eq!(decode_image(pgm).unwrap(), decode_image(&png).unwrap());
        let err = decode_image(b"GIF89a...").unwrap_err();
        assert!(err.to_string().contains("neither a PNG nor"), "{err}");
    }

    #[test]
    fn mean_and_invert() {
        let mut img = GreyImage {
            width: 2,
            height: 1,
            pixels: vec![255, 205],
        };
        assert_eq!(img.mean(), 230.0);
        img.invert();
        assert_eq!(img.pixels, vec![0, 50]);
    }
}
