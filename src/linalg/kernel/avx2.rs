//! AVX2 + FMA micro-kernels: a 6×16 f32 tile (6×8 for f64) held in 12 of the 16 `ymm`
//! registers, updated by 12 fused multiply-adds per step of k.
//!
//! Book chapter: "Making it fast". Why 6×16: each step loads two 8-wide rows of B̃ and
//! broadcasts six values of Ã, then issues 12 independent FMAs. Zen 4 retires two FMAs per
//! cycle with a 4-cycle latency, so it needs at least 8 independent accumulators to stay
//! busy; 12 accumulators + 2 B vectors + 1 broadcast = 15 registers, one spare. Loads per
//! FMA are 8/12, well inside the load ports' budget.
//!
//! Only called after `is_x86_feature_detected!("avx2")` and `("fma")` (see `Kernel::Avx2`).

use super::super::gemm::MatRef;
use super::{portable, Blocking, SMALL_B};
use std::arch::x86_64::*;

/// Block sizes, measured on Zen 4 (32 KiB L1d, 512 KiB L2 per core as this VM reports) rather
/// than taken from the cache sizes alone. BLIS's Zen choice (KC = 256, MC = 144) reached
/// 81–84% of peak on 512³ and 1024³; a deeper KC = 768 with MC = 72 reached 84–90% (median
/// of 15, thread CPU time). Deeper slices mean fewer passes over C (each pass loads and
/// stores every tile); the 768 × 16 sliver of B̃ (48 KiB) no longer fits L1, but it streams
/// from L2 under the micro-kernel's prefetch, and Ã (72 × 768 × 4 B = 216 KiB) fits L2.
///
/// For a short A (`m ≤ MC`) that fits 5-row tiles better than 6-row ones (the network's
/// m = 20 pads to 24 rows with MR = 6, to exactly 20 with MR = 5) the tile is 5 × 16. (A
/// 4 × 24 tile would also fit 20 rows, but needs all 16 registers and the compiler spills.)
/// Each c_ij is the same chain of FMAs either way, so the choice never changes a result.
pub(super) fn blocking_f32(m: usize) -> Blocking<f32> {
    let five_fits_better = m <= 70 && m.next_multiple_of(5) < m.next_multiple_of(6);
    let (mr, mc, micro): (usize, usize, super::MicroKernel<f32>) = if five_fits_better {
        (5, 70, micro_f32::<5, 2>)
    } else {
        (6, 72, micro_f32::<6, 2>)
    };
    Blocking {
        mr,
        nr: 16,
        mc,
        kc: 768,
        nc: 4080,
        micro,
        gemv: gemv_f32,
        dot: Some(gemm_dot_f32),
        small: Some(gemm_small_f32),
    }
}

/// As [`blocking_f32`], for 8-byte elements: same bytes per block.
pub(super) fn blocking_f64() -> Blocking<f64> {
    Blocking {
        mr: 6,
        nr: 8,
        mc: 72,
        kc: 256,
        nc: 4080,
        micro: micro_f64,
        gemv: gemv_f64,
        dot: None,
        small: None,
    }
}

// ANCHOR: avx2_micro
/// C_tile ← α·ÃB̃ + β·C_tile for an MR × 8·NV f32 tile (contract: `super::MicroKernel`):
/// 6 × 16 (`<6, 2>`, 12 accumulators) in general, 5 × 16 (`<5, 2>`, 10 accumulators) when
/// it wastes fewer padded rows, as for the network's m = 20.
///
/// # Safety
/// The CPU must support AVX2 and FMA; ã_ip is at `a + i·rsa + p·csa` (`rsa = 1, csa = MR`
/// when packed), `b` holds `kc` rows of 8·NV with row stride `ldb`, and the tile at `c`
/// (row stride `ldc`) is writable (and readable unless β = 0).
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f32<const MR: usize, const NV: usize>(
    kc: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    // Ask for the C tile now, so its rows (ldc apart, often a page each) arrive while the
    // FMAs run rather than stalling the update at the end (measured: +8 points on 1024³).
    for i in 0..MR {
        _mm_prefetch::<_MM_HINT_T0>(c.add(i * ldc) as *const i8);
        _mm_prefetch::<_MM_HINT_T0>(c.add(i * ldc + 8 * NV - 1) as *const i8);
    }
    // Two copies of the loop: packed Ã gets constant strides, A read in place gets its own.
    let acc = if rsa == 1 && csa == MR {
        rank1_updates::<MR, NV>(kc, a, 1, MR, b, ldb)
    } else {
        rank1_updates::<MR, NV>(kc, a, rsa, csa, b, ldb)
    };
    let alpha = _mm256_set1_ps(alpha);
    for (i, acc_i) in acc.iter().enumerate() {
        for (v, &ab) in acc_i.iter().enumerate() {
            let c_iv = c.add(i * ldc + 8 * v);
            let ab = _mm256_mul_ps(alpha, ab);
            let out = match beta {
                0.0 => ab,
                // 1·c is c exactly: skipping the multiply changes no bit.
                1.0 => _mm256_add_ps(_mm256_loadu_ps(c_iv), ab),
                _ => _mm256_add_ps(
                    _mm256_mul_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c_iv)),
                    ab,
                ),
            };
            _mm256_storeu_ps(c_iv, out);
        }
    }
}

/// The micro-kernel's loop: acc[i][v] = Σ_p ã_ip · b̃_p[8v .. 8v+8], kept in registers.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn rank1_updates<const MR: usize, const NV: usize>(
    kc: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    ldb: usize,
) -> [[__m256; NV]; MR] {
    let mut acc = [[_mm256_setzero_ps(); NV]; MR];
    for p in 0..kc {
        let b_p = b.add(ldb * p);
        // When B is read in place its rows are a page apart, too far for the hardware
        // prefetchers: ask for row p + 8 now (measured: ~10 points of peak on 20×784×1000).
        _mm_prefetch::<_MM_HINT_T0>(b_p.wrapping_add(8 * ldb) as *const i8);
        let b_v: [__m256; NV] = std::array::from_fn(|v| _mm256_loadu_ps(b_p.add(8 * v)));
        for (i, acc_i) in acc.iter_mut().enumerate() {
            // One value of Ã times a row of B̃: a rank-1 update, 8·NV multiply-adds.
            let a_ip = _mm256_broadcast_ss(&*a.add(i * rsa + p * csa));
            for (acc_iv, &b_pv) in acc_i.iter_mut().zip(&b_v) {
                *acc_iv = _mm256_fmadd_ps(a_ip, b_pv, *acc_iv);
            }
        }
    }
    acc
}
// ANCHOR_END: avx2_micro

/// The f64 twin of [`micro_f32`]: a 6 × 8 tile, four doubles per register.
///
/// # Safety
/// As [`micro_f32`], with MR = 6 and rows of 8 in `b`.
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f64(
    kc: usize,
    a: *const f64,
    rsa: usize,
    csa: usize,
    b: *const f64,
    ldb: usize,
    c: *mut f64,
    ldc: usize,
    alpha: f64,
    beta: f64,
) {
    let mut acc = [[_mm256_setzero_pd(); 2]; 6];
    for p in 0..kc {
        let b_p = b.add(ldb * p);
        let (b0, b1) = (_mm256_loadu_pd(b_p), _mm256_loadu_pd(b_p.add(4)));
        for (i, acc_i) in acc.iter_mut().enumerate() {
            let a_ip = _mm256_broadcast_sd(&*a.add(i * rsa + p * csa));
            acc_i[0] = _mm256_fmadd_pd(a_ip, b0, acc_i[0]);
            acc_i[1] = _mm256_fmadd_pd(a_ip, b1, acc_i[1]);
        }
    }
    let alpha = _mm256_set1_pd(alpha);
    for (i, acc_i) in acc.iter().enumerate() {
        for (v, &ab) in acc_i.iter().enumerate() {
            let c_iv = c.add(i * ldc + 4 * v);
            let ab = _mm256_mul_pd(alpha, ab);
            let out = if beta == 0.0 {
                ab
            } else {
                _mm256_add_pd(
                    _mm256_mul_pd(_mm256_set1_pd(beta), _mm256_loadu_pd(c_iv)),
                    ab,
                )
            };
            _mm256_storeu_pd(c_iv, out);
        }
    }
}

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
pub(super) unsafe fn gemm_small_f32(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    if b.col_stride != 1 {
        return small_with_b_copied(alpha, a, b, beta, c, ldc);
    }
    let n = b.cols;
    for j0 in (0..n).step_by(16) {
        // Only the 8-wide vectors with a live lane are loaded, computed and stored; a full
        // one (all 8 lanes live) without a mask.
        match (n - j0).min(16) {
            16 => small_rows::<2, true>(alpha, a, b, beta, c, ldc, j0, 16),
            w @ 9..=15 => small_rows::<2, false>(alpha, a, b, beta, c, ldc, j0, w),
            8 => small_rows::<1, true>(alpha, a, b, beta, c, ldc, j0, 8),
            w => small_rows::<1, false>(alpha, a, b, beta, c, ldc, j0, w),
        }
    }
}

/// [`gemm_small_f32`] for a B with strided rows (a transposed view): B is copied row-major
/// into a buffer on the stack first. A function of its own, so that the common case does not
/// reserve the 16 KiB buffer on every call.
///
/// # Safety
/// As [`gemm_small_f32`], with k·n ≤ [`SMALL_B`].
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
unsafe fn small_with_b_copied(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let mut copy = std::mem::MaybeUninit::<[f32; SMALL_B]>::uninit();
    let b = dense_copy(b, &mut copy);
    gemm_small_f32(alpha, a, b, beta, c, ldc)
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
    copy: &'c mut std::mem::MaybeUninit<[f32; SMALL_B]>,
) -> MatRef<'c, f32> {
    let (k, n) = (b.rows, b.cols);
    assert!(k * n <= SMALL_B, "gemm_small_f32: B is {k}×{n}");
    let (dst, src) = (copy.as_mut_ptr().cast::<f32>(), b.data.as_ptr());
    for p in 0..k {
        for j in 0..n {
            // SAFETY: p·n + j < k·n ≤ SMALL_B, inside `copy`; (p, j) is inside the view B
            // (the caller's promise).
            dst.add(p * n + j)
                .write(*src.add(p * b.row_stride + j * b.col_stride));
        }
    }
    // SAFETY: the first k·n values were all written above.
    let values = std::slice::from_raw_parts(dst, k * n);
    MatRef::row_major(values, k, n)
}

/// Columns `j0 .. j0 + width` of [`gemm_small_f32`], `width` in (8·(NV − 1), 8·NV] (= 8·NV
/// when `FULL`), in tiles of 5 rows and one of the rows left over.
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
        small_tile::<5, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width);
        i0 += 5;
    }
    match a.rows - i0 {
        1 => small_tile::<1, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width),
        2 => small_tile::<2, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width),
        3 => small_tile::<3, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width),
        4 => small_tile::<4, NV, FULL>(alpha, a, b, beta, c, ldc, i0, j0, width),
        _ => {}
    }
}

/// Rows `i0 .. i0 + R`, columns `j0 .. j0 + width` of [`gemm_small_f32`] in NV vectors of
/// 8: R·NV chains of k FMAs. A full tile loads B without a mask (a masked load is slower).
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
    let (a_ptr, b_ptr) = (a.data.as_ptr(), b.data.as_ptr().add(j0));
    let mut acc = [[_mm256_setzero_ps(); NV]; R];
    for p in 0..a.cols {
        let b_p = b_ptr.add(p * b.row_stride);
        let b_v: [__m256; NV] = std::array::from_fn(|v| match FULL {
            true => _mm256_loadu_ps(b_p.add(8 * v)),
            false => _mm256_maskload_ps(b_p.add(8 * v), mask[v]),
        });
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let a_ip = _mm256_set1_ps(*a_ptr.add((i0 + r) * a.row_stride + p * a.col_stride));
            for (acc_rv, &b_pv) in acc_r.iter_mut().zip(&b_v) {
                *acc_rv = _mm256_fmadd_ps(a_ip, b_pv, *acc_rv);
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        let c_r = c.add((i0 + r) * ldc + j0);
        for (v, &acc_rv) in acc_r.iter().enumerate() {
            let cols = (width - 8 * v).min(8);
            store_small(c_r.add(8 * v), cols, alpha, acc_rv, beta);
        }
    }
}

/// The first `cols` (≤ 8) values of c ← α·acc + β·c, the update [`micro_f32`] makes.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn store_small(c: *mut f32, cols: usize, alpha: f32, acc: __m256, beta: f32) {
    let ab = _mm256_mul_ps(_mm256_set1_ps(alpha), acc);
    let out = if beta == 0.0 {
        ab
    } else {
        let old = match cols {
            8 => _mm256_loadu_ps(c),
            _ => _mm256_maskload_ps(c, first_lanes(cols)),
        };
        _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(beta), old), ab)
    };
    store_first(c, cols, out);
}

/// A mask for masked loads with lanes 0 .. `count` set (all eight when `count` ≥ 8).
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn first_lanes(count: usize) -> __m256i {
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_cmpgt_epi32(_mm256_set1_epi32(count.min(8) as i32), lanes)
}

/// Stores the first `cols` (≤ 8) lanes of `v` at `c`: four, two and one at a time, since
/// masked stores are slow on AMD and a copy of variable length would call `memcpy`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn store_first(c: *mut f32, cols: usize, v: __m256) {
    if cols == 8 {
        return _mm256_storeu_ps(c, v);
    }
    let (mut c, mut left) = (c, cols);
    let mut part = _mm256_castps256_ps128(v);
    if left >= 4 {
        _mm_storeu_ps(c, part);
        (c, left, part) = (c.add(4), left - 4, _mm256_extractf128_ps::<1>(v));
    }
    if left >= 2 {
        _mm_storel_epi64(c.cast(), _mm_castps_si128(part));
        (c, left, part) = (c.add(2), left - 2, _mm_movehl_ps(part, part));
    }
    if left == 1 {
        _mm_store_ss(c, part);
    }
}
// ANCHOR_END: avx2_small

// ANCHOR: avx2_gemv
/// c ← αAx + βc for f32 without packing. When rows of A and x are contiguous, eight rows
/// at a time share each load of x (8 accumulators: enough to hide the FMA latency);
/// otherwise the portable loop.
pub(super) fn gemv_f32(
    alpha: f32,
    a: MatRef<'_, f32>,
    x: MatRef<'_, f32>,
    beta: f32,
    c: &mut [f32],
) {
    if a.col_stride != 1 || x.row_stride != 1 {
        return portable::gemv(alpha, a, x, beta, c);
    }
    let (m, k) = (a.rows, a.cols);
    let row = |i: usize| a.data[i * a.row_stride..].as_ptr();
    let x = [x.data.as_ptr()];
    let mut store = |i: usize, dot: f32| {
        let ab = alpha * dot;
        c[i] = if beta == 0.0 { ab } else { beta * c[i] + ab };
    };
    let m8 = m - m % 8;
    for i0 in (0..m8).step_by(8) {
        // SAFETY: `Kernel::Avx2` is only chosen when the CPU has AVX2 and FMA; rows i0..i0+8
        // and x hold k values each (checked by `check_gemm_shapes`).
        let d = unsafe { dots::<8, 1>(k, std::array::from_fn(|r| row(i0 + r)), x) };
        for (r, d_r) in d.iter().enumerate() {
            store(i0 + r, d_r[0]);
        }
    }
    for i in m8..m {
        // SAFETY: as above.
        store(i, unsafe { dots::<1, 1>(k, [row(i)], x) }[0][0]);
    }
}
// ANCHOR_END: avx2_gemv

/// The f64 twin of [`gemv_f32`].
pub(super) fn gemv_f64(
    alpha: f64,
    a: MatRef<'_, f64>,
    x: MatRef<'_, f64>,
    beta: f64,
    c: &mut [f64],
) {
    if a.col_stride != 1 || x.row_stride != 1 {
        return portable::gemv(alpha, a, x, beta, c);
    }
    let k = a.cols;
    for (i, ci) in c.iter_mut().enumerate() {
        let row = &a.data[i * a.row_stride..i * a.row_stride + k];
        // SAFETY: as in `gemv_f32`.
        let dot = unsafe { dot_f64(row, &x.data[..k]) };
        let ab = alpha * dot;
        *ci = if beta == 0.0 { ab } else { beta * *ci + ab };
    }
}

/// Σ u_p v_p over two equal-length f64 slices.
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_f64(u: &[f64], v: &[f64]) -> f64 {
    let k = u.len();
    let (u, v) = (u.as_ptr(), v.as_ptr());
    let mut acc = [_mm256_setzero_pd(); 4];
    let mut p = 0;
    while p + 16 <= k {
        for (l, s) in acc.iter_mut().enumerate() {
            *s = _mm256_fmadd_pd(
                _mm256_loadu_pd(u.add(p + 4 * l)),
                _mm256_loadu_pd(v.add(p + 4 * l)),
                *s,
            );
        }
        p += 16;
    }
    while p + 4 <= k {
        acc[0] = _mm256_fmadd_pd(_mm256_loadu_pd(u.add(p)), _mm256_loadu_pd(v.add(p)), acc[0]);
        p += 4;
    }
    let s = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
    let s = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    let mut sum = _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
    while p < k {
        sum += *u.add(p) * *v.add(p);
        p += 1;
    }
    sum
}

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
pub(super) unsafe fn gemm_dot_f32(
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let (m, n) = (a.rows, b.cols);
    // Four rows of A (4·k values: 12.5 KB for k = 784) stay in L1 while all of B's columns
    // stream past them, three at a time (measured: 61% → 77% of peak on 20×784×10, against
    // the other order, three columns of B staying while A streams).
    for i0 in (0..m).step_by(4) {
        let mut j0 = 0;
        while j0 < n {
            // Columns by threes, but the last four or two by twos: a lone column left over
            // would run four chains of FMAs, too few to hide the FMA's latency (measured on
            // 20×784×10, whose ten columns are now 3 + 3 + 2 + 2: 78% → 81% of peak).
            if n - j0 == 4 || n - j0 == 2 {
                dot_pair(alpha, a, b, beta, c, ldc, i0, j0);
                j0 += 2;
            } else {
                dot_block::<4, 3>(alpha, a, b, beta, c, ldc, i0, j0);
                j0 += 3;
            }
        }
    }
}

/// [`dot_block`] for two columns, compiled on its own: the 4 × 3 loop needs all 16 vector
/// registers (12 sums, 3 columns, 1 row), and with this second block shape compiled into the
/// same function the compiler spilled one of its sums to the stack in every step (measured:
/// 78% → 51% of peak on 20×784×10).
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
    dot_block::<4, 2>(alpha, a, b, beta, c, ldc, i0, j0)
}

/// The block of C at (i0, j0) for [`gemm_dot_f32`]: R × S dot products, or on the ragged
/// edge of C the part of one that is inside (rows by 1 × S, columns by R × 1, so no edge
/// runs on a single chain of FMAs except the corner).
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
    let row = |i: usize| a.data.as_ptr().add(i * a.row_stride);
    let col = |j: usize| b.data.as_ptr().add(j * b.col_stride);
    let store = |i: usize, j: usize, dot: f32| {
        let cij = c.add(i * ldc + j);
        let ab = alpha * dot;
        *cij = if beta == 0.0 { ab } else { beta * *cij + ab };
    };
    let (full_i, full_j) = (i0 + R <= m, j0 + S <= n);
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
// ANCHOR_END: avx2_dot

/// The R × S dot products of `k`-long rows `u[r]` with `k`-long rows `v[s]`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn dots<const R: usize, const S: usize>(
    k: usize,
    u: [*const f32; R],
    v: [*const f32; S],
) -> [[f32; S]; R] {
    let mut acc = [[_mm256_setzero_ps(); S]; R];
    let k8 = k - k % 8;
    for p in (0..k8).step_by(8) {
        dot_step::<R, S, false>(&mut acc, &u, &v, p, _mm256_setzero_si256());
    }
    if k8 < k {
        // The last k mod 8 values, with the missing lanes loaded as zeros.
        dot_step::<R, S, true>(&mut acc, &u, &v, k8, first_lanes(k - k8));
    }
    let mut out = [[0.0; S]; R];
    for (out_r, acc_r) in out.iter_mut().zip(&acc) {
        for (o, &a) in out_r.iter_mut().zip(acc_r) {
            *o = hsum(a);
        }
    }
    out
}

/// One step of [`dots`]: acc[r][s] += u[r][p .. p + 8] · v[s][p .. p + 8], lane by lane
/// (only the lanes of `mask` loaded when `MASKED`).
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_step<const R: usize, const S: usize, const MASKED: bool>(
    acc: &mut [[__m256; S]; R],
    u: &[*const f32; R],
    v: &[*const f32; S],
    p: usize,
    mask: __m256i,
) {
    let load = |x: *const f32| match MASKED {
        true => _mm256_maskload_ps(x, mask),
        false => _mm256_loadu_ps(x),
    };
    let v_p: [__m256; S] = std::array::from_fn(|s| load(v[s].add(p)));
    for (r, acc_r) in acc.iter_mut().enumerate() {
        let u_p = load(u[r].add(p));
        for (acc_rs, &v_ps) in acc_r.iter_mut().zip(&v_p) {
            *acc_rs = _mm256_fmadd_ps(u_p, v_ps, *acc_rs);
        }
    }
}

/// The sum of a vector's 8 lanes, always in the same order: (0+4, 1+5, 2+6, 3+7), then
/// pairs, then the last two.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn hsum(x: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
}
