//! Matrix multiply, f32, from the textbook loop to the packed SIMD kernel on two threads:
//! squares 32…1024 and the network's own skinny shapes.
//!
//! Criterion's throughput is `Elements(2·m·n·k)`, so its "elem/s" is FLOP/s (one multiply
//! and one add per term of every sum). The first group, `peak`, measures the FMA ceiling in
//! the same run, so every figure can be read as a fraction of it.
//!
//! `SCRATCHNET_BENCH_CLOCK=thread cargo bench --bench matmul` times with the benchmarking
//! thread's CPU time instead of wall time (robust on a shared machine; one thread only).

use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use scratchnet::linalg::teaching::{matmul_blocked, matmul_ijk, matmul_ikj};
use scratchnet::linalg::{gemm_with_threads, Kernel, MatRef};
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

fn data(len: usize, seed: u32) -> Vec<f32> {
    (0..len as u32)
        .map(|x| ((x.wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 1000.0 - 0.5)
        .collect()
}

/// The packed kernels worth measuring here: portable always, then the best SIMD one.
fn packed() -> Vec<(&'static str, Kernel)> {
    let mut out = vec![("portable", Kernel::Portable)];
    if Kernel::best() != Kernel::Portable {
        out.push((Kernel::best().name(), Kernel::best()));
    }
    out
}

fn group<'a>(c: &'a mut Criterion<Clock>, name: &str) -> BenchmarkGroup<'a, Clock> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    g
}

/// Thread counts to run: 2 only under the wall clock (see `common/clock.rs`).
fn thread_counts() -> Vec<usize> {
    if Clock::from_env().is_wall() {
        vec![1, 2]
    } else {
        vec![1]
    }
}

fn squares(c: &mut Criterion<Clock>) {
    let mut g = group(c, "square");
    for s in [32, 64, 128, 256, 512, 1024] {
        let (a, b) = (data(s * s, 1), data(s * s, 2));
        let mut out = vec![0.0f32; s * s];
        g.throughput(Throughput::Elements(2 * (s * s * s) as u64));
        type Teaching = fn(&[f32], &[f32], &mut [f32], usize, usize, usize);
        let teaching: [(&str, Teaching, usize); 3] = [
            ("ijk", matmul_ijk, 256),
            ("ikj", matmul_ikj, 512),
            ("blocked", matmul_blocked, 1024),
        ];
        for (name, f, max) in teaching {
            if s <= max {
                g.bench_function(BenchmarkId::new(name, s), |bch| {
                    bch.iter(|| f(black_box(&a), black_box(&b), &mut out, s, s, s))
                });
            }
        }
        let (av, bv) = (MatRef::row_major(&a, s, s), MatRef::row_major(&b, s, s));
        for (name, kernel) in packed() {
            for &t in &thread_counts() {
                if t == 2 && kernel == Kernel::Portable {
                    continue;
                }
                g.bench_function(BenchmarkId::new(format!("{name}_{t}t"), s), |bch| {
                    bch.iter(|| {
                        gemm_with_threads(
                            kernel,
                            t,
                            1.0,
                            black_box(av),
                            black_box(bv),
                            0.0,
                            &mut out,
                        )
                    })
                });
            }
        }
    }
    g.finish();
}

/// The write-up network's products as training runs them, with the batch X stored one
/// image per ROW (`Workspace::input_rows`): forward Z = W·X (20×784 · 784×batch, X a
/// transposed view of the stored rows), weight gradient ∇W = Δ·Xᵀ (20×batch · batch×784,
/// Xᵀ = the stored rows, read as they are), and layer 2's backward Wᵀ·Δ (20×10 · 10×batch,
/// Wᵀ a view).
fn network(c: &mut Criterion<Clock>) {
    let mut g = group(c, "network");
    for batch in [1, 10, 100, 1000] {
        let w = data(20 * 784, 3);
        let x_rows = data(batch * 784, 4);
        let delta = data(20 * batch, 5);
        let w2 = data(10 * 20, 6);
        let delta2 = data(10 * batch, 7);
        let products = [
            (
                "forward_W.X",
                MatRef::row_major(&w, 20, 784),
                MatRef::row_major(&x_rows, batch, 784).t(),
            ),
            (
                "gradient_D.Xt",
                MatRef::row_major(&delta, 20, batch),
                MatRef::row_major(&x_rows, batch, 784),
            ),
            (
                "backward_Wt.D",
                MatRef::row_major(&w2, 10, 20).t(),
                MatRef::row_major(&delta2, 10, batch),
            ),
        ];
        for (shape, av, bv) in products {
            let (m, k, n) = (av.rows, av.cols, bv.cols);
            let mut out = vec![0.0f32; m * n];
            g.throughput(Throughput::Elements(2 * (m * n * k) as u64));
            let id = format!("{m}x{k}x{n}");
            g.bench_function(BenchmarkId::new(format!("{shape}/naive"), &id), |bch| {
                bch.iter(|| {
                    gemm_with_threads(
                        Kernel::Naive,
                        1,
                        1.0,
                        black_box(av),
                        black_box(bv),
                        0.0,
                        &mut out,
                    )
                })
            });
            for (name, kernel) in packed() {
                for &t in &thread_counts() {
                    if t == 2 && (kernel == Kernel::Portable || batch < 100) {
                        continue;
                    }
                    g.bench_function(
                        BenchmarkId::new(format!("{shape}/{name}_{t}t"), &id),
                        |bch| {
                            bch.iter(|| {
                                gemm_with_threads(
                                    kernel,
                                    t,
                                    1.0,
                                    black_box(av),
                                    black_box(bv),
                                    0.0,
                                    &mut out,
                                )
                            })
                        },
                    );
                }
            }
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(Clock::from_env());
    targets = peak_kernel::bench_peak, squares, network
}
criterion_main!(benches);
