//! AVX2 + FMA kernels: 256-bit vectors of eight f32 (four f64), sixteen `ymm` registers,
//! fused multiply-add.
//!
//! Book chapter: "Making it fast". One file for each kind of kernel:
//!
//! * `micro.rs`: the register-tiled micro-kernel of the five loops (`Path::Blis`): 6 × 16
//!   f32 (5 × 16 for a short A), 6 × 8 f64;
//! * `small.rs`: straight loops over 5 × 16 tiles for small products or a short k, nothing
//!   packed (`Path::Small`);
//! * `dot.rs`: blocks of dot products for A·Bᵀ with contiguous rows, the forward product
//!   (`Path::Dot`);
//! * `gemv.rs`: the matrix-vector product (n = 1, or m = 1).
//!
//! Each f32 kernel computes c_ij as one chain of FMAs over p (or, in `dot.rs`, eight lane
//! chains and one fixed reduction), so a c_ij never depends on which tile or thread's block
//! it falls in. Only called after `is_x86_feature_detected!("avx2")` and `("fma")` (see
//! `Kernel::Avx2`): every kernel's contract says so.

mod dot;
mod gemv;
mod micro;
mod small;

use super::{Blocking, Kernels};
use std::arch::x86_64::*;

pub(super) use dot::{column_chunks, gemm_dot_f32, hsum, load8, store_dot};
pub(super) use gemv::{gemv_f32, gemv_f64};
pub(super) use small::{gemm_small_f32, small_with_b_copied};

/// The f32 micro-kernel, for the AVX-512 kernels' edge tiles of 8 columns, and its update of
/// a 256-bit vector of C, for their 24-column ones.
pub(super) use micro::{micro_f32, update_c};

/// f32's AVX2 kernels, for a product with `m` rows.
///
/// Block sizes measured on Zen 4 (32 KiB L1d, 512 KiB L2 per core as this VM reports) rather
/// than taken from the cache sizes alone: a deep KC = 768 with MC = 72 beat BLIS's Zen choice
/// (KC = 256, MC = 144) on large squares (see the book's "Making it fast", Step 4). Deeper
/// slices mean fewer passes over C (each pass loads and stores every tile); the 768 × 16
/// sliver of B̃ (48 KiB) no longer fits L1, but it streams from L2 under the micro-kernel's
/// prefetch, and Ã (72 × 768 × 4 B = 216 KiB) fits L2.
///
/// For a short A (`m ≤ MC`) that fits 5-row tiles better than 6-row ones (the network's
/// m = 20 pads to 24 rows with MR = 6, to exactly 20 with MR = 5) the tile is 5 × 16. (A
/// 4 × 24 tile would also fit 20 rows, but needs all 16 registers and the compiler spills.)
/// Each c_ij is the same chain of FMAs either way, so the choice never changes a result.
pub(super) fn kernels_f32(m: usize) -> Kernels<f32> {
    let five_fits_better = m <= 70 && m.next_multiple_of(5) < m.next_multiple_of(6);
    let (mr, mc, micro): (usize, usize, super::MicroKernel<f32>) = if five_fits_better {
        (5, 70, micro::micro_f32::<5, 2>)
    } else {
        (6, 72, micro::micro_f32::<6, 2>)
    };
    Kernels {
        blocking: Blocking {
            mr,
            nr: 16,
            mc,
            kc: 768,
            nc: 4080,
        },
        micro,
        gemv: gemv_f32,
        dot: Some(gemm_dot_f32),
        small: Some(gemm_small_f32),
        edges: &[],
        store_edge: None,
    }
}

/// f64's AVX2 kernels: BLIS's Zen block sizes with MC halved, so Ã holds as many bytes as
/// f32's 144 × 256 block would, and no dot-product or small-product kernel (f64 is for the
/// gradient checks, not for speed).
pub(super) fn kernels_f64() -> Kernels<f64> {
    Kernels {
        blocking: Blocking {
            mr: 6,
            nr: 8,
            mc: 72,
            kc: 256,
            nc: 4080,
        },
        micro: micro::micro_f64,
        gemv: gemv_f64,
        dot: None,
        small: None,
        edges: &[],
        store_edge: None,
    }
}

/// A mask for masked loads with lanes 0 .. `count` set (all eight when `count` ≥ 8).
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn first_lanes(count: usize) -> __m256i {
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_cmpgt_epi32(_mm256_set1_epi32(count.min(8) as i32), lanes)
}
