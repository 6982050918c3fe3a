//! Training speed: images per second through whole epochs of mini-batch SGD, on synthetic
//! data the size of MNIST's training set (`common/synthetic.rs`; no download needed).
//!
//! * `writeup`: the write-up's 784-20-10-10 network (sigmoid, quadratic cost), batch 10, one
//!   whole 50,000-image epoch per iteration, one thread.
//! * `large`: 784-800-800-10, same choices (sigmoid everywhere, quadratic cost, N(0, 1)
//!   weights), batch 100, on 1 and 2 threads. A whole epoch takes seconds, so each iteration
//!   trains one epoch over 5,000 images (50 batches); the epoch time quoted in the book is
//!   that time × 10, an extrapolation.
//!
//! `SCRATCHNET_BENCH_CLOCK=thread cargo bench --bench epoch` times with the benchmarking
//! thread's CPU time (robust on a shared machine); the 2-thread case is then skipped, since
//! that clock cannot see the second thread. `examples/epoch_time.rs` times the same epochs
//! outside criterion.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scratchnet::backprop::Workspace;
use scratchnet::data::samples::Samples;
use scratchnet::linalg::set_threads;
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use scratchnet::train::{train_epoch, TrainConfig};
use std::time::Duration;

// Matrices start on a cache line: see `scratchnet::linalg::CacheAligned`.
#[global_allocator]
static ALLOCATOR: scratchnet::linalg::CacheAligned = scratchnet::linalg::CacheAligned;

#[path = "common/clock.rs"]
mod clock;
#[path = "common/synthetic.rs"]
mod synthetic;

use clock::Clock;
use synthetic::{synthetic, LARGE, WRITEUP};

/// Benchmarks one `train_epoch` over `data` for `(sizes, batch)` on `threads` threads,
/// sampling for about `seconds`.
fn bench_epoch(
    c: &mut Criterion<Clock>,
    name: &str,
    (sizes, batch): (&[usize], usize),
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
    let cfg = TrainConfig {
        batch_size: batch,
        ..TrainConfig::default()
    };
    set_threads(threads);
    g.bench_function(format!("{name}/threads={threads}"), |b| {
        b.iter(|| train_epoch(&mut net, data, &cfg, 1, &mut rng, &mut ws, &mut ()))
    });
    set_threads(1);
    g.finish();
}

fn epochs(c: &mut Criterion<Clock>) {
    let full = synthetic(50_000, 7);
    let name = "writeup-784-20-10-10-batch10";
    bench_epoch(c, name, WRITEUP, &full, 1, 3.0);
    drop(full);
    let part = synthetic(5_000, 8);
    let threads: &[usize] = if Clock::from_env().is_wall() {
        &[1, 2]
    } else {
        &[1]
    };
    for &t in threads {
        let name = "large-784-800-800-10-batch100-50batches";
        bench_epoch(c, name, LARGE, &part, t, 7.0);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(Clock::from_env());
    targets = epochs
}
criterion_main!(benches);
