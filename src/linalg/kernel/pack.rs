//! Packing: copy a block of A or B, whatever its strides, into the contiguous order the
//! micro-kernel reads it in, padding partial panels with zeros.
//!
//! Book chapter: "Making it fast". After packing, the micro-kernel's loads are unit-stride and
//! sequential (the prefetcher's favourite pattern), and each packed value is reused many
//! times: a value of Ã NR times from registers, a value of B̃ MC/MR times from cache. A
//! transposed operand is just a view with its strides swapped, so transposes are handled
//! here, once, for free.

use super::super::gemm::MatRef;
use super::super::scalar::Scalar;

// ANCHOR: pack_a
/// Packs Ã = A[ic..ic+mb, pc..pc+kb] as ⌈mb/mr⌉ panels of `mr` rows. Panel `q` holds, for
/// each p in 0..kb, the column `A[ic+q·mr .. ic+q·mr+mr, pc+p]`: `dst[q·mr·kb + p·mr + i]`.
/// Rows past `mb` are zero, so the micro-kernel never needs a row count.
///
/// # Safety
/// The block must lie inside `a` (as `check_gemm_shapes` ensures for blocks of the product);
/// `dst` must be writable for `mb.next_multiple_of(mr) * kb` values and not overlap `a`.
pub(super) unsafe fn pack_a<T: Scalar>(
    a: MatRef<'_, T>,
    ic: usize,
    pc: usize,
    mb: usize,
    kb: usize,
    mr: usize,
    dst: *mut T,
) {
    let (rs, cs) = (a.row_stride, a.col_stride);
    // SAFETY: every read is of A[ic + i0 + i, pc + p] with i0 + i < mb and p < kb, inside
    // the block; every write is to panel q < ⌈mb/mr⌉ at offset p·mr + i < kb·mr, inside
    // `dst` (the caller's promises).
    unsafe {
        let src = a.data.as_ptr().add(ic * rs + pc * cs);
        for (q, i0) in (0..mb).step_by(mr).enumerate() {
            let rows = mr.min(mb - i0);
            let panel = dst.add(q * mr * kb);
            let src = src.add(i0 * rs);
            if cs == 1 {
                // Rows are contiguous (A row-major): read along rows, scatter by mr.
                for i in 0..rows {
                    for p in 0..kb {
                        *panel.add(p * mr + i) = *src.add(i * rs + p);
                    }
                }
            } else {
                // Columns are contiguous (Aᵀ of a row-major matrix): read and write in order.
                // A full panel's MR values of a step are one fixed-size copy (a loop of single
                // values made packing a transposed A slower than reading it in place).
                let full_runs = rs == 1 && rows == mr;
                match mr {
                    12 if full_runs => copy_runs::<T, 12>(src, cs, panel, kb),
                    6 if full_runs => copy_runs::<T, 6>(src, cs, panel, kb),
                    5 if full_runs => copy_runs::<T, 5>(src, cs, panel, kb),
                    4 if full_runs => copy_runs::<T, 4>(src, cs, panel, kb),
                    _ => {
                        for p in 0..kb {
                            for i in 0..rows {
                                *panel.add(p * mr + i) = *src.add(i * rs + p * cs);
                            }
                        }
                    }
                }
            }
            for p in 0..kb {
                for i in rows..mr {
                    *panel.add(p * mr + i) = T::ZERO;
                }
            }
        }
    }
}
// ANCHOR_END: pack_a

/// Copies `kb` runs of R values, run p from `src + p·cs` to `dst + p·R`.
///
/// # Safety
/// Each run is readable at `src` and writable at `dst` as said, and the two do not overlap.
#[inline]
unsafe fn copy_runs<T: Copy, const R: usize>(src: *const T, cs: usize, dst: *mut T, kb: usize) {
    for p in 0..kb {
        // SAFETY: the caller's promise, for run p.
        unsafe {
            let run = src.add(p * cs).cast::<[T; R]>().read_unaligned();
            dst.add(p * R).cast::<[T; R]>().write_unaligned(run);
        }
    }
}

/// Packs B̃ = B[pc..pc+kb, jc..jc+nb] as ⌈nb/nr⌉ panels of `nr` columns: panel `q` holds,
/// for each p, the row `B[pc+p, jc+q·nr .. jc+q·nr+nr]`: `dst[q·nr·kb + p·nr + j]`.
/// Columns past `nb` are zero.
///
/// # Safety
/// As [`pack_a`], with `dst` holding `nb.next_multiple_of(nr) * kb` values.
pub(super) unsafe fn pack_b<T: Scalar>(
    b: MatRef<'_, T>,
    pc: usize,
    jc: usize,
    kb: usize,
    nb: usize,
    nr: usize,
    dst: *mut T,
) {
    let (rs, cs) = (b.row_stride, b.col_stride);
    // SAFETY: as in `pack_a`: reads of B[pc + p, jc + j0 + j] with p < kb, j0 + j < nb;
    // writes to panel q < ⌈nb/nr⌉ at offset p·nr + j < kb·nr (the caller's promises).
    unsafe {
        let src = b.data.as_ptr().add(pc * rs + jc * cs);
        for (q, j0) in (0..nb).step_by(nr).enumerate() {
            let cols = nr.min(nb - j0);
            let panel = dst.add(q * nr * kb);
            let src = src.add(j0 * cs);
            if cs == 1 {
                // B row-major: each packed row is a straight copy.
                for p in 0..kb {
                    std::ptr::copy_nonoverlapping(src.add(p * rs), panel.add(p * nr), cols);
                }
            } else {
                for j in 0..cols {
                    for p in 0..kb {
                        *panel.add(p * nr + j) = *src.add(j * cs + p * rs);
                    }
                }
            }
            if cols < nr {
                for p in 0..kb {
                    for j in cols..nr {
                        *panel.add(p * nr + j) = T::ZERO;
                    }
                }
            }
        }
    }
}
