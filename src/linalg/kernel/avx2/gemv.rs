//! The AVX2 matrix-vector product, c ← αAx + βc (batch 1, or a 1 × n row times B): nothing
//! packed, since a matrix times a vector uses each value of A once.
//!
//! Book chapter: "Making it fast" (The network's own shapes).

use super::super::super::gemm::MatRef;
use super::super::portable;
use super::dot::dots;
use std::arch::x86_64::*;

// ANCHOR: avx2_gemv
/// c ← αAx + βc for f32 without packing. When rows of A and x are contiguous, eight rows
/// at a time share each load of x (8 accumulators: enough to hide the FMA latency);
/// otherwise the portable loop.
///
/// # Safety
/// The CPU must support AVX2 and FMA; the views passed `check_gemm_shapes` with `c`.
pub(in super::super) unsafe fn gemv_f32(
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
        // SAFETY: the CPU has AVX2 and FMA, and rows i0..i0+8 and x hold k contiguous values
        // each (the caller's promises).
        let d = unsafe { dots::<8, 1>(k, std::array::from_fn(|r| row(i0 + r)), x) };
        for (r, d_r) in d.iter().enumerate() {
            store(i0 + r, d_r[0]);
        }
    }
    for i in m8..m {
        // SAFETY: as above, for row i.
        store(i, unsafe { dots::<1, 1>(k, [row(i)], x) }[0][0]);
    }
}
// ANCHOR_END: avx2_gemv

/// The f64 twin of [`gemv_f32`].
///
/// # Safety
/// As [`gemv_f32`].
pub(in super::super) unsafe fn gemv_f64(
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
        // SAFETY: the CPU has AVX2 and FMA (the caller's promise).
        let dot = unsafe { dot_f64(row, &x.data[..k]) };
        let ab = alpha * dot;
        *ci = if beta == 0.0 { ab } else { beta * *ci + ab };
    }
}

/// Σ u_p v_p over two f64 slices of the same length.
///
/// # Panics
/// If `v` is shorter than `u`.
#[target_feature(enable = "avx2,fma")]
fn dot_f64(u: &[f64], v: &[f64]) -> f64 {
    let k = u.len();
    let v = &v[..k];
    let (u, v) = (u.as_ptr(), v.as_ptr());
    let mut acc = [_mm256_setzero_pd(); 4];
    let mut p = 0;
    while p + 16 <= k {
        for (l, s) in acc.iter_mut().enumerate() {
            // SAFETY: p + 4·l + 4 ≤ p + 16 ≤ k: inside both slices.
            let (u_l, v_l) = unsafe {
                (
                    _mm256_loadu_pd(u.add(p + 4 * l)),
                    _mm256_loadu_pd(v.add(p + 4 * l)),
                )
            };
            *s = _mm256_fmadd_pd(u_l, v_l, *s);
        }
        p += 16;
    }
    while p + 4 <= k {
        // SAFETY: p + 4 ≤ k: inside both slices.
        let (u_p, v_p) = unsafe { (_mm256_loadu_pd(u.add(p)), _mm256_loadu_pd(v.add(p))) };
        acc[0] = _mm256_fmadd_pd(u_p, v_p, acc[0]);
        p += 4;
    }
    let s = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
    let s = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    let mut sum = _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
    while p < k {
        // SAFETY: p < k: inside both slices.
        sum += unsafe { *u.add(p) * *v.add(p) };
        p += 1;
    }
    sum
}
