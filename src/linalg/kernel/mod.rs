//! The fast matrix multiply behind [`gemm`](super::gemm): packing, cache blocking, a
//! register-tiled SIMD micro-kernel, and threads.
//!
//! Book chapter: "Making it fast". The structure is the BLIS paper's five loops (Van Zee &
//! van de Geijn, 2015), as in bluss's matrixmultiply:
//!
//! * **packing** copies an `MC × KC` block of A and a `KC × NC` block of B into contiguous
//!   panels (`pack.rs`), reading the caller's strides once: this is where a transposed
//!   operand (a [`MatRef`] with swapped strides) costs nothing extra;
//! * **blocking** sizes those blocks so B̃'s panel stays in L3/L2 and Ã in L2 while a
//!   `KC × NR` sliver of B̃ sits in L1;
//! * the **micro-kernel** (`portable.rs`, `avx2.rs`, `avx512.rs`) keeps an `MR × NR` tile of
//!   C in registers and updates it with one rank-1 product (broadcast × vector FMA) per `p`;
//! * **skinny products** (the network's m = 20): an operand whose panels would be used only a
//!   few times is read in place instead of packed, A·Bᵀ with contiguous rows becomes blocks of
//!   dot products (`avx2.rs`), and n = 1 is a plain matrix-vector product;
//! * **small products** (below [`SMALL_WORK`] multiply-adds: the write-up's layers 2 and 3)
//!   and products with a short k (at most [`SMALL_K`]: the weight step at batch 10) skip
//!   packing and blocking altogether, with each c_ij the micro-kernel's own chain of FMAs, so
//!   the answer is the one the blocked loops would give;
//! * **threads** split C into blocks of whole columns (or rows), run by worker threads kept
//!   alive between products (`pool.rs`); see [`gemm_with_threads`].
//!
//! No allocation on the hot path: pack buffers live in a small pool and are reused, so
//! repeated products of the same size allocate nothing after the first (a test counts).
//!
//! Which micro-kernel runs is chosen once, at run time ([`kernel`]): the environment
//! variable `SCRATCHNET_KERNEL=naive|portable|avx2|avx512` forces one; otherwise the best the
//! CPU supports (`is_x86_feature_detected!`). An unknown name panics; a known kernel this CPU
//! cannot run falls back to the best supported one with a warning on stderr.
//!
//! "Same answers": every kernel computes each `c_ij` as a sum of the same k products, only
//! in a different order and with or without fused multiply-add, so kernels agree with
//! [`gemm_naive`](super::gemm_naive) to within the usual k·ε bound, not bit for bit. For a
//! *fixed* kernel the result is bit-identical whatever the thread count.
//!
//! Left out: complex numbers, multithreaded packing, and tuning block sizes at run time.

// Kernels take BLAS-style argument lists (pointer, stride, α, β); bundling them into structs
// would hide the one thing a reader of a micro-kernel needs to see.
#![allow(clippy::too_many_arguments)]

mod pack;
mod pool;
mod portable;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use super::gemm::{check_gemm_shapes, gemm_naive, MatRef};
use super::scalar::Scalar;
use std::any::TypeId;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The matrix-multiply implementations [`gemm_with`] can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The textbook triple loop, [`gemm_naive`](super::gemm_naive): the reference.
    Naive,
    /// Packed and blocked, with a plain-Rust 4×8 (f32) / 4×4 (f64) micro-kernel: any CPU.
    Portable,
    /// Packed and blocked, with a 6×16 (f32) / 6×8 (f64) AVX2+FMA micro-kernel.
    Avx2,
    /// Packed and blocked, with a 6×32 (f32) / 6×16 (f64) AVX-512F micro-kernel.
    Avx512,
}

impl Kernel {
    /// Every kernel, slowest first.
    pub const ALL: [Kernel; 4] = [
        Kernel::Naive,
        Kernel::Portable,
        Kernel::Avx2,
        Kernel::Avx512,
    ];

    /// The name `SCRATCHNET_KERNEL` accepts for this kernel.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Naive => "naive",
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// Parses a name as `SCRATCHNET_KERNEL` spells it.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether this CPU can run the kernel (checked at run time).
    pub fn is_supported(self) -> bool {
        match self {
            Kernel::Naive | Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => false,
        }
    }

    /// The fastest kernel this CPU supports.
    pub fn best() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2]
            .into_iter()
            .find(|k| k.is_supported())
            .unwrap_or(Kernel::Portable)
    }
}

/// The kernel [`gemm`](super::gemm) uses: `SCRATCHNET_KERNEL` if set, else [`Kernel::best`].
/// Decided on first call and fixed for the life of the process.
///
/// # Panics
/// If `SCRATCHNET_KERNEL` holds a name that is not one of `naive`, `portable`, `avx2`,
/// `avx512`. (A known kernel this CPU cannot run falls back to the best one, with a
/// warning on stderr.)
pub fn kernel() -> Kernel {
    static CHOSEN: OnceLock<Kernel> = OnceLock::new();
    *CHOSEN.get_or_init(|| match std::env::var("SCRATCHNET_KERNEL") {
        Err(_) => Kernel::best(),
        Ok(name) => choose_forced(&name),
    })
}

fn choose_forced(name: &str) -> Kernel {
    let Some(wanted) = Kernel::from_name(name.trim()) else {
        panic!(
            "SCRATCHNET_KERNEL={name:?} is not a kernel; use one of naive, portable, avx2, avx512"
        )
    };
    if wanted.is_supported() {
        return wanted;
    }
    let best = Kernel::best();
    eprintln!(
        "scratchnet: SCRATCHNET_KERNEL={} is not supported by this CPU; using {} instead",
        wanted.name(),
        best.name()
    );
    best
}

/// Name of the kernel [`gemm`](super::gemm) dispatches to ("naive", "portable", "avx2" or
/// "avx512").
pub fn kernel_name() -> &'static str {
    kernel().name()
}

static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Sets how many threads large products may use (global; default 1). `0` is taken as 1.
pub fn set_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// How many threads large products may use (see [`set_threads`]).
pub fn threads() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// Products with fewer than this many multiply-adds (m·n·k) stay on one thread: below it,
/// handing half to another thread saves too little to measure (with the kept-alive workers
/// of `pool.rs`, 2¹⁹ instead of 2²¹ left the large network's two-thread epoch unchanged:
/// 243 against 246 ms per 50 batches). Depends only on the shape, never on the thread
/// count, so it cannot break bit-identity across thread counts.
pub const PARALLEL_MIN_WORK: usize = 1 << 21;

/// C ← αAB + βC with a chosen kernel and the global thread count ([`threads`]).
///
/// A is `m × k`, B is `k × n`, C is dense row-major `m × n`; β = 0 ignores the old C.
///
/// # Panics
/// If the shapes are incompatible (as [`gemm_naive`](super::gemm_naive)), or if this CPU does
/// not support `kernel` (see [`Kernel::is_supported`]).
#[track_caller]
pub fn gemm_with<T: Scalar>(
    kernel: Kernel,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: &mut [T],
) {
    gemm_with_threads(kernel, threads(), alpha, a, b, beta, c)
}

/// C ← αAB + βC with a chosen kernel on up to `n_threads` threads.
///
/// Products of at least [`PARALLEL_MIN_WORK`] multiply-adds are split into blocks of whole
/// columns of C (or whole rows, when C is taller than wide), one per thread. Every thread runs
/// the same blocked loops over the same `KC` slices of k, and a tile on the edge is computed
/// by the same instructions as a full one, so each `c_ij` sees the same operations in the same
/// order: the result is bit-identical for every `n_threads`.
///
/// # Panics
/// As [`gemm_with`].
#[track_caller]
pub fn gemm_with_threads<T: Scalar>(
    kernel: Kernel,
    n_threads: usize,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: &mut [T],
) {
    check_gemm_shapes(&a, &b, c.len());
    assert!(
        kernel.is_supported(),
        "gemm_with: this CPU does not support the {} kernel",
        kernel.name()
    );
    if kernel == Kernel::Naive {
        return gemm_naive(alpha, a, b, beta, c);
    }
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        return scale(beta, c);
    }
    let bl = blocking::<T>(kernel, m);
    // ANCHOR: skinny
    // A matrix times a vector reuses nothing: packing would copy all of A to use it once.
    if n == 1 {
        return (bl.gemv)(alpha, a, b, beta, c);
    }
    if m == 1 && b.row_stride == 1 {
        // c (1×n) = a·B is cᵀ = Bᵀaᵀ, and a 1×n row is laid out like an n×1 column. (For a
        // row-major B, whose columns are strided, the blocked loops below do better.)
        return (bl.gemv)(alpha, b.t(), a.t(), beta, c);
    }
    // ANCHOR_END: skinny
    let work = m.saturating_mul(n).saturating_mul(k);
    let n_threads = if work < PARALLEL_MIN_WORK {
        1
    } else {
        n_threads.max(1)
    };
    let path = choose_path(&bl, a, b);
    let c_ptr = SendPtr(c.as_mut_ptr());
    if n_threads == 1 {
        // SAFETY: C is exactly m × n with row stride n (checked above), and borrowed mutably.
        return unsafe { run_block(&bl, path, alpha, a, b, beta, c_ptr.0, n) };
    }
    gemm_threaded(&bl, path, n_threads, alpha, a, b, beta, c_ptr, n);
}

/// How a product is computed; chosen from the whole product's shape and strides (never from
/// a thread's block), so every thread count runs the same arithmetic.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    /// The BLIS loops. Packing an operand pays when its panels are reused many times; when
    /// they are not, the micro-kernel reads full panels where they lie (only ragged edge
    /// panels are packed, for their zero padding).
    Blis {
        /// Read B in place: B row-major, and either A short (m ≤ 4·MR, so each sliver of B
        /// meets at most 4 tiles and copying it would cost about as much as using it) or B
        /// small enough (≤ 32 KiB) to sit in L1 whatever its layout. Otherwise a sliver read
        /// in place has rows n apart, which for large n fall in the same few L1 sets and
        /// evict each other (measured: 128³ drops from 78% to 65% of peak).
        direct_b: bool,
        /// Read A in place: C narrow (n ≤ 8·NR), so each panel of A meets at most 8 slivers
        /// and packing it would cost about a fifth of the product (measured on the large
        /// network's batch of 100: pack_a was 12% of an epoch; 8·NR rather than 4·NR took a
        /// one-thread epoch from 503–572 ms to 459–502 ms over 50 batches); or A tall
        /// (m > MC) with contiguous rows, which the micro-kernel reads as MR sequential
        /// streams as happily as one packed one, so packing is pure cost (medians of six
        /// alternating runs of the two builds, thread CPU time: 256³ 85% → 89% of peak;
        /// 512³ and 1024³ unchanged at 88–89%). A short A (m ≤ MC, one block) stays packed:
        /// in place, 20×1000×784 lost a few points.
        direct_a: bool,
    },
    /// Dot products of A's rows with B's columns, both contiguous, nothing packed.
    Dot,
    /// A product below [`SMALL_WORK`] multiply-adds or with k ≤ [`SMALL_K`], in one KC slice:
    /// straight loops, no packing (whose fixed cost would be most of the time), the same
    /// answers as `Blis`.
    Small,
}

/// Products with at most this many multiply-adds (m·n·k) take [`Path::Small`] when the
/// kernel has one (and B's rows are contiguous, or B is small: [`SMALL_B`]). Measured on the
/// write-up's layers 2 and 3 (best of two runs): 10×20×10 from 307 to 231 ns, 10×10×10 from
/// 211 to 164 ns, and the write-up's epoch from 76.3 to 73.1 ms (median of five); with the
/// kernel's later 5 × 16 tiles and plain stores, 115 and 78 ns.
pub const SMALL_WORK: usize = 1 << 13;

/// Products with k at most this take [`Path::Small`] whatever their size (when B's rows are
/// contiguous, or B is small enough to copy: [`SMALL_B`]). With so short a k a tile of C gets only k multiply-adds per value, and what
/// the blocked loops add around each tile (packing A, the call through a function pointer,
/// the stride cases) is a large share of its time. The write-up's weight step, 20×10×784
/// (k = the batch of 10), went from 59.6% to 73.2% of peak (`examples/shape_probe.rs`, best
/// of 15, median of five alternating runs), and its epoch from 64.9 to 59.6 ms (median of
/// five).
pub const SMALL_K: usize = 16;

/// A small product whose B has strided rows (a transposed view, as in the gradient δ·Aᵀ)
/// takes [`Path::Small`] when B has at most this many values: the small kernel copies it
/// row-major on the stack (16 KiB at most) first. Measured on the write-up's gradient
/// products (10×10×20 and 10×10×10 with Bᵀ): see the book's "Making it fast".
pub const SMALL_B: usize = 1 << 12;

// ANCHOR: choose_path
fn choose_path<T>(bl: &Blocking<T>, a: MatRef<'_, T>, b: MatRef<'_, T>) -> Path {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let short = m <= bl.mc;
    if short && bl.dot.is_some() && a.col_stride == 1 && b.row_stride == 1 && k >= 64 {
        return Path::Dot;
    }
    let b_ok = b.col_stride == 1 || k * n <= SMALL_B;
    let small = m * n * k <= SMALL_WORK || k <= SMALL_K;
    if bl.small.is_some() && b_ok && small && k <= bl.kc {
        return Path::Small;
    }
    Path::Blis {
        direct_b: b.col_stride == 1 && (m <= 4 * bl.mr || k * n * size_of::<T>() <= 32 << 10),
        direct_a: n <= 8 * bl.nr || (a.col_stride == 1 && m > bl.mc),
    }
}
// ANCHOR_END: choose_path

/// Computes one block of C (all of it, or one thread's share) along `path`.
///
/// # Safety
/// As [`gemm_packed`].
unsafe fn run_block<T: Scalar>(
    bl: &Blocking<T>,
    path: Path,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: *mut T,
    ldc: usize,
) {
    match (path, bl.dot) {
        (Path::Dot, Some(dot)) => dot(alpha, a, b, beta, c, ldc),
        (Path::Blis { direct_a, direct_b }, _) => {
            with_workspace(|ws| gemm_packed(bl, direct_a, direct_b, alpha, a, b, beta, c, ldc, ws))
        }
        (Path::Small, _) => match bl.small {
            Some(small) => small(alpha, a, b, beta, c, ldc),
            None => unreachable!("choose_path picks Small only for kernels with one"),
        },
        (Path::Dot, None) => unreachable!("choose_path picks Dot only for kernels with one"),
    }
}

// ANCHOR: threads
/// Splits C into `n_threads` blocks of whole columns (or rows) and runs each on its own
/// thread. Block edges fall on multiples of NR (or MR), so on the blocked path every tile is
/// the same tile it would be on one thread; the dot-product and small paths may tile a block
/// differently, but compute each c_ij by the same chain in any tile. Either way the bits do
/// not depend on the thread count.
fn gemm_threaded<T: Scalar>(
    bl: &Blocking<T>,
    path: Path,
    n_threads: usize,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: SendPtr<T>,
    ldc: usize,
) {
    let (m, n) = (a.rows, b.cols);
    let by_columns = n >= m;
    let (len, unit) = if by_columns { (n, bl.nr) } else { (m, bl.mr) };
    let chunk = len.div_ceil(n_threads).div_ceil(unit) * unit;
    let blocks = len.div_ceil(chunk);
    // Block i: columns (or rows) i·chunk .. min((i + 1)·chunk, len) of C.
    let block = |i: usize| {
        let start = i * chunk;
        let width = chunk.min(len - start);
        let (a_part, b_part, offset) = if by_columns {
            (a, sub_cols(b, start, width), start)
        } else {
            (sub_rows(a, start, width), b, start * ldc)
        };
        // SAFETY: the blocks of C are disjoint (distinct columns, or distinct rows), C
        // outlives every thread's use of it (both ways below wait for all blocks), and
        // `offset` is inside C because `start < len`.
        unsafe { run_block(bl, path, alpha, a_part, b_part, beta, c.add(offset), ldc) }
    };
    // Kept-alive workers if the pool is free (the calling thread takes the last block);
    // otherwise a thread per block, started for it.
    pool::run(blocks, &block);
}
// ANCHOR_END: threads

/// Element-wise work on at least this many values (the forward pass's bias and σ) is split
/// across [`threads`] threads, by whole rows; below it, one thread does it (σ of an
/// 800 × 100 layer takes about 0.2 ms). The split cannot change a value.
pub const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// Calls `f(first_row, rows)` on disjoint blocks of whole rows of `data` (a row-major matrix
/// with `cols` columns), on up to [`threads`] threads (gemm's workers) when `data` has at
/// least [`PARALLEL_MIN_ELEMENTS`] elements, else once on the calling thread. For work done
/// element by element the result is the same however the rows are split.
pub(crate) fn for_each_row_block<T: Send>(
    data: &mut [T],
    cols: usize,
    f: &(dyn Fn(usize, &mut [T]) + Sync),
) {
    let rows = data.len().checked_div(cols).unwrap_or(0);
    let n_threads = threads().min(rows);
    if n_threads <= 1 || data.len() < PARALLEL_MIN_ELEMENTS {
        return f(0, data);
    }
    let chunk = rows.div_ceil(n_threads);
    let blocks = rows.div_ceil(chunk);
    let base = SendPtr(data.as_mut_ptr());
    let block = |i: usize| {
        let first = i * chunk;
        let count = chunk.min(rows - first);
        // SAFETY: blocks are disjoint runs of whole rows inside `data`, which is borrowed
        // mutably for the whole call, and every block is finished before it returns.
        let rows_i =
            unsafe { std::slice::from_raw_parts_mut(base.add(first * cols), count * cols) };
        f(first, rows_i)
    };
    pool::run(blocks, &block);
}

/// Columns `start..start + width` of `v`, as a view (no copy).
fn sub_cols<T>(v: MatRef<'_, T>, start: usize, width: usize) -> MatRef<'_, T> {
    MatRef {
        data: &v.data[start * v.col_stride..],
        cols: width,
        ..v
    }
}

/// Rows `start..start + height` of `v`, as a view (no copy).
fn sub_rows<T>(v: MatRef<'_, T>, start: usize, height: usize) -> MatRef<'_, T> {
    MatRef {
        data: &v.data[start * v.row_stride..],
        rows: height,
        ..v
    }
}

/// C ← βC (the k = 0 product), with β = 0 clearing NaN as BLAS does.
fn scale<T: Scalar>(beta: T, c: &mut [T]) {
    for x in c {
        *x = if beta == T::ZERO { T::ZERO } else { beta * *x };
    }
}

/// A raw pointer into C that may be lent to other threads (scoped ones or the pool's
/// workers), each of which writes only its own block.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: each thread writes a disjoint block of C (see `gemm_threaded`).
unsafe impl<T: Send> Send for SendPtr<T> {}
// SAFETY: shared only to compute the start of each thread's own block (see `SendPtr::add`).
unsafe impl<T: Send> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer `offset` elements on.
    ///
    /// # Safety
    /// As `pointer::add`: the result must stay inside the allocation.
    unsafe fn add(&self, offset: usize) -> *mut T {
        self.0.add(offset)
    }
}

/// A micro-kernel: C_tile ← α·(Ã_panel · B̃_panel) + β·C_tile for one `MR × NR` tile.
///
/// ã_ip is at `a + i·rsa + p·csa`: (1, MR) when packed as `kc` columns of MR values, A's own
/// strides when read in place; `b` holds `kc` rows of NR values, row `p` at
/// `b + p·ldb` (`ldb = NR` when packed, B's own row stride when read in place); the tile
/// starts at `c` with row stride `ldc`. β = 0 must not read C. The update must be
/// `c ← β·c + α·acc` with a separate multiply and add, so edge tiles (computed into a buffer
/// with α = 1, β = 0 and then combined in scalar code) round exactly like full ones.
pub(crate) type MicroKernel<T> = unsafe fn(
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
);

/// A whole product without packing (dot products, or the small-product loops):
/// C[block] ← αAB + βC at `c`, row stride `ldc`.
pub(crate) type UnpackedKernel<T> =
    unsafe fn(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: *mut T, ldc: usize);

/// The matrix-vector product: c ← αAx + βc for A `m × k`, x `k × 1`.
pub(crate) type Gemv<T> = fn(alpha: T, a: MatRef<'_, T>, x: MatRef<'_, T>, beta: T, c: &mut [T]);

/// Tile and block sizes for one micro-kernel, and the kernel itself.
pub(crate) struct Blocking<T> {
    /// Rows of the register tile.
    pub mr: usize,
    /// Columns of the register tile.
    pub nr: usize,
    /// Rows of A packed at once (multiple of `mr`): Ã is `mc × kc`, sized for L2.
    pub mc: usize,
    /// Depth of one packed slice: a `kc × nr` sliver of B̃ is sized for L1.
    pub kc: usize,
    /// Columns of B packed at once (multiple of `nr`): B̃ is `kc × nc`, sized for L3.
    pub nc: usize,
    /// The register-tiled micro-kernel.
    pub micro: MicroKernel<T>,
    /// The unpacked matrix-vector product for n = 1 (or m = 1).
    pub gemv: Gemv<T>,
    /// The unpacked dot-product kernel for skinny A·Bᵀ, if this kernel has one.
    pub dot: Option<UnpackedKernel<T>>,
    /// The unpacked kernel for products below [`SMALL_WORK`] or with k ≤ [`SMALL_K`], if
    /// this kernel has one. It must give bit-identical results to the blocked path for
    /// k ≤ `kc`.
    pub small: Option<UnpackedKernel<T>>,
}

/// Largest `mr × nr` tile of any kernel (AVX-512 f32: 6 × 32).
const MAX_TILE: usize = 6 * 32;

/// The blocking for `kernel` on element type `T` (f32 or f64), for a product with m rows.
fn blocking<T: Scalar>(kernel: Kernel, m: usize) -> Blocking<T> {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        let bl: Blocking<f32> = blocking_f32(kernel, m);
        // SAFETY: T is f32, so Blocking<T> and Blocking<f32> are the same type.
        unsafe { std::mem::transmute_copy(&bl) }
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        let bl: Blocking<f64> = blocking_f64(kernel);
        // SAFETY: T is f64, as above.
        unsafe { std::mem::transmute_copy(&bl) }
    } else {
        unreachable!("Scalar is implemented for f32 and f64 only")
    }
}

fn blocking_f32(kernel: Kernel, m: usize) -> Blocking<f32> {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => avx2::blocking_f32(m),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => avx512::blocking_f32(),
        _ => portable::blocking(),
    }
}

fn blocking_f64(kernel: Kernel) -> Blocking<f64> {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => avx2::blocking_f64(),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => avx512::blocking_f64(),
        _ => portable::blocking(),
    }
}

/// 64-byte-aligned storage for packed panels (a cache line, and a whole AVX-512 vector).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

/// Pack buffers, reused: a thread takes one from the pool and gives it back, so repeated
/// products of the same size allocate nothing after the first.
static POOL: Mutex<Vec<Vec<Line>>> = Mutex::new(Vec::new());

fn with_workspace<R>(f: impl FnOnce(&mut Vec<Line>) -> R) -> R {
    let mut ws = POOL
        .lock()
        .map(|mut p| p.pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    let out = f(&mut ws);
    if let Ok(mut pool) = POOL.lock() {
        pool.push(ws);
    }
    out
}

/// Grows `ws` to hold at least `elems` values of `T` and returns it as a `*mut T`.
fn workspace_ptr<T>(ws: &mut Vec<Line>, elems: usize) -> *mut T {
    let lines = (elems * std::mem::size_of::<T>()).div_ceil(64);
    if ws.len() < lines {
        ws.resize(lines, Line([0; 64]));
    }
    ws.as_mut_ptr().cast()
}

// ANCHOR: five_loops
/// The BLIS five loops: C ← αAB + βC on one thread, C at `c` with row stride `ldc`.
/// With `direct_b` (B must have unit column stride), full NR-wide slivers of B are read where
/// they lie and only the ragged last one is packed; `direct_a` does the same for A's panels.
///
/// # Safety
/// `c` must point to an `a.rows × b.cols` block with row stride `ldc` that nothing else
/// touches during the call; shapes must have passed `check_gemm_shapes`.
unsafe fn gemm_packed<T: Scalar>(
    bl: &Blocking<T>,
    direct_a: bool,
    direct_b: bool,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: *mut T,
    ldc: usize,
    ws: &mut Vec<Line>,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let (mr, nr) = (bl.mr, bl.nr);
    // Split k into the nearest whole number of slices to KC deep, of equal depth (at most
    // 1.5·KC), so k = 784 is one pass over C rather than 768 + a wasteful 16.
    let slices = ((k + bl.kc / 2) / bl.kc).max(1);
    let kc = k.div_ceil(slices);
    let kc_max = kc;
    let a_len = bl.mc.min(m.next_multiple_of(mr)) * kc_max;
    let b_len = bl.nc.min(n.next_multiple_of(nr)) * kc_max;
    let a_pack = workspace_ptr::<T>(ws, a_len + b_len);
    let b_pack = a_pack.add(a_len);
    let mut edge = [T::ZERO; MAX_TILE];

    for jc in (0..n).step_by(bl.nc) {
        // Loop 5: a block of NC columns of B and C.
        let nb = bl.nc.min(n - jc);
        for pc in (0..k).step_by(kc) {
            // Loop 4: a KC-deep slice of k. Pack B̃ = B[pc.., jc..] (kb × nb): L3/L2.
            let kb = kc.min(k - pc);
            if !direct_b {
                pack::pack_b(b, pc, jc, kb, nb, nr, b_pack);
            }
            // β scales C once, on the first slice; later slices accumulate onto it.
            let beta = if pc == 0 { beta } else { T::ONE };
            for ic in (0..m).step_by(bl.mc) {
                // Loop 3: a block of MC rows of A. Pack Ã = A[ic.., pc..] (mb × kb): L2.
                let mb = bl.mc.min(m - ic);
                let ragged = mb - mb % mr;
                if !direct_a {
                    pack::pack_a(a, ic, pc, mb, kb, mr, a_pack);
                } else if ragged < mb {
                    pack::pack_a(a, ic + ragged, pc, mb - ragged, kb, mr, a_pack);
                }
                for jr in (0..nb).step_by(nr) {
                    // Loop 2: one kb × NR sliver of B̃, which stays in L1.
                    let (b_panel, ldb) = match direct_b {
                        false => (b_pack.add(jr * kb) as *const T, nr),
                        true if nb - jr >= nr => {
                            let sliver = pc * b.row_stride + jc + jr;
                            (b.data.as_ptr().add(sliver), b.row_stride)
                        }
                        true => {
                            pack::pack_b(b, pc, jc + jr, kb, nb - jr, nr, b_pack);
                            (b_pack as *const T, nr)
                        }
                    };
                    for ir in (0..mb).step_by(mr) {
                        // Loop 1: one MR × kb sliver of Ã against it: the micro-kernel.
                        let (a_panel, rsa, csa) = match direct_a {
                            false => (a_pack.add(ir * kb) as *const T, 1, mr),
                            true if ir < ragged => {
                                let (rs, cs) = (a.row_stride, a.col_stride);
                                (a.data.as_ptr().add((ic + ir) * rs + pc * cs), rs, cs)
                            }
                            true => (a_pack as *const T, 1, mr),
                        };
                        let tile = c.add((ic + ir) * ldc + jc + jr);
                        let (rows, cols) = (mr.min(mb - ir), nr.min(nb - jr));
                        if rows == mr && cols == nr {
                            (bl.micro)(kb, a_panel, rsa, csa, b_panel, ldb, tile, ldc, alpha, beta);
                        } else {
                            let e = edge.as_mut_ptr();
                            (bl.micro)(kb, a_panel, rsa, csa, b_panel, ldb, e, nr, T::ONE, T::ZERO);
                            store_edge(&edge[..mr * nr], nr, rows, cols, tile, ldc, alpha, beta);
                        }
                    }
                }
            }
        }
    }
}
// ANCHOR_END: five_loops

/// Writes the valid `rows × cols` corner of an edge tile: c ← β·c + α·t, the same operations
/// (separate multiply and add) as the micro-kernels' own update.
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
            let cij = c.add(i * ldc + j);
            let ab = alpha * t[i * nr + j];
            *cij = if beta == T::ZERO {
                ab
            } else {
                beta * *cij + ab
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kernel::ALL {
            assert_eq!(Kernel::from_name(k.name()), Some(k));
        }
        assert_eq!(Kernel::from_name("sse"), None);
    }

    #[test]
    fn best_is_supported_and_portable_always_is() {
        assert!(Kernel::best().is_supported());
        assert!(Kernel::Portable.is_supported() && Kernel::Naive.is_supported());
        assert!(kernel().is_supported());
    }

    #[test]
    fn blocks_are_multiples_of_the_tile() {
        for k in Kernel::ALL.into_iter().filter(|k| k.is_supported()) {
            let b32 = blocking::<f32>(k, 20);
            let b64 = blocking::<f64>(k, 20);
            for (mr, nr, mc, nc) in [
                (b32.mr, b32.nr, b32.mc, b32.nc),
                (b64.mr, b64.nr, b64.mc, b64.nc),
            ] {
                assert_eq!(mc % mr, 0);
                assert_eq!(nc % nr, 0);
                assert!(mr * nr <= MAX_TILE);
            }
        }
    }

    /// The small path and the blocked loops give the same bits on the products the small
    /// path takes (so choosing it by shape changes no answer), with A and B transposed or
    /// not, β = 0 (over a C full of NaN), 1 and ½, every count of rows left over by the
    /// 5-row tiles, k = 1, and widths that leave ragged tiles or exactly 8 columns.
    #[test]
    fn small_path_equals_blocked_path_bit_for_bit() {
        let shapes = [
            (20, 10, 784),
            (10, 10, 20),
            (7, 16, 33),
            (23, 3, 50),
            (3, 40, 19),
            (11, 1, 24),
            (6, 5, 8),
            (9, 2, 3),
        ];
        for kernel in Kernel::ALL.into_iter().filter(|k| k.is_supported()) {
            let bl = blocking::<f32>(kernel, 20);
            if bl.small.is_none() {
                continue;
            }
            for (m, k, n) in shapes {
                let a_data: Vec<f32> = (0..m * k)
                    .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
                    .collect();
                let b_data: Vec<f32> = (0..k * n)
                    .map(|i| ((i * 53) % 97) as f32 / 48.0 - 1.0)
                    .collect();
                let c0: Vec<f32> = (0..m * n)
                    .map(|i| ((i * 29) % 89) as f32 / 44.0 - 1.0)
                    .collect();
                for (ta, tb, beta) in [(false, false, 0.0), (true, false, 1.0), (false, true, 0.5)]
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
                        let mut c = c0.clone();
                        if beta == 0.0 {
                            c.fill(f32::NAN);
                        }
                        // SAFETY: C is m × n with row stride n; the shapes agree.
                        unsafe { run_block(&bl, path, 0.75, a, b, beta, c.as_mut_ptr(), n) };
                        c
                    };
                    let small = run(Path::Small);
                    let blocked = run(Path::Blis {
                        direct_a: false,
                        direct_b: false,
                    });
                    assert!(
                        small
                            .iter()
                            .zip(&blocked)
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{kernel:?} {m}×{k}×{n} (Aᵀ {ta}, Bᵀ {tb}, β {beta}): paths differ"
                    );
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "is not a kernel")]
    fn unknown_forced_name_panics() {
        choose_forced("sse9");
    }

    #[test]
    fn unsupported_forced_kernel_falls_back() {
        let k = choose_forced("avx512");
        assert!(k.is_supported());
    }
}
