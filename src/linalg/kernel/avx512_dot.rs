//! The AVX-512 dot-product kernel: the AVX2 one's sums, two columns to a register.
//!
//! Book chapter: "Making it fast" (The network's own shapes). The AVX2 kernel
//! (`avx2/dot.rs`) keeps each c_ij as 8 lane sums over p and adds them up at the end by one
//! fixed tree. Here a 512-bit register holds the 8 lane sums of two columns of C, side by
//! side, against the same 8 values of a row of A in both halves: every lane does exactly the
//! FMAs it would do in the AVX2 kernel, so every c_ij has the same bits, with half the
//! instructions. What does not fill a 4 × 6 block is left to the AVX2 kernel.

use super::super::gemm::MatRef;
use super::avx2::{first_lanes, gemm_dot_f32 as avx2_dot, hsum, load8, store_dot};
use super::threads::{sub_cols, sub_rows};
use std::arch::x86_64::*;

/// Rows of A, and pairs of columns of B, in one block: 12 accumulators, 4 + 3 loads a step.
const R: usize = 4;
const PAIRS: usize = 3;

/// C ← αAB + βC as dot products, like AVX2's `gemm_dot_f32` and with the same bits: full
/// 4 × 6 blocks here, the bottom rows and right columns by the AVX2 kernel.
///
/// # Safety
/// The CPU must support AVX-512F, AVX2 and FMA; `a.col_stride == 1`, `b.row_stride == 1`,
/// the views passed `check_gemm_shapes`, and C at `c` (row stride `ldc`) is
/// `a.rows × b.cols`.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn gemm_dot_f32(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let (m_full, n_full) = (m - m % R, n - n % (2 * PAIRS));
    let row = |i: usize| a.data[i * a.row_stride..].as_ptr();
    let col = |j: usize| b.data[j * b.col_stride..].as_ptr();
    for i0 in (0..m_full).step_by(R) {
        for j0 in (0..n_full).step_by(2 * PAIRS) {
            let rows = std::array::from_fn(|r| row(i0 + r));
            let cols = std::array::from_fn(|s| col(j0 + s));
            // SAFETY: rows i0 + r < m of A and columns j0 + s < n of B hold k contiguous
            // values (the caller's promise).
            let d = unsafe { paired_dots(k, rows, cols) };
            for (i, d_i) in d.iter().enumerate() {
                for (j, &d_ij) in d_i.iter().enumerate() {
                    // SAFETY: (i0 + i, j0 + j) is inside C, which the caller lends us.
                    let c_ij = unsafe { &mut *c.add((i0 + i) * ldc + j0 + j) };
                    store_dot(c_ij, alpha, d_ij, beta);
                }
            }
        }
    }
    // SAFETY: the right columns n_full.. of every row, then the bottom rows m_full.. of the
    // other columns: sub-views of A and B with the caller's strides, and the matching parts
    // of C, which nothing else touches. Each is asked for only when it is not empty, so its
    // first column (row) is inside B (A) and its corner inside the caller's C: for a
    // thread's block of columns, c + m·ldc would lie past the end of the whole C.
    unsafe {
        if n_full < n {
            let right = sub_cols(b, n_full, n - n_full);
            avx2_dot(alpha, a, right, beta, c.add(n_full), ldc);
        }
        if m_full < m {
            let (bottom, left) = (sub_rows(a, m_full, m - m_full), sub_cols(b, 0, n_full));
            avx2_dot(alpha, bottom, left, beta, c.add(m_full * ldc), ldc);
        }
    }
}

/// The R × 2·PAIRS dot products of `k`-long rows `u[r]` with `k`-long rows `v[s]`, each
/// summed as AVX2's `dots` sums it: 8 lane sums over p (the last k mod 8 values by a masked
/// load), then `hsum`.
///
/// # Safety
/// The CPU must support AVX-512F, AVX2 and FMA; every `u[r]` and `v[s]` points to `k`
/// readable values.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn paired_dots(
    k: usize,
    u: [*const f32; R],
    v: [*const f32; 2 * PAIRS],
) -> [[f32; 2 * PAIRS]; R] {
    let mut acc = [[_mm512_setzero_ps(); PAIRS]; R];
    let k8 = k - k % 8;
    for p in (0..k8).step_by(8) {
        // SAFETY: p + 8 ≤ k.
        unsafe { paired_step::<false>(&mut acc, &u, &v, p, _mm256_setzero_si256()) };
    }
    if k8 < k {
        // SAFETY: the mask's k − k8 lanes are the values left, k8 .. k.
        unsafe { paired_step::<true>(&mut acc, &u, &v, k8, first_lanes(k - k8)) };
    }
    let mut out = [[0.0; 2 * PAIRS]; R];
    for (out_r, acc_r) in out.iter_mut().zip(&acc) {
        for (q, &pair) in acc_r.iter().enumerate() {
            let (low, high) = halves(pair);
            (out_r[2 * q], out_r[2 * q + 1]) = (hsum(low), hsum(high));
        }
    }
    out
}

/// One step of [`paired_dots`]: for each row r and pair q, the lanes of acc[r][q] gain
/// u[r][p .. p + 8] times v[2q][p .. p + 8] (lanes 0–7) and v[2q + 1][p .. p + 8] (lanes
/// 8–15), exactly the FMAs of AVX2's `dot_step` (only the lanes of `mask` loaded when
/// `MASKED`, the others 0).
///
/// # Safety
/// The CPU must support AVX-512F, AVX2 and FMA; from `p` on, every `u[r]` and `v[s]` holds 8
/// readable values, or, when `MASKED`, as many as `mask` has lanes set.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn paired_step<const MASKED: bool>(
    acc: &mut [[__m512; PAIRS]; R],
    u: &[*const f32; R],
    v: &[*const f32; 2 * PAIRS],
    p: usize,
    mask: __m256i,
) {
    // SAFETY: the caller's promise, for x = u[r] or v[s].
    let load = |x: *const f32| unsafe { load8::<MASKED>(x.add(p), mask) };
    let v_p: [__m512; PAIRS] =
        std::array::from_fn(|q| side_by_side(load(v[2 * q]), load(v[2 * q + 1])));
    for (acc_r, &u_r) in acc.iter_mut().zip(u) {
        let u_p = load(u_r);
        let u_pp = side_by_side(u_p, u_p);
        for (acc_rq, &v_pq) in acc_r.iter_mut().zip(&v_p) {
            *acc_rq = _mm512_fmadd_ps(u_pp, v_pq, *acc_rq);
        }
    }
}

/// `low` in lanes 0–7 and `high` in lanes 8–15.
#[inline]
#[target_feature(enable = "avx512f")]
fn side_by_side(low: __m256, high: __m256) -> __m512 {
    let low = _mm512_castpd256_pd512(_mm256_castps_pd(low));
    _mm512_castpd_ps(_mm512_insertf64x4(low, _mm256_castps_pd(high), 1))
}

/// Lanes 0–7 and lanes 8–15.
#[inline]
#[target_feature(enable = "avx512f")]
fn halves(x: __m512) -> (__m256, __m256) {
    let high = _mm512_extractf64x4_pd(_mm512_castps_pd(x), 1);
    (_mm512_castps512_ps256(x), _mm256_castpd_ps(high))
}
