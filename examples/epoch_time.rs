//! Times whole training epochs outside criterion: the median of `reps` epochs, both in the
//! calling thread's CPU time and in wall time, for the benches' networks and data
//! (`benches/common/synthetic.rs`).
//!
//! ```text
//! cargo run --release --example epoch_time -- writeup 1 7   # 50,000 images, batch 10
//! cargo run --release --example epoch_time -- large 2 5     # 5,000 images, batch 100
//! cargo run --release --example epoch_time -- evaluate 1 7  # write-up net, 50,000 images
//! ```
//!
//! Arguments: `writeup`, `large` or `evaluate` (one `train::evaluate` pass of the write-up's
//! network over 50,000 images, as `train` makes after every epoch), the thread count, the number of timed epochs (after one
//! untimed warm-up epoch). For `large` an "epoch" is 50 batches, a tenth of MNIST's.
//! On two threads the thread CPU time counts only the calling thread's share.

use scratchnet::backprop::Workspace;
use scratchnet::linalg::set_threads;
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use scratchnet::train::{evaluate, train_epoch, TrainConfig};
use std::time::Instant;

// Matrices start on a cache line: see `scratchnet::linalg::CacheAligned`.
#[global_allocator]
static ALLOCATOR: scratchnet::linalg::CacheAligned = scratchnet::linalg::CacheAligned;

#[path = "../benches/common/synthetic.rs"]
mod synthetic;

// The benches' clock, for its thread-CPU-time reader (the criterion side goes unused here).
#[path = "../benches/common/clock.rs"]
#[allow(dead_code)]
mod clock;

/// The calling thread's CPU time in seconds (Linux), or 0 elsewhere.
fn thread_cpu() -> f64 {
    if cfg!(target_os = "linux") {
        clock::thread_cpu_ns() * 1e-9
    } else {
        0.0
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: epoch_time writeup|large|evaluate THREADS REPS";
    let (which, threads, reps) = match args.as_slice() {
        [w, t, r] => (
            w.as_str(),
            t.parse().expect(usage),
            r.parse::<usize>().expect(usage),
        ),
        _ => panic!("{usage}"),
    };
    let ((sizes, batch), n) = match which {
        "writeup" | "evaluate" => (synthetic::WRITEUP, 50_000),
        "large" => (synthetic::LARGE, 5_000),
        _ => panic!("{usage}"),
    };
    let data = synthetic::synthetic(n, 7);
    let mut rng = Rng::new(1);
    let mut net: Network<f32> = Network::new(sizes, &mut rng);
    let mut ws = Workspace::new();
    let config = TrainConfig {
        batch_size: batch,
        ..TrainConfig::default()
    };
    set_threads(threads);
    let mut epoch = || match which {
        "evaluate" => drop(evaluate(&net, &data)),
        _ => train_epoch(&mut net, &data, &config, 1, &mut rng, &mut ws, &mut ()),
    };
    epoch();
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    for _ in 0..reps.max(1) {
        let (c0, w0) = (thread_cpu(), Instant::now());
        epoch();
        cpu.push(thread_cpu() - c0);
        wall.push(w0.elapsed().as_secs_f64());
    }
    println!(
        "{which} ({n} images, batch {batch}), {threads} thread(s): median of {} epochs: \
         thread CPU {:.1} ms, wall {:.1} ms",
        cpu.len(),
        median(cpu) * 1e3,
        median(wall) * 1e3
    );
}
