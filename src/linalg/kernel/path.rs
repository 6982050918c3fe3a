//! Choosing the path for a product's shape: the packed BLIS loops (packing each operand or
//! reading it in place), blocks of dot products, or the straight loops of a small product.
//!
//! Book chapter: "Making it fast" (The network's own shapes). The path depends only on the
//! whole product's shape and strides, never on a thread's block, so every thread count runs
//! the same arithmetic. The thresholds were measured on the network's shapes; the book gives
//! the figures.

use super::super::gemm::MatRef;
use super::super::scalar::Scalar;
use super::blis::{gemm_packed, slice_depth};
use super::pack_buffers::PackBuffer;
use super::{Kernels, UnpackedKernel};

/// How a product is computed, with the kernel that computes it.
#[derive(Clone, Copy)]
pub(super) enum Path<T> {
    /// The BLIS loops. Packing an operand pays when its panels are reused many times; when
    /// they are not, the micro-kernel reads full panels where they lie (only ragged edge
    /// panels are packed, for their zero padding).
    Blis {
        /// Read B in place: B row-major, and A short (m ≤ 4·MR, so each sliver of B meets at
        /// most 4 tiles and copying it would cost about as much as using it: 24 rows with
        /// AVX2's tile, 48 with AVX-512's 12-row one, a bound not measured for m from 25 to
        /// 48, where most products read B in place by the next rule anyway), or B small
        /// enough (≤ 32 KiB) to sit in L1 whatever its layout, or A one block (m ≤ MC, so
        /// each value of B̃ would be used by at most MC/MR tiles after its copy) with rows
        /// whose slivers [`spread_over_l1`]. Otherwise B is packed: a taller A uses B̃ once for
        /// each of its blocks of MC rows, and rows a multiple of twice a sliver's width apart
        /// (n = 128 floats, say) put it in at most half of L1's sets, where its rows evict each
        /// other.
        direct_b: bool,
        /// Read A in place, when its rows are contiguous: C narrow (n ≤ 8·NR), so each panel
        /// of A meets at most 8 slivers and packing it would cost a large share of the
        /// product; or A tall (m > MC), which the micro-kernel reads as MR sequential streams
        /// as happily as one packed one. A short A (m ≤ MC, one block) stays packed, and so
        /// does a transposed A, whose in-place reads touch a new line at every step of p,
        /// unless C is one sliver wide (n ≤ NR) and each panel is read only once anyway.
        /// The book's "Making it fast", section "The network's own shapes", has the
        /// measurements.
        direct_a: bool,
    },
    /// Dot products of A's rows with B's columns: A's rows and B's columns contiguous
    /// (`a.col_stride == 1`, `b.row_stride == 1`), nothing packed.
    Dot(UnpackedKernel<T>),
    /// A product below [`SMALL_WORK`] multiply-adds or with k ≤ [`SMALL_K`], in one KC slice
    /// (k ≤ `kc`), with B's rows contiguous or B at most [`SMALL_B`] values: straight loops,
    /// no packing (whose fixed cost would be most of the time), the same answers as `Blis`.
    Small(UnpackedKernel<T>),
}

/// Products with at most this many multiply-adds (m·n·k) take [`Path::Small`] when the
/// kernel has one (and B's rows are contiguous, or B is small: [`SMALL_B`]): the write-up's
/// layers 2 and 3, where the blocked loops' fixed cost was most of the time (see the book's
/// "Making it fast", section "The network's own shapes").
pub const SMALL_WORK: usize = 1 << 13;

/// Products with k at most this take [`Path::Small`] whatever their size (when B's rows are
/// contiguous, or B is small enough to copy: [`SMALL_B`]). With so short a k a tile of C gets
/// only k multiply-adds per value, and what the blocked loops add around each tile (packing
/// A and B, the call through a function pointer, the stride cases) is a large share of its
/// time: the write-up's weight step, k = the batch of 10, and a 5 × 5 convolution's forward
/// product, k = 25 (see the book's "Making it fast", section "The network's own shapes").
pub const SMALL_K: usize = 32;

/// A small product whose B has strided rows (a transposed view, as in the gradient δ·Aᵀ)
/// takes [`Path::Small`] when B has at most this many values: the small kernel copies it
/// row-major on the stack (16 KiB at most) first.
pub const SMALL_B: usize = 1 << 12;

// ANCHOR: choose_path
/// The path for C ← αAB + βC, chosen from the whole product's shape and strides.
pub(super) fn choose_path<T>(kernels: &Kernels<T>, a: MatRef<'_, T>, b: MatRef<'_, T>) -> Path<T> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let bl = &kernels.blocking;
    if m <= bl.mc && a.col_stride == 1 && b.row_stride == 1 && k >= 64 {
        if let Some(dot) = kernels.dot {
            return Path::Dot(dot);
        }
    }
    let b_ok = b.col_stride == 1 || k * n <= SMALL_B;
    let small = m * n * k <= SMALL_WORK || k <= SMALL_K;
    if b_ok && small && k <= bl.kc {
        if let Some(small) = kernels.small {
            return Path::Small(small);
        }
    }
    // The slice's depth is worked out only for an A of one block, where the rule needs it.
    let short_a = m <= 4 * bl.mr
        || (m <= bl.mc && spread_over_l1::<T>(b.row_stride, bl.nr, slice_depth(k, bl.kc)));
    Path::Blis {
        direct_b: b.col_stride == 1 && (short_a || k * n * size_of::<T>() <= 32 << 10),
        direct_a: n <= bl.nr || (a.col_stride == 1 && (n <= 8 * bl.nr || m > bl.mc)),
    }
}

/// Whether a sliver of B read in place (`nr` values of each of `rows` rows, `row_stride`
/// values apart) covers all of L1's sets. An L1 way is 4 KiB (64 sets of 64-byte lines, as
/// on x86-64 cores of the last decade: 32 KiB in 8 ways, 48 KiB in 12), and each row covers
/// w bytes of it from its start: NR values, at least one line (64 or 128 bytes for every
/// kernel). Rows d bytes apart fall into q bunches when q·d lies e bytes from a multiple of
/// 4 KiB, and each bunch creeps e bytes round the way every q rows (a row adding at most its
/// w bytes): together they cover about q·w + rows·min(e, w) bytes of it. The sliver covers
/// the whole way when that is 4 KiB for every q below 4096 / w. Otherwise its rows crowd into
/// some of the sets and evict each other: rows 1,024 floats apart share one or two sets, and
/// rows 1,025 floats apart creep 4 bytes a row, so a slice of 267 rows (k = 800) sits in 19
/// sets (100 × 800 × 1025 ran at 59 GFLOP/s in place against 94 packed). The estimate may
/// pack a B it need not (205 floats apart: five rows make 4,100 bytes); where it says
/// spread, the sliver touches every set (the test counts them, row by row).
fn spread_over_l1<T>(row_stride: usize, nr: usize, rows: usize) -> bool {
    const WAY: usize = 4096;
    let width = 1usize << (nr * size_of::<T>()).max(64).ilog2();
    // Only the distance modulo a way matters; the wrapping multiply keeps it (2⁶⁴ is a
    // multiple of 4096) for a one-row B, which may carry any stride.
    let distance = row_stride.wrapping_mul(size_of::<T>()) % WAY;
    (1..WAY / width).all(|q| {
        let off = q * distance % WAY;
        let e = off.min(WAY - off);
        q * width + rows.saturating_mul(e.min(width)) >= WAY
    })
}
// ANCHOR_END: choose_path

/// Computes one block of C (all of it, or one thread's share) along `path`:
/// `C[block] ← αAB + βC` at `c`, row stride `ldc`.
///
/// # Safety
/// `kernels` belong to a kernel this CPU runs; the views passed `check_gemm_shapes`; `c`
/// points to an `a.rows × b.cols` block with row stride `ldc` that nothing else touches during
/// the call; and `path` was chosen by [`choose_path`] for these views (or for the whole
/// product they are columns or rows of: a block keeps the strides and k).
pub(super) unsafe fn run_block<T: Scalar>(
    kernels: &Kernels<T>,
    path: Path<T>,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: *mut T,
    ldc: usize,
) {
    match path {
        // SAFETY: the caller's promises, and the layout `choose_path` checked for this path.
        Path::Dot(unpacked) | Path::Small(unpacked) => unsafe {
            unpacked(alpha, a, b, beta, c, ldc)
        },
        Path::Blis { direct_a, direct_b } => PackBuffer::with(|buffer| {
            // SAFETY: the caller's promises; `direct_b` is set only when B's rows are
            // contiguous.
            unsafe {
                gemm_packed(
                    kernels, direct_a, direct_b, alpha, a, b, beta, c, ldc, buffer,
                )
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::scalar::sealed::Sealed;
    use super::super::select::Kernel;
    use super::*;

    /// A (m × k), B (k × n) and C (m × n) of fixed values in [−1, 1], to compare paths on.
    fn operands(m: usize, k: usize, n: usize) -> [Vec<f32>; 3] {
        let values = |len: usize, mul: usize, modulus: usize| -> Vec<f32> {
            let half = (modulus / 2) as f32;
            (0..len)
                .map(|i| ((i * mul) % modulus) as f32 / half - 1.0)
                .collect()
        };
        [
            values(m * k, 37, 101),
            values(k * n, 53, 97),
            values(m * n, 29, 89),
        ]
    }

    fn same_bits(x: &[f32], y: &[f32]) -> bool {
        x.len() == y.len() && x.iter().zip(y).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    /// C ← 0.75·AB + βC along `path`, C starting as `c0`, or full of NaN when β = 0 (which
    /// must not read it).
    ///
    /// # Safety
    /// The kernels belong to a kernel this CPU runs; A, B and `c0` have agreeing shapes; and
    /// A and B have the layout `path` requires.
    unsafe fn along(
        kernels: &Kernels<f32>,
        path: Path<f32>,
        a: MatRef<'_, f32>,
        b: MatRef<'_, f32>,
        beta: f32,
        c0: &[f32],
    ) -> Vec<f32> {
        let mut c = match beta {
            0.0 => vec![f32::NAN; c0.len()],
            _ => c0.to_vec(),
        };
        // SAFETY: the caller's promises; C is a.rows × b.cols with row stride b.cols.
        unsafe { run_block(kernels, path, 0.75, a, b, beta, c.as_mut_ptr(), b.cols) };
        c
    }

    /// The sets of a 64-set L1 (set = address / 64 mod 64) that the lines of a sliver touch:
    /// `rows` rows of `width` bytes, `distance` bytes apart, the first starting on a line.
    fn sets_touched(distance: usize, rows: usize, width: usize) -> usize {
        let mut sets = [false; 64];
        for row in 0..rows {
            let start = row * distance % 4096;
            for line in start / 64..=(start + width - 1) / 64 {
                sets[line % 64] = true;
            }
        }
        sets.iter().filter(|&&s| s).count()
    }

    /// What `spread_over_l1` claims, for the kernels' sliver widths (8, 16 and 32 f32s) and
    /// slices of 16 to 768 rows: where it says spread, the sliver's lines touch all 64 sets
    /// (counted row by row). It says not spread for rows a multiple of twice the width
    /// apart, which share at most half the sets however many rows, and for rows 1,025 floats
    /// apart in a slice of 267 (k = 800 on AVX-512), which creep round 19 sets.
    #[test]
    fn slivers_spread_over_l1_as_the_rule_says() {
        for nr in [8, 16, 32] {
            let width = (nr * size_of::<f32>()).max(64);
            for rows in [16, 200, 267, 768] {
                for row_stride in 1..=1100 {
                    let distance = row_stride * size_of::<f32>();
                    if spread_over_l1::<f32>(row_stride, nr, rows) {
                        let touched = sets_touched(distance, rows, width);
                        assert_eq!(touched, 64, "NR {nr}, {rows} rows {row_stride} apart");
                    }
                    if distance.is_multiple_of(2 * width) {
                        assert!(sets_touched(distance, 4096, width) <= 32);
                        assert!(!spread_over_l1::<f32>(row_stride, nr, rows));
                    }
                }
            }
        }
        assert_eq!(sets_touched(1025 * 4, 267, 128), 19);
        assert!(!spread_over_l1::<f32>(1025, 32, 267));
        // The network's 784 inputs.
        assert!(spread_over_l1::<f32>(784, 32, 267));
        // A one-row B may carry any stride: the rule must not overflow, and must answer as
        // for the same distance modulo a way.
        let huge = spread_over_l1::<f32>(usize::MAX / 2, 32, 267); // 4·(2⁶³ − 1) ≡ 4 · 1023
        assert_eq!(huge, spread_over_l1::<f32>(1023, 32, 267));
        assert!(!spread_over_l1::<f64>(1 << 62, 16, 267)); // 8·2⁶² = 2⁶⁵ ≡ 0
    }

    /// Reading B's slivers in place gives the bits of packing them (only the data's
    /// location differs), for every kernel, on shapes with and without a ragged last sliver
    /// (packed either way), k = 1200 in several slices (two of 600 for AVX2's KC = 768, five
    /// of 240 for KC = 256), so later slices read B from row pc > 0, and β = 0 (over NaN), 1
    /// and 0.3 (not a power of two, so β·c rounds).
    #[test]
    fn b_read_in_place_equals_b_packed_bit_for_bit() {
        for kernel in Kernel::ALL.into_iter().filter(|k| k.is_supported()) {
            for (m, k, n) in [(60, 130, 75), (100, 40, 784), (31, 1200, 67), (7, 9, 40)] {
                let kernels = f32::kernels(kernel, m);
                let [a_data, b_data, c0] = operands(m, k, n);
                let (a, b) = (
                    MatRef::row_major(&a_data, m, k),
                    MatRef::row_major(&b_data, k, n),
                );
                for beta in [0.0, 1.0, 0.3] {
                    let run = |direct_b| {
                        let path = Path::Blis {
                            direct_a: false,
                            direct_b,
                        };
                        // SAFETY: the kernel is supported; the shapes agree; B is row-major,
                        // as reading it in place requires.
                        unsafe { along(&kernels, path, a, b, beta, &c0) }
                    };
                    let (in_place, packed) = (run(true), run(false));
                    assert!(
                        same_bits(&in_place, &packed),
                        "{kernel:?} {m}×{k}×{n} β {beta}: B in place differs from B packed"
                    );
                }
            }
        }
    }

    /// A read in place equals A packed, bit for bit, for every kernel: A row-major and
    /// transposed (whose full panels are packed as runs of MR values), ragged last panels,
    /// and k in several KC slices (the micro-kernel reads the same values in the same order
    /// either way).
    #[test]
    fn a_read_in_place_equals_a_packed_bit_for_bit() {
        for kernel in Kernel::ALL.into_iter().filter(|k| k.is_supported()) {
            for (m, k, n) in [(61, 130, 75), (100, 40, 784), (31, 1200, 67), (20, 9, 40)] {
                let kernels = f32::kernels(kernel, m);
                let [a_data, b_data, c0] = operands(m, k, n);
                for transposed in [false, true] {
                    let a = match transposed {
                        false => MatRef::row_major(&a_data, m, k),
                        true => MatRef::row_major(&a_data, k, m).t(),
                    };
                    let b = MatRef::row_major(&b_data, k, n);
                    let run = |direct_a| {
                        let path = Path::Blis {
                            direct_a,
                            direct_b: false,
                        };
                        // SAFETY: the kernel is supported; the shapes agree; the blocked path
                        // takes any strides.
                        unsafe { along(&kernels, path, a, b, 0.3, &c0) }
                    };
                    let (in_place, packed) = (run(true), run(false));
                    assert!(
                        same_bits(&in_place, &packed),
                        "{kernel:?} {m}×{k}×{n} Aᵀ {transposed}: A in place differs from A packed"
                    );
                }
            }
        }
    }

    /// The small path and the blocked loops give the same bits on the products the small
    /// path takes (so choosing it by shape changes no answer), with A and B transposed or
    /// not, β = 0 (over a C full of NaN), 1 and 0.3, every count of rows left over by the
    /// 5-row tiles, k = 1, and widths that leave ragged tiles or exactly 8 columns.
    #[test]
    fn small_path_equals_blocked_path_bit_for_bit() {
        let shapes = [
            (20, 10, 784),
            (10, 10, 20),
            (32, 25, 100),
            (10, 20, 784),
            (5, 32, 40),
            (7, 16, 33),
            (23, 3, 50),
            (3, 40, 19),
            (11, 1, 24),
            (6, 5, 8),
            (9, 2, 3),
        ];
        for kernel in Kernel::ALL.into_iter().filter(|k| k.is_supported()) {
            let kernels = f32::kernels(kernel, 20);
            let Some(small) = kernels.small else {
                continue;
            };
            for (m, k, n) in shapes {
                let [a_data, b_data, c0] = operands(m, k, n);
                for (ta, tb, beta) in [(false, false, 0.0), (true, false, 1.0), (false, true, 0.3)]
                {
                    let a = match ta {
                        false => MatRef::row_major(&a_data, m, k),
                        true => MatRef::row_major(&a_data, k, m).t(),
                    };
                    let b = match tb {
                        false => MatRef::row_major(&b_data, k, n),
                        true => MatRef::row_major(&b_data, n, k).t(),
                    };
                    if tb && k * n > SMALL_B {
                        continue;
                    }
                    let run = |path| {
                        // SAFETY: the kernel is supported; the shapes agree; k ≤ kc, and B is
                        // row-major or at most SMALL_B values, as both paths require.
                        unsafe { along(&kernels, path, a, b, beta, &c0) }
                    };
                    let by_small = run(Path::Small(small));
                    let blocked = run(Path::Blis {
                        direct_a: false,
                        direct_b: false,
                    });
                    assert!(
                        same_bits(&by_small, &blocked),
                        "{kernel:?} {m}×{k}×{n} (Aᵀ {ta}, Bᵀ {tb}, β {beta}): paths differ"
                    );
                }
            }
        }
    }
}
