//! The portable micro-kernel: plain Rust that any CPU runs, and that the compiler may
//! auto-vectorise with whatever SIMD the build target guarantees (SSE2 on x86-64).
//!
//! Book chapter: "Making it fast". Same contract as the SIMD kernels, so the same tests cover
//! it. It uses a separate multiply and add, never `mul_add` (which, without an FMA target
//! feature, is a slow library call); so it rounds each product, where FMA kernels do not.

use super::super::gemm::MatRef;
use super::super::scalar::Scalar;
use super::{Blocking, Kernels};

/// Portable kernels: a 4×8 tile keeps 32 accumulators, which fit SSE2's sixteen 128-bit
/// registers for f32; block sizes as the AVX2 kernel's, scaled to the smaller tile. No
/// dot-product or small-product kernel: every product the gemv does not take goes through the
/// blocked loops.
pub(super) fn kernels<T: Scalar>() -> Kernels<T> {
    Kernels {
        blocking: Blocking {
            mr: 4,
            nr: 8,
            mc: 128,
            kc: 256,
            nc: 4096,
        },
        micro: micro::<T, 4, 8>,
        gemv: gemv::<T>,
        dot: None,
        small: None,
        edges: &[],
        store_edge: None,
    }
}

// ANCHOR: portable_micro
/// C_tile ← α·Σ_p ã_p b̃_pᵀ + β·C_tile: `kc` rank-1 updates of an `MR × NR` accumulator
/// (contract: `super::MicroKernel`).
///
/// # Safety
/// ã_ip is readable at `a + i·rsa + p·csa` for i < MR, p < kc (`rsa = 1, csa = MR` when
/// packed); `b` holds `kc` rows of NR values, row stride `ldb`; the tile at `c` (row stride
/// `ldc`) is writable, and readable unless β = 0.
pub(super) unsafe fn micro<T: Scalar, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    rsa: usize,
    csa: usize,
    b: *const T,
    ldb: usize,
    c: *mut T,
    ldc: usize,
    alpha: T,
    beta: T,
) {
    let mut acc = [[T::ZERO; NR]; MR];
    for p in 0..kc {
        // SAFETY: row p of B̃ holds NR values (the caller's promise).
        let b_p = unsafe { std::slice::from_raw_parts(b.add(p * ldb), NR) };
        for (i, acc_i) in acc.iter_mut().enumerate() {
            // SAFETY: ã_ip with i < MR, p < kc is readable (the caller's promise).
            let a_ip = unsafe { *a.add(i * rsa + p * csa) };
            for (acc_ij, &b_pj) in acc_i.iter_mut().zip(b_p) {
                *acc_ij += a_ip * b_pj;
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        for (j, &ab) in row.iter().enumerate() {
            // SAFETY: (i, j) is inside the MR × NR tile (the caller's promise).
            let cij = unsafe { &mut *c.add(i * ldc + j) };
            let ab = alpha * ab;
            *cij = if beta == T::ZERO {
                ab
            } else {
                beta * *cij + ab
            };
        }
    }
}
// ANCHOR_END: portable_micro

/// c ← αAx + βc without packing. If A's columns are contiguous (a transposed view, like
/// Wᵀ in the backward pass), c is built a column at a time, `acc += x_p · A[:, p]`, which
/// vectorises; otherwise one dot product per row, with 8 independent partial sums (which the
/// compiler can vectorise, and which hide the add latency).
pub(super) fn gemv<T: Scalar>(alpha: T, a: MatRef<'_, T>, x: MatRef<'_, T>, beta: T, c: &mut [T]) {
    if a.row_stride == 1 && a.col_stride != 1 {
        return gemv_by_columns(alpha, a, x, beta, c);
    }
    let k = a.cols;
    for (i, ci) in c.iter_mut().enumerate() {
        let mut part = [T::ZERO; 8];
        let full = k - k % 8;
        for p0 in (0..full).step_by(8) {
            for (l, s) in part.iter_mut().enumerate() {
                *s += a.at(i, p0 + l) * x.at(p0 + l, 0);
            }
        }
        for p in full..k {
            part[p % 8] += a.at(i, p) * x.at(p, 0);
        }
        let dot = ((part[0] + part[1]) + (part[2] + part[3]))
            + ((part[4] + part[5]) + (part[6] + part[7]));
        let ab = alpha * dot;
        *ci = if beta == T::ZERO { ab } else { beta * *ci + ab };
    }
}

/// [`gemv`] for A with unit row stride: 64 rows at a time, accumulated on the stack.
fn gemv_by_columns<T: Scalar>(alpha: T, a: MatRef<'_, T>, x: MatRef<'_, T>, beta: T, c: &mut [T]) {
    const ROWS: usize = 64;
    for (block, c_block) in c.chunks_mut(ROWS).enumerate() {
        let i0 = block * ROWS;
        let mut acc = [T::ZERO; ROWS];
        let acc = &mut acc[..c_block.len()];
        for p in 0..a.cols {
            let x_p = x.at(p, 0);
            let col = &a.data[i0 + p * a.col_stride..][..acc.len()];
            for (s, &a_ip) in acc.iter_mut().zip(col) {
                *s += a_ip * x_p;
            }
        }
        for (ci, &dot) in c_block.iter_mut().zip(acc.iter()) {
            let ab = alpha * dot;
            *ci = if beta == T::ZERO { ab } else { beta * *ci + ab };
        }
    }
}
