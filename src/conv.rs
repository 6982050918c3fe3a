//! Convolution and max-pooling, each a `*_forward` / `*_backward` pair, the backward beside
//! the forward it differentiates, quoting the equations it computes (Eqs 9–13, which continue
//! the write-up's 1–8). Two versions of the same maths:
//!
//! - [`conv_forward`], [`conv_backward`], [`pool_forward`], [`pool_backward`]: one image, as
//!   direct loops over maps, rows, columns and kernel offsets, written to be read beside the
//!   equations (the teaching version, and the tests' oracle);
//! - [`conv_forward_batch`], [`conv_backward_batch`], [`pool_forward_batch`],
//!   [`pool_backward_batch`]: a whole mini-batch, one image per column, the convolution
//!   lowered to one matrix product by [`im2col`] (the fast version, which training uses). The
//!   tests prove the two equal.
//!
//! Book chapter: "Convolutional networks". Notation: a layer's input has c_in maps a_i of
//! h × w, its kernels K_{j,i} are k × k (one per output map j and input map i), b_j is output
//! map j's bias, and an output map is (h − k + 1) × (w − k + 1). "Convolution" is meant as in
//! machine learning: the kernel slides over the image unflipped, which a mathematician would
//! call a correlation; the flip appears in the backward pass (Eq 13).
//!
//! Left out: strides other than 1 (pooling's stride is its size), padding, and the
//! activation of the teaching version (the network applies it to Z, as for a fully connected
//! layer; the batched version takes it, to apply it in the same pass as the bias).

use crate::activation::Activation;
use crate::linalg::im2col::{col2im, im2col};
pub use crate::linalg::MapShape;
use crate::linalg::{for_each_row_sum, gemm, MatRef, Matrix, Scalar, Vector};

/// A convolutional layer's geometry: its `input` maps, k × k kernels, and `maps` output maps.
///
/// Book: "Convolutional networks".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// The maps the layer reads, (c_in, h, w).
    pub input: MapShape,
    /// The side k of every kernel.
    pub k: usize,
    /// Number of output maps (kernels per input map), c_out.
    pub maps: usize,
}

impl ConvShape {
    /// The maps the layer writes: (c_out, h − k + 1, w − k + 1).
    ///
    /// # Panics
    /// If the kernel does not fit in the input maps.
    #[track_caller]
    pub fn output(self) -> MapShape {
        self.input.after_conv(self.k, self.maps)
    }

    /// The number of weights of one output map: c_in · k · k (a row of the kernel matrix).
    pub fn kernel_len(self) -> usize {
        self.input.maps * self.k * self.k
    }

    /// Where K_{j,i}(p, q) is stored in the kernels of every map, (c_out, c_in, k, k) row by
    /// row: ((j·c_in + i)·k + p)·k + q, so the kernel matrix's row j holds map j's kernels.
    #[inline]
    pub fn kernel_index(self, j: usize, i: usize, p: usize, q: usize) -> usize {
        ((j * self.input.maps + i) * self.k + p) * self.k + q
    }

    /// Panics unless every slice has the length the shape gives it.
    #[track_caller]
    fn check(self, op: &str, lengths: &[(&str, usize, usize)]) {
        for &(name, got, want) in lengths {
            assert_eq!(
                got, want,
                "{op}: {name} has {got} values, the layer {self:?} needs {want}"
            );
        }
    }
}

// ANCHOR: conv_forward
/// The convolution, Zˡ = Kˡ ⋆ Aˡ⁻¹ + bˡ, one image:
/// z_j(y, x) = b_j + Σ_i Σ_p Σ_q K_{j,i}(p, q) · a_i(y + p, x + q).
///
/// Book: "Convolutional networks".
///
/// `a`: (c_in, h, w); `kernels`: (c_out, c_in, k, k); `b`: (c_out); `z`: (c_out, h − k + 1,
/// w − k + 1), overwritten.
///
/// # Panics
/// If a slice's length does not match `shape`.
#[track_caller]
pub fn conv_forward<T: Scalar>(shape: ConvShape, a: &[T], kernels: &[T], b: &[T], z: &mut [T]) {
    let (input, out, k) = (shape.input, shape.output(), shape.k);
    shape.check(
        "conv_forward",
        &[
            ("a", a.len(), input.len()),
            ("kernels", kernels.len(), shape.maps * shape.kernel_len()),
            ("b", b.len(), shape.maps),
            ("z", z.len(), out.len()),
        ],
    );
    for j in 0..out.maps {
        for y in 0..out.rows {
            for x in 0..out.cols {
                let mut sum = b[j];
                for i in 0..input.maps {
                    for p in 0..k {
                        for q in 0..k {
                            let w = kernels[shape.kernel_index(j, i, p, q)];
                            sum += w * a[input.index(i, y + p, x + q)];
                        }
                    }
                }
                z[out.index(j, y, x)] = sum;
            }
        }
    }
}
// ANCHOR_END: conv_forward

// ANCHOR: conv_backward
/// The backward pass of [`conv_forward`], one image: from the layer's δ (Eq 9, σ′ already
/// applied), the gradients of its kernels and biases, and the error sent back to its input.
///
/// - Eq 10, ∂C/∂K_{j,i}(p, q) = Σ_y Σ_x δ_j(y, x) · a_i(y + p, x + q): the input map
///   correlated with δ, added to `nabla_k`;
/// - Eq 11, ∂C/∂b_j = Σ_y Σ_x δ_j(y, x): δ summed over its map, added to `nabla_b`;
/// - Eq 13, ∂C/∂a_i(y, x) = Σ_j Σ_p Σ_q δ_j(y − p, x − q) · K_{j,i}(p, q), with δ taken as 0
///   outside its map: δ convolved in full with the flipped kernel, into `delta_in`.
///
/// Book: "Convolutional networks".
///
/// `a`: (c_in, h, w), the input of the forward pass; `kernels`: (c_out, c_in, k, k);
/// `delta`: (c_out, h − k + 1, w − k + 1); `nabla_k` (as `kernels`) and `nabla_b` (c_out) are
/// added to, so a batch can sum into them; `delta_in`: (c_in, h, w), overwritten.
///
/// # Panics
/// If a slice's length does not match `shape`.
#[track_caller]
pub fn conv_backward<T: Scalar>(
    shape: ConvShape,
    a: &[T],
    kernels: &[T],
    delta: &[T],
    nabla_k: &mut [T],
    nabla_b: &mut [T],
    delta_in: &mut [T],
) {
    let (input, out, k) = (shape.input, shape.output(), shape.k);
    shape.check(
        "conv_backward",
        &[
            ("a", a.len(), input.len()),
            ("kernels", kernels.len(), shape.maps * shape.kernel_len()),
            ("delta", delta.len(), out.len()),
            ("nabla_k", nabla_k.len(), kernels.len()),
            ("nabla_b", nabla_b.len(), shape.maps),
            ("delta_in", delta_in.len(), input.len()),
        ],
    );
    for j in 0..out.maps {
        // Eq 11.
        for y in 0..out.rows {
            for x in 0..out.cols {
                nabla_b[j] += delta[out.index(j, y, x)];
            }
        }
        // Eq 10.
        for i in 0..input.maps {
            for p in 0..k {
                for q in 0..k {
                    let mut sum = T::ZERO;
                    for y in 0..out.rows {
                        for x in 0..out.cols {
                            sum += delta[out.index(j, y, x)] * a[input.index(i, y + p, x + q)];
                        }
                    }
                    nabla_k[shape.kernel_index(j, i, p, q)] += sum;
                }
            }
        }
    }
    // Eq 13: (y − p, x − q) must be inside δ's map, so p ≤ y < p + oh and q ≤ x < q + ow.
    for i in 0..input.maps {
        for y in 0..input.rows {
            for x in 0..input.cols {
                let mut sum = T::ZERO;
                for j in 0..out.maps {
                    for p in (y + 1).saturating_sub(out.rows)..k.min(y + 1) {
                        for q in (x + 1).saturating_sub(out.cols)..k.min(x + 1) {
                            let w = kernels[shape.kernel_index(j, i, p, q)];
                            sum += delta[out.index(j, y - p, x - q)] * w;
                        }
                    }
                }
                delta_in[input.index(i, y, x)] = sum;
            }
        }
    }
}
// ANCHOR_END: conv_backward

// ANCHOR: pool_forward
/// Max-pooling, one image: each k × k window of each map (stride k, so windows do not
/// overlap) becomes its largest value, out_i(y, x) = max_{p,q} a_i(k·y + p, k·x + q), and
/// `argmax` records where that value was (its index in `a`), for the backward pass. Of equal
/// values the first in reading order wins.
///
/// Book: "Convolutional networks".
///
/// `a`: (c, h, w); `out` and `argmax`: (c, ⌊h/k⌋, ⌊w/k⌋), overwritten.
///
/// # Panics
/// If a slice's length does not match `shape` and `k`.
#[track_caller]
pub fn pool_forward<T: Scalar>(
    shape: MapShape,
    k: usize,
    a: &[T],
    out: &mut [T],
    argmax: &mut [usize],
) {
    let pooled = shape.after_pool(k);
    assert!(
        a.len() == shape.len() && out.len() == pooled.len() && argmax.len() == pooled.len(),
        "pool_forward: {} values in, {} out and {} argmax for {shape:?} pooled {k}×{k}",
        a.len(),
        out.len(),
        argmax.len()
    );
    for c in 0..pooled.maps {
        for y in 0..pooled.rows {
            for x in 0..pooled.cols {
                let mut best = shape.index(c, k * y, k * x);
                for p in 0..k {
                    for q in 0..k {
                        let at = shape.index(c, k * y + p, k * x + q);
                        if a[at] > a[best] {
                            best = at;
                        }
                    }
                }
                let o = pooled.index(c, y, x);
                out[o] = a[best];
                argmax[o] = best;
            }
        }
    }
}
// ANCHOR_END: pool_forward

// ANCHOR: pool_backward
/// The backward pass of [`pool_forward`], Eq 12: only the winner of each window moved the
/// output, so it alone receives the window's error, ∂C/∂a(argmax) = δ_out; every other value
/// of the window gets 0 (a small change to it changes nothing after the max).
///
/// Book: "Convolutional networks".
///
/// `delta_out` and `argmax`: (c, ⌊h/k⌋, ⌊w/k⌋); `delta_in`: (c, h, w), overwritten.
///
/// # Panics
/// If `delta_out` and `argmax` differ in length, or an index is outside `delta_in`.
#[track_caller]
pub fn pool_backward<T: Scalar>(delta_out: &[T], argmax: &[usize], delta_in: &mut [T]) {
    assert_eq!(
        delta_out.len(),
        argmax.len(),
        "pool_backward: {} errors for {} windows",
        delta_out.len(),
        argmax.len()
    );
    delta_in.fill(T::ZERO);
    for (&d, &at) in delta_out.iter().zip(argmax) {
        delta_in[at] = d;
    }
}
// ANCHOR_END: pool_backward

// ANCHOR: conv_batch
/// The convolution for a whole batch as one matrix product, then the bias and activation:
/// Z = K · cols(A) + b·1ᵀ and out = f(Z). The kernel matrix K is (c_out, c_in·k·k), row j
/// holding map j's kernels in the order of [`ConvShape::kernel_index`], and cols(A) is
/// [`im2col`] of the batch, so entry (j; y, x, n) of the product is
/// Σ_i Σ_p Σ_q K_{j,i}(p, q) · a_i(y + p, x + q) for image n: [`conv_forward`] at every
/// position of every image.
///
/// Book: "Convolutional networks" (The fast version).
///
/// `a`: (c_in·h·w, batch), one image per column; `kernels`: (c_out, c_in·k·k); `b`: (c_out);
/// `cols`: resized to (c_in·k·k, oh·ow·batch) and left holding cols(A), which the backward
/// pass needs; `out`: resized to (c_out·oh·ow, batch).
///
/// # Panics
/// If a shape does not match `shape`.
#[track_caller]
pub fn conv_forward_batch<T: Scalar>(
    shape: ConvShape,
    a: &Matrix<T>,
    kernels: &Matrix<T>,
    b: &Vector<T>,
    f: Activation,
    cols: &mut Matrix<T>,
    out: &mut Matrix<T>,
) {
    check_kernels("conv_forward_batch", shape, kernels);
    im2col(a, shape.input, shape.k, cols);
    out.resize(shape.maps, cols.cols());
    gemm(
        T::ONE,
        kernels.view(),
        cols.view(),
        T::ZERO,
        out.as_mut_slice(),
    );
    // Row j of the product is map j at every position of every image: one bias per row.
    f.add_bias_and_apply(out, b);
    reshape(out, shape.output().len(), a.cols());
}

/// The backward pass of [`conv_forward_batch`]: Eqs 10, 11 and 13 for every image at once,
/// each a matrix product, with Eqs 10–11 averaged over the n images of the batch (as Eqs 5–6
/// average Eqs 3–4). With Δ, the layer's δ (Eq 9), viewed as (c_out, oh·ow·n):
///
/// - Eq 10: ∂C/∂K = (1/n) Δ · cols(A)ᵀ, into `nabla_k`;
/// - Eq 11: ∂C/∂b_j = (1/n) Σ (row j of Δ), into `nabla_b`;
/// - Eq 13: ∂C/∂A = [`col2im`](Kᵀ Δ), into `delta_in` when it is given: column (y, x, n) of
///   Kᵀ Δ is the error each entry of that patch sent forward, and [`col2im`] adds every
///   entry back onto the value it was copied from.
///
/// Book: "Convolutional networks" (The fast version).
///
/// `kernels`: (c_out, c_in·k·k); `delta`: (c_out·oh·ow, n); `cols`: cols(A) as
/// [`conv_forward_batch`] left it, overwritten with Kᵀ Δ when `delta_in` is given;
/// `nabla_k` (as `kernels`) and `nabla_b` (c_out): overwritten; `delta_in`: resized to
/// (c_in·h·w, n).
///
/// # Panics
/// If a shape does not match `shape`.
#[track_caller]
pub fn conv_backward_batch<T: Scalar>(
    shape: ConvShape,
    kernels: &Matrix<T>,
    delta: &Matrix<T>,
    cols: &mut Matrix<T>,
    nabla_k: &mut Matrix<T>,
    nabla_b: &mut Vector<T>,
    delta_in: Option<&mut Matrix<T>>,
) {
    check_kernels("conv_backward_batch", shape, kernels);
    check_kernels("conv_backward_batch (∂C/∂K)", shape, nabla_k);
    let n = delta.cols();
    let positions = shape.output().rows * shape.output().cols * n;
    if delta.rows() != shape.output().len() || cols.shape() != (shape.kernel_len(), positions) {
        crate::linalg::shape_mismatch("conv_backward_batch (Δ, cols)", delta.shape(), cols.shape());
    }
    let inv_n = T::ONE / T::from_f64(n as f64);
    let delta = MatRef::row_major(delta.as_slice(), shape.maps, positions);
    // Eq 10, averaged: the 1/n as gemm's α.
    gemm(
        inv_n,
        delta,
        cols.view().t(),
        T::ZERO,
        nabla_k.as_mut_slice(),
    );
    // Eq 11, averaged: each map's sum of δ, times 1/n.
    for_each_row_sum(delta, nabla_b.as_mut_slice(), |b, sum| *b = sum * inv_n);
    // Eq 13: cols(A) is no longer needed, so Kᵀ Δ (its shape) goes where it was.
    if let Some(delta_in) = delta_in {
        gemm(
            T::ONE,
            kernels.view().t(),
            delta,
            T::ZERO,
            cols.as_mut_slice(),
        );
        col2im(cols, shape.input, shape.k, n, delta_in);
    }
}
// ANCHOR_END: conv_batch

// ANCHOR: pool_batch
/// Max-pooling for a whole batch: [`pool_forward`] on every image (column), each window's
/// values compared in the same order, so the winners are the same.
///
/// Book: "Convolutional networks" (The fast version).
///
/// `a`: (c·h·w, batch); `out`: resized to (c·⌊h/k⌋·⌊w/k⌋, batch); `argmax`: resized to one
/// entry per value of `out`, in the same order, each the row of `a` that won.
///
/// # Panics
/// If `a` does not have `shape.len()` rows, or the window does not fit.
#[track_caller]
pub fn pool_forward_batch<T: Scalar>(
    shape: MapShape,
    k: usize,
    a: &Matrix<T>,
    out: &mut Matrix<T>,
    argmax: &mut Vec<usize>,
) {
    let (pooled, batch) = (shape.after_pool(k), a.cols());
    if a.rows() != shape.len() {
        crate::linalg::shape_mismatch("pool_forward_batch", a.shape(), (shape.len(), batch));
    }
    out.resize(pooled.len(), batch);
    argmax.resize(pooled.len() * batch, 0);
    let (a, out) = (a.as_slice(), out.as_mut_slice());
    // k = 2, the pool every network here uses, with its loops unrolled by the compiler.
    match k {
        2 => pool_windows::<T, 2>(shape, 2, batch, a, out, argmax),
        _ => pool_windows::<T, 0>(shape, k, batch, a, out, argmax),
    }
}

/// The loops of [`pool_forward_batch`], over slices: k × k windows, with k = `K` when `K`
/// is not 0 (a constant the compiler can unroll by), else `k`.
fn pool_windows<T: Scalar, const K: usize>(
    shape: MapShape,
    k: usize,
    batch: usize,
    a: &[T],
    out: &mut [T],
    argmax: &mut [usize],
) {
    let k = if K > 0 { K } else { k };
    let pooled = shape.after_pool(k);
    for c in 0..pooled.maps {
        for y in 0..pooled.rows {
            for x in 0..pooled.cols {
                let o = pooled.index(c, y, x) * batch;
                let first = shape.index(c, k * y, k * x);
                // One image at a time, its window's values in registers; selects, not a
                // branch, since which value wins is a coin toss.
                for n in 0..batch {
                    let (mut best, mut winner) = (a[first * batch + n], first);
                    for p in 0..k {
                        let row = shape.index(c, k * y + p, k * x);
                        for at in row..row + k {
                            let v = a[at * batch + n];
                            let wins = v > best;
                            winner = if wins { at } else { winner };
                            best = if wins { v } else { best };
                        }
                    }
                    (out[o + n], argmax[o + n]) = (best, winner);
                }
            }
        }
    }
}

/// The backward pass of [`pool_forward_batch`], Eq 12 for every image: each window's error
/// goes to its winner, every other value gets 0.
///
/// Book: "Convolutional networks" (The fast version).
///
/// `delta_out`: (c·⌊h/k⌋·⌊w/k⌋, batch); `argmax`: as the forward pass left it; `delta_in`:
/// resized to (shape.len(), batch).
///
/// # Panics
/// If `argmax` does not have one entry per value of `delta_out`.
#[track_caller]
pub fn pool_backward_batch<T: Scalar>(
    shape: MapShape,
    delta_out: &Matrix<T>,
    argmax: &[usize],
    delta_in: &mut Matrix<T>,
) {
    let batch = delta_out.cols();
    assert_eq!(
        argmax.len(),
        delta_out.rows() * batch,
        "pool_backward_batch: {} winners for {}×{batch} errors",
        argmax.len(),
        delta_out.rows()
    );
    delta_in.resize(shape.len(), batch);
    delta_in.as_mut_slice().fill(T::ZERO);
    for (o, winners) in argmax.chunks(batch.max(1)).enumerate() {
        for (n, (&at, &d)) in winners.iter().zip(delta_out.row(o)).enumerate() {
            delta_in[(at, n)] = d;
        }
    }
}
// ANCHOR_END: pool_batch

/// Panics unless `kernels` is (c_out, c_in·k·k).
#[track_caller]
fn check_kernels<T: Scalar>(op: &str, shape: ConvShape, kernels: &Matrix<T>) {
    if kernels.shape() != (shape.maps, shape.kernel_len()) {
        crate::linalg::shape_mismatch(op, kernels.shape(), (shape.maps, shape.kernel_len()));
    }
}

/// The same values, row by row, read as a `rows × cols` matrix (no copy).
fn reshape<T: Scalar>(m: &mut Matrix<T>, rows: usize, cols: usize) {
    *m = Matrix::from_vec(rows, cols, std::mem::take(m).into_vec());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One 3×3 map (1 2 3 / 4 5 6 / 7 8 9), one 2×2 kernel (1 0 / 0 −1), bias ½.
    fn three_by_three() -> (ConvShape, Vec<f64>, Vec<f64>, Vec<f64>) {
        let shape = ConvShape {
            input: MapShape::new(1, 3, 3),
            k: 2,
            maps: 1,
        };
        let a = (1..=9).map(f64::from).collect();
        (shape, a, vec![1.0, 0.0, 0.0, -1.0], vec![0.5])
    }

    #[test]
    fn a_3x3_image_with_a_2x2_kernel_forward_by_hand() {
        // z(y, x) = a(y, x) − a(y + 1, x + 1) + ½: 1 − 5, 2 − 6, 4 − 8, 5 − 9, each −4 + ½.
        let (shape, a, kernels, b) = three_by_three();
        let mut z = vec![0.0; 4];
        conv_forward(shape, &a, &kernels, &b, &mut z);
        assert_eq!(z, [-3.5; 4]);
    }

    #[test]
    fn a_3x3_image_with_a_2x2_kernel_backward_by_hand() {
        // δ = (1 2 / 3 4).
        // Eq 10: ∂C/∂K(p, q) = Σ δ(y, x) a(y + p, x + q):
        //   (0,0): 1·1 + 2·2 + 3·4 + 4·5 = 37;  (0,1): 1·2 + 2·3 + 3·5 + 4·6 = 47;
        //   (1,0): 1·4 + 2·5 + 3·7 + 4·8 = 67;  (1,1): 1·5 + 2·6 + 3·8 + 4·9 = 77.
        // Eq 11: ∂C/∂b = 1 + 2 + 3 + 4 = 10.
        // Eq 13: ∂C/∂a(y, x) = δ(y, x)·K(0,0) + δ(y − 1, x − 1)·K(1,1) = δ(y, x) − δ(y−1, x−1):
        //   (1 2 0 / 3 4−1 −2 / 0 −3 −4) = (1 2 0 / 3 3 −2 / 0 −3 −4).
        let (shape, a, kernels, _) = three_by_three();
        let delta = [1.0, 2.0, 3.0, 4.0];
        let (mut nabla_k, mut nabla_b, mut delta_in) = (vec![0.0; 4], vec![0.0], vec![9.9; 9]);
        conv_backward(
            shape,
            &a,
            &kernels,
            &delta,
            &mut nabla_k,
            &mut nabla_b,
            &mut delta_in,
        );
        assert_eq!(nabla_k, [37.0, 47.0, 67.0, 77.0]);
        assert_eq!(nabla_b, [10.0]);
        assert_eq!(delta_in, [1.0, 2.0, 0.0, 3.0, 3.0, -2.0, 0.0, -3.0, -4.0]);
    }

    #[test]
    fn pool_backward_routes_delta_to_the_argmax_only() {
        // One 4×4 map pooled 2×2: the maxima are 6 (at index 5), 8 (7), 14 (8), 16 (15).
        let shape = MapShape::new(1, 4, 4);
        #[rustfmt::skip]
        let a = [
            1.0, 2.0,  3.0, 4.0,
            5.0, 6.0,  7.0, 8.0,
            14.0, 9.0, 10.0, 11.0,
            12.0, 13.0, 15.0, 16.0,
        ];
        let (mut out, mut argmax) = (vec![0.0; 4], vec![0; 4]);
        pool_forward(shape, 2, &a, &mut out, &mut argmax);
        assert_eq!(out, [6.0, 8.0, 14.0, 16.0]);
        assert_eq!(argmax, [5, 7, 8, 15]);
        let mut delta_in = vec![9.9; 16];
        pool_backward(&[0.1, 0.2, 0.3, 0.4], &argmax, &mut delta_in);
        for (at, &d) in delta_in.iter().enumerate() {
            let want = match at {
                5 => 0.1,
                7 => 0.2,
                8 => 0.3,
                15 => 0.4,
                _ => 0.0,
            };
            assert_eq!(d, want, "δ at {at}");
        }
    }

    #[test]
    fn pool_ties_go_to_the_first_and_leftover_rows_are_dropped() {
        // A 3×3 map of equal values pooled 2×2: one window, its first value wins.
        let (mut out, mut argmax) = (vec![0.0; 1], vec![9; 1]);
        pool_forward(
            MapShape::new(1, 3, 3),
            2,
            &[7.0f64; 9],
            &mut out,
            &mut argmax,
        );
        assert_eq!((out[0], argmax[0]), (7.0, 0));
    }

    #[test]
    #[should_panic(expected = "conv_forward: b has 2 values")]
    fn a_bias_of_the_wrong_length_panics_naming_it() {
        let (shape, a, kernels, _) = three_by_three();
        conv_forward(shape, &a, &kernels, &[0.0, 0.0], &mut [0.0; 4]);
    }
}
