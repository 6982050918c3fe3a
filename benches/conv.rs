//! Convolution, f32: the two convolutional layers of Nielsen's chapter-6 network
//! `784,conv5x5x20,pool2,conv5x5x40,pool2,100,10` (`nielsen-ch6`), forward and backward, at
//! batch 10 and 100, through the batched passes training uses (`conv_forward_batch`,
//! `conv_backward_batch`: im2col, the products, and what surrounds them).
//!
//! * `layer1`: 1 map 28×28 → 20 maps 24×24, 5×5 kernels;
//! * `layer2`: 20 maps 12×12 → 40 maps 8×8, 5×5 kernels.
//!
//! Criterion's throughput is `Elements(flops)`, so its "elem/s" is FLOP/s; the FLOPs are
//! those of the products only, 2·c_out·c_in·k·k·oh·ow per image per product: one product
//! forward (Z = K·cols), two backward (∂C/∂K = Δ·colsᵀ and Kᵀ·Δ), except for layer 1's
//! backward, which sends nothing back (the network's first layer has no error to pass on)
//! and so has one. The rest (im2col, bias and ReLU, col2im) is timed but not counted. The
//! first group, `peak`, measures the one-thread FMA ceiling in the same run, so every figure
//! reads as a fraction of it.
//!
//! `SCRATCHNET_BENCH_CLOCK=thread cargo bench --bench conv` times with the benchmarking
//! thread's CPU time (robust on a shared machine; one thread only); under the default wall
//! clock the batch-100 cases also run on two threads.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use scratchnet::activation::Activation;
use scratchnet::conv::{conv_backward_batch, conv_forward_batch, ConvShape, MapShape};
use scratchnet::linalg::{set_threads, Matrix, Vector};
use std::hint::black_box;
use std::time::Duration;

// Matrices start on a cache line: see `scratchnet::linalg::CacheAligned`.
#[global_allocator]
static ALLOCATOR: scratchnet::linalg::CacheAligned = scratchnet::linalg::CacheAligned;

#[path = "common/clock.rs"]
mod clock;
#[path = "common/peak_kernel.rs"]
mod peak_kernel;

use clock::Clock;

/// `rows × cols` of seeded values in [−0.5, 0.5).
fn data(rows: usize, cols: usize, seed: u32) -> Matrix<f32> {
    Matrix::from_fn(rows, cols, |i, j| {
        let x = (i * cols + j) as u32;
        ((x.wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 1000.0 - 0.5
    })
}

/// The two layers: name, shape, and whether the backward pass sends an error back.
fn layers() -> [(&'static str, ConvShape, bool); 2] {
    let layer1 = ConvShape {
        input: MapShape::new(1, 28, 28),
        k: 5,
        maps: 20,
    };
    let layer2 = ConvShape {
        input: MapShape::new(20, 12, 12),
        k: 5,
        maps: 40,
    };
    [("layer1", layer1, false), ("layer2", layer2, true)]
}

/// FLOPs of one product of the layer over `batch` images: 2·c_out·c_in·k·k·oh·ow·batch.
fn product_flops(shape: ConvShape, batch: usize) -> u64 {
    let out = shape.output();
    (2 * shape.maps * shape.kernel_len() * out.rows * out.cols * batch) as u64
}

fn conv(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("conv");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    let threads: &[usize] = if Clock::from_env().is_wall() {
        &[1, 2]
    } else {
        &[1]
    };
    for (name, shape, sends_back) in layers() {
        for batch in [10, 100] {
            let a = data(shape.input.len(), batch, 1);
            let kernels = data(shape.maps, shape.kernel_len(), 2);
            let b = Vector::from_vec(vec![0.1f32; shape.maps]);
            let delta = data(shape.output().len(), batch, 3);
            let (mut cols, mut out) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
            let mut nabla_k = Matrix::zeros(shape.maps, shape.kernel_len());
            let mut nabla_b = Vector::zeros(shape.maps);
            let mut delta_in = Matrix::zeros(0, 0);
            let flops = product_flops(shape, batch);
            for &t in threads.iter().filter(|&&t| t == 1 || batch == 100) {
                set_threads(t);
                let id = format!("batch{batch}_{t}t");
                g.throughput(Throughput::Elements(flops));
                g.bench_function(BenchmarkId::new(format!("{name}/forward"), &id), |bch| {
                    bch.iter(|| {
                        conv_forward_batch(
                            shape,
                            black_box(&a),
                            &kernels,
                            &b,
                            Activation::Relu,
                            &mut cols,
                            &mut out,
                        )
                    })
                });
                let products = if sends_back { 2 } else { 1 };
                g.throughput(Throughput::Elements(products * flops));
                g.bench_function(BenchmarkId::new(format!("{name}/backward"), &id), |bch| {
                    bch.iter(|| {
                        // The backward pass overwrites the patches with Kᵀ·Δ: put them back
                        // (a copy of cols.len() values, small beside the products).
                        if sends_back {
                            scratchnet::linalg::im2col::im2col(&a, shape.input, shape.k, &mut cols);
                        }
                        conv_backward_batch(
                            shape,
                            &kernels,
                            black_box(&delta),
                            &mut cols,
                            &mut nabla_k,
                            &mut nabla_b,
                            sends_back.then_some(&mut delta_in),
                        )
                    })
                });
            }
            set_threads(1);
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(Clock::from_env());
    targets = peak_kernel::bench_peak, conv
}
criterion_main!(benches);
