//! A training step allocates nothing once its buffers exist: after the first mini-batch,
//! gathering a batch, backpropagating and stepping reuse the `Workspace`, the target matrix
//! and gemm's pack buffers; nor does a repeated product. Counted by a global allocator in
//! the `serial` test binary, each test holding [`serial`](crate::serial) (so `set_threads`
//! stays 1 and no thread is spawned).

use crate::common::{random_images, supported_kernels};
use crate::serial;
use scratchnet::backprop::{backprop_batch, Workspace};
use scratchnet::linalg::{gemm_with_threads, MatRef, Matrix, Scalar};
use scratchnet::network::Network;
use scratchnet::optimizer::{Optimizer, OptimizerState};
use scratchnet::rng::Rng;
use scratchnet::train::sgd_step;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts allocations (and reallocations) made by the current thread.
struct Counting;
thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|n| n.set(n.get() + 1));
        System.alloc(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|n| n.set(n.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCS.with(Cell::get)
}

/// Allocations made by batches 2.. of `step` over the write-up's network, batch `batch`.
fn allocations_after_first_batch<T: Scalar>(
    batch: usize,
    mut step: impl FnMut(&mut Network<T>, &Matrix<T>, &mut Workspace<T>),
) -> usize {
    let mut rng = Rng::new(5);
    let data = random_images::<T>(200, &mut rng);
    let mut net: Network<T> = Network::new(&[784, 20, 10, 10], &mut rng);
    let mut order: Vec<usize> = (0..data.len()).collect();
    rng.shuffle(&mut order);
    let (mut ws, mut y) = (Workspace::new(), Matrix::zeros(0, 0));
    let mut counted = 0;
    let batches: Vec<&[usize]> = order.chunks(batch).collect();
    for (i, &indices) in batches.iter().enumerate() {
        let before = allocations();
        // As training gathers: asking for the batch after next on the way.
        let xt = ws.input_rows(784, indices.len());
        data.gather_batch(&batches, i, 10, xt, &mut y);
        step(&mut net, &y, &mut ws);
        if i > 0 {
            counted += allocations() - before;
        } else {
            // The counter works: the first batch does allocate its buffers.
            assert!(allocations() > before, "the first batch allocated nothing?");
        }
    }
    counted
}

// Alone (`serial`): gemm's pack buffers come from a pool shared by all threads, and a test
// running beside this one could swap a smaller buffer in.
#[test]
fn training_steps_allocate_nothing_after_the_first_batch() {
    let _alone = serial();
    let f32s = allocations_after_first_batch::<f32>(10, |net, y, ws| sgd_step(net, y, 3.0, ws));
    assert_eq!(f32s, 0, "f32, batch 10");
    let f64s = allocations_after_first_batch::<f64>(25, |net, y, ws| sgd_step(net, y, 3.0, ws));
    assert_eq!(f64s, 0, "f64, batch 25");
    for kind in Optimizer::ALL {
        let mut opt = None;
        let count = allocations_after_first_batch::<f32>(10, |net, y, ws| {
            backprop_batch(net, y, ws);
            let opt = opt.get_or_insert_with(|| OptimizerState::new(kind, net));
            opt.step(net, ws.grad.as_ref().unwrap(), 0.1);
        });
        assert_eq!(count, 0, "{kind:?}");
    }
}

#[test]
fn repeated_products_do_not_allocate() {
    let _alone = serial();
    for kernel in supported_kernels() {
        for (m, k, n) in [
            (20, 784, 100),
            (100, 784, 20),
            (300, 300, 300),
            (20, 784, 1),
        ] {
            let a = vec![0.5f32; m * k];
            let b = vec![0.25f32; k * n];
            let mut c = vec![0.0f32; m * n];
            let (av, bv) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
            gemm_with_threads(kernel, 1, 1.0, av, bv, 0.0, &mut c);
            let before = allocations();
            for _ in 0..3 {
                gemm_with_threads(kernel, 1, 1.0, av, bv, 0.0, &mut c);
                gemm_with_threads(kernel, 1, 1.0, av, bv.t().t(), 1.0, &mut c);
            }
            assert_eq!(allocations(), before, "{kernel:?} {m}×{k}×{n} allocated");
        }
    }
}
