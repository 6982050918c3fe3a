//! Choosing the kernel at run time: which instruction sets this CPU has
//! (`is_x86_feature_detected!`), which one `SCRATCHNET_KERNEL` asks for, and the block sizes
//! and functions `f32` and `f64` each bring for it.
//!
//! Book chapter: "Making it fast" (Step 5). One binary runs everywhere: the SIMD kernels are
//! compiled for their instruction sets with `#[target_feature]` and called only when the CPU
//! has them; the portable kernel needs nothing.

use super::super::scalar::sealed::Sealed;
use super::{portable, Kernels};
use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
use super::{avx2, avx512};

/// The matrix-multiply implementations [`gemm_with`](super::gemm_with) can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The textbook triple loop, [`gemm_naive`](super::super::gemm_naive): the reference.
    Naive,
    /// Packed and blocked, with a plain-Rust 4×8 micro-kernel: any CPU.
    Portable,
    /// Packed and blocked, with a 6×16 (f32; 5×16 when m fits 5-row tiles better) / 6×8 (f64)
    /// AVX2+FMA micro-kernel, and unpacked kernels for dot products and small products.
    Avx2,
    /// Packed and blocked, with a 12×32 (f32) / 6×16 (f64) AVX-512F micro-kernel, and unpacked
    /// kernels for dot products and small products with 512-bit registers, AVX2's for the
    /// rest (CPUs with AVX-512F, AVX2 and FMA).
    Avx512,
}

impl Kernel {
    /// Every kernel, slowest first.
    pub const ALL: [Kernel; 4] = [
        Kernel::Naive,
        Kernel::Portable,
        Kernel::Avx2,
        Kernel::Avx512,
    ];

    /// The name `SCRATCHNET_KERNEL` accepts for this kernel.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Naive => "naive",
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// Parses a name as `SCRATCHNET_KERNEL` spells it.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether this CPU can run the kernel (checked at run time).
    pub fn is_supported(self) -> bool {
        match self {
            Kernel::Naive | Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            // rustc compiles AVX-512F code with AVX2 and FMA enabled too (and the AVX-512
            // kernels call AVX2's for small products and edges), while a CPU reporting
            // AVX-512F need not report them: all three are asked for.
            Kernel::Avx512 => is_x86_feature_detected!("avx512f") && Kernel::Avx2.is_supported(),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => false,
        }
    }

    /// The fastest kernel this CPU supports.
    pub fn best() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2]
            .into_iter()
            .find(|k| k.is_supported())
            .unwrap_or(Kernel::Portable)
    }
}

/// The kernel [`gemm`](super::super::gemm()) uses: `SCRATCHNET_KERNEL` if set, else
/// [`Kernel::best`]. Decided on first call and fixed for the life of the process.
///
/// # Panics
/// If `SCRATCHNET_KERNEL` holds a name that is not one of `naive`, `portable`, `avx2`,
/// `avx512`. (A known kernel this CPU cannot run falls back to the best one, with a
/// warning on stderr.)
pub fn kernel() -> Kernel {
    static CHOSEN: OnceLock<Kernel> = OnceLock::new();
    *CHOSEN.get_or_init(|| match std::env::var("SCRATCHNET_KERNEL") {
        Err(_) => Kernel::best(),
        Ok(name) => choose_forced(&name),
    })
}

fn choose_forced(name: &str) -> Kernel {
    let Some(wanted) = Kernel::from_name(name.trim()) else {
        panic!(
            "SCRATCHNET_KERNEL={name:?} is not a kernel; use one of naive, portable, avx2, avx512"
        )
    };
    if wanted.is_supported() {
        return wanted;
    }
    let best = Kernel::best();
    eprintln!(
        "scratchnet: SCRATCHNET_KERNEL={} is not supported by this CPU; using {} instead",
        wanted.name(),
        best.name()
    );
    best
}

/// Name of the kernel [`gemm`](super::super::gemm()) dispatches to ("naive", "portable",
/// "avx2" or "avx512").
pub fn kernel_name() -> &'static str {
    kernel().name()
}

/// `f32`'s kernels. (`Naive` never asks: `gemm_with` runs the textbook loop itself.)
impl Sealed for f32 {
    fn kernels(kernel: Kernel, m: usize) -> Kernels<f32> {
        match kernel {
            Kernel::Naive | Kernel::Portable => portable::kernels(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => avx2::kernels_f32(m),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => avx512::kernels_f32(),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => {
                let _ = m;
                portable::kernels()
            }
        }
    }
}

/// `f64`'s kernels: the same families, twice the bytes per value.
impl Sealed for f64 {
    fn kernels(kernel: Kernel, _m: usize) -> Kernels<f64> {
        match kernel {
            Kernel::Naive | Kernel::Portable => portable::kernels(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => avx2::kernels_f64(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => avx512::kernels_f64(),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => portable::kernels(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::MAX_TILE;
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kernel::ALL {
            assert_eq!(Kernel::from_name(k.name()), Some(k));
        }
        assert_eq!(Kernel::from_name("sse"), None);
    }

    #[test]
    fn best_is_supported_and_portable_always_is() {
        assert!(Kernel::best().is_supported());
        assert!(Kernel::Portable.is_supported() && Kernel::Naive.is_supported());
        assert!(kernel().is_supported());
    }

    #[test]
    fn blocks_are_multiples_of_the_tile() {
        for k in Kernel::ALL.into_iter().filter(|k| k.is_supported()) {
            for bl in [f32::kernels(k, 20).blocking, f64::kernels(k, 20).blocking] {
                assert_eq!(bl.mc % bl.mr, 0);
                assert_eq!(bl.nc % bl.nr, 0);
                assert!(bl.mr * bl.nr <= MAX_TILE);
            }
            // An edge kernel is smaller than the tile, and the list is smallest first (the
            // first that covers an edge tile is used).
            for m in [20, 800] {
                let kernels = f32::kernels(k, m);
                let (mr, nr) = (kernels.blocking.mr, kernels.blocking.nr);
                for e in kernels.edges {
                    assert!(e.rows <= mr && e.cols <= nr, "{}", k.name());
                    assert!(e.rows < mr || e.cols < nr, "{}", k.name());
                }
                let areas: Vec<_> = kernels.edges.iter().map(|e| e.rows * e.cols).collect();
                assert!(areas.is_sorted(), "{}: {areas:?}", k.name());
            }
        }
    }

    #[test]
    #[should_panic(expected = "is not a kernel")]
    fn unknown_forced_name_panics() {
        choose_forced("sse9");
    }

    #[test]
    fn unsupported_forced_kernel_falls_back() {
        let k = choose_forced("avx512");
        assert!(k.is_supported());
    }
}
