//! The machine's single-core f32 FMA ceiling: independent chains of AVX2 fused multiply-adds
//! with nothing else in the loop. Every matmul figure in the book reads as a fraction of this.
//!
//! Criterion reports "elements/s"; each element is one floating-point operation, so
//! Gelem/s = GFLOP/s (an FMA counts as 2: multiply and add).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

/// FMAs per chain in one call.
const STEPS: usize = 100_000;
/// Independent accumulators: FMA latency (4 cycles) × throughput (2 per cycle) = 8 in
/// flight at minimum; 12 leaves margin.
const CHAINS: usize = 12;

// ANCHOR: peak
/// `CHAINS` independent accumulators x ← x·m + a, 8 lanes each: 2·8·CHAINS·STEPS flops.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_chains(m: f32, a: f32) -> f32 {
    use std::arch::x86_64::*;
    let (m, a) = (_mm256_set1_ps(m), _mm256_set1_ps(a));
    let mut acc = [_mm256_setzero_ps(); CHAINS];
    for _ in 0..STEPS {
        for x in acc.iter_mut() {
            *x = _mm256_fmadd_ps(*x, m, a);
        }
    }
    let mut sum = _mm256_setzero_ps();
    for x in acc {
        sum = _mm256_add_ps(sum, x);
    }
    _mm256_cvtss_f32(sum)
}
// ANCHOR_END: peak

fn peak(c: &mut Criterion) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        let mut g = c.benchmark_group("peak");
        g.sample_size(20).warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(2));
        g.throughput(Throughput::Elements((2 * 8 * CHAINS * STEPS) as u64));
        g.bench_function("fma_avx2_f32_1thread", |bch| {
            // SAFETY: AVX2 and FMA were detected above.
            bch.iter(|| unsafe { fma_chains(black_box(0.999), black_box(0.001)) })
        });
        g.finish();
    }
}

criterion_group!(benches, peak);
criterion_main!(benches);
