//! Linear algebra from scratch: [`Vector`], [`Matrix`] and the matrix multiply under them.
//!
//! Book chapter: "Matrices and vectors". Every operation the write-up's equations use has a
//! method of the same name: `transpose`, `hadamard` (⊙), `outer`, `matmul`. Shape mismatches
//! are programming errors, so they panic, naming both shapes (as ndarray and nalgebra do);
//! the `# Panics` section of each method says when.
//!
//! Every product goes through [`gemm`](gemm()), which dispatches to the fastest kernel this
//! CPU runs (`kernel/`; book chapter "Making it fast"). [`set_threads`] lets large products
//! use several threads, with bit-identical results for any count; [`teaching`] holds
//! the slow-but-clear loops that chapter measures; [`im2col`] lowers a convolution to one
//! product (book chapter "Convolutional networks").
//!
//! Left out: views, broadcasting beyond "add a column to every column", anything generic
//! over more than `f32` and `f64`.

mod aligned;
mod elementwise;
mod gemm;
pub mod im2col;
mod kernel;
mod matrix;
mod scalar;
pub mod teaching;
mod vector;

pub(crate) use kernel::{for_each_block_of, for_each_row_block, for_each_row_block_of};
pub(crate) use vector::argmax;

pub use aligned::{CacheAligned, ALIGNED_FROM, CACHE_LINE};
pub use elementwise::{
    add_to_columns_then_map, advise_large_pages, for_each_row_sum, map_in_place, map_into,
    prefetch, zip_blocks, zip_map_in_place,
};
pub use gemm::{gemm, gemm_naive, MatRef};
pub use im2col::MapShape;
pub use kernel::{
    alongside, gemm_with, gemm_with_threads, kernel, kernel_name, leaves_a_core_free, set_threads,
    threads, with_thread_limit, Kernel, PARALLEL_MIN_ELEMENTS, PARALLEL_MIN_WORK,
};
pub use matrix::Matrix;
pub use scalar::{exp_f32, Scalar};
pub use vector::Vector;

/// Panics with a message naming the operation and both shapes.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn shape_mismatch(op: &str, left: (usize, usize), right: (usize, usize)) -> ! {
    panic!(
        "{op}: shape mismatch: left is {}×{}, right is {}×{}",
        left.0, left.1, right.0, right.1
    )
}
