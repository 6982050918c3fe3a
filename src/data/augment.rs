//! Data augmentation: each training image moved by a random shift of up to 2 pixels, or
//! also turned a little and resized.
//!
//! Book chapters: "Beyond the write-up" (shifts), "Convolutional networks" (distortions). A
//! digit moved a pixel or two, turned by a few degrees or written a little larger is still
//! the same digit, so every epoch can show the network slightly different images for free;
//! it can no longer memorise exact pixel positions and has to learn strokes. Every change
//! is drawn from the seeded [`Rng`], so a run is reproducible. Left out: elastic
//! distortions, shearing.

use crate::linalg::{Matrix, Scalar};
use crate::rng::Rng;

/// The largest shift, in pixels, in each direction.
pub const MAX_SHIFT: usize = 2;

// ANCHOR: shift
/// Moves a `side × side` image (row-major in `src`) by `dx` columns right and `dy` rows
/// down into `dst`; pixels shifted in from outside are 0 (background).
///
/// # Panics
/// If `src` or `dst` is not `side²` long.
#[track_caller]
pub fn shift_image<T: Scalar>(src: &[T], dst: &mut [T], side: usize, dx: isize, dy: isize) {
    assert!(
        src.len() == side * side && dst.len() == side * side,
        "shift_image: {} and {} pixels for a {side}×{side} image",
        src.len(),
        dst.len()
    );
    for r in 0..side {
        for c in 0..side {
            let (sr, sc) = (r as isize - dy, c as isize - dx);
            let inside = (0..side as isize).contains(&sr) && (0..side as isize).contains(&sc);
            dst[r * side + c] = if inside {
                src[sr as usize * side + sc as usize]
            } else {
                T::ZERO
            };
        }
    }
}
// ANCHOR_END: shift

/// How the training images are changed each epoch (`--augment`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Augment {
    /// Every image as it is (the write-up).
    None,
    /// Each image moved by a random whole-pixel shift of up to [`MAX_SHIFT`] ([`shift_image`]).
    Shift,
    /// Each image rotated, scaled and moved by a random [`Distortion`] ([`distort_image`]).
    Distort,
}

impl Augment {
    /// All kinds, in the order `--help` lists them.
    pub const ALL: [Augment; 3] = [Augment::None, Augment::Shift, Augment::Distort];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Augment::None => "none",
            Augment::Shift => "shift",
            Augment::Distort => "distort",
        }
    }

    /// The kind called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Changes every image of the batch `x`, stored one image per COLUMN, (side², batch),
    /// each by its own random draw from `rng`.
    ///
    /// # Panics
    /// If `x.rows()` is not a square number.
    #[track_caller]
    pub fn columns<T: Scalar>(self, x: &mut Matrix<T>, rng: &mut Rng) {
        if self == Augment::None {
            return;
        }
        // An image is a row of the transpose; a batch's transposes cost little beside it.
        let mut xt = x.transpose();
        self.rows(&mut xt, rng);
        *x = xt.transpose();
    }

    /// [`Augment::columns`] for a batch stored one image per ROW, `xt`: (batch, side²), as
    /// training stores it (see [`crate::backprop::Workspace::input_rows`]). Draws the same
    /// numbers from `rng`, so it changes each image exactly as [`Augment::columns`] changes
    /// the transposed batch.
    ///
    /// # Panics
    /// If `xt.cols()` is not a square number.
    #[track_caller]
    pub fn rows<T: Scalar>(self, xt: &mut Matrix<T>, rng: &mut Rng) {
        if self == Augment::None {
            return;
        }
        let (batch, pixels) = xt.shape();
        let side = square_side(pixels);
        let mut src = vec![T::ZERO; pixels];
        for j in 0..batch {
            src.copy_from_slice(xt.row(j));
            self.change_image(&src, xt.row_mut(j), side, rng);
        }
    }

    /// One image's change, drawn from `rng`, from `src` into `dst`.
    fn change_image<T: Scalar>(self, src: &[T], dst: &mut [T], side: usize, rng: &mut Rng) {
        match self {
            Augment::None => dst.copy_from_slice(src),
            Augment::Shift => {
                let (dx, dy) = random_shift(rng);
                shift_image(src, dst, side, dx, dy);
            }
            Augment::Distort => distort_image(src, dst, side, Distortion::random(rng)),
        }
    }
}

/// The largest rotation of [`Augment::Distort`], in degrees either way.
pub const MAX_ROTATION_DEGREES: f64 = 10.0;

/// The largest change of size of [`Augment::Distort`]: scaled by 1 ± this.
pub const MAX_SCALE_CHANGE: f64 = 0.1;

/// A rotation about the image's centre, a scaling about it, then a shift.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distortion {
    /// Anticlockwise on the screen, in radians.
    pub angle: f64,
    /// 1 keeps the size; above 1 enlarges.
    pub scale: f64,
    /// Columns right.
    pub dx: f64,
    /// Rows down.
    pub dy: f64,
}

impl Distortion {
    /// The distortion that changes nothing.
    pub const NONE: Distortion = Distortion {
        angle: 0.0,
        scale: 1.0,
        dx: 0.0,
        dy: 0.0,
    };

    /// Angle uniform in ±[`MAX_ROTATION_DEGREES`], scale in 1 ± [`MAX_SCALE_CHANGE`], shifts
    /// uniform in ±[`MAX_SHIFT`] pixels (drawn in that order).
    pub fn random(rng: &mut Rng) -> Self {
        let mut between = |limit: f64| limit * (2.0 * rng.uniform() - 1.0);
        Distortion {
            angle: between(MAX_ROTATION_DEGREES).to_radians(),
            scale: 1.0 + between(MAX_SCALE_CHANGE),
            dx: between(MAX_SHIFT as f64),
            dy: between(MAX_SHIFT as f64),
        }
    }
}

// ANCHOR: distort
/// Draws a `side × side` image (row-major in `src`) distorted by `d` into `dst`. Each output
/// pixel asks where it came from: undo the shift, the scaling and the rotation about the
/// centre, and read `src` there by bilinear interpolation (pixels from outside are 0).
///
/// # Panics
/// If `src` or `dst` is not `side²` long.
#[track_caller]
pub fn distort_image<T: Scalar>(src: &[T], dst: &mut [T], side: usize, d: Distortion) {
    assert!(
        src.len() == side * side && dst.len() == side * side,
        "distort_image: {} and {} pixels for a {side}×{side} image",
        src.len(),
        dst.len()
    );
    let centre = (side as f64 - 1.0) / 2.0;
    // Rows grow downwards, so "anticlockwise on the screen" turns by −angle in (x, y).
    let (sin, cos) = (-d.angle).sin_cos();
    for r in 0..side {
        for c in 0..side {
            let (u, v) = (c as f64 - centre - d.dx, r as f64 - centre - d.dy);
            let x = (cos * u + sin * v) / d.scale + centre;
            let y = (-sin * u + cos * v) / d.scale + centre;
            dst[r * side + c] = T::from_f64(bilinear(src, side, x, y));
        }
    }
}
// ANCHOR_END: distort

/// `image` (side × side, row-major) read at the point (column `x`, row `y`) between pixels:
/// the four pixels around it, weighted by nearness; 0 outside.
fn bilinear<T: Scalar>(image: &[T], side: usize, x: f64, y: f64) -> f64 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let pixel = |r: f64, c: f64| {
        let inside = (0.0..side as f64).contains(&r) && (0.0..side as f64).contains(&c);
        if inside {
            image[r as usize * side + c as usize].to_f64()
        } else {
            0.0
        }
    };
    let top = pixel(y0, x0) * (1.0 - fx) + pixel(y0, x0 + 1.0) * fx;
    let bottom = pixel(y0 + 1.0, x0) * (1.0 - fx) + pixel(y0 + 1.0, x0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// The side of a square image of `pixels` pixels.
#[track_caller]
fn square_side(pixels: usize) -> usize {
    let side = (pixels as f64).sqrt().round() as usize;
    assert_eq!(
        side * side,
        pixels,
        "augment: {pixels} pixels is not a square image"
    );
    side
}

/// One image's (dx, dy), each uniform in −MAX_SHIFT..=MAX_SHIFT.
fn random_shift(rng: &mut Rng) -> (isize, isize) {
    let span = 2 * MAX_SHIFT + 1;
    let dx = rng.below(span) as isize - MAX_SHIFT as isize;
    let dy = rng.below(span) as isize - MAX_SHIFT as isize;
    (dx, dy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_moves_a_pixel_and_fills_with_zero() {
        // 3×3 image with a single 1 at (row 0, col 0); shift right 2, down 1 → (1, 2).
        let mut src = [0.0f64; 9];
        src[0] = 1.0;
        let mut dst = [7.0f64; 9];
        shift_image(&src, &mut dst, 3, 2, 1);
        let expected: Vec<f64> = (0..9).map(|i| if i == 5 { 1.0 } else { 0.0 }).collect();
        assert_eq!(dst.to_vec(), expected);
        // Shifting it off the edge leaves a blank image.
        shift_image(&src, &mut dst, 3, -1, 0);
        assert!(dst.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn batch_shift_keeps_ink_of_centred_images_and_is_seeded() {
        // A 2×2 blob in the middle of an 8×8 image never reaches the edge with |shift| ≤ 2.
        let x = Matrix::from_fn(64, 5, |p, _| {
            let (r, c) = (p / 8, p % 8);
            if (3..5).contains(&r) && (3..5).contains(&c) {
                1.0f64
            } else {
                0.0
            }
        });
        let (mut a, mut b) = (x.clone(), x.clone());
        Augment::Shift.columns(&mut a, &mut Rng::new(9));
        Augment::Shift.columns(&mut b, &mut Rng::new(9));
        assert_eq!(a, b);
        assert_ne!(a, x);
        for j in 0..5 {
            let ink: f64 = (0..64).map(|p| a[(p, j)]).sum();
            assert_eq!(ink, 4.0);
        }
        // The row layout moves each image exactly as the column layout does.
        let mut rows = x.transpose();
        Augment::Shift.rows(&mut rows, &mut Rng::new(9));
        assert_eq!(rows, a.transpose());
    }

    /// A 5×5 image with one lit pixel at (row, col).
    fn dot(row: usize, col: usize) -> Vec<f64> {
        (0..25).map(|p| f64::from(p == row * 5 + col)).collect()
    }

    #[test]
    fn distortion_by_nothing_is_the_identity_and_whole_shifts_agree_with_shift_image() {
        let src: Vec<f64> = (0..25).map(|p| (p * 7 % 11) as f64).collect();
        let mut dst = vec![0.0; 25];
        let none = Distortion::NONE;
        distort_image(&src, &mut dst, 5, none);
        assert_eq!(dst, src);
        let mut shifted = vec![0.0; 25];
        shift_image(&src, &mut shifted, 5, 2, -1);
        distort_image(
            &src,
            &mut dst,
            5,
            Distortion {
                dx: 2.0,
                dy: -1.0,
                ..none
            },
        );
        assert_eq!(dst, shifted);
    }

    #[test]
    fn a_quarter_turn_moves_a_pixel_anticlockwise_and_half_a_pixel_shares_it() {
        let mut dst = vec![0.0; 25];
        let none = Distortion::NONE;
        // Right of the centre (2, 2) turns, anticlockwise on the screen, to above it.
        let turn = Distortion {
            angle: std::f64::consts::FRAC_PI_2,
            ..none
        };
        distort_image(&dot(2, 4), &mut dst, 5, turn);
        let near = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
        assert!(near(&dst, &dot(0, 2)), "{dst:?}");
        // Doubling the size moves a pixel one step from the centre to two steps.
        distort_image(&dot(2, 3), &mut dst, 5, Distortion { scale: 2.0, ..none });
        assert!((dst[2 * 5 + 4] - 1.0).abs() < 1e-12, "{dst:?}");
        assert!((dst[2 * 5 + 3] - 0.5).abs() < 1e-12, "{dst:?}");
        // Half a pixel right splits one pixel between two.
        distort_image(&dot(1, 1), &mut dst, 5, Distortion { dx: 0.5, ..none });
        assert_eq!((dst[6], dst[7], dst.iter().sum::<f64>()), (0.5, 0.5, 1.0));
    }

    #[test]
    fn distorting_rows_and_columns_agree_and_is_seeded() {
        let x = Matrix::from_fn(64, 4, |p, j| ((p * 3 + j) % 5) as f64 / 4.0);
        let (mut a, mut b) = (x.clone(), x.clone());
        Augment::Distort.columns(&mut a, &mut Rng::new(3));
        Augment::Distort.columns(&mut b, &mut Rng::new(3));
        assert_eq!(a, b);
        assert_ne!(a, x);
        let mut rows = x.transpose();
        Augment::Distort.rows(&mut rows, &mut Rng::new(3));
        assert_eq!(rows, a.transpose());
        let mut same = x.clone();
        Augment::None.columns(&mut same, &mut Rng::new(3));
        assert_eq!(same, x);
    }

    /// `distort_image` reads only inside the image whatever the distortion: points from
    /// outside, at ±∞ or NaN (a zero or infinite scale) read as background, never out of
    /// bounds.
    #[test]
    fn any_distortion_reads_only_inside_the_image() {
        let src: Vec<f64> = (0..25).map(|p| p as f64).collect();
        let mut dst = vec![0.0; 25];
        let none = Distortion::NONE;
        for d in [
            Distortion { scale: 0.0, ..none },
            Distortion {
                scale: -1.0,
                ..none
            },
            Distortion {
                scale: f64::INFINITY,
                ..none
            },
            Distortion {
                angle: f64::NAN,
                ..none
            },
            Distortion {
                dx: 1e300,
                dy: -1e300,
                ..none
            },
            Distortion { dx: -4.5, ..none },
        ] {
            distort_image(&src, &mut dst, 5, d);
        }
        // The last: 4.5 pixels left, so the first column reads half of the last one.
        assert_eq!(dst[0], 0.5 * src[4], "{dst:?}");
        assert!(dst[1..5].iter().all(|&v| v == 0.0), "{dst:?}");
    }

    #[test]
    fn random_distortions_stay_within_their_limits() {
        let mut rng = Rng::new(5);
        for _ in 0..1000 {
            let d = Distortion::random(&mut rng);
            assert!(d.angle.abs() <= MAX_ROTATION_DEGREES.to_radians());
            assert!((d.scale - 1.0).abs() <= MAX_SCALE_CHANGE);
            assert!(d.dx.abs() <= MAX_SHIFT as f64 && d.dy.abs() <= MAX_SHIFT as f64);
        }
        for a in Augment::ALL {
            assert_eq!(Augment::from_name(a.name()), Some(a));
        }
    }
}
