//! The fast matrix multiply behind [`gemm`](super::gemm()): C ← αAB + βC with packing, cache
//! blocking, register-tiled SIMD micro-kernels and threads.
//!
//! Book chapter: "Making it fast". The structure is the BLIS paper's five loops (Van Zee &
//! van de Geijn, 2015), as in bluss's matrixmultiply, and so is the layout, one concern a file:
//!
//! * `mod.rs`: the entry points [`gemm_with`] and [`gemm_with_threads`]; what a kernel brings
//!   ([`Blocking`], [`Kernels`]) and the contracts its functions keep;
//! * `select.rs`: choosing the kernel at run time: [`Kernel`], `SCRATCHNET_KERNEL`, CPU
//!   feature detection, and the kernels `f32` and `f64` each bring;
//! * `path.rs`: choosing the path for a product's shape (`Path`): the packed loops, dot
//!   products, or the straight loops of small products;
//! * `blis.rs`: the five loops themselves, and the ragged edge tiles;
//! * `pack.rs`: packing a block of A or B into the panels the micro-kernel reads;
//! * `pack_buffers.rs`: the pack buffers, kept for reuse so that products allocate nothing;
//! * `threads.rs`: splitting a product (or an element-wise pass) into blocks, one per thread;
//!   [`set_threads`];
//! * `pool.rs`: the worker threads, kept alive between products;
//! * `portable.rs`, `avx2/`, `avx512.rs`: the kernels proper, one file (or folder) per
//!   instruction set; AVX-512's dot-product and small-product kernels in `avx512_dot.rs` and
//!   `avx512_small.rs`.
//!
//! The five loops, outermost first, with the BLIS paper's names (`blis.rs`):
//!
//! * loop 5, `jc`: a block of `NC` columns of B and C;
//! * loop 4, `pc`: a `KC`-deep slice of k; **pack** B̃ = B[pc.., jc..], `KC × NC`, sized for
//!   L3/L2. Packing reads the caller's strides once, so a transposed operand (a [`MatRef`] with
//!   swapped strides) costs nothing extra;
//! * loop 3, `ic`: a block of `MC` rows of A; **pack** Ã = A[ic.., pc..], `MC × KC`, sized
//!   for L2;
//! * loop 2, `jr`: one `KC × NR` sliver of B̃, which stays in L1;
//! * loop 1, `ir`: one `MR × KC` sliver of Ã against it: the **micro-kernel**, which keeps an
//!   `MR × NR` tile of C in registers and updates it with one rank-1 product (broadcast ×
//!   vector FMA) per step of k.
//!
//! Not every product takes those loops (`path.rs`): an operand whose panels would be used only
//! a few times is read in place instead of packed; A·Bᵀ with contiguous rows (the forward
//! product, skinny m = 20) becomes blocks of dot products; n = 1 is a matrix-vector product;
//! and small products, or those with a short k, skip packing and blocking altogether, each c_ij
//! the micro-kernel's own chain of FMAs, so the answer is the one the blocked loops would give.
//!
//! Which kernel runs is chosen once, at run time ([`kernel`]): the environment variable
//! `SCRATCHNET_KERNEL` (`naive`, `portable`, `avx2` or `avx512`) forces one; otherwise the best
//! the CPU supports (`is_x86_feature_detected!`). An unknown name panics; a known kernel this
//! CPU cannot run falls back to the best supported one with a warning on stderr. Each element
//! type brings its own kernels: [`Scalar`] is sealed, and `select.rs` implements its kernel
//! table for `f32` and for `f64`.
//!
//! "Same answers": every kernel computes each `c_ij` as a sum of the same k products, only
//! in a different order and with or without fused multiply-add, so kernels agree with
//! [`gemm_naive`] to within the usual k·ε bound, not bit for bit. For a *fixed* kernel the
//! result is bit-identical whatever the thread count. No allocation on the hot path: repeated
//! products of the same size allocate nothing after the first (a test counts).
//!
//! Left out: complex numbers, multithreaded packing, and tuning block sizes at run time.

// Kernels take BLAS-style argument lists (pointer, stride, α, β); bundling them into structs
// would hide the one thing a reader of a micro-kernel needs to see.
#![allow(clippy::too_many_arguments)]

mod blis;
mod pack;
mod pack_buffers;
mod path;
mod pool;
mod portable;
mod select;
mod threads;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod avx512_dot;
#[cfg(target_arch = "x86_64")]
mod avx512_small;

use super::gemm::{check_gemm_shapes, gemm_naive, MatRef};
use super::scalar::Scalar;
use path::{choose_path, run_block};

pub use select::{kernel, kernel_name, Kernel};
pub use threads::{
    alongside, leaves_a_core_free, set_threads, threads, with_thread_limit, PARALLEL_MIN_ELEMENTS,
    PARALLEL_MIN_WORK,
};
pub(crate) use threads::{for_each_block_of, for_each_row_block, for_each_row_block_of};

/// C ← αAB + βC with a chosen kernel and the global thread count ([`threads`](threads())).
///
/// A is `m × k`, B is `k × n`, C is dense row-major `m × n`; β = 0 ignores the old C.
///
/// # Panics
/// If the shapes are incompatible (as [`gemm_naive`]), or if this CPU does
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
    let kernels = T::kernels(kernel, m);
    // ANCHOR: skinny
    // A matrix times a vector reuses nothing: packing would copy all of A to use it once.
    if n == 1 {
        // SAFETY: this CPU runs `kernel` (asserted above); the shapes passed the check.
        return unsafe { (kernels.gemv)(alpha, a, b, beta, c) };
    }
    if m == 1 && b.row_stride == 1 {
        // c (1×n) = a·B is cᵀ = Bᵀaᵀ, and a 1×n row is laid out like an n×1 column. (For a
        // row-major B, whose columns are strided, the blocked loops below do better.)
        // SAFETY: as above; Bᵀ (n × k) times aᵀ (k × 1) fills the n values of C.
        return unsafe { (kernels.gemv)(alpha, b.t(), a.t(), beta, c) };
    }
    // ANCHOR_END: skinny
    let path = choose_path(&kernels, a, b);
    let n_threads = threads::threads_for(m.saturating_mul(n).saturating_mul(k), n_threads);
    if n_threads == 1 {
        // SAFETY: C is exactly m × n with row stride n (checked above) and borrowed mutably;
        // `path` was chosen for this product; this CPU runs `kernel` (asserted above).
        return unsafe { run_block(&kernels, path, alpha, a, b, beta, c.as_mut_ptr(), n) };
    }
    // SAFETY: as above.
    unsafe { threads::gemm_threaded(&kernels, path, n_threads, alpha, a, b, beta, c) }
}

/// C ← βC (the k = 0 product), with β = 0 clearing NaN as BLAS does.
fn scale<T: Scalar>(beta: T, c: &mut [T]) {
    for x in c {
        *x = if beta == T::ZERO { T::ZERO } else { beta * *x };
    }
}

/// Tile and block sizes of one micro-kernel: the numbers the five loops cut a product by.
/// (`pub` only so that the sealed supertrait of [`Scalar`] may name [`Kernels`]; this module
/// is private, so neither is part of the crate's API.)
#[derive(Clone, Copy, Debug)]
pub struct Blocking {
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
}

/// Largest `mr × nr` tile of any kernel (AVX-512 f32: 12 × 32).
const MAX_TILE: usize = 12 * 32;

/// What an element type brings for one [`Kernel`] (see `select.rs`): the block sizes and the
/// functions each path calls. Every function requires, besides its own contract, a CPU that
/// runs the instruction set of the kernel it was chosen for.
pub struct Kernels<T: 'static> {
    /// Tile and block sizes for the micro-kernel.
    pub blocking: Blocking,
    /// The register-tiled micro-kernel of the five loops.
    pub micro: MicroKernel<T>,
    /// The unpacked matrix-vector product for n = 1 (or m = 1).
    pub gemv: Gemv<T>,
    /// The unpacked dot-product kernel for skinny A·Bᵀ ([`Path::Dot`](path::Path::Dot)), if
    /// this kernel has one.
    pub dot: Option<UnpackedKernel<T>>,
    /// The unpacked kernel for small products ([`Path::Small`](path::Path::Small)), if this
    /// kernel has one. It must give bit-identical results to the blocked path for k ≤ `kc`.
    pub small: Option<UnpackedKernel<T>>,
    /// Micro-kernels for edge tiles, smallest first, if this kernel has them: an edge tile
    /// (fewer than MR live rows or NR live columns) that fits one runs fewer FMAs. Each reads
    /// Ã's and B̃'s panels with the same strides as `micro` and must compute each c_ij by the
    /// same chain, so which one ran changes no bit. (A batch of 100 is 3 × 32 + 4 columns:
    /// without them the last tile computed 32 columns for 4, and a product 20 wide computed
    /// 32 for 20.)
    pub edges: &'static [EdgeKernel<T>],
    /// Writes an edge tile's live corner from the buffer it was computed into, if this kernel
    /// has its own way (else `blis.rs`'s scalar loop): with the same operations, so the same
    /// bits.
    pub store_edge: Option<StoreEdge<T>>,
}

impl<T: 'static> Kernels<T> {
    /// The micro-kernel for an edge tile with `rows` live rows and `cols` live columns: the
    /// first of [`Kernels::edges`] that covers them, else the full `micro`.
    fn edge_micro(&self, rows: usize, cols: usize) -> MicroKernel<T> {
        self.edges
            .iter()
            .find(|edge| rows <= edge.rows && cols <= edge.cols)
            .map_or(self.micro, |edge| edge.micro)
    }
}

/// A micro-kernel for a tile smaller than the blocking's: `rows × cols`.
#[derive(Clone, Copy)]
pub struct EdgeKernel<T> {
    /// Rows of its tile: it computes the first `rows` rows of Ã's panels.
    pub rows: usize,
    /// Columns of its tile: it computes the first `cols` columns of B̃'s slivers.
    pub cols: usize,
    /// The kernel, with [`MicroKernel`]'s contract for a `rows × cols` tile.
    pub micro: MicroKernel<T>,
}

/// A micro-kernel: C_tile ← α·(Ã_panel · B̃_panel) + β·C_tile for one `MR × NR` tile.
///
/// ã_ip is at `a + i·rsa + p·csa`: (1, MR) when packed as `kc` columns of MR values, A's own
/// strides when read in place; `b` holds `kc` rows of NR values, row `p` at
/// `b + p·ldb` (`ldb = NR` when packed, B's own row stride when read in place); the tile
/// starts at `c` with row stride `ldc`. β = 0 must not read C. The update must be
/// `c ← β·c + α·acc` with a separate multiply and add, so edge tiles (computed into a buffer
/// with α = 1, β = 0 and then combined in scalar code) round exactly like full ones.
///
/// # Safety
/// the CPU runs the kernel's instructions; those `kc` columns of Ã and rows
/// of B̃ are readable; the tile is writable, and readable unless β = 0.
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

/// c ← β·c + α·t for the live `rows × cols` corner of an edge tile `t` (row stride `nr`, at
/// most MR rows of NR values), with a separate multiply and add for each value, as
/// [`MicroKernel`]'s update.
///
/// # Safety
/// The CPU runs the kernel's instructions; `t` holds `rows` rows of `nr` values; `c` points to
/// a `rows × cols` block with row stride `ldc`, writable, and readable unless β = 0.
pub(crate) type StoreEdge<T> = unsafe fn(
    t: &[T],
    nr: usize,
    rows: usize,
    cols: usize,
    c: *mut T,
    ldc: usize,
    alpha: T,
    beta: T,
);

/// A whole product without packing (dot products, or the small-product loops):
/// `C[block] ← αAB + βC` at `c`, row stride `ldc`.
///
/// # Safety
/// the CPU runs the kernel's instructions; the views passed
/// `check_gemm_shapes`; C at `c` is an `a.rows × b.cols` block with row stride `ldc` that
/// nothing else touches during the call; and the operands have the layout the path that
/// calls it requires (see [`Path`](path::Path)).
pub(crate) type UnpackedKernel<T> =
    unsafe fn(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: *mut T, ldc: usize);

/// The matrix-vector product: c ← αAx + βc for A `m × k`, x `k × 1`.
///
/// # Safety
/// the CPU runs the kernel's instructions, and the views passed
/// `check_gemm_shapes` with `c`.
pub(crate) type Gemv<T> =
    unsafe fn(alpha: T, a: MatRef<'_, T>, x: MatRef<'_, T>, beta: T, c: &mut [T]);
