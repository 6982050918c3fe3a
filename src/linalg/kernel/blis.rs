//! The BLIS five loops: C ← αAB + βC cut into blocks sized for each cache level, packed
//! (`pack.rs`) or read in place, with the micro-kernel at the centre; and the ragged edge
//! tiles, computed into a buffer and stored with the micro-kernel's own arithmetic.
//!
//! Book chapter: "Making it fast" (Step 4). The loops are named as in the BLIS paper (Van
//! Zee & van de Geijn, 2015): `jc`, `pc`, `ic`, `jr`, `ir`, outermost first.

use super::super::gemm::MatRef;
use super::super::scalar::Scalar;
use super::pack;
use super::pack_buffers::PackBuffer;
use super::{Kernels, MAX_TILE};

/// The depth of loop 4's slices of k: k split into the nearest whole number of slices to
/// `kc` deep, of equal depth (at most 1.5·`kc`), so k = 784 is one pass over C rather than
/// 768 + a wasteful 16.
pub(super) fn slice_depth(k: usize, kc: usize) -> usize {
    let slices = ((k + kc / 2) / kc).max(1);
    k.div_ceil(slices)
}

// ANCHOR: five_loops
/// The BLIS five loops: C ← αAB + βC on one thread, C at `c` with row stride `ldc`.
/// With `direct_b` (B must have unit column stride), full NR-wide slivers of B are read where
/// they lie and only the ragged last one is packed; `direct_a` does the same for A's panels.
///
/// # Safety
/// `kernels` belong to a kernel this CPU runs; the views passed `check_gemm_shapes`; `c`
/// points to an `a.rows × b.cols` block with row stride `ldc` that nothing else touches during
/// the call; `direct_b` only if `b.col_stride == 1`.
pub(super) unsafe fn gemm_packed<T: Scalar>(
    kernels: &Kernels<T>,
    direct_a: bool,
    direct_b: bool,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: *mut T,
    ldc: usize,
    buffer: &mut PackBuffer,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let (bl, micro) = (&kernels.blocking, kernels.micro);
    let (mr, nr) = (bl.mr, bl.nr);
    let kc = slice_depth(k, bl.kc);
    let a_len = bl.mc.min(m.next_multiple_of(mr)) * kc;
    let b_len = bl.nc.min(n.next_multiple_of(nr)) * kc;
    let a_pack = buffer.room_for::<T>(a_len + b_len);
    // SAFETY: the buffer holds a_len + b_len values: Ã's room, then B̃'s.
    let b_pack = unsafe { a_pack.add(a_len) };
    let mut edge = [T::ZERO; MAX_TILE];
    // How an edge tile's live corner reaches C: the kernel's own store, or the scalar loop.
    let store = kernels.store_edge.unwrap_or(store_edge);

    for jc in (0..n).step_by(bl.nc) {
        // Loop 5: a block of NC columns of B and C.
        let nb = bl.nc.min(n - jc);
        for pc in (0..k).step_by(kc) {
            // Loop 4: a KC-deep slice of k. Pack B̃ = B[pc.., jc..] (kb × nb): L3/L2.
            let kb = kc.min(k - pc);
            if !direct_b {
                // SAFETY: the block is inside B; B̃'s room holds nb (≤ NC) rounded up to NR,
                // times kb (≤ kc), values.
                unsafe { pack::pack_b(b, pc, jc, kb, nb, nr, b_pack) };
            }
            // β scales C once, on the first slice; later slices accumulate onto it.
            let beta = if pc == 0 { beta } else { T::ONE };
            for ic in (0..m).step_by(bl.mc) {
                // Loop 3: a block of MC rows of A. Pack Ã = A[ic.., pc..] (mb × kb): L2.
                let mb = bl.mc.min(m - ic);
                let ragged = mb - mb % mr;
                // SAFETY: the rows packed are inside A; Ã's room holds mb (≤ MC) rounded up
                // to MR, times kb, values.
                unsafe {
                    if !direct_a {
                        pack::pack_a(a, ic, pc, mb, kb, mr, a_pack);
                    } else if ragged < mb {
                        pack::pack_a(a, ic + ragged, pc, mb - ragged, kb, mr, a_pack);
                    }
                }
                for jr in (0..nb).step_by(nr) {
                    // Loop 2: one kb × NR sliver of B̃, which stays in L1.
                    // SAFETY: sliver jr of B̃ is inside B̃'s room; a full sliver read in place
                    // (NR columns from jc + jr, kb rows from pc) is inside B, whose rows are
                    // contiguous; the ragged last one is packed at the start of B̃'s room.
                    let (b_panel, ldb) = unsafe {
                        match direct_b {
                            false => (b_pack.add(jr * kb) as *const T, nr),
                            true if nb - jr >= nr => {
                                let sliver = pc * b.row_stride + jc + jr;
                                (b.data.as_ptr().add(sliver), b.row_stride)
                            }
                            true => {
                                pack::pack_b(b, pc, jc + jr, kb, nb - jr, nr, b_pack);
                                (b_pack as *const T, nr)
                            }
                        }
                    };
                    for ir in (0..mb).step_by(mr) {
                        // Loop 1: one MR × kb sliver of Ã against it: the micro-kernel.
                        // SAFETY: as for B̃: panel ir of Ã is inside its room, a full panel
                        // read in place (MR rows from ic + ir) is inside A, and the ragged
                        // one was packed at the start of Ã's room above.
                        let (a_panel, rsa, csa) = unsafe {
                            match direct_a {
                                false => (a_pack.add(ir * kb) as *const T, 1, mr),
                                true if ir < ragged => {
                                    let (rs, cs) = (a.row_stride, a.col_stride);
                                    (a.data.as_ptr().add((ic + ir) * rs + pc * cs), rs, cs)
                                }
                                true => (a_pack as *const T, 1, mr),
                            }
                        };
                        // SAFETY: row ic + ir < m and column jc + jr < n are inside C.
                        let tile = unsafe { c.add((ic + ir) * ldc + jc + jr) };
                        let (rows, cols) = (mr.min(mb - ir), nr.min(nb - jr));
                        // SAFETY: the panels hold kb steps of the tile's MR and NR values (an
                        // edge kernel reads at most those); a full tile is inside C, an edge
                        // tile goes to `edge` (MR·NR ≤ MAX_TILE) and only its `rows × cols`
                        // corner to C; this CPU runs the kernel.
                        unsafe {
                            if rows == mr && cols == nr {
                                micro(kb, a_panel, rsa, csa, b_panel, ldb, tile, ldc, alpha, beta);
                            } else {
                                let e = edge.as_mut_ptr();
                                kernels.edge_micro(rows, cols)(
                                    kb,
                                    a_panel,
                                    rsa,
                                    csa,
                                    b_panel,
                                    ldb,
                                    e,
                                    nr,
                                    T::ONE,
                                    T::ZERO,
                                );
                                store(&edge[..mr * nr], nr, rows, cols, tile, ldc, alpha, beta);
                            }
                        }
                    }
                }
            }
        }
    }
}
// ANCHOR_END: five_loops

/// Writes the valid `rows × cols` corner of an edge tile `t` (row stride `nr`):
/// c ← β·c + α·t, the same operations (separate multiply and add) as the micro-kernels' own
/// update.
///
/// # Safety
/// `c` points to a `rows × cols` block with row stride `ldc`, writable, and readable unless
/// β = 0.
unsafe fn store_edge<T: Scalar>(
    t: &[T],
    nr: usize,
    rows: usize,
    cols: usize,
    c: *mut T,
    ldc: usize,
    alpha: T,
    beta: T,
) {
    for i in 0..rows {
        for j in 0..cols {
            // SAFETY: (i, j) is inside the block (the caller's promise).
            let cij = unsafe { &mut *c.add(i * ldc + j) };
            let ab = alpha * t[i * nr + j];
            *cij = if beta == T::ZERO {
                ab
            } else {
                beta * *cij + ab
            };
        }
    }
}
