//! The AVX2 small-product kernel: straight loops over 5 × 16 tiles of C, nothing packed, for
//! products too small (or with too short a k) for the five loops to pay for themselves.
//!
//! Book chapter: "Making it fast" (The network's own shapes: small products, short k).

use super::super::super::gemm::MatRef;
use super::super::path::SMALL_B;
use super::super::UnpackedKernel;
use super::first_lanes;
use std::arch::x86_64::*;
use std::mem::MaybeUninit;

// ANCHOR: avx2_small
/// C ← αAB + βC for a product too small to pay for packing (the write-up's 10 × 20 × 10):
/// no blocking, no packing of A, and B copied only when its rows are strided (a transposed
/// view, as in the gradient δ·Aᵀ). Tiles of up to 5 rows × 16 columns (10 accumulators,
/// enough independent chains to keep both FMA units busy through a short k); the last
/// columns are loaded under a mask.
///
/// Each c_ij is the micro-kernel's own arithmetic: one chain of fused multiply-adds over
/// p = 0, 1, …, k − 1 starting from zero, then c ← α·acc (+ β·c). So for k within one KC slice
/// the result is bit-identical to the blocked path's, and choosing this path by shape
/// changes no answer.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `b.col_stride == 1` or `k·n ≤ SMALL_B`; the views
/// passed `check_gemm_shapes`, and C at `c` (row stride `ldc`) is `a.rows × b.cols`.
#[target_feature(enable = "avx2,fma")]
pub(in super::super) unsafe fn gemm_small_f32(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    if b.col_stride != 1 {
        // SAFETY: the caller's promises, with k·n ≤ SMALL_B since B's rows are strided.
        return unsafe { small_with_b_copied(gemm_small_f32, alpha, a, b, beta, c, ldc) };
    }
    let n = b.cols;
    for j0 in (0..n).step_by(16) {
        // Only the 8-wide vectors with a live lane are loaded, computed and stored; a full
        // one (all 8 lanes live) without a mask.
        // SAFETY: the caller's promises; B's rows are contiguous and j0 + width ≤ n.
        unsafe {
            match (n - j0).min(16) {
                16 => small_rows::<2, true>(alpha, a, b, beta, c, ldc, j0, 16),
                w @ 9..=15 => small_rows::<2, false>(alpha, a, b, beta, c, ldc, j0, w),
                8 => small_rows::<1, true>(alpha, a, b, beta, c, ldc, j0, 8),
                w => small_rows::<1, false>(alpha, a, b, beta, c, ldc, j0, w),
            }
        }
    }
}

/// A small-product kernel (`small`: this one, or AVX-512's) for a B with strided rows (a
/// transposed view): B is copied row-major into a buffer on the stack first, then `small`
/// runs on the copy. A function of its own, so that the common case does not reserve the
/// 16 KiB buffer on every call.
///
/// # Safety
/// `small`'s contract for the same operands, with B's rows contiguous; and k·n ≤
/// [`SMALL_B`].
#[inline(never)]
pub(in super::super) unsafe fn small_with_b_copied(
    small: UnpackedKernel<f32>,
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let mut copy = MaybeUninit::<[f32; SMALL_B]>::uninit();
    // SAFETY: B's view passed `check_gemm_shapes` (the caller's promise).
    let b = unsafe { dense_copy(b, &mut copy) };
    // SAFETY: the caller's promises, for the same B, now with contiguous rows.
    unsafe { small(alpha, a, b, beta, c, ldc) }
}

/// B's values, row by row, into `copy` (left uninitialised by the caller: zeroing 16 KiB
/// would cost more than the product): a row-major view of the same matrix.
///
/// # Safety
/// B's shape and strides must lie inside its data (as `check_gemm_shapes` checks).
///
/// # Panics
/// If B has more than [`SMALL_B`] values.
unsafe fn dense_copy<'c>(
    b: MatRef<'_, f32>,
    copy: &'c mut MaybeUninit<[f32; SMALL_B]>,
) -> MatRef<'c, f32> {
    let (k, n) = (b.rows, b.cols);
    assert!(k * n <= SMALL_B, "gemm_small_f32: B is {k}×{n}");
    let (dst, src) = (copy.as_mut_ptr().cast::<f32>(), b.data.as_ptr());
    for p in 0..k {
        for j in 0..n {
            // SAFETY: p·n + j < k·n ≤ SMALL_B, inside `copy`; (p, j) is inside the view B
            // (the caller's promise).
            unsafe {
                dst.add(p * n + j)
                    .write(*src.add(p * b.row_stride + j * b.col_stride))
            };
        }
    }
    // SAFETY: the first k·n values were all written above.
    let values = unsafe { std::slice::from_raw_parts(dst, k * n) };
    MatRef::row_major(values, k, n)
}

/// Columns `j0 .. j0 + width` of [`gemm_small_f32`], `width` in (8·(NV − 1), 8·NV] (= 8·NV
/// when `FULL`), in tiles of 5 rows and one of the rows left over.
///
/// # Safety
/// As [`gemm_small_f32`], with B's rows contiguous and `j0 + width ≤ b.cols`.
#[inline]
#[target_feature(enable = "avx2,fma")]
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
    while i0 + 5 <= a.rows {
        // SAFETY: rows i0 .. i0 + 5 ≤ a.rows; the rest is the caller's promise.
        unsafe { small_tile::<5, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width) };
        i0 += 5;
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
/// 8: R·NV chains of k FMAs. A full tile loads B without a mask (a masked load is slower).
///
/// # Safety
/// As [`small_rows`], with `i0 + R ≤ a.rows`.
#[inline]
#[target_feature(enable = "avx2,fma")]
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
    // Lane l of vector v is live when 8v + l < width; dead lanes load as zero.
    let mask: [__m256i; NV] = std::array::from_fn(|v| first_lanes(width - 8 * v));
    // SAFETY: column j0 < b.cols of row 0 is inside B.
    let (a_ptr, b_ptr) = (a.data.as_ptr(), unsafe { b.data.as_ptr().add(j0) });
    if beta != 0.0 {
        // The tile of C is read after k FMAs per value: ask for its lines now, so they come
        // from L2 (a layer's weights seldom fit in L1) while the FMAs run.
        for r in 0..R {
            for v in 0..NV {
                // SAFETY: row i0 + r, column j0 + 8v (< j0 + width) is inside C; a prefetch
                // never faults.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(c.add((i0 + r) * ldc + j0 + 8 * v).cast()) };
            }
        }
    }
    let mut acc = [[_mm256_setzero_ps(); NV]; R];
    for p in 0..a.cols {
        // SAFETY: row p < k of B holds columns j0 .. j0 + width contiguously; a full tile
        // loads all 8·NV of them, a masked load only the live lanes.
        let b_v: [__m256; NV] = unsafe {
            let b_p = b_ptr.add(p * b.row_stride);
            std::array::from_fn(|v| match FULL {
                true => _mm256_loadu_ps(b_p.add(8 * v)),
                false => _mm256_maskload_ps(b_p.add(8 * v), mask[v]),
            })
        };
        for (r, acc_r) in acc.iter_mut().enumerate() {
            // SAFETY: (i0 + r, p) is inside A.
            let a_ip = unsafe { *a_ptr.add((i0 + r) * a.row_stride + p * a.col_stride) };
            let a_ip = _mm256_set1_ps(a_ip);
            for (acc_rv, &b_pv) in acc_r.iter_mut().zip(&b_v) {
                *acc_rv = _mm256_fmadd_ps(a_ip, b_pv, *acc_rv);
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        for (v, &acc_rv) in acc_r.iter().enumerate() {
            let cols = (width - 8 * v).min(8);
            // SAFETY: row i0 + r, columns j0 + 8v .. + cols are inside C.
            unsafe {
                store_small(
                    c.add((i0 + r) * ldc + j0 + 8 * v),
                    cols,
                    alpha,
                    acc_rv,
                    beta,
                )
            };
        }
    }
}

/// The first `cols` (≤ 8) values of c ← α·acc + β·c, the update the micro-kernel makes.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `c` holds `cols` writable values, readable unless β = 0.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn store_small(c: *mut f32, cols: usize, alpha: f32, acc: __m256, beta: f32) {
    let ab = _mm256_mul_ps(_mm256_set1_ps(alpha), acc);
    if beta == 0.0 {
        // SAFETY: the caller's promise.
        return unsafe { store_first(c, cols, ab) };
    }
    // SAFETY: the first `cols` values are readable; a masked load reads no others.
    let old = unsafe {
        match cols {
            8 => _mm256_loadu_ps(c),
            _ => _mm256_maskload_ps(c, first_lanes(cols)),
        }
    };
    let out = match beta {
        // 1·c is c exactly: skipping the multiply changes no bit (plain SGD's weight step).
        1.0 => _mm256_add_ps(old, ab),
        _ => _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(beta), old), ab),
    };
    // SAFETY: the caller's promise.
    unsafe { store_first(c, cols, out) };
}

/// Stores the first `cols` (≤ 8) lanes of `v` at `c`: four, two and one at a time, since
/// masked stores are slow on AMD and a copy of variable length would call `memcpy`.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `c` holds `cols` writable values.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn store_first(c: *mut f32, cols: usize, v: __m256) {
    if cols == 8 {
        // SAFETY: all 8 values are writable.
        return unsafe { _mm256_storeu_ps(c, v) };
    }
    let (mut c, mut left) = (c, cols);
    let mut part = _mm256_castps256_ps128(v);
    if left >= 4 {
        // SAFETY: at least 4 of the `cols` values remain from `c`: store them, step past.
        unsafe {
            _mm_storeu_ps(c, part);
            c = c.add(4);
        }
        (left, part) = (left - 4, _mm256_extractf128_ps::<1>(v));
    }
    if left >= 2 {
        // SAFETY: at least 2 remain: store them, step past.
        unsafe {
            _mm_storel_epi64(c.cast(), _mm_castps_si128(part));
            c = c.add(2);
        }
        (left, part) = (left - 2, _mm_movehl_ps(part, part));
    }
    if left == 1 {
        // SAFETY: one value remains.
        unsafe { _mm_store_ss(c, part) };
    }
}
// ANCHOR_END: avx2_small
