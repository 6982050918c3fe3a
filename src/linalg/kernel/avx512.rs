//! AVX-512F micro-kernels: a 12 × 32 f32 tile (6 × 16 for f64), 24 of the 32 512-bit
//! registers as accumulators; smaller tiles for the edges; and the edges' masked store.
//!
//! Book chapter: "Making it fast". The same loop as the AVX2 kernel, with vectors twice as
//! wide and twice as many rows. It compiles everywhere on x86-64, and the
//! kernel tests run it wherever `Kernel::Avx512.is_supported()` (AVX-512F with AVX2 and FMA;
//! the project's VM exposed AVX-512 from 2 December). Its block sizes are BLIS's for Zen;
//! changing KC would change the bits of every product deeper than one slice (see the book's
//! "Against the FMA peak").

use super::{avx2, Blocking, EdgeKernel, Kernels, MicroKernel};
use std::arch::x86_64::*;

/// Rows of the f32 register tile, and of Ã's packed panels.
const MR: usize = 12;
/// Columns of the f32 register tile: two 512-bit vectors.
const NR: usize = 32;

/// The f32 edge tiles, smallest first (the first that covers an edge tile's rows and columns
/// is used): 6 or 12 rows of 8 columns (AVX2's kernel, one 256-bit vector a row), of 16 (one
/// 512-bit vector) or of 24 (one of each), and 6 rows of 32. An edge of 7 to 11 rows and 25
/// to 32 columns takes the full 12 × 32 tile. Each computes c_ij by the same chain of FMAs as
/// the 12 × 32 tile.
const EDGES_F32: [EdgeKernel<f32>; 7] = [
    edge(6, 8, avx2::micro_f32::<6, 1>),
    edge(6, 16, micro_f32::<6, 1>),
    edge(12, 8, avx2::micro_f32::<12, 1>),
    edge(6, 24, micro_f32_x24::<6>),
    edge(12, 16, micro_f32::<12, 1>),
    edge(6, 32, micro_f32::<6, 2>),
    edge(12, 24, micro_f32_x24::<12>),
];

const fn edge(rows: usize, cols: usize, micro: MicroKernel<f32>) -> EdgeKernel<f32> {
    EdgeKernel { rows, cols, micro }
}

/// f32's AVX-512 kernels: a 12 × 32 tile, 24 of the 32 registers as accumulators; BLIS's
/// block sizes for Zen (MC = 144, KC = 256), untuned. The dot-product kernel is
/// `avx512_dot.rs`'s (the AVX2 one's sums, two columns to a register, so the same bits), the
/// small-product kernel `avx512_small.rs`'s (AVX2's chains of FMAs, 32 columns a tile).
/// `Kernel::Avx512` is chosen only on CPUs with AVX2 and FMA as well.
///
/// Why 12 × 32: a step of k loads two vectors of B̃ and broadcasts 12 values of Ã for 24
/// FMAs, where a 6 × 32 tile spends the same two loads on 12 FMAs and the loop's own
/// instructions (address arithmetic, the branch) on half as many. On a core with two 512-bit
/// FMA units those are what keep the units from being busy every cycle: the book's "A host
/// with two 512-bit FMA units" has the figures.
pub(super) fn kernels_f32() -> Kernels<f32> {
    Kernels {
        blocking: Blocking {
            mr: MR,
            nr: NR,
            mc: 144,
            kc: 256,
            nc: 4064,
        },
        micro: micro_f32::<MR, 2>,
        gemv: avx2::gemv_f32,
        dot: Some(super::avx512_dot::gemm_dot_f32),
        small: Some(super::avx512_small::gemm_small_f32),
        edges: &EDGES_F32,
        store_edge: Some(store_edge_f32),
    }
}

/// f64's AVX-512 kernels: a 6 × 16 tile with BLIS's Zen block sizes, MC halved for 8-byte
/// values.
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
        edges: &[],
        store_edge: None,
    }
}

/// C_tile ← α·ÃB̃ + β·C_tile for an R × 16·NV f32 tile (contract: `super::MicroKernel`):
/// 12 × 32 for full tiles, 6 or 12 rows of 16 columns and 6 rows of 32 for edge tiles.
///
/// # Safety
/// The CPU must support AVX-512F; ã_ip is readable at `a + i·rsa + p·csa` for i < R, p < kc;
/// `b` holds `kc` rows of 16·NV (row stride `ldb`), and the tile at `c` (row stride `ldc`)
/// is writable (and readable unless β = 0).
#[target_feature(enable = "avx512f")]
unsafe fn micro_f32<const R: usize, const NV: usize>(
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
    // Six copies of the tile's code: packed Ã gets constant strides, A read in place with
    // contiguous rows a unit step, any other A its own strides; and only B read in place is
    // prefetched (packed B̃ is one sequential stream, which the hardware prefetchers follow,
    // and the prefetch instructions take load slots the loads need; the book's "A host with
    // two 512-bit FMA units" has the figures).
    // SAFETY: the caller's promises are `tile_f32`'s contract.
    unsafe {
        match (rsa, csa, ldb) {
            (1, MR, NR) => {
                tile_f32::<R, NV, PACKED, false>(kc, a, 1, MR, b, NR, c, ldc, alpha, beta)
            }
            (1, MR, _) => {
                tile_f32::<R, NV, PACKED, true>(kc, a, 1, MR, b, ldb, c, ldc, alpha, beta)
            }
            (_, 1, NR) => tile_f32::<R, NV, ROWS, false>(kc, a, rsa, 1, b, NR, c, ldc, alpha, beta),
            (_, 1, _) => tile_f32::<R, NV, ROWS, true>(kc, a, rsa, 1, b, ldb, c, ldc, alpha, beta),
            (_, _, NR) => {
                tile_f32::<R, NV, ANY, false>(kc, a, rsa, csa, b, NR, c, ldc, alpha, beta)
            }
            _ => tile_f32::<R, NV, ANY, true>(kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta),
        }
    }
}

// Where a tile's A lies, for `tile_f32` and `tile_f32x24`.
/// Ã packed: ã_ip at `a + i + p·MR`.
const PACKED: u8 = 0;
/// A read in place, rows contiguous: ã_ip at `a + i·rsa + p`.
const ROWS: u8 = 1;
/// A read in place, any strides (a transposed A): ã_ip at `a + i·rsa + p·csa`.
const ANY: u8 = 2;

/// The strides a tile reads A with: [`PACKED`]'s and [`ROWS`]' known when compiled, so the
/// compiler can fold them into addresses.
#[inline]
fn a_strides<const A: u8>(rsa: usize, csa: usize) -> (usize, usize) {
    match A {
        PACKED => (1, MR),
        ROWS => (rsa, 1),
        _ => (rsa, csa),
    }
}

/// For A read in place with strided columns ([`ANY`]: a transposed A, rsa = 1), which
/// reaches a new line at each step, `csa` values from the last: asks for the lines of step
/// p + 8's first and last values now (for rsa = 1 its R values lie in at most those two).
#[inline]
#[target_feature(enable = "avx512f")]
fn prefetch_a<const R: usize>(a: *const f32, rsa: usize, csa: usize, p: usize) {
    let a_p8 = a.wrapping_add((p + 8).wrapping_mul(csa));
    _mm_prefetch::<_MM_HINT_T0>(a_p8 as *const i8);
    _mm_prefetch::<_MM_HINT_T0>(a_p8.wrapping_add((R - 1).wrapping_mul(rsa)) as *const i8);
}

/// [`micro_f32`] for one case of its strides: `A` says where A lies ([`PACKED`], [`ROWS`] or
/// [`ANY`]: the strides the first two imply replace `rsa` and `csa`); with `PREFETCH_B`, B's
/// row p + 8 is asked for at step p (else `ldb` is taken to be NR). Not inlined: each case is
/// a function of its own, so the 24 accumulators of one case never meet another's when
/// registers are allocated (merged after a `match`, they spilled).
///
/// # Safety
/// As [`micro_f32`].
#[inline(never)]
#[target_feature(enable = "avx512f")]
unsafe fn tile_f32<const R: usize, const NV: usize, const A: u8, const PREFETCH_B: bool>(
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
    let (rsa, csa) = a_strides::<A>(rsa, csa);
    let ldb = if PREFETCH_B { ldb } else { NR };
    let mut acc = [[_mm512_setzero_ps(); NV]; R];
    // Row i of A read in place lies i·rsa values, i·rsa·4 bytes, from row 0. An x86 address
    // is a base plus a register times 1, 2, 4 or 8, so with the byte offsets of the odd rows
    // 1, 3, 5, 7, 9 and 11 in registers every row's address is one addressing mode: row 6
    // is row 3's offset times 2, row 8 row 1's times 8. `black_box` keeps the compiler from
    // folding them back into a chain of additions each step (it did, and the additions took
    // issue slots the FMAs need). Packed Ã needs none of this.
    const { assert!(R <= 12, "row_offset covers 12 rows") };
    let odd_row_bytes: [usize; 6] = match A {
        PACKED => [0; 6],
        _ => std::hint::black_box(std::array::from_fn(|j| {
            (2 * j + 1) * rsa * size_of::<f32>()
        })),
    };
    let row_offset = |i: usize| match i {
        0 => 0,
        _ => odd_row_bytes[(i >> i.trailing_zeros()) / 2] << i.trailing_zeros(),
    };
    let step = |acc: &mut [[__m512; NV]; R], p: usize| {
        // SAFETY: row p < kc of B̃ is inside it (the caller's promise).
        let b_p = unsafe { b.add(ldb * p) };
        // B read in place has rows a page apart, too far for the hardware prefetchers: ask
        // for row p + 8 now (every line of the row), as the AVX2 kernel does.
        if PREFETCH_B {
            prefetch_row::<NV>(b_p.wrapping_add(ldb.wrapping_mul(8)));
        }
        if A == ANY {
            prefetch_a::<R>(a, rsa, csa, p);
        }
        // SAFETY: row p holds 16·NV values (the caller's promise).
        let b_v: [__m512; NV] =
            std::array::from_fn(|v| unsafe { _mm512_loadu_ps(b_p.add(16 * v)) });
        for (i, acc_i) in acc.iter_mut().enumerate() {
            // One value of Ã times a row of B̃: a rank-1 update, 16·NV multiply-adds.
            let a_ip = match A {
                PACKED => a.wrapping_add(i + p * MR),
                _ => a.wrapping_add(p * csa).wrapping_byte_add(row_offset(i)),
            };
            // SAFETY: ã_ip with i < R, p < kc is readable (the caller's promise), and a_ip
            // is its address (row i is i·rsa values, row_offset(i) bytes, from row 0).
            let a_ip = _mm512_set1_ps(unsafe { *a_ip });
            for (acc_iv, &b_pv) in acc_i.iter_mut().zip(&b_v) {
                *acc_iv = _mm512_fmadd_ps(a_ip, b_pv, *acc_iv);
            }
        }
    };
    // Packed Ã's steps four at a time: one count and branch for four steps, and the four
    // steps' values of Ã at fixed offsets. (Unrolled, the loops over A read in place had the
    // compiler load many steps' values early, and spill accumulators to hold them.)
    let mut p = 0;
    while A == PACKED && p + 4 <= kc {
        step(&mut acc, p);
        step(&mut acc, p + 1);
        step(&mut acc, p + 2);
        step(&mut acc, p + 3);
        p += 4;
    }
    while p < kc {
        step(&mut acc, p);
        p += 1;
    }
    for (i, acc_i) in acc.iter().enumerate() {
        for (v, &ab) in acc_i.iter().enumerate() {
            // SAFETY: vector v of row i is inside the tile, which is writable, and readable
            // unless β = 0 (the caller's promise).
            unsafe { update_c::<true>(c.add(i * ldc + 16 * v), !0, ab, alpha, beta) };
        }
    }
}

/// C_tile ← α·ÃB̃ + β·C_tile for an R × 24 f32 tile (contract: `super::MicroKernel`), for
/// edge tiles of 17 to 24 columns: a row is one 512-bit vector (columns 0–15) and one
/// 256-bit vector (16–23). A product 20 wide runs two FMA instructions a row and step, where
/// the 32-wide tile runs two 512-bit ones and AVX2's tile three 256-bit ones; whether a core
/// has one or two 512-bit FMA units, this is the cheapest of the three.
///
/// # Safety
/// The CPU must support AVX-512F, AVX2 and FMA; the rest as [`micro_f32`], with rows of 24
/// in `b`.
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn micro_f32_x24<const R: usize>(
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
    // SAFETY: the caller's promises are `tile_f32x24`'s contract.
    unsafe {
        match (rsa, csa) {
            (1, MR) => tile_f32x24::<R, PACKED>(kc, a, 1, MR, b, ldb, c, ldc, alpha, beta),
            (_, 1) => tile_f32x24::<R, ROWS>(kc, a, rsa, 1, b, ldb, c, ldc, alpha, beta),
            _ => tile_f32x24::<R, ANY>(kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta),
        }
    }
}

/// [`micro_f32_x24`] for one case of its strides, `A` as for [`tile_f32`].
///
/// # Safety
/// As [`micro_f32_x24`].
#[inline(never)]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn tile_f32x24<const R: usize, const A: u8>(
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
    let (rsa, csa) = a_strides::<A>(rsa, csa);
    let mut wide = [_mm512_setzero_ps(); R];
    let mut narrow = [_mm256_setzero_ps(); R];
    for p in 0..kc {
        if A == ANY {
            prefetch_a::<R>(a, rsa, csa, p);
        }
        // SAFETY: row p < kc of B̃ holds 24 values (the caller's promise).
        let (b0, b1) = unsafe {
            let b_p = b.add(ldb * p);
            (_mm512_loadu_ps(b_p), _mm256_loadu_ps(b_p.add(16)))
        };
        for i in 0..R {
            // Broadcast from memory into both widths: broadcasting one register into the
            // other would take a shuffle unit that the FMAs share.
            // SAFETY: ã_ip with i < R, p < kc is readable (the caller's promise).
            let (a_wide, a_narrow) = unsafe {
                let a_ip = a.add(i * rsa + p * csa);
                (_mm512_set1_ps(*a_ip), _mm256_broadcast_ss(&*a_ip))
            };
            wide[i] = _mm512_fmadd_ps(a_wide, b0, wide[i]);
            narrow[i] = _mm256_fmadd_ps(a_narrow, b1, narrow[i]);
        }
    }
    for i in 0..R {
        // SAFETY: row i's 24 values are inside the tile, which is writable, and readable
        // unless β = 0 (the caller's promise).
        unsafe {
            let c_i = c.add(i * ldc);
            update_c::<true>(c_i, !0, wide[i], alpha, beta);
            avx2::update_c(c_i.add(16), narrow[i], alpha, beta);
        }
    }
}

/// Asks for every 64-byte line of a row of 16·NV values at `row`: one line more than NV
/// when the row does not start on a line.
#[inline]
#[target_feature(enable = "avx512f")]
fn prefetch_row<const NV: usize>(row: *const f32) {
    for v in 0..NV {
        _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(16 * v) as *const i8);
    }
    _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(16 * NV - 1) as *const i8);
}

/// c ← β·c + α·t for an edge tile's live corner (contract: `super::StoreEdge`), sixteen
/// columns at a time under a mask of the live ones. An edge tile 20 columns wide, as Xᵀ·Δ's,
/// costs a fraction of the scalar loop's time, and each value sees the same multiply and add.
///
/// # Safety
/// The CPU must support AVX-512F; the rest as `super::StoreEdge`, with `nr` a multiple of 16.
#[target_feature(enable = "avx512f")]
unsafe fn store_edge_f32(
    t: &[f32],
    nr: usize,
    rows: usize,
    cols: usize,
    c: *mut f32,
    ldc: usize,
    alpha: f32,
    beta: f32,
) {
    for (i, t_i) in t.chunks_exact(nr).take(rows).enumerate() {
        for j in (0..cols).step_by(16) {
            // SAFETY: the slice holds the 16 values read.
            let t_ij = unsafe { _mm512_loadu_ps(t_i[j..j + 16].as_ptr()) };
            // SAFETY: the live lanes are inside the block, writable, and readable unless β = 0
            // (the caller's promise).
            unsafe {
                update_c::<false>(c.add(i * ldc + j), first_lanes(cols - j), t_ij, alpha, beta)
            };
        }
    }
}

/// Lanes 0 .. `count` of a 16-lane vector (all of them when `count` ≥ 16).
pub(super) fn first_lanes(count: usize) -> __mmask16 {
    match count {
        0..=15 => (1 << count) - 1,
        _ => !0,
    }
}

/// c ← β·c + α·acc for the lanes `live` of one 512-bit vector of C (all 16 when `FULL`, which
/// loads and stores without a mask): the update every AVX-512 f32 kernel makes, as
/// `super::MicroKernel`'s contract asks, a multiply and then an add. (1·c is c exactly, so
/// β = 1 skips its multiply and changes no bit.) Masked-off lanes are neither read nor
/// written.
///
/// # Safety
/// The CPU must support AVX-512F; the lanes `live` (or all 16) at `c` are writable, and
/// readable unless β = 0.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn update_c<const FULL: bool>(
    c: *mut f32,
    live: __mmask16,
    acc: __m512,
    alpha: f32,
    beta: f32,
) {
    let ab = _mm512_mul_ps(_mm512_set1_ps(alpha), acc);
    // SAFETY: the caller's promise; masked loads and stores touch only the live lanes.
    unsafe {
        let out = match beta {
            0.0 => ab,
            _ => {
                let old = match FULL {
                    true => _mm512_loadu_ps(c),
                    false => _mm512_maskz_loadu_ps(live, c),
                };
                match beta {
                    1.0 => _mm512_add_ps(old, ab),
                    _ => _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(beta), old), ab),
                }
            }
        };
        match FULL {
            true => _mm512_storeu_ps(c, out),
            false => _mm512_mask_storeu_ps(c, live, out),
        }
    }
}

/// The f64 kernel: [`micro_f32`]'s loop with R = 6 and one 512-bit vector of eight doubles
/// twice a row, a 6 × 16 tile, in one function for every stride case (f64 is for the
/// gradient checks, not for speed).
///
/// # Safety
/// As [`micro_f32`], for f64, with R = 6 and rows of 16 in `b`.
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
