//! Three matrix multiplies for reading, not for use: the steps from the textbook loop to a
//! cache-friendly one, each C ← AB on dense row-major slices (A `m × k`, B `k × n`,
//! C `m × n`).
//!
//! Book chapter: "Making it fast", which measures each of them. The crate itself calls
//! [`gemm`](super::gemm()); these exist so the book can include and benchmark the steps.
//! Left out: α, β, strides and everything else that would hide the loop order.

use super::scalar::Scalar;

// ANCHOR: ijk
/// The textbook order: c_ij = Σ_p a_ip b_pj, with p innermost. B is walked down a column,
/// one element per cache line (stride n), so almost every load of B misses L1 for large n.
pub fn matmul_ijk<T: Scalar>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    for i in 0..m {
        for j in 0..n {
            let mut sum = T::ZERO;
            for p in 0..k {
                sum += a[i * k + p] * b[p * n + j];
            }
            c[i * n + j] = sum;
        }
    }
}
// ANCHOR_END: ijk

// ANCHOR: ikj
/// The same sums with j innermost: row i of C gains a_ip × row p of B. Both rows are
/// contiguous, every cache line is used whole, and the inner loop vectorises.
pub fn matmul_ikj<T: Scalar>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    c.fill(T::ZERO);
    for i in 0..m {
        let c_i = &mut c[i * n..(i + 1) * n];
        for p in 0..k {
            let a_ip = a[i * k + p];
            let b_p = &b[p * n..(p + 1) * n];
            for (c_ij, &b_pj) in c_i.iter_mut().zip(b_p) {
                *c_ij += a_ip * b_pj;
            }
        }
    }
}
// ANCHOR_END: ikj

/// Side of the square blocks in [`matmul_blocked`]: three 64 × 64 f32 blocks are 48 KiB,
/// about what L1 + a little of L2 serve fastest.
pub const BLOCK: usize = 64;

// ANCHOR: blocked
/// ikj, but over BLOCK × BLOCK blocks: the block of B a row of C works on is reused by the
/// next BLOCK rows while it is still in cache, instead of streaming all of B per row.
pub fn matmul_blocked<T: Scalar>(a: &[T], b: &[T], c: &mut [T], m: usize, k: usize, n: usize) {
    c.fill(T::ZERO);
    for i0 in (0..m).step_by(BLOCK) {
        for p0 in (0..k).step_by(BLOCK) {
            for j0 in (0..n).step_by(BLOCK) {
                let j1 = (j0 + BLOCK).min(n);
                for i in i0..(i0 + BLOCK).min(m) {
                    for p in p0..(p0 + BLOCK).min(k) {
                        let a_ip = a[i * k + p];
                        let b_p = &b[p * n + j0..p * n + j1];
                        for (c_ij, &b_pj) in c[i * n + j0..i * n + j1].iter_mut().zip(b_p) {
                            *c_ij += a_ip * b_pj;
                        }
                    }
                }
            }
        }
    }
}
// ANCHOR_END: blocked

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_agree_on_a_small_product() {
        let (m, k, n) = (67, 130, 71);
        let a: Vec<f64> = (0..m * k).map(|x| ((x * 7) % 13) as f64 - 6.0).collect();
        let b: Vec<f64> = (0..k * n).map(|x| ((x * 5) % 11) as f64 - 5.0).collect();
        let mut want = vec![0.0; m * n];
        matmul_ijk(&a, &b, &mut want, m, k, n);
        // Small integers: every partial sum is exact, so the orders agree bit for bit.
        for f in [matmul_ikj::<f64>, matmul_blocked::<f64>] {
            let mut c = vec![f64::NAN; m * n];
            f(&a, &b, &mut c, m, k, n);
            assert_eq!(c, want);
        }
    }
}
