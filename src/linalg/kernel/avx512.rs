//! AVX-512F micro-kernels: a 6×32 f32 tile (6×16 for f64), twelve 512-bit accumulators; and
//! for f32 edge tiles of 17 to 24 columns, AVX2's micro-kernel as a 6×24 tile compiled with
//! AVX-512VL.
//!
//! Book chapter: "Making it fast". The same loop as the AVX2 kernel, with its prefetches,
//! and vectors twice as wide. It compiles everywhere on x86-64, and the kernel tests run it
//! wherever `Kernel::Avx512.is_supported()` (AVX-512F with AVX2 and FMA; the project's VM
//! exposed AVX-512 from 2 December). Its block sizes are BLIS's for Zen; changing KC would
//! change the bits of every product deeper than one slice (see the book's "Against the FMA
//! peak").

use super::{avx2, Blocking, Kernels, Narrow};
use std::arch::x86_64::*;

/// f32's AVX-512 kernels: BLIS's block sizes for Zen (MC = 144, KC = 256), untuned, with a
/// 32-wide NR. The dot-product kernel is `avx512_dot.rs`'s (the AVX2 one's sums, two columns
/// to a register, so the same bits), the small-product kernel `avx512_small.rs`'s (AVX2's
/// chains of FMAs, 32 columns a tile), and the narrow ones for edge tiles AVX2's 6 × 8,
/// 6 × 16 and its 6 × 24 (with AVX-512VL's registers, where the CPU has them).
/// `Kernel::Avx512` is chosen only on CPUs with AVX2 and FMA as well.
pub(super) fn kernels_f32() -> Kernels<f32> {
    let narrow = |cols, micro| Narrow {
        rows: 6,
        cols,
        micro,
    };
    Kernels {
        blocking: Blocking {
            mr: 6,
            nr: 32,
            mc: 144,
            kc: 256,
            nc: 4064,
        },
        micro: micro_f32,
        gemv: avx2::gemv_f32,
        dot: Some(super::avx512_dot::gemm_dot_f32),
        small: Some(super::avx512_small::gemm_small_f32),
        // AVX2's 6 × 8, 6 × 16 and 6 × 24 tiles: the same chain of FMAs per c_ij, on 8, 16
        // or 24 of the 32 columns.
        narrow: [
            Some(narrow(8, avx2::MICRO_F32_6X8)),
            Some(narrow(16, avx2::MICRO_F32_6X16)),
            is_x86_feature_detected!("avx512vl").then(|| narrow(24, micro_f32_6x24)),
        ],
    }
}

/// f64's AVX-512 kernels: as [`kernels_f32`]'s, with MC halved for 8-byte values.
pub(super) fn kernels_f64() -> Kernels<f64> {
    Kernels {
        blocking: Blocking {
            mr: 6,
            nr: 16,
            mc: 72,
            kc: 256,
            nc: 4064,
        },
        micro: micro_f64,
        gemv: avx2::gemv_f64,
        dot: None,
        small: None,
        narrow: [None, None, None],
    }
}

/// C_tile ← α·ÃB̃ + β·C_tile for a 6 × 32 f32 tile (contract: `super::MicroKernel`).
///
/// # Safety
/// The CPU must support AVX-512F; ã_ip is readable at `a + i·rsa + p·csa` for i < 6, p < kc;
/// `b` holds `kc` rows of 32 (row stride `ldb`), and the tile at `c` (row stride `ldc`) is
/// writable (and readable unless β = 0).
#[target_feature(enable = "avx512f")]
unsafe fn micro_f32(
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
    // Ask for the C tile now, as the AVX2 kernel does: its rows are ldc apart, and they
    // arrive while the FMAs run instead of stalling the update at the end. A row of 32 is
    // 128 bytes, three cache lines when it does not start on one.
    for i in 0..6 {
        for j in [0, 16, 31] {
            // SAFETY: (i, j) is inside the tile; a prefetch reads nothing.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(c.add(i * ldc + j) as *const i8) };
        }
    }
    // Four copies of the loop: packed Ã gets constant strides, A read in place its own; and
    // only B read in place is prefetched (packed B̃ is one sequential stream, which the
    // hardware prefetchers follow, and the prefetch instructions take load slots the loads
    // need; the book's "A host with two 512-bit FMA units" has the figures).
    // SAFETY: the caller's promises about Ã and B̃ are `rank1_updates_f32`'s contract.
    let acc = unsafe {
        match (rsa, csa, ldb) {
            (1, 6, 32) => rank1_updates_f32::<false>(kc, a, 1, 6, b, 32),
            (1, 6, _) => rank1_updates_f32::<true>(kc, a, 1, 6, b, ldb),
            (_, _, 32) => rank1_updates_f32::<false>(kc, a, rsa, csa, b, 32),
            _ => rank1_updates_f32::<true>(kc, a, rsa, csa, b, ldb),
        }
    };
    let alpha = _mm512_set1_ps(alpha);
    for (i, acc_i) in acc.iter().enumerate() {
        for (v, &ab) in acc_i.iter().enumerate() {
            let ab = _mm512_mul_ps(alpha, ab);
            // SAFETY: vector v of row i is inside the tile, which is writable, and readable
            // unless β = 0 (the caller's promise).
            unsafe {
                let c_iv = c.add(i * ldc + 16 * v);
                let out = match beta {
                    0.0 => ab,
                    // 1·c is c exactly: skipping the multiply changes no bit.
                    1.0 => _mm512_add_ps(_mm512_loadu_ps(c_iv), ab),
                    _ => _mm512_add_ps(
                        _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_loadu_ps(c_iv)),
                        ab,
                    ),
                };
                _mm512_storeu_ps(c_iv, out);
            }
        }
    }
}

/// AVX2's micro-kernel with a 6 × 24 tile (contract: `super::MicroKernel`): three 256-bit
/// vectors a row, 18 accumulators. Compiled here with AVX-512VL, which gives 256-bit
/// instructions 32 registers instead of AVX2's 16 (with 16 the tile spills), for edge
/// slivers of 17 to 24 columns: a product 20 wide runs 24 columns' FMAs instead of 32.
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512VL, AVX2 and FMA; the rest as [`micro_f32`], with
/// rows of 24 in `b`.
#[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
unsafe fn micro_f32_6x24(
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
    // SAFETY: the caller's promises; this CPU runs AVX2 and FMA.
    unsafe { avx2::micro_f32::<6, 3>(kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta) }
}

/// [`micro_f32`]'s loop: `acc[i][v] = Σ_p ã_ip · b̃_p[16v .. 16v+16]`, kept in registers;
/// with `PREFETCH_B`, B's row p + 8 is asked for at step p.
///
/// # Safety
/// The CPU must support AVX-512F; ã_ip is readable at `a + i·rsa + p·csa` for i < 6,
/// p < kc; `b` holds `kc` rows of 32 values with row stride `ldb`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn rank1_updates_f32<const PREFETCH_B: bool>(
    kc: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    ldb: usize,
) -> [[__m512; 2]; 6] {
    let mut acc = [[_mm512_setzero_ps(); 2]; 6];
    for p in 0..kc {
        // SAFETY: row p < kc of B̃ is inside it (the caller's promise).
        let b_p = unsafe { b.add(ldb * p) };
        // B read in place has rows a page apart, too far for the hardware prefetchers: ask
        // for row p + 8 now (every line of its 128 bytes), as the AVX2 kernel does.
        if PREFETCH_B {
            for j in [0, 16, 31] {
                _mm_prefetch::<_MM_HINT_T0>(b_p.wrapping_add(8 * ldb + j) as *const i8);
            }
        }
        // SAFETY: row p holds 32 values (the caller's promise).
        let (b0, b1) = unsafe { (_mm512_loadu_ps(b_p), _mm512_loadu_ps(b_p.add(16))) };
        for (i, acc_i) in acc.iter_mut().enumerate() {
            // SAFETY: ã_ip with i < 6, p < kc is readable (the caller's promise).
            let a_ip = _mm512_set1_ps(unsafe { *a.add(i * rsa + p * csa) });
            acc_i[0] = _mm512_fmadd_ps(a_ip, b0, acc_i[0]);
            acc_i[1] = _mm512_fmadd_ps(a_ip, b1, acc_i[1]);
        }
    }
    acc
}

/// The f64 twin of [`micro_f32`]: a 6 × 16 tile.
///
/// # Safety
/// As [`micro_f32`], with rows of 16 in `b`.
#[target_feature(enable = "avx512f")]
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
    let mut acc = [[_mm512_setzero_pd(); 2]; 6];
    for p in 0..kc {
        // SAFETY: row p < kc of B̃ holds 16 values (the caller's promise).
        let (b0, b1) = unsafe {
            let b_p = b.add(ldb * p);
            (_mm512_loadu_pd(b_p), _mm512_loadu_pd(b_p.add(8)))
        };
        for (i, acc_i) in acc.iter_mut().enumerate() {
            // SAFETY: ã_ip with i < 6, p < kc is readable (the caller's promise).
            let a_ip = _mm512_set1_pd(unsafe { *a.add(i * rsa + p * csa) });
            acc_i[0] = _mm512_fmadd_pd(a_ip, b0, acc_i[0]);
            acc_i[1] = _mm512_fmadd_pd(a_ip, b1, acc_i[1]);
        }
    }
    let alpha = _mm512_set1_pd(alpha);
    for (i, acc_i) in acc.iter().enumerate() {
        for (v, &ab) in acc_i.iter().enumerate() {
            let ab = _mm512_mul_pd(alpha, ab);
            // SAFETY: vector v of row i is inside the tile, which is writable, and readable
            // unless β = 0 (the caller's promise).
            unsafe {
                let c_iv = c.add(i * ldc + 8 * v);
                let out = if beta == 0.0 {
                    ab
                } else {
                    _mm512_add_pd(
                        _mm512_mul_pd(_mm512_set1_pd(beta), _mm512_loadu_pd(c_iv)),
                        ab,
                    )
                };
                _mm512_storeu_pd(c_iv, out);
            }
        }
    }
}
