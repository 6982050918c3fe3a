//! The AVX2 dot-product kernel: C ← αAB + βC as blocks of dot products, for A with
//! contiguous rows and B with contiguous columns, nothing packed. Also the dot products the
//! matrix-vector product (`gemv.rs`) is made of.
//!
//! Book chapter: "Making it fast" (The network's own shapes: the forward product is dot
//! products), which also gives the measurements behind the block shapes chosen here.

use super::super::super::gemm::MatRef;
use super::first_lanes;
use std::arch::x86_64::*;

// ANCHOR: avx2_dot
/// C ← αAB + βC as dot products c_ij = Σ_p a_ip b_pj, for A with contiguous rows and B with
/// contiguous columns (training's forward product W·X, with the batch stored one image per
/// row): nothing is packed. A 4 × 3 block of C keeps 12 accumulators, so each step of 8
/// values of p loads 4 + 3 vectors for 12 FMAs, the same ratio as the 6 × 16 micro-kernel.
///
/// Every c_ij is computed the same way whichever block it falls in (8 lane sums over p, the
/// last k mod 8 values by a masked load, then one fixed reduction tree), so ragged edges and
/// thread splits change nothing.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `a.col_stride == 1`, `b.row_stride == 1`, the views
/// passed `check_gemm_shapes`, and C at `c` (row stride `ldc`) is `a.rows × b.cols`.
#[target_feature(enable = "avx2,fma")]
pub(in super::super) unsafe fn gemm_dot_f32(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let (m, n) = (a.rows, b.cols);
    // Four rows of A (4·k values: 12.5 KB for k = 784) stay in L1 while a chunk of B's
    // columns streams past them, three at a time (faster than the other order, three columns
    // of B staying while A streams); the chunk stays in L2 for every four rows.
    for (jc, width) in column_chunks(n, a.cols, 3) {
        for i0 in (0..m).step_by(4) {
            let end = jc + width;
            let mut j0 = jc;
            while j0 < end {
                // Columns by threes, but the last four or two by twos: a lone column left
                // over would run four chains of FMAs, too few to hide the FMA's latency.
                // SAFETY: the caller's promises, for the block at (i0 < m, j0 < n).
                unsafe {
                    if end - j0 == 4 || end - j0 == 2 {
                        dot_pair(alpha, a, b, beta, c, ldc, i0, j0);
                        j0 += 2;
                    } else {
                        dot_block::<4, 3>(alpha, a, b, beta, c, ldc, i0, j0);
                        j0 += 3;
                    }
                }
            }
        }
    }
}

/// Bytes of B's columns a dot-product kernel keeps in cache while every block of A's rows
/// passes over them: half the L2 of the oldest AVX2 cores (256 KiB), an eighth of recent ones.
const DOT_CHUNK_BYTES: usize = 128 << 10;

/// The chunks `(first column, width)` that split `n` columns of `k` f32 values each: every
/// chunk but the last `chunk` columns, a multiple of `step` holding at most
/// [`DOT_CHUNK_BYTES`] (at least `step` columns), and the last the rest, from `chunk` to
/// `2·chunk − 1` columns (or all `n`). So the columns left over after the blocks of `step`
/// are the whole product's, as without chunks, and never a lone column at a chunk's end,
/// too few FMA chains to hide their latency. Without chunks a product 800 columns wide
/// read all of B (2.5 MB for k = 784) once per four rows of A, from L3: the batch-major
/// forward product X·Wᵀ of 784-800-800-10 ran at a third of the peak.
pub(in super::super) fn column_chunks(
    n: usize,
    k: usize,
    step: usize,
) -> impl Iterator<Item = (usize, usize)> {
    let fit = DOT_CHUNK_BYTES / (k * size_of::<f32>()).max(1);
    let chunk = (fit - fit % step).max(step);
    let whole = (n / chunk).saturating_sub(1);
    let last = (whole * chunk, n - whole * chunk);
    (0..whole)
        .map(move |c| (c * chunk, chunk))
        .chain(Some(last).filter(|&(_, width)| width > 0))
}

/// [`dot_block`] for two columns, compiled on its own: the 4 × 3 loop needs all 16 vector
/// registers (12 sums, 3 columns, 1 row), and with this second block shape compiled into the
/// same function the compiler spilled one of its sums to the stack in every step.
///
/// # Safety
/// As [`dot_block`].
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_pair(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    i0: usize,
    j0: usize,
) {
    // SAFETY: the caller's promises.
    unsafe { dot_block::<4, 2>(alpha, a, b, beta, c, ldc, i0, j0) }
}

/// The block of C at (i0, j0) for [`gemm_dot_f32`]: R × S dot products, or on the ragged
/// edge of C the part of one that is inside (rows by 1 × S, columns by R × 1, so no edge
/// runs on a single chain of FMAs except the corner).
///
/// # Safety
/// As [`gemm_dot_f32`], with `i0 < a.rows` and `j0 < b.cols`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_block<const R: usize, const S: usize>(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    i0: usize,
    j0: usize,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let row = |i: usize| a.data[i * a.row_stride..].as_ptr();
    let col = |j: usize| b.data[j * b.col_stride..].as_ptr();
    let store = |i: usize, j: usize, dot: f32| {
        // SAFETY: called below with i < m and j < n only: a value of C.
        let c_ij = unsafe { &mut *c.add(i * ldc + j) };
        store_dot(c_ij, alpha, dot, beta);
    };
    let (full_i, full_j) = (i0 + R <= m, j0 + S <= n);
    // SAFETY: every row of A and column of B passed to `dots` holds k contiguous values
    // (the caller's promise).
    unsafe {
        if full_i && full_j {
            let rows = std::array::from_fn(|r| row(i0 + r));
            let d = dots::<R, S>(k, rows, std::array::from_fn(|s| col(j0 + s)));
            for (i, d_i) in d.iter().enumerate() {
                for (j, &d_ij) in d_i.iter().enumerate() {
                    store(i0 + i, j0 + j, d_ij);
                }
            }
        } else if full_j {
            for i in i0..m {
                let d = dots::<1, S>(k, [row(i)], std::array::from_fn(|s| col(j0 + s)));
                for (j, &d_ij) in d[0].iter().enumerate() {
                    store(i, j0 + j, d_ij);
                }
            }
        } else if full_i {
            for j in j0..n {
                let d = dots::<R, 1>(k, std::array::from_fn(|r| row(i0 + r)), [col(j)]);
                for (i, d_i) in d.iter().enumerate() {
                    store(i0 + i, j, d_i[0]);
                }
            }
        } else {
            for i in i0..m {
                for j in j0..n {
                    store(i, j, dots::<1, 1>(k, [row(i)], [col(j)])[0][0]);
                }
            }
        }
    }
}
// ANCHOR_END: avx2_dot

/// The R × S dot products of `k`-long rows `u[r]` with `k`-long rows `v[s]`.
///
/// # Safety
/// The CPU must support AVX2 and FMA; every `u[r]` and `v[s]` points to `k` readable values.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn dots<const R: usize, const S: usize>(
    k: usize,
    u: [*const f32; R],
    v: [*const f32; S],
) -> [[f32; S]; R] {
    let mut acc = [[_mm256_setzero_ps(); S]; R];
    let k8 = k - k % 8;
    for p in (0..k8).step_by(8) {
        // SAFETY: p + 8 ≤ k.
        unsafe { dot_step::<R, S, false>(&mut acc, &u, &v, p, _mm256_setzero_si256()) };
    }
    if k8 < k {
        // The last k mod 8 values, with the missing lanes loaded as zeros.
        // SAFETY: the mask's k − k8 lanes are the values left, k8 .. k.
        unsafe { dot_step::<R, S, true>(&mut acc, &u, &v, k8, first_lanes(k - k8)) };
    }
    let mut out = [[0.0; S]; R];
    for (out_r, acc_r) in out.iter_mut().zip(&acc) {
        for (o, &a) in out_r.iter_mut().zip(acc_r) {
            *o = hsum(a);
        }
    }
    out
}

/// One step of [`dots`]: `acc[r][s] += u[r][p .. p + 8] · v[s][p .. p + 8]`, lane by lane
/// (only the lanes of `mask` loaded when `MASKED`).
///
/// # Safety
/// The CPU must support AVX2 and FMA; from `p` on, every `u[r]` and `v[s]` holds 8 readable
/// values, or, when `MASKED`, as many as `mask` has lanes set.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_step<const R: usize, const S: usize, const MASKED: bool>(
    acc: &mut [[__m256; S]; R],
    u: &[*const f32; R],
    v: &[*const f32; S],
    p: usize,
    mask: __m256i,
) {
    // SAFETY: the caller's promise, for x = u[r] or v[s].
    let load = |x: *const f32| unsafe { load8::<MASKED>(x.add(p), mask) };
    let v_p: [__m256; S] = std::array::from_fn(|s| load(v[s]));
    for (r, acc_r) in acc.iter_mut().enumerate() {
        let u_p = load(u[r]);
        for (acc_rs, &v_ps) in acc_r.iter_mut().zip(&v_p) {
            *acc_rs = _mm256_fmadd_ps(u_p, v_ps, *acc_rs);
        }
    }
}

/// c_ij ← α·dot + β·c_ij, the product's last step for one value of C (with β = 0, C's old
/// value is not read, so a NaN there is dropped). One function for every dot-product kernel,
/// so that they round the same.
#[inline]
pub(in super::super) fn store_dot(c_ij: &mut f32, alpha: f32, dot: f32, beta: f32) {
    let ab = alpha * dot;
    *c_ij = if beta == 0.0 { ab } else { beta * *c_ij + ab };
}

/// The 8 values at `x`, or when `MASKED` only the lanes of `mask` (the others 0).
///
/// # Safety
/// The CPU must support AVX2; the 8 values (or the lanes of `mask`) at `x` are readable.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(in super::super) unsafe fn load8<const MASKED: bool>(x: *const f32, mask: __m256i) -> __m256 {
    // SAFETY: the caller's promise.
    unsafe {
        match MASKED {
            true => _mm256_maskload_ps(x, mask),
            false => _mm256_loadu_ps(x),
        }
    }
}

/// The sum of a vector's 8 lanes, always in the same order: (0+4, 1+5, 2+6, 3+7), then
/// pairs, then the last two.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(in super::super) fn hsum(x: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
}

#[cfg(test)]
mod tests {
    use super::column_chunks;

    #[test]
    fn column_chunks_cover_the_columns_in_steps_with_the_rest_last() {
        for (k, step) in [(784, 3), (784, 6), (64, 6), (100_000, 3), (1, 6)] {
            for n in (0..200).chain([799, 800, 801, 5000]) {
                let chunks: Vec<_> = column_chunks(n, k, step).collect();
                let mut next = 0;
                for (i, &(jc, width)) in chunks.iter().enumerate() {
                    assert_eq!(jc, next, "k {k} n {n}: contiguous");
                    assert!(width > 0);
                    let first = chunks[0].1;
                    if i + 1 < chunks.len() {
                        assert_eq!(width, first);
                        assert_eq!(width % step, 0);
                        assert!(width == step || width * k * 4 <= 128 << 10);
                    } else if chunks.len() > 1 {
                        assert!(
                            width >= first && width < 2 * first,
                            "k {k} n {n}: last {width}"
                        );
                    }
                    next += width;
                }
                assert_eq!(next, n, "k {k} n {n}: covered");
            }
        }
    }
}
