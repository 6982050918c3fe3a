//! Convolutional layers, checked against independent oracles: the fast version (a batch,
//! lowered to matrix products) equals the teaching version (the direct loops, one image at a
//! time), convolution to rounding, pooling bit for bit.
//!
//! Why "to rounding" and not bit for bit: the teaching loops add their products one at
//! a time from left to right; the matrix multiply adds them in another order (in blocks, and
//! with fused multiply-adds, which round once where the loop rounds twice), and the batch
//! scales each sum by 1/n once, where the mean of per-image gradients sums n scaled terms.
//! Every value here is a sum of at most a few thousand products of numbers of order 1, so the
//! two differ by about 1e-14; the tests allow |a − b| ≤ 1e-12 · max(1, |a|, |b|). Pooling
//! only compares and copies, so it is exact.

use proptest::prelude::*;
use scratchnet::activation::Activation;
use scratchnet::conv::{
    conv_backward, conv_backward_batch, conv_forward, conv_forward_batch, pool_backward,
    pool_backward_batch, pool_forward, pool_forward_batch, ConvShape, MapShape,
};
use scratchnet::linalg::{Matrix, Vector};
use scratchnet::rng::Rng;

/// |a − b| ≤ 1e-12 · max(1, |a|, |b|): equal to rounding (see the top).
fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let scale = 1f64.max(x.abs()).max(y.abs());
        assert!(
            (x - y).abs() <= 1e-12 * scale,
            "{what}[{i}]: {x} vs {y} (difference {:e})",
            (x - y).abs()
        );
    }
}

/// A (rows, cols) matrix of uniform values in [−1, 1).
fn uniform(rows: usize, cols: usize, rng: &mut Rng) -> Matrix<f64> {
    Matrix::from_fn(rows, cols, |_, _| 2.0 * rng.uniform() - 1.0)
}

/// Column j of `m` as a vector.
fn column(m: &Matrix<f64>, j: usize) -> Vec<f64> {
    m.column(j).into_vec()
}

/// A convolutional layer's geometry from a proptest's numbers, the kernel shrunk to fit.
fn conv_shape(maps_in: usize, rows: usize, cols: usize, k: usize, maps: usize) -> ConvShape {
    ConvShape {
        input: MapShape::new(maps_in, rows, cols),
        k: k.min(rows).min(cols),
        maps,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The batched convolution (im2col and gemm) equals the direct loops, image by image:
    /// the output, ∂C/∂K and ∂C/∂b (the batch's mean), and the error sent back.
    #[test]
    fn fast_convolution_equals_the_teaching_loops(
        maps_in in 1usize..=3, rows in 1usize..=9, cols in 1usize..=9, k in 1usize..=4,
        maps in 1usize..=4, batch in 1usize..=4, seed in any::<u64>(),
    ) {
        let shape = conv_shape(maps_in, rows, cols, k, maps);
        let (input, output) = (shape.input, shape.output());
        let mut rng = Rng::new(seed);
        let a = uniform(input.len(), batch, &mut rng);
        let kernels = uniform(maps, shape.kernel_len(), &mut rng);
        let b = Vector::from_fn(maps, |_| rng.uniform());
        let delta = uniform(output.len(), batch, &mut rng);

        let (mut cols, mut z) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
        conv_forward_batch(shape, &a, &kernels, &b, Activation::Identity, &mut cols, &mut z);
        let (mut nabla_k, mut nabla_b, mut delta_in) =
            (Matrix::zeros(maps, shape.kernel_len()), Vector::zeros(maps), Matrix::zeros(0, 0));
        let back = Some(&mut delta_in);
        conv_backward_batch(shape, &kernels, &delta, &mut cols, &mut nabla_k, &mut nabla_b, back);

        let (mut sum_k, mut sum_b) = (vec![0.0; nabla_k.as_slice().len()], vec![0.0; maps]);
        for n in 0..batch {
            let (a_n, delta_n) = (column(&a, n), column(&delta, n));
            let mut z_n = vec![0.0; output.len()];
            conv_forward(shape, &a_n, kernels.as_slice(), b.as_slice(), &mut z_n);
            assert_close(&column(&z, n), &z_n, "Z");
            let mut back_n = vec![0.0; input.len()];
            let (k, d) = (kernels.as_slice(), &delta_n);
            conv_backward(shape, &a_n, k, d, &mut sum_k, &mut sum_b, &mut back_n);
            assert_close(&column(&delta_in, n), &back_n, "∂C/∂A (Eq 13)");
        }
        let mean = |v: Vec<f64>| -> Vec<f64> { v.iter().map(|x| x / batch as f64).collect() };
        assert_close(nabla_k.as_slice(), &mean(sum_k), "∂C/∂K (Eq 10)");
        assert_close(nabla_b.as_slice(), &mean(sum_b), "∂C/∂b (Eq 11)");
    }

    /// The batched max-pooling picks the same winners as the direct loops and routes δ to
    /// them: exactly the same values, since pooling only compares and copies.
    #[test]
    fn fast_pooling_equals_the_teaching_loops_bit_for_bit(
        maps in 1usize..=3, rows in 1usize..=9, cols in 1usize..=9, k in 1usize..=3,
        batch in 1usize..=4, ties in any::<bool>(), seed in any::<u64>(),
    ) {
        let k = k.min(rows).min(cols);
        let (shape, mut rng) = (MapShape::new(maps, rows, cols), Rng::new(seed));
        let pooled = shape.after_pool(k);
        // With `ties`, values from {0, 1, 2}: windows full of equal maxima.
        let a = Matrix::from_fn(shape.len(), batch, |_, _| match ties {
            true => rng.below(3) as f64,
            false => rng.uniform(),
        });
        let delta = uniform(pooled.len(), batch, &mut rng);
        let (mut out, mut argmax, mut back) = (Matrix::zeros(0, 0), Vec::new(), Matrix::zeros(0, 0));
        pool_forward_batch(shape, k, &a, &mut out, &mut argmax);
        pool_backward_batch(shape, &delta, &argmax, &mut back);
        for n in 0..batch {
            let (mut out_n, mut argmax_n) = (vec![0.0; pooled.len()], vec![0; pooled.len()]);
            pool_forward(shape, k, &column(&a, n), &mut out_n, &mut argmax_n);
            prop_assert_eq!(column(&out, n), out_n);
            let winners: Vec<usize> = (0..pooled.len()).map(|o| argmax[o * batch + n]).collect();
            prop_assert_eq!(winners, argmax_n.clone());
            let mut back_n = vec![0.0; shape.len()];
            pool_backward(&column(&delta, n), &argmax_n, &mut back_n);
            prop_assert_eq!(column(&back, n), back_n);
        }
    }
}
