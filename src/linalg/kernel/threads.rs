//! Threads: how many a product may use ([`set_threads`]), when it is worth splitting, and
//! the split itself, of a product into blocks of whole columns (or rows) of C and of an
//! element-wise pass into blocks of whole rows. The blocks run on the kept-alive workers of
//! `pool.rs`.
//!
//! Book chapter: "Making it fast" (Threads). Every split is chosen so that no value depends
//! on the thread count: results are bit-identical for any [`threads`].

use super::super::gemm::MatRef;
use super::super::scalar::Scalar;
use super::path::{run_block, Path};
use super::{pool, Kernels};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

static THREADS: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// The most threads this thread's products may use, whatever [`set_threads`] says.
    static LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Sets how many threads large products may use (global; default 1). `0` is taken as 1.
pub fn set_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// How many threads large products may use (see [`set_threads`]; at most the limit of
/// [`with_thread_limit`] on this thread).
pub fn threads() -> usize {
    THREADS.load(Ordering::Relaxed).min(LIMIT.get())
}

/// Runs `f` with this thread's products on at most `n` threads (`0` is taken as 1), so
/// that work running beside other work (evaluation beside training) keeps to its own core.
/// Results do not depend on the thread count, so nothing `f` computes changes.
pub fn with_thread_limit<R>(n: usize, f: impl FnOnce() -> R) -> R {
    let before = LIMIT.replace(n.max(1));
    // Restored even if `f` panics, so a caught panic cannot leave the thread limited.
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            LIMIT.set(self.0);
        }
    }
    let _restore = Restore(before);
    f()
}

/// Runs `main` on this thread and `side` at the same time on a second one, whose products
/// keep to one thread ([`with_thread_limit`]), and returns both results: work that needs a
/// core (training) beside work that can use the other (measuring the last epoch). A panic
/// in either reaches the caller.
pub fn alongside<A, B: Send>(main: impl FnOnce() -> A, side: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|scope| {
        let side = scope.spawn(|| with_thread_limit(1, side));
        let a = main();
        let b = side
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

/// Whether a training step's products, of shapes (m, k, n) = (batch, n_in, n_out), leave a
/// core free for [`alongside`]: at least two threads are allowed, and each product is below
/// [`PARALLEL_MIN_WORK`] multiply-adds and each of its matrices (the batch's inputs and
/// outputs, and the k × n weights an optimizer steps) below [`PARALLEL_MIN_ELEMENTS`]
/// values, so neither the product nor the element-wise work on any of them is split.
pub fn leaves_a_core_free(products: impl IntoIterator<Item = (usize, usize, usize)>) -> bool {
    threads() >= 2
        && products.into_iter().all(|(m, k, n)| {
            let largest = m.saturating_mul(k.max(n)).max(k.saturating_mul(n));
            m.saturating_mul(k).saturating_mul(n) < PARALLEL_MIN_WORK
                && largest < PARALLEL_MIN_ELEMENTS
        })
}

/// Products with fewer than this many multiply-adds (m·n·k) stay on one thread: below it,
/// handing half to another thread saves too little to measure (see the book's "Making it
/// fast", section "Threads"). Depends only on the shape, never on the thread count, so it
/// cannot break bit-identity across thread counts.
pub const PARALLEL_MIN_WORK: usize = 1 << 21;

/// Element-wise work on at least this many values (the forward pass's bias and σ) is split
/// across [`threads`] threads, by whole rows; below it, handing rows to another thread costs
/// more than it saves (see the book's "Making it fast", section "Two threads"). The split
/// cannot change a value.
pub const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// How many threads a product of `work` multiply-adds runs on, when `n_threads` may.
pub(super) fn threads_for(work: usize, n_threads: usize) -> usize {
    if work < PARALLEL_MIN_WORK {
        1
    } else {
        n_threads.max(1)
    }
}

// ANCHOR: threads
/// Splits C into `n_threads` blocks of whole columns (or rows) and runs each on its own
/// thread. Block edges fall on multiples of NR (or MR), so on the blocked path every tile is
/// the same tile it would be on one thread; the dot-product and small paths may tile a block
/// differently, but compute each c_ij by the same chain in any tile. Either way the bits do
/// not depend on the thread count.
///
/// # Safety
/// As [`run_block`], for the whole product: C is `c`, dense `a.rows × b.cols`.
pub(super) unsafe fn gemm_threaded<T: Scalar>(
    kernels: &Kernels<T>,
    path: Path<T>,
    n_threads: usize,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: &mut [T],
) {
    let (m, n) = (a.rows, b.cols);
    let (ldc, c) = (n, SendPtr(c.as_mut_ptr()));
    let by_columns = n >= m;
    let bl = &kernels.blocking;
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
        // outlives every thread's use of it (`pool::run` waits for all blocks), `offset` is
        // inside C because `start < len`, and a block keeps the product's strides and k, so
        // `path` holds for it too; the rest is the caller's promise.
        unsafe {
            run_block(
                kernels,
                path,
                alpha,
                a_part,
                b_part,
                beta,
                c.add(offset),
                ldc,
            )
        }
    };
    // Kept-alive workers if the pool is free (the calling thread takes the last block);
    // otherwise a thread per block, started for it.
    pool::run(blocks, &block);
}
// ANCHOR_END: threads

/// Calls `f(first_row, rows)` on disjoint blocks of whole rows of `data` (a row-major matrix
/// with `cols` columns), on up to [`threads`] threads (gemm's workers) when `data` has at
/// least [`PARALLEL_MIN_ELEMENTS`] elements, else once on the calling thread. For work done
/// element by element the result is the same however the rows are split.
pub(crate) fn for_each_row_block<T: Send>(
    data: &mut [T],
    cols: usize,
    f: &(dyn Fn(usize, &mut [T]) + Sync),
) {
    for_each_row_block_of(data, cols, data.len(), f)
}

/// [`for_each_row_block`] for a job that reads `work` values in all (more than `data` holds
/// when each of its rows is a result made from many values, as a row sum is), split when
/// `work` reaches [`PARALLEL_MIN_ELEMENTS`].
pub(crate) fn for_each_row_block_of<T: Send>(
    data: &mut [T],
    cols: usize,
    work: usize,
    f: &(dyn Fn(usize, &mut [T]) + Sync),
) {
    let rows = data.len().checked_div(cols).unwrap_or(0);
    let n_threads = threads().min(rows);
    if n_threads <= 1 || work < PARALLEL_MIN_ELEMENTS {
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

/// Calls `f` on matching blocks of the `N` equally long slices `parts` (changed) and of
/// `shared` (read): blocks of the same positions in every slice, on up to [`threads`]
/// threads when the slices are at least [`PARALLEL_MIN_ELEMENTS`] long (the rule of every
/// element-wise split, which [`leaves_a_core_free`] relies on), else once on the whole
/// slices. For work done position by position (an optimizer's step over a
/// layer's weights, its gradient and its moments) the result is the same however they are
/// split.
///
/// # Panics
/// If the slices differ in length.
#[track_caller]
pub(crate) fn for_each_block_of<T, const N: usize, F>(parts: [&mut [T]; N], shared: &[T], f: &F)
where
    T: Send + Sync,
    F: Fn([&mut [T]; N], &[T]) + Sync,
{
    let len = shared.len();
    if let Some(part) = parts.iter().find(|p| p.len() != len) {
        crate::linalg::shape_mismatch("zip_blocks", (part.len(), 1), (len, 1));
    }
    let n_threads = threads().min(len);
    if n_threads <= 1 || len < PARALLEL_MIN_ELEMENTS {
        return f(parts, shared);
    }
    let chunk = len.div_ceil(n_threads);
    let bases = parts.map(|p| SendPtr(p.as_mut_ptr()));
    let block = |i: usize| {
        let (first, count) = (i * chunk, chunk.min(len - i * chunk));
        // SAFETY: block i of every slice is the same run of positions, disjoint from every
        // other block's, inside a slice borrowed mutably for the whole call; every block is
        // finished before `pool::run` returns.
        let blocks = bases
            .each_ref()
            .map(|b| unsafe { std::slice::from_raw_parts_mut(b.add(first), count) });
        f(blocks, &shared[first..first + count])
    };
    pool::run(len.div_ceil(chunk), &block);
}

/// Columns `start..start + width` of `v`, as a view (no copy).
pub(super) fn sub_cols<T>(v: MatRef<'_, T>, start: usize, width: usize) -> MatRef<'_, T> {
    MatRef {
        data: &v.data[start * v.col_stride..],
        cols: width,
        ..v
    }
}

/// Rows `start..start + height` of `v`, as a view (no copy).
pub(super) fn sub_rows<T>(v: MatRef<'_, T>, start: usize, height: usize) -> MatRef<'_, T> {
    MatRef {
        data: &v.data[start * v.row_stride..],
        rows: height,
        ..v
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
        // SAFETY: the caller's promise.
        unsafe { self.0.add(offset) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::catch_unwind;

    #[test]
    fn alongside_returns_both_and_holds_the_side_to_one_thread() {
        let main_limit = LIMIT.get();
        let (a, b) = alongside(|| LIMIT.get(), || (LIMIT.get(), threads()));
        assert_eq!((a, b), (main_limit, (1, 1)));
        let caught = catch_unwind(|| alongside(|| 1, || panic!("fails on purpose")));
        assert!(caught.is_err(), "the side's panic was lost");
        // Under a limit of one nothing is free, whatever the shapes.
        with_thread_limit(1, || assert!(!leaves_a_core_free([(1, 1, 1)])));
    }

    /// The limit alone is checked (`threads()` also reads the global count, which other tests
    /// set at the same time).
    #[test]
    fn a_thread_limit_holds_inside_nests_and_is_lifted_after_even_a_panic() {
        assert_eq!(LIMIT.get(), usize::MAX, "no limit outside");
        with_thread_limit(3, || {
            assert!(threads() <= 3);
            with_thread_limit(0, || assert_eq!((LIMIT.get(), threads()), (1, 1)));
            assert_eq!(LIMIT.get(), 3, "the outer limit is back");
        });
        let caught = catch_unwind(|| with_thread_limit(1, || panic!("fails on purpose")));
        assert!(caught.is_err());
        assert_eq!(LIMIT.get(), usize::MAX, "a panic left the thread limited");
        let other = std::thread::spawn(|| LIMIT.get());
        with_thread_limit(1, || assert_eq!(other.join().unwrap(), usize::MAX));
    }
}
