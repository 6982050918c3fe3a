//! The AVX2 micro-kernels of the five loops: a 6 × 16 f32 tile (5 × 16 for a short A; 6 × 8
//! for f64) held in registers, updated by one rank-1 product per step of k.
//!
//! Book chapter: "Making it fast" (Step 5). Why 6 × 16: each step loads two 8-wide rows of B̃
//! and broadcasts six values of Ã, then issues 12 independent FMAs. Zen 4 retires two FMAs
//! per cycle with a 4-cycle latency, so it needs at least 8 independent accumulators to stay
//! busy; 12 accumulators + 2 B vectors + 1 broadcast = 15 registers, one spare. Loads per
//! FMA are 8/12, well inside the load ports' budget.

use std::arch::x86_64::*;

// ANCHOR: avx2_micro
/// C_tile ← α·ÃB̃ + β·C_tile for an MR × 8·NV f32 tile (contract: `super::MicroKernel`):
/// 6 × 16 (`<6, 2>`, 12 accumulators) in general, 5 × 16 (`<5, 2>`, 10 accumulators) when
/// it wastes fewer padded rows, as for the network's m = 20. The AVX-512 kernels' edge tiles
/// of 8 columns use it too: 6 × 8 (`<6, 1>`) and 12 × 8 (`<12, 1>`).
///
/// # Safety
/// The CPU must support AVX2 and FMA; ã_ip is readable at `a + i·rsa + p·csa` for i < MR,
/// p < kc (`rsa = 1` and `csa` the panel's height when packed: MR, or the AVX-512 tile's 12
/// for its edges), `b` holds `kc` rows of 8·NV with row stride
/// `ldb`, and the tile at `c` (row stride `ldc`) is writable (and readable unless β = 0).
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(in super::super) unsafe fn micro_f32<const MR: usize, const NV: usize>(
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
    // FMAs run rather than stalling the update at the end.
    for i in 0..MR {
        // SAFETY: both addresses are inside row i of the tile; a prefetch reads nothing.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(c.add(i * ldc) as *const i8);
            _mm_prefetch::<_MM_HINT_T0>(c.add(i * ldc + 8 * NV - 1) as *const i8);
        }
    }
    // Two copies of the loop: packed Ã gets constant strides, A read in place gets its own.
    // SAFETY: the caller's promises about Ã and B̃ are `rank1_updates`' contract.
    let acc = unsafe {
        if rsa == 1 && csa == MR {
            rank1_updates::<MR, NV>(kc, a, 1, MR, b, ldb)
        } else {
            rank1_updates::<MR, NV>(kc, a, rsa, csa, b, ldb)
        }
    };
    for (i, acc_i) in acc.iter().enumerate() {
        for (v, &ab) in acc_i.iter().enumerate() {
            // SAFETY: vector v of row i is inside the tile, which is writable, and readable
            // unless β = 0 (the caller's promise).
            unsafe { update_c(c.add(i * ldc + 8 * v), ab, alpha, beta) };
        }
    }
}

/// c ← β·c + α·ab for one 256-bit vector of C: `MicroKernel`'s update, a separate multiply
/// and add (also the AVX-512 kernels' for the last eight columns of a 24-wide edge tile).
///
/// # Safety
/// The CPU must support AVX2 and FMA; `c` is writable for 8 values, and readable unless
/// β = 0.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(in super::super) unsafe fn update_c(c: *mut f32, ab: __m256, alpha: f32, beta: f32) {
    let ab = _mm256_mul_ps(_mm256_set1_ps(alpha), ab);
    // SAFETY: the caller's promise.
    unsafe {
        let out = match beta {
            0.0 => ab,
            // 1·c is c exactly: skipping the multiply changes no bit.
            1.0 => _mm256_add_ps(_mm256_loadu_ps(c), ab),
            _ => _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c)), ab),
        };
        _mm256_storeu_ps(c, out);
    }
}

/// The micro-kernel's loop: `acc[i][v] = Σ_p ã_ip · b̃_p[8v .. 8v+8]`, kept in registers.
///
/// # Safety
/// The CPU must support AVX2 and FMA; ã_ip is readable at `a + i·rsa + p·csa` for i < MR,
/// p < kc; `b` holds `kc` rows of 8·NV values with row stride `ldb`.
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
        // SAFETY: row p < kc of B̃ is inside it (the caller's promise).
        let b_p = unsafe { b.add(ldb * p) };
        // When B is read in place its rows are a page apart, too far for the hardware
        // prefetchers: ask for row p + 8 now (see the book's Step 5).
        _mm_prefetch::<_MM_HINT_T0>(b_p.wrapping_add(8 * ldb) as *const i8);
        // SAFETY: row p holds 8·NV values (the caller's promise).
        let b_v: [__m256; NV] = unsafe { std::array::from_fn(|v| _mm256_loadu_ps(b_p.add(8 * v))) };
        for (i, acc_i) in acc.iter_mut().enumerate() {
            // One value of Ã times a row of B̃: a rank-1 update, 8·NV multiply-adds.
            // SAFETY: ã_ip with i < MR, p < kc is readable (the caller's promise).
            let a_ip = _mm256_broadcast_ss(unsafe { &*a.add(i * rsa + p * csa) });
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
pub(super) unsafe fn micro_f64(
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
        // SAFETY: row p < kc of B̃ holds 8 values (the caller's promise).
        let (b0, b1) = unsafe {
            let b_p = b.add(ldb * p);
            (_mm256_loadu_pd(b_p), _mm256_loadu_pd(b_p.add(4)))
        };
        for (i, acc_i) in acc.iter_mut().enumerate() {
            // SAFETY: ã_ip with i < 6, p < kc is readable (the caller's promise).
            let a_ip = _mm256_broadcast_sd(unsafe { &*a.add(i * rsa + p * csa) });
            acc_i[0] = _mm256_fmadd_pd(a_ip, b0, acc_i[0]);
            acc_i[1] = _mm256_fmadd_pd(a_ip, b1, acc_i[1]);
        }
    }
    let alpha = _mm256_set1_pd(alpha);
    for (i, acc_i) in acc.iter().enumerate() {
        for (v, &ab) in acc_i.iter().enumerate() {
            let ab = _mm256_mul_pd(alpha, ab);
            // SAFETY: vector v of row i is inside the tile, which is writable, and readable
            // unless β = 0 (the caller's promise).
            unsafe {
                let c_iv = c.add(i * ldc + 4 * v);
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
}
