//! The AVX-512 dot-product kernel: the AVX2 one's sums, two columns to a register.
//!
//! Book chapter: "Making it fast" (The network's own shapes). The AVX2 kernel
//! (`avx2/dot.rs`) keeps each c_ij as 8 lane sums over p and adds them up at the end by one
//! fixed tree. Here a 512-bit register holds the 8 lane sums of two columns of C, side by
//! side, against the same 8 values of a row of A in both halves: every lane does exactly the
//! FMAs it would do in the AVX2 kernel, so every c_ij has the same bits, with half the
//! instructions. Blocks are 4 rows by 6 columns, then 4 or 2 at the right edge; the rows
//! below the last block of 4, and an odd last column, are left to the AVX2 kernel.

use super::super::gemm::MatRef;
use super::avx2::{column_chunks, first_lanes, gemm_dot_f32 as avx2_dot, hsum, load8, store_dot};
use super::threads::{sub_cols, sub_rows};
use std::arch::x86_64::*;

/// Rows of A in one block, and at most this many pairs of columns of B: a 4 × 6 block keeps
/// 12 accumulators and 10 pointers (four rows, six columns); wider blocks ran out of the 16
/// general registers for their pointers, and spilled.
const R: usize = 4;
const MAX_PAIRS: usize = 3;

/// C ← αAB + βC as dot products, like AVX2's `gemm_dot_f32` and with the same bits: blocks
/// of 4 rows by up to 3 pairs of columns here, the bottom rows and a last odd column by the
/// AVX2 kernel.
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
    let (m, n) = (a.rows, b.cols);
    let (m_full, n_paired) = (m - m % R, n - n % 2);
    // As in the AVX2 kernel, a chunk of B's columns stays in L2 while every block of rows
    // passes over it.
    for (jc, width) in column_chunks(n_paired, a.cols, 2 * MAX_PAIRS) {
        for i0 in (0..m_full).step_by(R) {
            // SAFETY: rows i0 .. i0 + 4 ≤ m_full ≤ m and columns jc .. jc + width ≤
            // n_paired ≤ n (an even count); the rest is the caller's promise.
            unsafe { paired_blocks(alpha, a, b, beta, c, ldc, i0, jc, jc + width) };
        }
    }
    // SAFETY: the last column n_paired.. of every row, then the bottom rows m_full.. of the
    // other columns: sub-views of A and B with the caller's strides, and the matching parts
    // of C, which nothing else touches. Each is asked for only when it is not empty, so its
    // first column (row) is inside B (A) and its corner inside the caller's C: for a
    // thread's block of columns, c + m·ldc would lie past the end of the whole C.
    unsafe {
        if n_paired < n {
            let right = sub_cols(b, n_paired, n - n_paired);
            avx2_dot(alpha, a, right, beta, c.add(n_paired), ldc);
        }
        if m_full < m {
            let (bottom, left) = (sub_rows(a, m_full, m - m_full), sub_cols(b, 0, n_paired));
            avx2_dot(alpha, bottom, left, beta, c.add(m_full * ldc), ldc);
        }
    }
}

/// Rows `i0 .. i0 + 4` of C, columns `j0 .. end` (an even count), in blocks of 3 pairs of
/// columns and one of 2 or 1 at the end.
///
/// # Safety
/// As [`gemm_dot_f32`], with `i0 + 4 ≤ a.rows` and `end ≤ b.cols`.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn paired_blocks(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    i0: usize,
    mut j0: usize,
    end: usize,
) {
    while j0 < end {
        let pairs = ((end - j0) / 2).min(MAX_PAIRS);
        // SAFETY: rows i0 .. i0 + 4 ≤ m and columns j0 .. j0 + 2·pairs ≤ end ≤ n; the rest
        // is the caller's promise.
        unsafe {
            match pairs {
                MAX_PAIRS => paired_block::<MAX_PAIRS>(alpha, a, b, beta, c, ldc, i0, j0),
                2 => paired_block::<2>(alpha, a, b, beta, c, ldc, i0, j0),
                _ => paired_block::<1>(alpha, a, b, beta, c, ldc, i0, j0),
            }
        }
        j0 += 2 * pairs;
    }
}

/// The 4 × 2·P block of C at (i0, j0): its dot products by [`paired_dots`], then stored.
/// Compiled once per P, each on its own (inlined together, the blocks shared registers
/// badly).
///
/// # Safety
/// As [`gemm_dot_f32`], with `i0 + 4 ≤ a.rows` and `j0 + 2·P ≤ b.cols`.
#[inline(never)]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn paired_block<const P: usize>(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    i0: usize,
    j0: usize,
) {
    let row = |i: usize| a.data[i * a.row_stride..].as_ptr();
    let col = |j: usize| b.data[j * b.col_stride..].as_ptr();
    let rows = std::array::from_fn(|r| row(i0 + r));
    let pairs = std::array::from_fn(|q| [col(j0 + 2 * q), col(j0 + 2 * q + 1)]);
    // SAFETY: rows i0 + r < m of A and columns j0 + s < n of B hold k contiguous values (the
    // caller's promise).
    let d = unsafe { paired_dots::<P>(a.cols, rows, pairs) };
    for (i, d_i) in d.iter().enumerate() {
        for (q, d_iq) in d_i.iter().enumerate() {
            for (s, &d_ij) in d_iq.iter().enumerate() {
                // SAFETY: (i0 + i, j0 + 2q + s) is inside C, which the caller lends us.
                let c_ij = unsafe { &mut *c.add((i0 + i) * ldc + j0 + 2 * q + s) };
                store_dot(c_ij, alpha, d_ij, beta);
            }
        }
    }
}

/// The R × 2·P dot products of `k`-long rows `u[r]` with the `k`-long rows of each pair
/// `v[q]`, each summed as AVX2's `dots` sums it: 8 lane sums over p (the last k mod 8 values
/// by a masked load), then `hsum`.
///
/// # Safety
/// The CPU must support AVX-512F, AVX2 and FMA; every `u[r]` and `v[q][s]` points to `k`
/// readable values.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn paired_dots<const P: usize>(
    k: usize,
    u: [*const f32; R],
    v: [[*const f32; 2]; P],
) -> [[[f32; 2]; P]; R] {
    let mut acc = [[_mm512_setzero_ps(); P]; R];
    let k8 = k - k % 8;
    for p in (0..k8).step_by(8) {
        // SAFETY: p + 8 ≤ k.
        unsafe { paired_step::<P, false>(&mut acc, &u, &v, p, _mm256_setzero_si256()) };
    }
    if k8 < k {
        // SAFETY: the mask's k − k8 lanes are the values left, k8 .. k.
        unsafe { paired_step::<P, true>(&mut acc, &u, &v, k8, first_lanes(k - k8)) };
    }
    let mut out = [[[0.0; 2]; P]; R];
    for (out_r, acc_r) in out.iter_mut().zip(&acc) {
        for (out_rq, &pair) in out_r.iter_mut().zip(acc_r) {
            let (low, high) = halves(pair);
            *out_rq = [hsum(low), hsum(high)];
        }
    }
    out
}

/// One step of [`paired_dots`]: for each row r and pair q, the lanes of `acc[r][q]` gain
/// `u[r][p .. p + 8]` times `v[q][0][p .. p + 8]` (lanes 0–7) and `v[q][1][p .. p + 8]`
/// (lanes 8–15), exactly the FMAs of AVX2's `dot_step` (only the lanes of `mask` loaded when
/// `MASKED`, the others 0).
///
/// # Safety
/// The CPU must support AVX-512F, AVX2 and FMA; from `p` on, every `u[r]` and `v[q][s]`
/// holds 8 readable values, or, when `MASKED`, as many as `mask` has lanes set.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn paired_step<const P: usize, const MASKED: bool>(
    acc: &mut [[__m512; P]; R],
    u: &[*const f32; R],
    v: &[[*const f32; 2]; P],
    p: usize,
    mask: __m256i,
) {
    // SAFETY: the caller's promise, for x = u[r] or v[q][s].
    let load = |x: *const f32| unsafe { load8::<MASKED>(x.add(p), mask) };
    let v_p: [__m512; P] = std::array::from_fn(|q| side_by_side(load(v[q][0]), load(v[q][1])));
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
