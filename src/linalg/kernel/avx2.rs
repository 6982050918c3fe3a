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
use super::{portable, Blocking};
use std::arch::x86_64::*;

/// Block sizes for Zen-class caches (32 KiB L1d, 1 MiB L2), after BLIS's Zen configuration:
/// a 256 × 16 sliver of B̃ is 16 KiB (L1), Ã is 144 × 256 × 4 B = 144 KiB (L2).
pub(super) fn blocking_f32() -> Blocking<f32> {
    Blocking {
        mr: 6,
        nr: 16,
        mc: 144,
        kc: 256,
        nc: 4080,
        micro: micro_f32,
        gemv: gemv_f32,
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
    }
}

// ANCHOR: avx2_micro
/// C_tile ← α·ÃB̃ + β·C_tile for a 6 × 16 f32 tile (contract: `super::MicroKernel`).
///
/// # Safety
/// The CPU must support AVX2 and FMA; `a` holds `6·kc` values, `b` holds `16·kc`, and the
/// tile at `c` (row stride `ldc`) is writable (and readable unless β = 0).
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f32(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    // acc[i][v] holds C_tile[i, 8v .. 8v+8]: 12 registers.
    let mut acc = [[_mm256_setzero_ps(); 2]; 6];
    for p in 0..kc {
        let b_p = b.add(16 * p);
        let (b0, b1) = (_mm256_loadu_ps(b_p), _mm256_loadu_ps(b_p.add(8)));
        for (i, acc_i) in acc.iter_mut().enumerate() {
            // One value of Ã times a row of B̃: a rank-1 update, 16 multiply-adds.
            let a_ip = _mm256_broadcast_ss(&*a.add(6 * p + i));
            acc_i[0] = _mm256_fmadd_ps(a_ip, b0, acc_i[0]);
            acc_i[1] = _mm256_fmadd_ps(a_ip, b1, acc_i[1]);
        }
    }
    let alpha = _mm256_set1_ps(alpha);
    for (i, acc_i) in acc.iter().enumerate() {
        for (v, &ab) in acc_i.iter().enumerate() {
            let c_iv = c.add(i * ldc + 8 * v);
            let ab = _mm256_mul_ps(alpha, ab);
            let out = if beta == 0.0 {
                ab
            } else {
                _mm256_add_ps(
                    _mm256_mul_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c_iv)),
                    ab,
                )
            };
            _mm256_storeu_ps(c_iv, out);
        }
    }
}
// ANCHOR_END: avx2_micro

/// The f64 twin of [`micro_f32`]: a 6 × 8 tile, four doubles per register.
///
/// # Safety
/// As [`micro_f32`], with `a` holding `6·kc` and `b` holding `8·kc` values.
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f64(
    kc: usize,
    a: *const f64,
    b: *const f64,
    c: *mut f64,
    ldc: usize,
    alpha: f64,
    beta: f64,
) {
    let mut acc = [[_mm256_setzero_pd(); 2]; 6];
    for p in 0..kc {
        let b_p = b.add(8 * p);
        let (b0, b1) = (_mm256_loadu_pd(b_p), _mm256_loadu_pd(b_p.add(4)));
        for (i, acc_i) in acc.iter_mut().enumerate() {
            let a_ip = _mm256_broadcast_sd(&*a.add(6 * p + i));
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

// ANCHOR: avx2_gemv
/// c ← αAx + βc for f32 without packing. When rows of A and x are contiguous, each dot
/// product runs on four 8-wide accumulators (32 values per step, hiding FMA latency);
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
    let k = a.cols;
    for (i, ci) in c.iter_mut().enumerate() {
        let row = &a.data[i * a.row_stride..i * a.row_stride + k];
        // SAFETY: `Kernel::Avx2` is only chosen when the CPU has AVX2 and FMA.
        let dot = unsafe { dot_f32(row, &x.data[..k]) };
        let ab = alpha * dot;
        *ci = if beta == 0.0 { ab } else { beta * *ci + ab };
    }
}
// ANCHOR_END: avx2_gemv

/// Σ u_p v_p over two equal-length slices.
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_f32(u: &[f32], v: &[f32]) -> f32 {
    let k = u.len();
    let (u, v) = (u.as_ptr(), v.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut p = 0;
    while p + 32 <= k {
        for (l, s) in acc.iter_mut().enumerate() {
            *s = _mm256_fmadd_ps(
                _mm256_loadu_ps(u.add(p + 8 * l)),
                _mm256_loadu_ps(v.add(p + 8 * l)),
                *s,
            );
        }
        p += 32;
    }
    while p + 8 <= k {
        acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(u.add(p)), _mm256_loadu_ps(v.add(p)), acc[0]);
        p += 8;
    }
    let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let s = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let mut sum = _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
    while p < k {
        sum += *u.add(p) * *v.add(p);
        p += 1;
    }
    sum
}

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
