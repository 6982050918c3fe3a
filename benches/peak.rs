//! The machine's single-core f32 FMA ceiling: independent chains of AVX2 fused
//! multiply-adds with nothing else in the loop (and of AVX-512 ones, where the CPU has them). Every matmul figure in the book reads as a fraction of this.
//!
//! Criterion reports "elements/s"; each element is one floating-point operation, so
//! Gelem/s = GFLOP/s (an FMA counts as 2: multiply and add).

use criterion::{criterion_group, criterion_main};

#[path = "common/peak_kernel.rs"]
mod peak_kernel;

criterion_group!(benches, peak_kernel::bench_peak);
criterion_main!(benches);
