//! Every kernel this CPU supports against the textbook `gemm_naive`, on awkward shapes, all
//! four transpose combinations, and α/β including β = 0 over a C full of NaN.
//!
//! Tolerance. Each kernel and the reference compute c_ij = β·c_ij + α·Σ_p a_ip b_pj in some
//! order, with or without fused multiply-add. Summing k products in any order has error at
//! most γ_k·Σ|a_ip b_pj| with γ_k = kε/(1 − kε) ≈ kε (Higham, *Accuracy and Stability*, §3.1);
//! the α and β steps add two more roundings. So both results lie within (k + 2)·ε·M of the
//! exact value, where M = |α|·Σ_p |a_ip||b_pj| + |β|·|c_ij|, and they differ from each other
//! by at most 2(k + 2)·ε·M, the bound we test. It is relative to M, not to |c_ij|, because
//! cancellation can make c_ij tiny while the rounding errors are not.

use crate::common::supported_kernels;
use proptest::prelude::*;
use scratchnet::linalg::{
    gemm, gemm_naive, gemm_with, gemm_with_threads, kernel_name, Kernel, MatRef, Scalar,
};

/// A small deterministic generator (xorshift), values in [-1, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    fn vec<T: Scalar>(&mut self, len: usize) -> Vec<T> {
        (0..len).map(|_| T::from_f64(self.next())).collect()
    }
}

/// Storage for an `rows × cols` operand; if `transposed`, it is kept as its `cols × rows`
/// transpose and viewed through `.t()`, so the kernel sees swapped strides.
fn view<T: Scalar>(data: &[T], rows: usize, cols: usize, transposed: bool) -> MatRef<'_, T> {
    if transposed {
        MatRef::row_major(data, cols, rows).t()
    } else {
        MatRef::row_major(data, rows, cols)
    }
}

/// Runs `kernel` and the reference on one case and checks the bound in the module doc.
#[allow(clippy::too_many_arguments)]
fn check<T: Scalar>(
    kernel: Kernel,
    threads: usize,
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
    alpha: f64,
    beta: f64,
    seed: u64,
) {
    let mut rng = Lcg(seed | 1);
    let (a, b): (Vec<T>, Vec<T>) = (rng.vec(m * k), rng.vec(k * n));
    let (av, bv) = (view(&a, m, k, ta), view(&b, k, n, tb));
    let c0: Vec<T> = if beta == 0.0 {
        vec![T::from_f64(f64::NAN); m * n]
    } else {
        rng.vec(m * n)
    };
    let (alpha, beta) = (T::from_f64(alpha), T::from_f64(beta));
    let mut want = c0.clone();
    gemm_naive(alpha, av, bv, beta, &mut want);
    let mut got = c0.clone();
    gemm_with_threads(kernel, threads, alpha, av, bv, beta, &mut got);
    let eps = if std::mem::size_of::<T>() == 4 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    for i in 0..m {
        for j in 0..n {
            let mag: f64 = (0..k)
                .map(|p| (av.at(i, p).to_f64() * bv.at(p, j).to_f64()).abs())
                .sum();
            let old = if beta == T::ZERO {
                0.0
            } else {
                c0[i * n + j].to_f64().abs()
            };
            let bound = 2.0
                * (k as f64 + 2.0)
                * eps
                * (alpha.to_f64().abs() * mag + beta.to_f64().abs() * old);
            let (g, w) = (got[i * n + j].to_f64(), want[i * n + j].to_f64());
            assert!(
                (g - w).abs() <= bound,
                "{kernel:?} ×{threads} {m}×{k}×{n} ta={ta} tb={tb} α={alpha} β={beta}: c[{i},{j}] = {g}, naive {w}, bound {bound}"
            );
        }
    }
}

/// Sizes around every tile and block edge: 0, 1, primes, and one past KC = 256 / MC = 144.
const SIZES: [usize; 10] = [0, 1, 2, 5, 7, 13, 16, 17, 31, 40];

#[test]
fn every_kernel_matches_naive_on_small_shapes_f32_and_f64() {
    for kernel in supported_kernels() {
        for &m in &SIZES {
            for &n in &SIZES {
                for k in [0, 1, 3, 8, 29] {
                    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                        let seed = (m * 1000 + n * 10 + k) as u64;
                        check::<f32>(kernel, 1, m, k, n, ta, tb, 1.0, 0.0, seed);
                        check::<f64>(kernel, 1, m, k, n, ta, tb, -0.5, 2.0, seed);
                    }
                }
            }
        }
    }
}

#[test]
fn every_kernel_matches_naive_across_block_edges() {
    // k = 257 and k = 1200 cross KC (256 portable; 768 AVX2, split into slices of equal
    // depth: β is applied once, then slices accumulate); m = 97, 151 cross MC; n = 1 and
    // m = 1 take the unpacked matrix-vector path; m = 20 and 28 the 5-row AVX2 tile.
    let shapes = [
        (151, 257, 37),
        (23, 513, 19),
        (1, 300, 45),
        (45, 300, 1),
        (20, 784, 10),
        (97, 61, 103),
        (20, 300, 61),
        (28, 40, 50),
        (150, 70, 1),
        (13, 1200, 21),
    ];
    for kernel in supported_kernels() {
        for (m, k, n) in shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(1.0, 0.0), (0.75, 1.0), (-2.0, 0.5)] {
                    check::<f32>(kernel, 1, m, k, n, ta, tb, alpha, beta, (m + k + n) as u64);
                    check::<f64>(kernel, 1, m, k, n, ta, tb, alpha, beta, (m * k * n) as u64);
                }
            }
        }
    }
}

#[test]
fn beta_zero_ignores_nan_in_c_even_when_k_is_zero() {
    for kernel in supported_kernels() {
        let mut c = vec![f32::NAN; 6];
        let a = MatRef::row_major(&[], 2, 0);
        let b = MatRef::row_major(&[], 0, 3);
        gemm_with(kernel, 1.0, a, b, 0.0, &mut c);
        assert_eq!(c, vec![0.0; 6], "{kernel:?}");
    }
}

#[test]
fn results_are_bit_identical_for_any_thread_count() {
    // Big enough to pass PARALLEL_MIN_WORK, ragged enough that the split lands mid-block;
    // both a wide C (split by columns) and a tall one (split by rows).
    let shapes = [
        (67, 301, 211),
        (211, 301, 67),
        (256, 256, 256),
        (20, 1000, 784),
        (40, 1300, 211),
    ];
    for kernel in supported_kernels() {
        for (m, k, n) in shapes {
            for (ta, tb) in [(false, false), (true, true), (false, true)] {
                let mut rng = Lcg((m + 3 * k + 7 * n) as u64);
                let (a, b): (Vec<f32>, Vec<f32>) = (rng.vec(m * k), rng.vec(k * n));
                let c0: Vec<f32> = rng.vec(m * n);
                let run = |t: usize| {
                    let mut c = c0.clone();
                    gemm_with_threads(
                        kernel,
                        t,
                        0.5,
                        view(&a, m, k, ta),
                        view(&b, k, n, tb),
                        0.25,
                        &mut c,
                    );
                    c
                };
                let one = run(1);
                for t in [2, 3, 4, 7] {
                    let many = run(t);
                    assert!(
                        one.iter()
                            .zip(&many)
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{kernel:?} {m}×{k}×{n}: {t} threads differ from 1"
                    );
                }
                check::<f32>(kernel, 2, m, k, n, ta, tb, 0.5, 0.25, 99);
            }
        }
    }
}

/// A product small enough for the unpacked path gives the same bits as the same rows of a
/// taller product of the same k, which goes through packing and the micro-kernel: the path is
/// chosen by shape, and the choice must not change an answer.
#[test]
fn small_products_equal_the_blocked_path_bit_for_bit() {
    for kernel in supported_kernels() {
        let shapes = [
            (10, 20, 10, false, false), // the write-up's forward products
            (20, 10, 10, true, false),  // δ^{l-1} = (W^l)ᵀ δ^l
            (10, 10, 20, false, true),  // ∂C/∂W^l = δ^l (A^{l-1})ᵀ
            (3, 7, 19, false, false),
            (7, 5, 33, true, true),
            (9, 11, 17, false, true),
        ];
        for (m, k, n, ta, tb) in shapes {
            // β = 0.3, not a power of two, so β·c rounds: a fused β·c + α·t would differ.
            for beta in [0.0f32, 1.0, 0.3] {
                let tall = 400; // 400·k·n multiply-adds: far above the small path's limit
                let mut rng = Lcg((m * 31 + k * 7 + n) as u64);
                let (a, b): (Vec<f32>, Vec<f32>) = (rng.vec(tall * k), rng.vec(k * n));
                let c0: Vec<f32> = rng.vec(tall * n);
                // A's first m rows, in the same layout as the tall A.
                let a_small: Vec<f32> = match ta {
                    false => a[..m * k].to_vec(),
                    true => (0..k)
                        .flat_map(|p| a[p * tall..p * tall + m].to_vec())
                        .collect(),
                };
                let (mut c_small, mut c_tall) = (c0[..m * n].to_vec(), c0.clone());
                let bv = view(&b, k, n, tb);
                gemm_with_threads(
                    kernel,
                    1,
                    0.75,
                    view(&a_small, m, k, ta),
                    bv,
                    beta,
                    &mut c_small,
                );
                gemm_with_threads(
                    kernel,
                    1,
                    0.75,
                    view(&a, tall, k, ta),
                    bv,
                    beta,
                    &mut c_tall,
                );
                assert!(
                    c_small
                        .iter()
                        .zip(&c_tall)
                        .all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{kernel:?} {m}×{k}×{n} (Aᵀ: {ta}, Bᵀ: {tb}, β = {beta}): small and blocked paths differ"
                );
            }
        }
    }
}

/// The AVX-512 small-product kernel (5 × 32 tiles) gives the AVX2 one's bits (5 × 16 tiles):
/// every width from 1 to 70 and some wider (masked vectors, one or two a row), rows that
/// leave 1 to 4 in a last tile, k = 1 to 32, B row-major and transposed (copied first), and
/// β = 0 over NaN, 1 and 0.3 (not a power of two, so β·c rounds). (On a CPU without
/// AVX-512 there is nothing to compare.)
#[test]
fn avx512_small_products_are_avx2s_bit_for_bit() {
    let both = [Kernel::Avx512, Kernel::Avx2].map(|k| supported_kernels().contains(&k));
    if both != [true, true] {
        return;
    }
    let widths = (1..=70).chain([96, 100, 127, 784]);
    for (case, n) in widths.enumerate() {
        let (m, k) = ([1, 4, 5, 9, 13, 20, 23][case % 7], [1, 5, 10, 32][case % 4]);
        let mut rng = Lcg((m * 131 + k * 17 + n) as u64);
        let (a, b, c0): (Vec<f32>, Vec<f32>, Vec<f32>) =
            (rng.vec(m * k), rng.vec(k * n), rng.vec(m * n));
        // k ≤ 32: the small path for both kernels (B transposed only while small enough to
        // be copied).
        for tb in [false, true].into_iter().filter(|&tb| !tb || k * n <= 4096) {
            for beta in [0.0f32, 1.0, 0.3] {
                let run = |kernel| {
                    let mut c = if beta == 0.0 {
                        vec![f32::NAN; m * n]
                    } else {
                        c0.clone()
                    };
                    let (av, bv) = (view(&a, m, k, false), view(&b, k, n, tb));
                    gemm_with_threads(kernel, 1, -0.3, av, bv, beta, &mut c);
                    c.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
                };
                let case = format!("{m}×{k}×{n}, Bᵀ {tb}, β = {beta}");
                assert_eq!(run(Kernel::Avx512), run(Kernel::Avx2), "{case}");
            }
        }
    }
}

/// The AVX-512 kernel's dot-product path (two columns' 8-lane sums to a register) gives the
/// AVX2 dot kernel's bits: full 4 × 6 blocks, ragged rows and columns, and k not a multiple
/// of 8, fewer than 4 rows or 6 columns, and on 3 threads (blocks of columns, whose bottom
/// corner is not the end of C). (On a CPU without AVX-512 there is nothing to compare.)
#[test]
fn avx512_dot_products_are_avx2s_bit_for_bit() {
    let both = [Kernel::Avx512, Kernel::Avx2].map(|k| supported_kernels().contains(&k));
    if both != [true, true] {
        return;
    }
    // A by rows and Bᵀ stored (B's columns contiguous), k ≥ 64, and m at most both kernels'
    // MC (70 for AVX2's five-row tiles): the dot path for both.
    let shapes = [
        (4, 64, 6),
        (10, 784, 20),
        (13, 100, 17),
        (7, 71, 11),
        (70, 65, 35),
        (64, 784, 800),
        (3, 64, 5),
        (2, 72, 14),
        (9, 64, 2),
        (20, 784, 200),
    ];
    for (m, k, n) in shapes {
        for beta in [0.0f32, 1.0, 0.3] {
            let mut rng = Lcg((m * 31 + k * 7 + n) as u64);
            let (a, b): (Vec<f32>, Vec<f32>) = (rng.vec(m * k), rng.vec(k * n));
            let c0: Vec<f32> = rng.vec(m * n);
            let run = |kernel, threads| {
                let mut c = c0.clone();
                let (av, bv) = (view(&a, m, k, false), view(&b, k, n, true));
                gemm_with_threads(kernel, threads, 0.75, av, bv, beta, &mut c);
                c.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            };
            let avx2 = run(Kernel::Avx2, 1);
            for threads in [1, 3] {
                let case = format!("{m}×{k}×{n}, β = {beta}, {threads} threads");
                assert_eq!(run(Kernel::Avx512, threads), avx2, "{case}");
            }
        }
    }
}

/// A dot-product kernel's c_ij does not depend on the columns around it: the dot kernels
/// take B's columns in chunks that stay in L2 (36 or 39 columns for k = 784, 510 for
/// k = 64), then in blocks of 2 to 6, and each c_ij must come out as it does in a product of
/// just its two columns. Shapes wide enough for several chunks, with ragged last chunks.
#[test]
fn dot_products_do_not_depend_on_the_columns_around_them() {
    let shapes = [(20, 784, 200), (9, 784, 77), (5, 64, 1100), (13, 100, 700)];
    for kernel in [Kernel::Avx2, Kernel::Avx512] {
        if !supported_kernels().contains(&kernel) {
            continue;
        }
        for (m, k, n) in shapes {
            let mut rng = Lcg((m * 17 + k + n) as u64);
            let (a, b): (Vec<f32>, Vec<f32>) = (rng.vec(m * k), rng.vec(k * n));
            // B's columns contiguous (Bᵀ stored), m ≤ MC and k ≥ 64: the dot path.
            let product = |b: &[f32], n: usize| {
                let mut c = vec![f32::NAN; m * n];
                gemm_with_threads(
                    kernel,
                    1,
                    0.75,
                    view(&a, m, k, false),
                    view(b, k, n, true),
                    0.0,
                    &mut c,
                );
                c
            };
            let whole = product(&b, n);
            for j in 0..n - 1 {
                let pair = product(&b[j * k..(j + 2) * k], 2);
                for i in 0..m {
                    for s in 0..2 {
                        assert_eq!(
                            pair[i * 2 + s].to_bits(),
                            whole[i * n + j + s].to_bits(),
                            "{kernel:?} {m}×{k}×{n}: c[{i}][{}]",
                            j + s
                        );
                    }
                }
            }
        }
    }
}

/// An edge tile's columns come out as they would inside a full tile, whichever kernel ran
/// them (the AVX-512 kernels hand edges of at most 8 columns to a kernel 8 wide, of 9 to 16
/// to one 16 wide, of 17 to 24 to one 24 wide), and whichever way they were stored (AVX-512's
/// masked store, or the scalar loop): the product with n columns equals the first n columns
/// of the same product with B widened to a whole number of tiles, bit for bit. m = 13 leaves
/// a 1-row tile (AVX-512's 12-row tile; AVX2's 6-row one), so some edge tiles are short in
/// rows and columns at once; k = 600 is two or three KC slices, so later ones add onto the
/// first; n = 104 and 105, 112 and 113, 120 and 121 are the widths on either side of each
/// edge kernel's.
#[test]
fn edge_tiles_keep_the_full_tiles_bits() {
    // k > SMALL_K and B row-major: the blocked path.
    let (m, k, wide) = (13, 600, 128);
    let mut rng = Lcg(29);
    let (a, b_wide): (Vec<f32>, Vec<f32>) = (rng.vec(m * k), rng.vec(k * wide));
    for kernel in supported_kernels() {
        for n in [100, 97, 104, 105, 110, 112, 113, 120, 121, 127] {
            for beta in [0.0f32, 1.0, 0.3] {
                let c0: Vec<f32> = Lcg(n as u64).vec(m * wide);
                let b: Vec<f32> = b_wide
                    .chunks(wide)
                    .flat_map(|row| &row[..n])
                    .copied()
                    .collect();
                let mut c_wide = c0.clone();
                let mut c: Vec<f32> = c0.chunks(wide).flat_map(|row| &row[..n]).copied().collect();
                let av = view(&a, m, k, false);
                gemm_with(
                    kernel,
                    0.75,
                    av,
                    view(&b_wide, k, wide, false),
                    beta,
                    &mut c_wide,
                );
                gemm_with(kernel, 0.75, av, view(&b, k, n, false), beta, &mut c);
                let first_n = c_wide.chunks(wide).flat_map(|row| &row[..n]);
                let same = c
                    .iter()
                    .zip(first_n)
                    .all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{} kernel, {m}×{k}×{n}, β = {beta}", kernel.name());
            }
        }
    }
}

/// An edge tile's rows come out as they would inside a full tile: the product with m rows
/// equals the first m rows of the same product with A lengthened to 24 rows (two of
/// AVX-512's 12-row tiles, four of AVX2's 6-row ones), bit for bit, for every m below 24,
/// so that the AVX-512 kernels' 6-row edge kernels meet the 12-row tile's bits, in full
/// columns (n = 32, 64) and in ragged ones (n = 20, the width of Xᵀ·Δ, and 84: two tiles of
/// 32 and one of 20), with A row-major and transposed. The paths cover A packed and read in
/// place, rows contiguous or columns strided (a transposed A is read in place when C is one
/// sliver wide, n ≤ 32), and B packed and read in place (n = 32 is one full sliver).
#[test]
fn edge_rows_keep_the_full_tiles_bits() {
    let (tall, k) = (24, 300);
    let mut rng = Lcg(31);
    let a_tall: Vec<f32> = rng.vec(tall * k);
    for kernel in supported_kernels() {
        for n in [20, 32, 64, 84] {
            let b: Vec<f32> = Lcg(n as u64).vec(k * n);
            for transposed in [false, true] {
                let product = |m: usize| {
                    let a: Vec<f32> = match transposed {
                        false => a_tall[..m * k].to_vec(),
                        true => (0..k * m).map(|q| a_tall[(q % m) * k + q / m]).collect(),
                    };
                    let mut c = vec![0.0f32; m * n];
                    let (av, bv) = (view(&a, m, k, transposed), view(&b, k, n, false));
                    gemm_with(kernel, 0.75, av, bv, 0.0, &mut c);
                    c
                };
                let c_tall = product(tall);
                for m in 1..tall {
                    let same = product(m)
                        .iter()
                        .zip(&c_tall)
                        .all(|(x, y)| x.to_bits() == y.to_bits());
                    let name = kernel.name();
                    assert!(same, "{name} kernel, {m}×{k}×{n}, Aᵀ {transposed}");
                }
            }
        }
    }
}

/// Threaded products from several threads at once: one at a time gets the kept-alive
/// workers, the others start their own; every answer must still be the one-thread answer.
#[test]
fn threaded_products_from_many_threads_at_once_agree() {
    let (m, k, n) = (130, 200, 150);
    let mut rng = Lcg(17);
    let (a, b): (Vec<f32>, Vec<f32>) = (rng.vec(m * k), rng.vec(k * n));
    let product = |threads: usize| {
        let mut c = vec![0.0f32; m * n];
        let (av, bv) = (view(&a, m, k, false), view(&b, k, n, false));
        gemm_with_threads(Kernel::best(), threads, 1.0, av, bv, 0.0, &mut c);
        c
    };
    let one = product(1);
    std::thread::scope(|s| {
        for caller in 0..4 {
            let (one, product) = (&one, &product);
            s.spawn(move || {
                for round in 0..25 {
                    let many = product(2 + (caller + round) % 3);
                    assert!(
                        one.iter()
                            .zip(&many)
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "caller {caller}, round {round}: differs from one thread"
                    );
                }
            });
        }
    });
}

#[test]
fn gemm_dispatches_to_a_supported_kernel() {
    let name = kernel_name();
    let k = Kernel::from_name(name).expect("kernel_name is a kernel's name");
    assert!(k.is_supported());
    let a = [1.0f32, 2.0, 3.0, 4.0];
    let mut c = [f32::NAN; 4];
    let av = MatRef::row_major(&a, 2, 2);
    gemm(1.0, av, av, 0.0, &mut c);
    // [1 2; 3 4]² = [7 10; 15 22], exact in f32.
    assert_eq!(c, [7.0, 10.0, 15.0, 22.0]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_shapes_match_naive(
        m in 0usize..60, k in 0usize..300, n in 0usize..60,
        ta: bool, tb: bool, beta_zero: bool, seed: u64,
    ) {
        let (alpha, beta) = if beta_zero { (1.5, 0.0) } else { (-0.5, 1.25) };
        for kernel in supported_kernels() {
            check::<f32>(kernel, 1, m, k, n, ta, tb, alpha, beta, seed);
            check::<f64>(kernel, 1, m, k, n, ta, tb, alpha, beta, seed);
        }
    }
}
