//! Element-wise loops made fast without changing a value: one loop compiled three times (for
//! AVX-512, for AVX2 and for any CPU, chosen at run time), a layer's bias and activation split
//! by whole rows across threads, the hint that asks the CPU to fetch memory before it is read,
//! and the one that asks Linux for large pages.
//!
//! Book chapter: "Making it fast". The teaching code reaches these through calls that read
//! like its maths ([`crate::activation::Activation::apply_in_place`],
//! [`crate::activation::Activation::add_bias_and_apply`], [`crate::data::samples::Samples`]).
//! Every function here does to each value exactly what a plain loop would, so the values are
//! the same bits whichever way it runs; the tests run every compilation and compare them.
//! Left out: loops whose result depends on the order of the values (sums), which could not
//! be split or vectorised without changing bits.

use super::{
    for_each_block_of, for_each_row_block, for_each_row_block_of, shape_mismatch, MatRef, Matrix,
    Scalar, Vector,
};

/// x ← f(x) for every value of `x`, in place.
///
/// Compiled for AVX-512 or AVX2 when the CPU has it, and for any CPU otherwise; all do the
/// same IEEE operations on every value (Rust never fuses a multiply and an add on its own),
/// so the values are the same. An arithmetic-only `f` (such as σ with
/// [`exp_f32`](super::exp_f32)) runs sixteen f32 values per instruction with AVX-512, eight
/// with AVX2, four without.
pub fn map_in_place<T: Copy, F: Fn(T) -> T>(x: &mut [T], f: F) {
    compiled_for_this_cpu(|| map_each(x, &f))
}

/// `out[i] = f(src[i])` for every i, compiled as [`map_in_place`] is.
///
/// # Panics
/// If `src` and `out` differ in length.
#[track_caller]
pub fn map_into<S: Copy, T, F: Fn(S) -> T>(src: &[S], out: &mut [T], f: F) {
    if src.len() != out.len() {
        shape_mismatch("map_into", (src.len(), 1), (out.len(), 1));
    }
    compiled_for_this_cpu(|| map_each_into(src, out, &f))
}

// ANCHOR: bias_then_f
/// Z ← f(Z + B·1ᵀ): adds `b[i]` to every value of row i of `z`, then applies `f` to every
/// value. The forward pass's bias and activation: with the product Wˡ·Aˡ⁻¹ in `z`, this
/// leaves Aˡ = σ(Wˡ·Aˡ⁻¹ + Bˡ), one column per image.
///
/// `z`: (n, batch); `b`: (n).
///
/// Blocks of whole rows run on up to [`threads`](super::threads) threads when `z` is large
/// ([`PARALLEL_MIN_ELEMENTS`](super::PARALLEL_MIN_ELEMENTS)). Within a block the bias and `f`
/// are two passes: `f` over the whole block vectorises, while a row (a batch of 10 images) is
/// too short for vector instructions.
///
/// # Panics
/// If `b`'s length is not `z`'s number of rows.
#[track_caller]
pub fn add_to_columns_then_map<T: Scalar, F: Fn(T) -> T + Sync>(
    z: &mut Matrix<T>,
    b: &Vector<T>,
    f: F,
) {
    if b.len() != z.rows() {
        shape_mismatch("Z + B", z.shape(), (b.len(), 1));
    }
    let (b, batch) = (b.as_slice(), z.cols());
    for_each_row_block(z.as_mut_slice(), batch, &|first, rows| {
        for (row, &bi) in rows.chunks_mut(batch).zip(&b[first..]) {
            row.iter_mut().for_each(|z| *z += bi);
        }
        map_in_place(rows, &f);
    });
}
// ANCHOR_END: bias_then_f

/// `x[i] = f(x[i], y[i])` for every i: the backward pass's Δ ⊙ σ′(Zˡ) of Eq 2 (σ′ read from
/// Aˡ; `x` and `y` both (n_l, batch), row by row) and Δ ⊙ mask. Compiled as [`map_in_place`]
/// is, and split into blocks across threads as [`add_to_columns_then_map`] is, so a layer's
/// element-wise work runs on as many threads as its products.
///
/// # Panics
/// If `x` and `y` differ in length.
#[track_caller]
pub fn zip_map_in_place<T: Scalar, F: Fn(T, T) -> T + Sync>(x: &mut [T], y: &[T], f: F) {
    if x.len() != y.len() {
        shape_mismatch("zip_map_in_place", (x.len(), 1), (y.len(), 1));
    }
    zip_blocks([x], y, |[x], y| zip_each(x, y, &f));
}

/// `f` on matching blocks of the `N` equally long slices `parts` (changed) and `shared`
/// (read), position by position: an optimizer's step, θ with its moments and gradient g
/// (`parts = [θ, m, s]`, `shared = g` for Adam). Compiled as [`map_in_place`] is, and split
/// into blocks across threads for a large layer, as the products are: `f` must do the same to
/// each position whatever block it is in.
///
/// # Panics
/// If the slices differ in length.
#[track_caller]
pub fn zip_blocks<T: Scalar, const N: usize, F>(parts: [&mut [T]; N], shared: &[T], f: F)
where
    F: Fn([&mut [T]; N], &[T]) + Sync,
{
    for_each_block_of(parts, shared, &|parts, shared| {
        compiled_for_this_cpu(|| f(parts, shared))
    });
}

// ANCHOR: row_sums
/// For every row i of `m`: `f(&mut out[i], s_i)` with s_i = Σ_k m_ik, summed from 0 left to
/// right as a plain loop would (so the same bits): Eq 6's bias gradient is (1/n) times a row
/// sum of Δ, and Eq 11's a row sum of a convolution's Δ. `m` is dense and row-major (a
/// [`Matrix`]'s `view()`, or the same values seen with other dimensions).
///
/// A sum is a chain of dependent additions, each waiting for the one before (about 3 cycles
/// apiece). So rows are summed eight at a time, each keeping its own order, and eight chains
/// advance together; and blocks of rows run on up to [`threads`](super::threads) threads when
/// `m` is large, as a product's rows do.
///
/// # Panics
/// If `out`'s length is not `m`'s number of rows, or `m` is not dense and row-major.
#[track_caller]
pub fn for_each_row_sum<T: Scalar, F>(m: MatRef<'_, T>, out: &mut [T], f: F)
where
    F: Fn(&mut T, T) + Sync,
{
    let (rows, cols) = (m.rows, m.cols);
    if out.len() != rows {
        shape_mismatch("row sums", (rows, cols), (out.len(), 1));
    }
    if cols == 0 {
        return out.iter_mut().for_each(|o| f(o, T::ZERO));
    }
    assert!(
        (cols == 1 || m.col_stride == 1) && (rows <= 1 || m.row_stride == cols),
        "row sums: a {rows}×{cols} view with strides ({}, {}) is not dense and row-major",
        m.row_stride,
        m.col_stride
    );
    let values = &m.data[..rows * cols];
    for_each_row_block_of(out, 1, values.len(), &|first, outs| {
        let blocks = values[first * cols..][..outs.len() * cols].chunks(8 * cols);
        for (outs, block) in outs.chunks_mut(8).zip(blocks) {
            let mut sums = [T::ZERO; 8];
            for k in 0..cols {
                for (s, row) in sums.iter_mut().zip(block.chunks_exact(cols)) {
                    *s += row[k];
                }
            }
            outs.iter_mut().zip(sums).for_each(|(o, s)| f(o, s));
        }
    });
}
// ANCHOR_END: row_sums

// ANCHOR: prefetch
/// Asks the CPU to start fetching every cache line of `data` into its L2 cache, and returns
/// at once: a hint, which changes no value. (Does nothing on CPUs other than x86-64.) L2, not
/// L1 (`prefetcht1`, not `prefetcht0`): data asked for well before it is used waits there
/// without pushing out of the small L1 what the work in between is using.
pub fn prefetch<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
        let (start, len) = (data.as_ptr().cast::<i8>(), size_of_val(data));
        // Every 64-byte line the slice touches, the last one included.
        for offset in (0..len).step_by(64).chain(len.checked_sub(1)) {
            // SAFETY: `offset < len`, so the address is inside `data`; a prefetch never faults
            // and changes no value, and it needs only SSE, which every x86-64 CPU has.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(start.add(offset)) }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}
// ANCHOR_END: prefetch

// ANCHOR: large_pages
/// The whole 2 MiB pages inside the `len` bytes from `address`: the bytes to skip to the
/// first 2 MiB boundary, and how many bytes of whole pages follow it (as many as fit), or
/// `None` when not one fits.
#[cfg_attr(
    not(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )),
    allow(dead_code)
)]
fn whole_large_pages(address: usize, len: usize) -> Option<(usize, usize)> {
    const LARGE_PAGE: usize = 2 << 20;
    let skip = (LARGE_PAGE - address % LARGE_PAGE) % LARGE_PAGE;
    let whole = len.checked_sub(skip)? / LARGE_PAGE * LARGE_PAGE;
    (whole > 0).then_some((skip, whole))
}

/// Asks the operating system to back the whole 2 MiB pages inside `buffer` with 2 MiB
/// pages instead of 4 KiB ones, and returns at once: a hint, which changes no value.
/// Call it before the buffer is first written, since the pages are chosen when they are
/// first touched. (Linux's transparent huge pages on x86-64 and AArch64; elsewhere, or if
/// the system declines, nothing happens.)
///
/// Why: training reads the images in shuffled order, so nearly every image lies on a page
/// the CPU has not translated lately. With 4 KiB pages MNIST's 39 MB is 9,600 pages, far
/// more than the CPU's table of recent translations holds, and each image then waits for a
/// walk through the page tables (slow in a virtual machine, whose tables are two deep)
/// before its prefetch can even start. In 2 MiB pages the same bytes are 20 pages.
pub fn advise_large_pages<T>(buffer: &mut [std::mem::MaybeUninit<T>]) {
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    {
        let start = buffer.as_mut_ptr().cast::<u8>();
        if let Some((skip, whole)) = whole_large_pages(start.addr(), size_of_val(buffer)) {
            // The C library's madvise(2), which the standard library links on Linux.
            extern "C" {
                fn madvise(addr: *mut u8, len: usize, advice: i32) -> i32;
            }
            const MADV_HUGEPAGE: i32 = 14;
            // SAFETY: [start + skip, start + skip + whole) lies inside `buffer`, which we
            // hold mutably, and starts on a page boundary; MADV_HUGEPAGE only changes how
            // the kernel backs those pages, never their contents. A refusal (−1) is
            // ignored: the hint is optional.
            let _ = unsafe { madvise(start.add(skip), whole, MADV_HUGEPAGE) };
        }
    }
    // Elsewhere there is nothing to ask for.
    #[cfg(not(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )))]
    let _ = buffer;
}
// ANCHOR_END: large_pages

/// The loop of [`map_in_place`], inlined into each compilation of it.
#[inline(always)]
fn map_each<T: Copy, F: Fn(T) -> T>(x: &mut [T], f: &F) {
    x.iter_mut().for_each(|v| *v = f(*v));
}

/// The loop of [`zip_map_in_place`], inlined into each compilation of it.
#[inline(always)]
fn zip_each<T: Copy, F: Fn(T, T) -> T>(x: &mut [T], y: &[T], f: &F) {
    for (a, &b) in x.iter_mut().zip(y) {
        *a = f(*a, b);
    }
}

/// The loop of [`map_into`], inlined into each compilation of it.
#[inline(always)]
fn map_each_into<S: Copy, T, F: Fn(S) -> T>(src: &[S], out: &mut [T], f: &F) {
    for (o, &s) in out.iter_mut().zip(src) {
        *o = f(s);
    }
}

// ANCHOR: compiled_per_cpu
/// Runs `body` compiled for AVX-512 (with AVX2) or for AVX2 when this CPU has them, else as
/// compiled for any CPU. Each does the same IEEE operations on every value, so which one ran
/// changes no bit; AVX-512's registers hold 16 f32 values, AVX2's 8.
#[inline(always)]
fn compiled_for_this_cpu<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx2") {
        // SAFETY: this CPU has AVX-512F and AVX2 (checked just above).
        return unsafe { with_avx512(body) };
    }
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: this CPU has AVX2 (checked just above).
        return unsafe { with_avx2(body) };
    }
    body()
}

/// `body()`, with the compiler free to use AVX-512F (and AVX2) in it (it is inlined here).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2")]
fn with_avx512<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// `body()`, with the compiler free to use AVX2 in it (it is inlined here).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn with_avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}
// ANCHOR_END: compiled_per_cpu

#[cfg(test)]
mod tests {
    use super::*;

    /// Values that test the edges of `exp`: zeros, tiny, where e⁻ᶻ overflows or underflows
    /// in f32, infinities and NaN, and a sweep across the middle.
    fn values() -> Vec<f64> {
        let specials = [0.0, -0.0, 1e-30, 87.0, 88.5, -88.0, 1e4, -1e4];
        (-2000..2000)
            .map(|i| i as f64 * 0.0537)
            .chain(specials)
            .chain([f64::INFINITY, f64::NEG_INFINITY, f64::NAN])
            .collect()
    }

    /// `body` (an expression giving the bits of a result) evaluated as compiled for any CPU
    /// and under each compilation this CPU can run (AVX2, AVX-512), each named: the
    /// compilations `compiled_for_this_cpu` chooses from. A macro, so that every compilation
    /// gets its own closure, used once and inlined there as the library's own are: one
    /// closure shared by all of them might stay a call, compiled once for any CPU, and the
    /// test would compare it with itself.
    macro_rules! each_compilation {
        ($body:expr) => {{
            let mut runs = vec![("any CPU", $body)];
            #[cfg(target_arch = "x86_64")]
            {
                if is_x86_feature_detected!("avx2") {
                    // SAFETY: this CPU has AVX2 (checked just above).
                    runs.push(("AVX2", unsafe { with_avx2(|| $body) }));
                }
                if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx2") {
                    // SAFETY: this CPU has AVX-512F and AVX2 (checked just above).
                    runs.push(("AVX-512", unsafe { with_avx512(|| $body) }));
                }
            }
            runs
        }};
    }

    /// The loops of `map_in_place` and `map_into` give the same bits in every compilation
    /// this CPU runs (the one for any CPU, AVX2's, AVX-512's), for the kinds of `f` the
    /// teaching code passes: `exp`-based (σ), the C library's `tanh`, `max` (ReLU), and the
    /// byte-to-value conversion of pixels. (A NaN is compared as "is NaN", whatever its
    /// payload.)
    #[test]
    fn every_compilation_gives_the_same_bits() {
        fn bits<T: Scalar>(v: &[T]) -> Vec<u64> {
            let nan = |x: f64| if x.is_nan() { f64::NAN } else { x };
            v.iter().map(|x| nan(x.to_f64()).to_bits()).collect()
        }
        /// Every compilation's bits are the first's, the loop compiled for any CPU.
        fn same_as_any_cpus(what: &str, runs: Vec<(&str, Vec<u64>)>) {
            for (name, run) in &runs[1..] {
                assert!(run == &runs[0].1, "{what}: {name} differs from any CPU's");
            }
        }
        fn compare<T: Scalar>(values: &[T], f: impl Fn(T) -> T) {
            same_as_any_cpus(
                "map_in_place",
                each_compilation!({
                    let mut x = values.to_vec();
                    map_each(&mut x, &f);
                    bits(&x)
                }),
            );
        }
        fn check<T: Scalar>(values: &[T]) {
            compare(values, |z: T| T::ONE / (T::ONE + (-z).exp()));
            compare(values, |z: T| z.tanh());
            compare(values, |z: T| z.max(T::ZERO));
            let bytes: Vec<u8> = (0..=255).chain((0..=255).rev()).collect();
            let scale = |p: u8| T::from_f64(p as f64) * (T::ONE / T::from_f64(255.0));
            same_as_any_cpus(
                "pixels",
                each_compilation!({
                    let mut out = vec![T::ZERO; bytes.len()];
                    map_each_into(&bytes, &mut out, &scale);
                    bits(&out)
                }),
            );
        }
        let values = values();
        let values32: Vec<f32> = values.iter().map(|&x| x as f32).collect();
        check(&values32);
        check(&values);
    }

    #[test]
    fn bias_then_f_worked_by_hand() {
        // Z = [1 2; 3 4], B = (10, 20): f(Z + B·1ᵀ) with f(z) = 2z is [22 24; 46 48].
        let mut z = Matrix::from_vec(2, 2, vec![1.0f64, 2.0, 3.0, 4.0]);
        add_to_columns_then_map(&mut z, &Vector::from_vec(vec![10.0, 20.0]), |v| 2.0 * v);
        assert_eq!(z.as_slice(), &[22.0, 24.0, 46.0, 48.0]);
    }

    #[test]
    #[should_panic(expected = "Z + B: shape mismatch: left is 2×3, right is 3×1")]
    fn bias_of_the_wrong_length_panics_with_both_shapes() {
        let mut z = Matrix::<f32>::zeros(2, 3);
        add_to_columns_then_map(&mut z, &Vector::zeros(3), |v| v);
    }

    #[test]
    fn prefetching_changes_nothing() {
        let data: Vec<u8> = (0..=200).collect();
        prefetch(&data);
        prefetch(&data[..0]);
        prefetch(&[0.5f32; 100]);
        assert!(data.iter().enumerate().all(|(i, &v)| v as usize == i));
    }

    #[test]
    fn whole_large_pages_lie_inside_the_buffer_on_boundaries() {
        const L: usize = 2 << 20;
        assert_eq!(whole_large_pages(0, 0), None);
        assert_eq!(whole_large_pages(L, L - 1), None);
        assert_eq!(whole_large_pages(L, L), Some((0, L)));
        assert_eq!(whole_large_pages(L + 4096, 3 * L), Some((L - 4096, 2 * L)));
        // Unaligned and too short to reach past the second boundary.
        assert_eq!(whole_large_pages(L + 1, 2 * L - 2), None);
        assert_eq!(whole_large_pages(L + 1, 2 * L - 1), Some((L - 1, L)));
        // Ends before the first boundary.
        assert_eq!(whole_large_pages(L + 100, 50), None);
    }

    #[test]
    #[should_panic(expected = "row sums: a 3×2 view with strides (1, 3) is not dense")]
    fn row_sums_of_a_transposed_view_panic() {
        let m = Matrix::<f32>::zeros(2, 3);
        for_each_row_sum(m.view().t(), &mut [0.0; 3], |o, s| *o = s);
    }

    #[test]
    fn row_sums_of_a_transposed_row_are_its_values() {
        let m = Matrix::from_vec(1, 3, vec![1.0f32, 2.0, 3.0]);
        let mut out = [0.0; 3];
        for_each_row_sum(m.view().t(), &mut out, |o, s| *o = s);
        assert_eq!(out, [1.0, 2.0, 3.0]);
    }

    #[test]
    #[should_panic(expected = "zip_blocks: shape mismatch: left is 2×1, right is 3×1")]
    fn zip_blocks_of_different_lengths_panic_with_both() {
        zip_blocks([&mut [0.0f32; 3][..], &mut [0.0; 2]], &[1.0; 3], |_, _| {});
    }

    #[test]
    fn large_pages_change_nothing() {
        // Empty, smaller than one large page, and several large pages (advised before they
        // are written, as `gunzip` does): every value written is read back.
        for len in [0, 100, (5 << 20) + 3] {
            let mut buffer: Vec<u8> = Vec::with_capacity(len);
            advise_large_pages(buffer.spare_capacity_mut());
            buffer.extend((0..len).map(|i| (i % 251) as u8));
            assert!(buffer
                .iter()
                .enumerate()
                .all(|(i, &v)| v == (i % 251) as u8));
        }
    }

    #[test]
    fn zip_map_worked_by_hand_and_split_like_a_plain_loop() {
        let mut x = vec![1.0f64, 2.0, 3.0];
        zip_map_in_place(&mut x, &[10.0, 20.0, 30.0], |a, b| a * b - 1.0);
        assert_eq!(x, [9.0, 39.0, 89.0]);
        // Long enough to be split across threads (on one here, as every library test runs;
        // tests/threads.rs checks the split): Δ ⊙ σ′ from A.
        let n = 3 * super::super::PARALLEL_MIN_ELEMENTS + 5;
        let a: Vec<f32> = (0..n)
            .map(|i| (i as f32 * 0.37).sin() * 0.5 + 0.5)
            .collect();
        let delta: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut split = delta.clone();
        zip_map_in_place(&mut split, &a, |d, a| d * (a * (1.0 - a)));
        let plain: Vec<f32> = delta
            .iter()
            .zip(&a)
            .map(|(&d, &a)| d * (a * (1.0 - a)))
            .collect();
        assert!(split
            .iter()
            .zip(&plain)
            .all(|(s, p)| s.to_bits() == p.to_bits()));
    }

    #[test]
    #[should_panic(expected = "zip_map_in_place: shape mismatch: left is 3×1, right is 2×1")]
    fn zip_map_of_different_lengths_panics_with_both() {
        zip_map_in_place(&mut [1.0f32, 2.0, 3.0], &[1.0, 2.0], |a, b| a + b);
    }

    #[test]
    fn row_sums_are_a_plain_loops_bit_for_bit() {
        // [1 2 3; 4 5 6]: sums 6 and 15, handed to f with what `out` held.
        let m = Matrix::from_vec(2, 3, vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let mut out = [100.0, 200.0];
        for_each_row_sum(m.view(), &mut out, |o, s| *o -= s);
        assert_eq!(out, [94.0, 185.0]);
        // Rows not a multiple of 8, no columns, and a matrix large enough to split (on one
        // thread here; tests/threads.rs checks the split); values whose sums round
        // differently in another order.
        for (rows, cols) in [(13, 7), (5, 0), (801, 100)] {
            let m = Matrix::from_fn(rows, cols, |i, k| {
                ((i * 31 + k * 7) as f32 * 0.13).sin() * 1e3
            });
            let mut sums = vec![f32::NAN; rows];
            for_each_row_sum(m.view(), &mut sums, |o, s| *o = s);
            for (i, s) in sums.iter().enumerate() {
                let plain = m.row(i).iter().fold(0.0f32, |acc, &v| acc + v);
                assert_eq!(s.to_bits(), plain.to_bits(), "row {i} of {rows}×{cols}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "row sums: shape mismatch: left is 2×3, right is 3×1")]
    fn row_sums_into_the_wrong_length_panic_with_both_shapes() {
        for_each_row_sum(Matrix::<f32>::zeros(2, 3).view(), &mut [0.0; 3], |o, s| {
            *o = s
        });
    }
}
