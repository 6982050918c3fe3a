//! Preparing any greyscale picture of a digit the way MNIST's digits were prepared, so the
//! network sees what it was trained on. Shared by `scratchnet predict` and `scratchnet serve`.
//!
//! Book chapter: "Looking inside". LeCun et al. describe MNIST's preparation: each digit was
//! size-normalised to fit a 20×20 box keeping its aspect ratio (anti-aliased, so the result
//! has grey levels), then placed in a 28×28 field so that its centre of mass sits at the
//! centre. Ink is bright (255) on black (0).
//!
//! A picture already in that form is used as it is, as `eval` uses MNIST's own images: see
//! [`is_mnist_form`] for the precise test (28 × 28, a black border, the ink within a 20 × 20
//! box, its centre of mass within a pixel of the centre). Re-fitting it would move and
//! rescale a digit MNIST has already placed, and change the network's answer. Any other
//! picture is prepared in four steps:
//!
//! 1. **Polarity**: a photo or drawing is usually dark ink on light paper. If the border is
//!    (mostly) lighter than mid-grey, invert.
//! 2. **Levels**: subtract the background (the border's median) and stretch so the darkest ink
//!    becomes 255; an image with almost no contrast is "empty" and an error.
//! 3. **Box**: crop to the ink's bounding box and resample it so its longer side is 20 pixels,
//!    by area averaging (each output pixel is the mean of the input area it covers).
//! 4. **Centre**: shift the 20×20-bounded digit in the 28×28 field so that its
//!    intensity-weighted centre of mass is at (14, 14), rounded to whole pixels.
//!
//! Left out: deslanting, stroke-width normalisation and noise removal beyond the background
//! subtraction; MNIST did none of these either.

use crate::linalg::Vector;
use crate::{Error, Result};

/// Side of the network's input image.
pub const SIDE: usize = 28;
/// Side of the box the ink is scaled to fit (MNIST's 20×20).
pub const BOX: usize = 20;
/// Below this ink-to-background contrast (of 255) an image counts as blank.
pub const MIN_CONTRAST: u8 = 32;

/// A digit prepared for the network.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// 28 × 28 bytes, row by row, 0 = background, 255 = ink (MNIST's convention).
    pub pixels: Vec<u8>,
    /// True when the input was dark ink on a light background and was inverted.
    pub inverted: bool,
    /// True when the input was already in MNIST's form ([`is_mnist_form`]) and is used as
    /// it was given.
    pub already_prepared: bool,
}

impl Prepared {
    /// The network's input a¹: pixels scaled to [0, 1]. Returns: (784).
    pub fn input(&self) -> Vector<f32> {
        Vector::from_vec(self.pixels.iter().map(|&p| p as f32 / 255.0).collect())
    }
}

/// Prepares a `width × height` greyscale image (`grey`, row by row, any polarity) as MNIST
/// was prepared (see the module doc), or keeps it as it is when it is already in MNIST's
/// form ([`is_mnist_form`]). Errors if the image holds no visible ink.
///
/// # Panics
/// If `grey.len()` is not `width × height`.
#[track_caller]
pub fn prepare(grey: &[u8], width: usize, height: usize) -> Result<Prepared> {
    assert_eq!(
        grey.len(),
        width * height,
        "grey for a {width}x{height} image"
    );
    if width == 0 || height == 0 {
        return Err(Error::Invalid("the image is empty (0 pixels)".into()));
    }
    if is_mnist_form(grey, width, height) {
        return Ok(Prepared {
            pixels: grey.to_vec(),
            inverted: false,
            already_prepared: true,
        });
    }
    let inverted = border_median(grey, width, height) > 127.5;
    let ink: Vec<u8> = if inverted {
        grey.iter().map(|&p| 255 - p).collect()
    } else {
        grey.to_vec()
    };
    let ink = stretch_levels(&ink, width, height)?;
    let (x0, y0, x1, y1) = bounding_box(&ink, width).expect("stretch_levels leaves some ink");
    let (bw, bh) = (x1 - x0, y1 - y0);
    let scale = BOX as f64 / bw.max(bh) as f64;
    let (nw, nh) = (
        ((bw as f64 * scale).round() as usize).clamp(1, BOX),
        ((bh as f64 * scale).round() as usize).clamp(1, BOX),
    );
    let crop: Vec<f32> = (y0..y1)
        .flat_map(|y| {
            ink[y * width + x0..y * width + x1]
                .iter()
                .map(|&p| p as f32)
        })
        .collect();
    let small = resample_box(&crop, bw, bh, nw, nh);
    Ok(Prepared {
        pixels: centre_by_mass(&small, nw, nh),
        inverted,
        already_prepared: false,
    })
}

// ANCHOR: mnist_form
/// True when a picture is already in MNIST's form, so preparing it again would only move it:
/// it is 28 × 28; its background is black (the border's median is 0); its ink (the pixels
/// above 0) fits in a 20 × 20 box; its brightest pixel is at least [`MIN_CONTRAST`]; and
/// its centre of mass (pixel centres weighted by intensity) is less than one pixel from
/// (14, 14) in each direction. Every one of MNIST's 70,000 images passes: their ink spans 19
/// or 20 pixels at most, and their centres of mass lie within 0.99998 pixels of (14, 14).
pub fn is_mnist_form(grey: &[u8], width: usize, height: usize) -> bool {
    if (width, height) != (SIDE, SIDE) || border_median(grey, width, height) != 0.0 {
        return false;
    }
    let Some((x0, y0, x1, y1)) = bounding_box(grey, width) else {
        return false; // blank: left to `prepare` to refuse
    };
    if x1 - x0 > BOX || y1 - y0 > BOX || grey.iter().max() < Some(&MIN_CONTRAST) {
        return false;
    }
    let (cx, cy) = centre_of_mass(|i| grey[i] as f64, width, height);
    let centre = SIDE as f64 / 2.0;
    (cx - centre).abs() < 1.0 && (cy - centre).abs() < 1.0
}
// ANCHOR_END: mnist_form

// ANCHOR: polarity
/// Median of the outermost rows and columns: the background's level, even when a stroke
/// runs off the edge (the median ignores it as long as most of the border is paper).
fn border_median(grey: &[u8], width: usize, height: usize) -> f64 {
    let on_border = |i: usize| {
        let (x, y) = (i % width, i / width);
        x == 0 || y == 0 || x + 1 == width || y + 1 == height
    };
    let mut border: Vec<u8> = grey
        .iter()
        .enumerate()
        .filter(|(i, _)| on_border(*i))
        .map(|(_, &p)| p)
        .collect();
    border.sort_unstable();
    border[border.len() / 2] as f64
}
// ANCHOR_END: polarity

/// Subtracts the border's level and stretches so the brightest ink is 255. Errors when the
/// brightest pixel is less than [`MIN_CONTRAST`] above the background (a blank picture).
fn stretch_levels(ink: &[u8], width: usize, height: usize) -> Result<Vec<u8>> {
    let background = border_median(ink, width, height);
    let max = *ink.iter().max().expect("non-empty image") as f64;
    if max - background < MIN_CONTRAST as f64 {
        return Err(Error::Invalid(format!(
            "the image looks blank: its brightest ink is only {:.0} of 255 away from the \
             background; draw the digit darker or thicker",
            (max - background).max(0.0)
        )));
    }
    Ok(ink
        .iter()
        .map(|&p| ((p as f64 - background).max(0.0) * 255.0 / (max - background)).round() as u8)
        .collect())
}

/// The smallest rectangle holding every non-zero pixel, as (x0, y0, x1, y1) with x1, y1
/// exclusive; `None` if every pixel is zero.
fn bounding_box(ink: &[u8], width: usize) -> Option<(usize, usize, usize, usize)> {
    let mut bbox: Option<(usize, usize, usize, usize)> = None;
    for (i, _) in ink.iter().enumerate().filter(|(_, &p)| p > 0) {
        let (x, y) = (i % width, i / width);
        bbox = Some(match bbox {
            None => (x, y, x + 1, y + 1),
            Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
        });
    }
    bbox
}

// ANCHOR: resample
/// Area-averaging (box filter) resample of a `w × h` image to `nw × nh`: output pixel (i, j)
/// is the mean of the input over the rectangle it covers, counting partly covered input
/// pixels by the fraction covered. Done one axis at a time (the filter is separable).
pub fn resample_box(src: &[f32], w: usize, h: usize, nw: usize, nh: usize) -> Vec<f32> {
    // Rows first: (w × h) → (nw × h), then columns: (nw × h) → (nw × nh).
    let rows: Vec<f32> = (0..h)
        .flat_map(|y| resample_line(&src[y * w..(y + 1) * w], nw))
        .collect();
    let mut out = vec![0.0; nw * nh];
    for x in 0..nw {
        let column: Vec<f32> = (0..h).map(|y| rows[y * nw + x]).collect();
        for (y, v) in resample_line(&column, nh).into_iter().enumerate() {
            out[y * nw + x] = v;
        }
    }
    out
}

/// One axis of [`resample_box`]: `n` outputs, each the coverage-weighted mean of `line`.
fn resample_line(line: &[f32], n: usize) -> Vec<f32> {
    let step = line.len() as f64 / n as f64; // input pixels per output pixel
    (0..n)
        .map(|i| {
            let (start, end) = (i as f64 * step, (i + 1) as f64 * step);
            let mut sum = 0.0;
            for (k, &v) in line
                .iter()
                .enumerate()
                .take(end.ceil() as usize)
                .skip(start.floor() as usize)
            {
                let covered = (end.min(k as f64 + 1.0) - start.max(k as f64)).max(0.0);
                sum += covered * v as f64;
            }
            (sum / step) as f32
        })
        .collect()
}
// ANCHOR_END: resample

// ANCHOR: centre
/// Places the `w × h` digit in a 28×28 field so that its centre of mass (pixel centres
/// weighted by intensity) lands on (14, 14), to the nearest whole pixel. Ink pushed past the
/// edge by a lopsided digit is dropped, as it would be in MNIST.
fn centre_by_mass(small: &[f32], w: usize, h: usize) -> Vec<u8> {
    let (cx, cy) = centre_of_mass(|i| small[i] as f64, w, h);
    let half = SIDE as f64 / 2.0;
    let dx = (half - cx).round() as isize;
    let dy = (half - cy).round() as isize;
    let mut out = vec![0u8; SIDE * SIDE];
    for y in 0..h {
        for x in 0..w {
            let (tx, ty) = (x as isize + dx, y as isize + dy);
            if (0..SIDE as isize).contains(&tx) && (0..SIDE as isize).contains(&ty) {
                out[ty as usize * SIDE + tx as usize] =
                    small[y * w + x].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}
// ANCHOR_END: centre

/// The centre of mass (x, y) of a `w × h` image whose pixel i has intensity `value(i)`:
/// pixel centres (x + ½, y + ½) weighted by intensity. The image must hold some ink.
fn centre_of_mass(value: impl Fn(usize) -> f64, w: usize, h: usize) -> (f64, f64) {
    let (mut mass, mut mx, mut my) = (0.0f64, 0.0f64, 0.0f64);
    for y in 0..h {
        for x in 0..w {
            let v = value(y * w + x);
            mass += v;
            mx += v * (x as f64 + 0.5);
            my += v * (y as f64 + 0.5);
        }
    }
    (mx / mass, my / mass)
}

/// The 28×28 image as text, one character per pixel from " .:-=+*#%@" by brightness.
pub fn ascii(pixels: &[u8]) -> String {
    const RAMP: &[u8] = b" .:-=+*#%@";
    let mut text = String::with_capacity(SIDE * (2 * SIDE + 1));
    for row in pixels.chunks(SIDE) {
        for &p in row {
            let c = RAMP[p as usize * (RAMP.len() - 1) / 255] as char;
            // Two characters per pixel so the digit is not squashed by tall terminal cells.
            text.push(c);
            text.push(c);
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w × h` image of `background` with a filled rectangle of `ink` at [x0, x1) × [y0, y1).
    fn rect_image(
        w: usize,
        h: usize,
        background: u8,
        ink: u8,
        (x0, y0, x1, y1): (usize, usize, usize, usize),
    ) -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                if (x0..x1).contains(&(i % w)) && (y0..y1).contains(&(i / w)) {
                    ink
                } else {
                    background
                }
            })
            .collect()
    }

    /// Bounding box and centre of mass of a prepared image.
    fn bbox_and_centre(p: &Prepared) -> ((usize, usize, usize, usize), (f64, f64)) {
        let bbox = bounding_box(&p.pixels, SIDE).unwrap();
        let mass: f64 = p.pixels.iter().map(|&v| v as f64).sum();
        let cx = p
            .pixels
            .iter()
            .enumerate()
            .map(|(i, &v)| v as f64 * ((i % SIDE) as f64 + 0.5))
            .sum::<f64>()
            / mass;
        let cy = p
            .pixels
            .iter()
            .enumerate()
            .map(|(i, &v)| v as f64 * ((i / SIDE) as f64 + 0.5))
            .sum::<f64>()
            / mass;
        (bbox, (cx, cy))
    }

    #[test]
    fn square_blob_fills_20x20_centred_at_14_14() {
        // A 10×10 white square off-centre in a 50×50 black image: scaled ×2 to 20×20 of 255,
        // centre of mass (10, 10) in the box → shift 4 → rows and columns 4..24.
        let p = prepare(&rect_image(50, 50, 0, 255, (3, 30, 13, 40)), 50, 50).unwrap();
        assert!(!p.inverted);
        let (bbox, (cx, cy)) = bbox_and_centre(&p);
        assert_eq!(bbox, (4, 4, 24, 24));
        assert_eq!((cx, cy), (14.0, 14.0));
        assert!(p.pixels.iter().all(|&v| v == 0 || v == 255));
    }

    #[test]
    fn dark_ink_on_light_paper_is_inverted_to_the_same_result() {
        let light = prepare(&rect_image(50, 50, 255, 0, (3, 30, 13, 40)), 50, 50).unwrap();
        let dark = prepare(&rect_image(50, 50, 0, 255, (3, 30, 13, 40)), 50, 50).unwrap();
        assert!(light.inverted);
        assert_eq!(light.pixels, dark.pixels);
        // Grey paper (200) with grey ink (60): levels are stretched to the full range.
        let grey = prepare(&rect_image(50, 50, 200, 60, (3, 30, 13, 40)), 50, 50).unwrap();
        assert_eq!(grey.pixels, dark.pixels);
    }

    #[test]
    fn tall_stroke_keeps_its_aspect() {
        // 6 wide × 30 tall → scale 20/30 → 4 × 20, centred: columns 12..16, rows 4..24.
        let p = prepare(&rect_image(40, 40, 0, 255, (17, 5, 23, 35)), 40, 40).unwrap();
        let (bbox, (cx, cy)) = bbox_and_centre(&p);
        assert_eq!(bbox, (12, 4, 16, 24));
        assert_eq!((cx, cy), (14.0, 14.0));
    }

    #[test]
    fn centre_of_mass_not_box_centre_is_what_lands_at_14() {
        // An L: a 2×20 bar plus a 20×2 foot. Box centre would be (10, 10) → (14, 14); the mass
        // sits low-left, so the box moves right and up, and the mass is within half a pixel.
        let mut img = rect_image(30, 30, 0, 255, (5, 5, 7, 25));
        for x in 5..25 {
            img[24 * 30 + x] = 255;
            img[23 * 30 + x] = 255;
        }
        let p = prepare(&img, 30, 30).unwrap();
        let ((x0, _, _, y1), (cx, cy)) = bbox_and_centre(&p);
        assert!(
            (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
            "{cx}, {cy}"
        );
        assert!(x0 > 4 && y1 < 24, "{x0} {y1}");
    }

    #[test]
    fn a_stroke_off_the_edge_does_not_flip_the_polarity() {
        // Dark bar touching the top and bottom edges of white paper: still "inverted".
        let p = prepare(&rect_image(30, 30, 255, 0, (12, 0, 18, 30)), 30, 30).unwrap();
        assert!(p.inverted);
        assert_eq!(bounding_box(&p.pixels, SIDE).unwrap(), (12, 4, 16, 24));
    }

    #[test]
    fn blank_images_are_clear_errors() {
        for img in [
            vec![0u8; 100],
            vec![255u8; 100],
            rect_image(10, 10, 128, 140, (4, 4, 6, 6)),
        ] {
            let err = prepare(&img, 10, 10).unwrap_err();
            assert!(format!("{err}").contains("blank"), "{err}");
        }
        assert!(prepare(&[], 0, 0).is_err());
    }

    #[test]
    fn a_picture_in_mnist_form_is_used_as_it_is() {
        // A 20×20 block at rows and columns 4..24 of a black 28×28 field: mass at (14, 14).
        // What this guards against: re-fitted all the same (stretched to 255 here; MNIST's own digits also
        // moved by a pixel and were rescaled, and 694 of 10,000 answers changed).
        let mut digit = rect_image(28, 28, 0, 200, (4, 4, 24, 24));
        digit[5 * 28 + 5] = 90;
        let p = prepare(&digit, 28, 28).unwrap();
        assert!(p.already_prepared && !p.inverted);
        assert_eq!(p.pixels, digit, "not stretched to 255, not moved");
        // Off-centre by a pixel or more, too big, grey background, dark on light, or any
        // other size: prepared as MNIST was.
        for (picture, w) in [
            (rect_image(28, 28, 0, 255, (6, 4, 26, 24)), 28),
            (rect_image(28, 28, 0, 255, (4, 4, 25, 24)), 28),
            (rect_image(28, 28, 30, 255, (4, 4, 24, 24)), 28),
            (rect_image(28, 28, 255, 0, (4, 4, 24, 24)), 28),
            (rect_image(30, 30, 0, 255, (5, 5, 25, 25)), 30),
        ] {
            assert!(!is_mnist_form(&picture, w, w));
            assert!(!prepare(&picture, w, w).unwrap().already_prepared);
        }
        // A faint picture in the right place is still refused as blank.
        let faint = rect_image(28, 28, 0, 20, (4, 4, 24, 24));
        assert!(prepare(&faint, 28, 28).is_err());
    }

    #[test]
    fn box_filter_averages_by_area() {
        // 4 → 2 halves: means of pairs. 3 → 2: output 0 covers [0, 1.5): (a + b/2) / 1.5.
        assert_eq!(resample_line(&[0.0, 10.0, 20.0, 30.0], 2), vec![5.0, 25.0]);
        let v = resample_line(&[30.0, 60.0, 90.0], 2);
        assert!(
            (v[0] - 40.0).abs() < 1e-4 && (v[1] - 80.0).abs() < 1e-4,
            "{v:?}"
        );
        // Upsampling 1 → 3 copies the value; total "ink" is conserved in every case.
        assert_eq!(resample_line(&[7.0], 3), vec![7.0, 7.0, 7.0]);
        let checker: Vec<f32> = (0..16)
            .map(|i| if (i % 4 + i / 4) % 2 == 0 { 255.0 } else { 0.0 })
            .collect();
        assert!(resample_box(&checker, 4, 4, 2, 2)
            .iter()
            .all(|&v| (v - 127.5).abs() < 1e-3));
    }

    #[test]
    fn ascii_has_28_rows_of_56_characters() {
        let p = prepare(&rect_image(50, 50, 0, 255, (3, 30, 13, 40)), 50, 50).unwrap();
        let text = ascii(&p.pixels);
        assert_eq!(text.lines().count(), 28);
        assert!(text.lines().all(|l| l.chars().count() == 56));
        assert_eq!(&text.lines().nth(14).unwrap()[8..48], "@".repeat(40));
    }
}
