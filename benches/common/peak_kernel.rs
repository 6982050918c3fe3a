//! The FMA-ceiling loop shared by `benches/peak.rs` and `benches/matmul.rs`, so every
//! matmul run also measures the peak it is a fraction of.

/// FMAs per chain in one call.
pub const STEPS: usize = 100_000;
/// Independent accumulators: FMA latency (4 cycles) × throughput (2 per cycle) = 8 in
/// flight at minimum; 12 leaves margin.
pub const CHAINS: usize = 12;

// ANCHOR: peak
/// `CHAINS` independent accumulators x ← x·m + a, 8 lanes each: 2·8·CHAINS·STEPS flops.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn fma_chains(m: f32, a: f32) -> f32 {
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

/// [`fma_chains`] with 512-bit vectors, 16 lanes each: 2·16·CHAINS·STEPS flops. A core with
/// two 512-bit FMA units (many of Intel's Xeons) runs it at twice the 256-bit rate; one with a
/// single unit, or that splits each 512-bit FMA in two (Zen 4), at the same rate.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub unsafe fn fma_chains_512(m: f32, a: f32) -> f32 {
    use std::arch::x86_64::*;
    let (m, a) = (_mm512_set1_ps(m), _mm512_set1_ps(a));
    let mut acc = [_mm512_setzero_ps(); CHAINS];
    for _ in 0..STEPS {
        for x in acc.iter_mut() {
            *x = _mm512_fmadd_ps(*x, m, a);
        }
    }
    let mut sum = _mm512_setzero_ps();
    for x in acc {
        sum = _mm512_add_ps(sum, x);
    }
    _mm512_reduce_add_ps(sum)
}

/// Adds the "peak" benchmarks (f32 FMAs, one thread) to `c`: 256-bit if the CPU has AVX2 and
/// FMA, and 512-bit as well if it has AVX-512F.
pub fn bench_peak<M: criterion::measurement::Measurement>(c: &mut criterion::Criterion<M>) {
    use criterion::{black_box, Throughput};
    use std::time::Duration;
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
        if is_x86_feature_detected!("avx512f") {
            g.throughput(Throughput::Elements((2 * 16 * CHAINS * STEPS) as u64));
            g.bench_function("fma_avx512_f32_1thread", |bch| {
                // SAFETY: AVX-512F was detected just above.
                bch.iter(|| unsafe { fma_chains_512(black_box(0.999), black_box(0.001)) })
            });
        }
        g.finish();
    }
}
