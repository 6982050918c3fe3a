//! Data augmentation: each training image moved by a random shift of up to 2 pixels.
//!
//! Book chapter: "Beyond the write-up". A digit moved a pixel or two is still the same digit,
//! so every epoch can show the network slightly different images for free; it can no
//! longer memorise exact pixel positions and has to learn strokes. Shifts are drawn from
//! the seeded [`Rng`], so a run is reproducible. Left out: rotations, elastic distortions.

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

/// Shifts every image (column) of the batch `x`, (side², batch), by its own random
/// (dx, dy), each uniform in −2..=2.
///
/// # Panics
/// If `x.rows()` is not a square number.
#[track_caller]
pub fn shift_batch<T: Scalar>(x: &mut Matrix<T>, rng: &mut Rng) {
    let (pixels, batch) = x.shape();
    let side = square_side(pixels);
    let (mut src, mut dst) = (vec![T::ZERO; pixels], vec![T::ZERO; pixels]);
    for j in 0..batch {
        let (dx, dy) = random_shift(rng);
        for (p, s) in src.iter_mut().enumerate() {
            *s = x[(p, j)];
        }
        shift_image(&src, &mut dst, side, dx, dy);
        for (p, &d) in dst.iter().enumerate() {
            x[(p, j)] = d;
        }
    }
}

/// [`shift_batch`] for a batch stored one image per ROW, `xt`: (batch, side²), as training
/// stores it (see [`crate::backprop::Workspace::input_rows`]). Draws the same shifts from
/// `rng`, so it moves each image exactly as [`shift_batch`] moves the transposed batch.
///
/// # Panics
/// If `xt.cols()` is not a square number.
#[track_caller]
pub fn shift_rows<T: Scalar>(xt: &mut Matrix<T>, rng: &mut Rng) {
    let (batch, pixels) = xt.shape();
    let side = square_side(pixels);
    let mut src = vec![T::ZERO; pixels];
    for j in 0..batch {
        let (dx, dy) = random_shift(rng);
        src.copy_from_slice(xt.row(j));
        shift_image(&src, xt.row_mut(j), side, dx, dy);
    }
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
        shift_batch(&mut a, &mut Rng::new(9));
        shift_batch(&mut b, &mut Rng::new(9));
        assert_eq!(a, b);
        assert_ne!(a, x);
        for j in 0..5 {
            let ink: f64 = (0..64).map(|p| a[(p, j)]).sum();
            assert_eq!(ink, 4.0);
        }
        // The row layout moves each image exactly as the column layout does.
        let mut rows = x.transpose();
        shift_rows(&mut rows, &mut Rng::new(9));
        assert_eq!(rows, a.transpose());
    }
}
