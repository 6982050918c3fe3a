//! Times single matrix products outside criterion, for quick before/after comparisons of a
//! kernel change: GFLOP/s and the fraction of this machine's FMA peak, per named shape.
//!
//! ```text
//! cargo run --release --example shape_probe                    # every shape
//! cargo run --release --example shape_probe -- rows_b10        # names containing rows_b10
//! cargo run --release --example shape_probe -- 'sgd_rows_b10$' # exactly that name
//! PROBE_STAT=best cargo run --release --example shape_probe -- square
//! ```
//!
//! Each figure is the median (or with `PROBE_STAT=best`, the fastest) of 15 timings of about
//! 20 ms of repeated products, in the calling thread's CPU time (Linux; `PROBE_CLOCK=wall`
//! for wall time). `PROBE_THREADS=2` runs the products on two threads, timed by the wall
//! clock (CPU time cannot see the second thread), and measures the peak as two threads running
//! the FMA loop at once: on a shared machine the second core is not always all ours, and the
//! share of *that* ceiling is the fair figure. On a shared machine the fastest of 15 is also
//! the steadier figure: other tenants only ever slow a run down. To compare two builds, build
//! this example at both and run the two binaries alternately, several times.
//!
//! The shapes (m×k×n, C ← αAB + βC):
//! * `squareN`: N×N×N, both operands row-major;
//! * the write-up's layer 1 as training runs it, the batch stored one image per row:
//!   `fwd_rows_bB` = W·X (20×784×B, X a transposed view), `grad_rows_bB` = Δ·Xᵀ
//!   (20×B×784, β = 0) and `sgd_rows_bB`, the same with β = 1 as the fused SGD step runs it;
//! * `tiny_*`: the write-up's layers 2 and 3 (reported in ns per product);
//! * `large_*`: 784-800-800-10's products at batch 100.

use scratchnet::linalg::{gemm_with_threads, Kernel, MatRef};
use std::hint::black_box;

#[path = "../benches/common/clock.rs"]
#[allow(dead_code)]
mod clock;
#[path = "../benches/common/peak_kernel.rs"]
#[allow(dead_code)]
mod peak_kernel;

/// Deterministic values in [−0.5, 0.5).
fn data(len: usize, seed: u32) -> Vec<f32> {
    (0..len as u32)
        .map(|x| ((x.wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 1000.0 - 0.5)
        .collect()
}

/// What the probe was asked for by its environment and argument.
struct Probe {
    filter: String,
    threads: usize,
    wall: bool,
    best: bool,
}

impl Probe {
    fn from_env() -> Probe {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        Probe {
            filter: std::env::args().nth(1).unwrap_or_default(),
            threads: var("PROBE_THREADS").parse().unwrap_or(1).max(1),
            wall: var("PROBE_CLOCK") == "wall" || var("PROBE_THREADS").parse().unwrap_or(1) > 1,
            best: var("PROBE_STAT") == "best",
        }
    }

    /// Whether `name` is asked for: it contains the filter, or equals it when the filter
    /// ends in `$`.
    fn wants(&self, name: &str) -> bool {
        match self.filter.strip_suffix('$') {
            Some(exact) => name == exact,
            None => name.contains(&self.filter),
        }
    }

    /// Nanoseconds on the chosen clock.
    fn now(&self) -> f64 {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        if self.wall {
            START
                .get_or_init(std::time::Instant::now)
                .elapsed()
                .as_nanos() as f64
        } else {
            clock::thread_cpu_ns()
        }
    }

    /// Nanoseconds per call of `f`: 15 timings of about 20 ms each, median or fastest.
    fn time(&self, mut f: impl FnMut()) -> f64 {
        f();
        let (start, mut reps) = (self.now(), 0usize);
        while self.now() - start < 2e7 {
            f();
            reps += 1;
        }
        let mut per_call: Vec<f64> = (0..15)
            .map(|_| {
                let t = self.now();
                (0..reps).for_each(|_| f());
                (self.now() - t) / reps as f64
            })
            .collect();
        per_call.sort_by(f64::total_cmp);
        if self.best {
            per_call[0]
        } else {
            per_call[per_call.len() / 2]
        }
    }

    /// Times C ← αAB + βC and returns GFLOP/s.
    fn gflops(&self, a: MatRef<f32>, b: MatRef<f32>, beta: f32) -> f64 {
        let mut c = vec![0.0f32; a.rows * b.cols];
        let alpha = if beta == 0.0 { 1.0 } else { -0.3 };
        let ns = self.time(|| {
            let (a, b) = (black_box(a), black_box(b));
            gemm_with_threads(Kernel::best(), self.threads, alpha, a, b, beta, &mut c)
        });
        2.0 * (a.rows * a.cols * b.cols) as f64 / ns
    }
}

/// The FMA ceiling in GFLOP/s (the benches' loop, on as many threads at once as the probe
/// uses), where the CPU has AVX2 + FMA.
fn peak(probe: &Probe) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // Ten calls per thread (about 2 ms) make the cost of starting a thread negligible.
        let calls = 10 * probe.threads;
        let flops = (2 * 8 * peak_kernel::CHAINS * peak_kernel::STEPS * calls) as f64;
        let call = || {
            for _ in 0..10 {
                // SAFETY: the CPU has AVX2 and FMA (checked just above).
                black_box(unsafe { peak_kernel::fma_chains(black_box(0.9), black_box(0.1)) });
            }
        };
        let all_at_once = || {
            std::thread::scope(|s| {
                (1..probe.threads).for_each(|_| drop(s.spawn(call)));
                call();
            })
        };
        return Some(flops / probe.time(all_at_once));
    }
    None
}

fn main() {
    let probe = Probe::from_env();
    let peak = peak(&probe);
    let kernel = Kernel::best().name();
    match peak {
        Some(p) => println!(
            "kernel {kernel}, {} thread(s), peak on as many threads {p:.1} GFLOP/s",
            probe.threads
        ),
        None => println!("kernel {kernel}, {} thread(s), peak unknown", probe.threads),
    }
    let report = |name: &str, a: MatRef<f32>, b: MatRef<f32>, beta: f32| {
        if probe.wants(name) {
            let g = probe.gflops(a, b, beta);
            let (m, k, n) = (a.rows, a.cols, b.cols);
            let share = peak.map_or(String::new(), |p| format!("{:5.1}%", 100.0 * g / p));
            println!("{name:20} {m}x{k}x{n}: {g:6.1} GFLOP/s {share}");
        }
    };

    for s in [256, 512, 1024] {
        let (a, b) = (data(s * s, 1), data(s * s, 2));
        let (a, b) = (MatRef::row_major(&a, s, s), MatRef::row_major(&b, s, s));
        report(&format!("square{s}"), a, b, 0.0);
    }

    let w = data(20 * 784, 3);
    for batch in [1, 10, 100, 1000] {
        let (x, d) = (data(batch * 784, 4), data(20 * batch, 5));
        let (w, x) = (
            MatRef::row_major(&w, 20, 784),
            MatRef::row_major(&x, batch, 784),
        );
        let d = MatRef::row_major(&d, 20, batch);
        report(&format!("fwd_rows_b{batch}"), w, x.t(), 0.0);
        report(&format!("grad_rows_b{batch}"), d, x, 0.0);
        report(&format!("sgd_rows_b{batch}"), d, x, 1.0);
    }

    let (w, x) = (data(20 * 10, 6), data(20 * 10, 7));
    let tiny = [
        (
            "tiny_fwd2",
            MatRef::row_major(&w, 10, 20),
            MatRef::row_major(&x, 20, 10),
        ),
        (
            "tiny_fwd3",
            MatRef::row_major(&w[..100], 10, 10),
            MatRef::row_major(&x[..100], 10, 10),
        ),
        (
            "tiny_grad2",
            MatRef::row_major(&w[..100], 10, 10),
            MatRef::row_major(&x, 20, 10).t(),
        ),
        (
            "tiny_back2",
            MatRef::row_major(&w, 10, 20).t(),
            MatRef::row_major(&x[..100], 10, 10),
        ),
        (
            "tiny_back3",
            MatRef::row_major(&w[..100], 10, 10).t(),
            MatRef::row_major(&x[..100], 10, 10),
        ),
    ];
    for (name, a, b) in tiny {
        if probe.wants(name) {
            let mut c = vec![0.0f32; a.rows * b.cols];
            let ns = probe.time(|| {
                let (a, b) = (black_box(a), black_box(b));
                gemm_with_threads(Kernel::best(), 1, 1.0, a, b, 0.0, &mut c)
            });
            println!("{name:20} {}x{}x{}: {ns:.0} ns", a.rows, a.cols, b.cols);
        }
    }

    let (w, x, d) = (data(800 * 800, 8), data(100 * 800, 9), data(800 * 100, 10));
    let w1 = MatRef::row_major(&w[..800 * 784], 800, 784);
    let w2 = MatRef::row_major(&w, 800, 800);
    let x1 = MatRef::row_major(&x[..100 * 784], 100, 784);
    let a1 = MatRef::row_major(&x, 800, 100);
    let d = MatRef::row_major(&d, 800, 100);
    report("large_forward1", w1, x1.t(), 0.0);
    report("large_forward2", w2, a1, 0.0);
    report("large_backward2", w2.t(), d, 0.0);
    report("large_step2", d, a1.t(), 1.0);
    report("large_step1", d, x1, 1.0);
}
