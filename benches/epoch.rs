//! Training speed: images per second through whole epochs of mini-batch SGD, on synthetic
//! data the size of MNIST's training set (no download needed).
//!
//! * `writeup`: the write-up's 784-20-10-10 network (sigmoid, quadratic cost), batch 10, one
//!   whole 50,000-image epoch per iteration, one thread.
//! * `large`: 784-800-800-10, same choices (sigmoid everywhere, quadratic cost, N(0, 1)
//!   weights), batch 100, on 1 and 2 threads. A whole epoch takes seconds, so each iteration
//!   trains the first 50 batches (5,000 images) of an epoch; the epoch time quoted in the
//!   book is that time × 10, an extrapolation.
//!
//! Images are uniform random pixels in [0, 1] with random labels, seeded: the arithmetic is
//! the same as on MNIST (the work does not depend on the values), only what is learned differs.
//!
//! `SCRATCHNET_BENCH_CLOCK=thread cargo bench --bench epoch` times with the benchmarking
//! thread's CPU time (robust on a shared machine); the 2-thread case then is skipped, since
//! that clock cannot see the second thread.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scratchnet::backprop::Workspace;
use scratchnet::linalg::{set_threads, Matrix};
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use scratchnet::train::{train_epoch, Samples, TrainConfig};
use std::time::Duration;

#[path = "common/clock.rs"]
mod clock;

use clock::Clock;

/// `n` seeded random 784-pixel images in [0, 1] with random labels 0–9.
fn synthetic(n: usize, seed: u64) -> Samples<f32> {
    let mut rng = Rng::new(seed);
    let inputs = Matrix::from_fn(n, 784, |_, _| rng.uniform() as f32);
    let labels = (0..n).map(|_| rng.below(10) as u8).collect();
    Samples::new(inputs, labels)
}

fn config(batch_size: usize) -> TrainConfig {
    TrainConfig {
        batch_size,
        ..TrainConfig::default()
    }
}

/// Benchmarks one `train_epoch` over `data` for the network `sizes` on `threads` threads.
fn bench_epoch(
    c: &mut Criterion<Clock>,
    name: &str,
    sizes: &[usize],
    batch: usize,
    data: &Samples<f32>,
    threads: usize,
    seconds: f64,
) {
    let mut g = c.benchmark_group("epoch");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs_f64(seconds))
        .throughput(Throughput::Elements(data.len() as u64));
    let mut rng = Rng::new(1);
    let mut net: Network<f32> = Network::new(sizes, &mut rng);
    let mut ws = Workspace::new();
    let cfg = config(batch);
    set_threads(threads);
    g.bench_function(format!("{name}/threads={threads}"), |b| {
        b.iter(|| train_epoch(&mut net, data, &cfg, 1, &mut rng, &mut ws, &mut ()))
    });
    set_threads(1);
    g.finish();
}

fn epochs(c: &mut Criterion<Clock>) {
    let full = synthetic(50_000, 7);
    bench_epoch(
        c,
        "writeup-784-20-10-10-batch10",
        &[784, 20, 10, 10],
        10,
        &full,
        1,
        3.0,
    );
    drop(full);
    // 50 batches of 100: one tenth of an epoch.
    let part = synthetic(5_000, 8);
    let large = [784, 800, 800, 10];
    let threads: &[usize] = if Clock::from_env().is_wall() {
        &[1, 2]
    } else {
        &[1]
    };
    for &t in threads {
        bench_epoch(
            c,
            "large-784-800-800-10-batch100-50batches",
            &large,
            100,
            &part,
            t,
            7.0,
        );
    }
}

fn clock() -> Criterion<Clock> {
    Criterion::default().with_measurement(Clock::from_env())
}

criterion_group! {
    name = benches;
    config = clock();
    targets = epochs
}
criterion_main!(benches);
