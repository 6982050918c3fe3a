//! The AVX-512 small-product kernel: AVX2's straight loops (`avx2/small.rs`) over tiles of
//! 5 rows × 32 columns, two 512-bit vectors a row.
//!
//! Book chapter: "Making it fast" (The network's own shapes: small products, short k; and
//! "A host with two 512-bit FMA units"). On a core with two 512-bit FMA units (many of
//! Intel's Xeons; others, and its client cores, have one) a 512-bit FMA does twice the work of
//! a 256-bit one in the same time, and this kernel runs the write-up's weight step
//! W ← W − (η/n)·Δ·Xᵀ (k = the batch of 10) at about twice AVX2's rate; where the CPU splits
//! a 512-bit FMA in two halves (Zen 4) it is no faster and no slower.
//! Each c_ij is the same chain of FMAs as in AVX2's kernel and the blocked micro-kernels, so
//! the bits are the same.

use super::super::gemm::MatRef;
use super::avx2::small_with_b_copied;
use super::avx512::{first_lanes, update_c};
use std::arch::x86_64::*;

/// Rows of a tile: 5 × 2 vectors keep 10 chains of FMAs going (two FMA units with a latency
/// of 4 need 8), and 5 divides the network's layer widths of 10 and 20.
const ROWS: usize = 5;

/// C ← αAB + βC for a product too small (or with too short a k) to pay for packing, as
/// AVX2's `gemm_small_f32` computes it and with the same bits: each c_ij is one chain of
/// fused multiply-adds over p = 0, 1, …, k − 1 starting from zero, then c ← α·acc (+ β·c),
/// a separate multiply and add. Tiles of up to 5 rows × 32 columns; the last columns are
/// loaded and stored under a mask.
///
/// # Safety
/// The CPU must support AVX-512F, AVX2 and FMA; `b.col_stride == 1` or `k·n ≤ SMALL_B`; the
/// views passed `check_gemm_shapes`, and C at `c` (row stride `ldc`) is `a.rows × b.cols`.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn gemm_small_f32(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    if b.col_stride != 1 {
        // SAFETY: the caller's promises, with k·n ≤ SMALL_B since B's rows are strided; this
        // kernel's contract holds for the contiguous copy.
        return unsafe { small_with_b_copied(gemm_small_f32, alpha, a, b, beta, c, ldc) };
    }
    let n = b.cols;
    for j0 in (0..n).step_by(32) {
        // Only the 16-wide vectors with a live lane are loaded, computed and stored; a full
        // tile (all 32 or all 16 columns live) without a mask.
        // SAFETY: the caller's promises; B's rows are contiguous and j0 + width ≤ n.
        unsafe {
            match (n - j0).min(32) {
                32 => small_rows::<2, true>(alpha, a, b, beta, c, ldc, j0, 32),
                w @ 17..=31 => small_rows::<2, false>(alpha, a, b, beta, c, ldc, j0, w),
                16 => small_rows::<1, true>(alpha, a, b, beta, c, ldc, j0, 16),
                w => small_rows::<1, false>(alpha, a, b, beta, c, ldc, j0, w),
            }
        }
    }
}

/// Columns `j0 .. j0 + width` of [`gemm_small_f32`], `width` in (16·(NV − 1), 16·NV] (= 16·NV
/// when `FULL`), in tiles of 5 rows and one of the rows left over.
///
/// # Safety
/// As [`gemm_small_f32`], with B's rows contiguous and `j0 + width ≤ b.cols`.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn small_rows<const NV: usize, const FULL: bool>(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    j0: usize,
    width: usize,
) {
    let mut i0 = 0;
    while i0 + ROWS <= a.rows {
        // SAFETY: rows i0 .. i0 + 5 ≤ a.rows; the rest is the caller's promise.
        unsafe { small_tile::<ROWS, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width) };
        i0 += ROWS;
    }
    // SAFETY: rows i0 .. a.rows, fewer than 5; the rest is the caller's promise.
    unsafe {
        match a.rows - i0 {
            1 => small_tile::<1, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width),
            2 => small_tile::<2, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width),
            3 => small_tile::<3, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width),
            4 => small_tile::<4, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width),
            _ => {}
        }
    }
}

/// Rows `i0 .. i0 + R`, columns `j0 .. j0 + width` of [`gemm_small_f32`] in NV vectors of
/// 16: R·NV chains of k FMAs. A full tile loads and stores without a mask.
///
/// # Safety
/// As [`small_rows`], with `i0 + R ≤ a.rows`.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn small_tile<const R: usize, const NV: usize, const FULL: bool>(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    i0: usize,
    j0: usize,
    width: usize,
) {
    // Lane l of vector v is live when 16v + l < width; dead lanes load as zero.
    let mask: [__mmask16; NV] = std::array::from_fn(|v| first_lanes(width - 16 * v));
    // SAFETY: column j0 < b.cols of row 0 is inside B.
    let (a_ptr, b_ptr) = (a.data.as_ptr(), unsafe { b.data.as_ptr().add(j0) });
    if beta != 0.0 {
        // The tile of C is read after k FMAs per value: ask for its lines now (a row of 32
        // values spans three lines unless it starts on one), so they come from L2 while the
        // FMAs run.
        for r in 0..R {
            for j in [0, 16, width - 1].into_iter().filter(|&j| j < width) {
                // SAFETY: row i0 + r, column j0 + j (< j0 + width) is inside C; a prefetch
                // never faults.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(c.add((i0 + r) * ldc + j0 + j).cast()) };
            }
        }
    }
    let mut acc = [[_mm512_setzero_ps(); NV]; R];
    for p in 0..a.cols {
        // SAFETY: row p < k of B holds columns j0 .. j0 + width contiguously; a full tile
        // loads all 16·NV of them, a masked load only the live lanes.
        let b_v: [__m512; NV] = unsafe {
            let b_p = b_ptr.add(p * b.row_stride);
            std::array::from_fn(|v| match FULL {
                true => _mm512_loadu_ps(b_p.add(16 * v)),
                false => _mm512_maskz_loadu_ps(mask[v], b_p.add(16 * v)),
            })
        };
        for (r, acc_r) in acc.iter_mut().enumerate() {
            // SAFETY: (i0 + r, p) is inside A.
            let a_ip = unsafe { *a_ptr.add((i0 + r) * a.row_stride + p * a.col_stride) };
            let a_ip = _mm512_set1_ps(a_ip);
            for (acc_rv, &b_pv) in acc_r.iter_mut().zip(&b_v) {
                *acc_rv = _mm512_fmadd_ps(a_ip, b_pv, *acc_rv);
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        for (v, &acc_rv) in acc_r.iter().enumerate() {
            // SAFETY: row i0 + r, the live columns of vector v are inside C.
            unsafe {
                let c_rv = c.add((i0 + r) * ldc + j0 + 16 * v);
                update_c::<FULL>(c_rv, mask[v], acc_rv, alpha, beta);
            }
        }
    }
}
