//! The numbers our matrices hold: `f32` for fast training, `f64` for gradient checks.
//!
//! Book chapter: "Matrices and vectors". Finite differences lose about half of the
//! significant digits they start with, so the gradient checks run in `f64`; training runs
//! in `f32`, which halves memory traffic and doubles SIMD width.
//!
//! [`Scalar`] is sealed: its private supertrait carries the matrix-multiply kernels each type
//! brings (implemented for `f32` and for `f64` in `kernel/select.rs`), so no other type can
//! be one, and the kernels need no run-time check of which type they were handed.

use std::fmt::{Debug, Display};
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point element type: implemented for `f32` and `f64` only (the trait is sealed).
pub trait Scalar:
    sealed::Sealed
    + Copy
    + Default
    + Debug
    + Display
    + PartialEq
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
{
    /// Additive identity, 0.
    const ZERO: Self;
    /// Multiplicative identity, 1.
    const ONE: Self;
    /// Converts from `f64`, rounding to nearest for `f32`.
    fn from_f64(x: f64) -> Self;
    /// Widens (or keeps) the value as `f64`.
    fn to_f64(self) -> f64;
    /// eˣ: the standard library's for `f64`; for `f32`, [`exp_f32`], which loops over whole
    /// layers can vectorise.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// True unless the value is NaN or ±∞.
    fn is_finite(self) -> bool;
    /// The larger of two values (NaN-ignoring, as `f64::max`).
    fn max(self, other: Self) -> Self;
    /// The smaller of two values (NaN-ignoring, as `f64::min`).
    fn min(self, other: Self) -> Self;
    /// `self * a + b`, fused where the hardware allows.
    fn mul_add(self, a: Self, b: Self) -> Self;

    /// The smallest positive normal number: 2⁻¹²⁶ ≈ 1.2·10⁻³⁸ for `f32`, 2⁻¹⁰²² for `f64`.
    /// Nonzero numbers smaller in magnitude are *subnormal*: they keep fewer significant bits,
    /// and many Intel cores take a slow microcode path for arithmetic that reads or makes
    /// one (see [`Scalar::flush_subnormal`]).
    const MIN_NORMAL: Self;

    /// The value, or a zero of its sign if it is subnormal (nonzero and smaller in
    /// magnitude than [`Scalar::MIN_NORMAL`]). NaN, ±∞, zeros and normal numbers are
    /// returned unchanged.
    ///
    /// The batched backward pass applies it to each δ ⊙ f′ it makes (Eqs 1 and 2): a
    /// saturated sigmoid's σ′ can make δ subnormal, and every product reading such values
    /// took a microcode assist per instruction on Intel cores (784-800-800-10: twice the time
    /// of its epoch). A subnormal δ has no say in a weight: its share of a step
    /// W ← W − (η/n)·Σ δ·aᵀ is at most |η|·max|a|·2⁻¹²⁶ in f32, below half a unit in the last
    /// place of any weight larger than 2⁻⁸⁰ when |η|, |a| ≤ 2¹⁰. (It could still break a
    /// tie in one of the sum's roundings; the networks the book trains came out bit for bit
    /// the same. Book: "Making it fast", "A host with two 512-bit FMA units".)
    fn flush_subnormal(self) -> Self;
}

/// The private supertrait that seals [`Scalar`]: public in a module no one outside the crate
/// can name.
pub(crate) mod sealed {
    use super::super::kernel::{Kernel, Kernels};

    /// What an element type brings to the matrix multiply.
    pub trait Sealed: Sized {
        /// The block sizes and kernels of `kernel` for this type, for a product with `m`
        /// rows (a tile can be fitted to m). A kernel this CPU cannot run still gets its
        /// table; its functions' contracts forbid calling them.
        fn kernels(kernel: Kernel, m: usize) -> Kernels<Self>;
    }
}

macro_rules! impl_scalar {
    ($t:ty, $exp:path) => {
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const MIN_NORMAL: Self = <$t>::MIN_POSITIVE;
            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn flush_subnormal(self) -> Self {
                // The zero takes the sign by a bit operation: no arithmetic on the subnormal
                // (which could itself take the slow path); one comparison and a select, so
                // loops over it vectorise.
                if self.abs() < Self::MIN_NORMAL {
                    (0.0 as $t).copysign(self)
                } else {
                    self
                }
            }
            #[inline]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline]
            fn min(self, other: Self) -> Self {
                <$t>::min(self, other)
            }
            #[inline]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
        }
    };
}

impl_scalar!(f32, exp_f32);
impl_scalar!(f64, f64::exp);

// ANCHOR: exp_f32
/// eˣ in f32 from arithmetic alone, within 2 units in the last place for −87.33 ≤ x ≤ 88.37
/// (1.22 at worst, over every f32 in that range; the test sweeps a grid of it).
///
/// The standard library's `f32::exp` calls the C library once per number, and no compiler
/// can turn a loop of calls into vector instructions, and σ over a layer was a large share of
/// the write-up's epoch ("Making it fast", section "Reaching 60 ms"). This function has no
/// call and no branch, so the loop over a layer in `Network::layer_forward` runs four or
/// eight values at a time. The steps:
///
/// 1. eˣ = 2ⁿ·eʳ with n = round(x / ln 2) and r = x − n·ln 2, so |r| ≤ ½ ln 2 ≈ 0.35.
///    Adding 1.5·2²³ rounds x·log₂e to the nearest integer (the float has no bits left for
///    a fraction) and leaves n in the low bits of the sum. ln 2 is split in two parts,
///    the first with few enough bits that n·ln2_hi is exact, so r keeps its digits.
/// 2. eʳ by its Taylor series to r⁷/7!: the next term, r⁸/8!, is below 6·10⁻⁹, a twentieth
///    of f32's precision near 1. Horner's rule evaluates it with seven multiplications.
/// 3. 2ⁿ is the float whose exponent field holds n + 127: built from n's bits directly.
///
/// Outside that range the answer is 0 below and ∞ above, where `f32::exp` still gives a tiny
/// value (under 1.2·10⁻³⁸, subnormal from −87.34 down) and, up to 88.72, a huge finite one
/// (over 2.5·10³⁸). (The range keeps n between −126 and 127, the exponents a normal f32 can
/// hold.) So σ(z) = 1/(1 + e⁻ᶻ) is still exactly 0 or 1 far out. NaN stays NaN: every test
/// on x is a comparison, false for NaN.
///
/// Each step is one IEEE operation with no fused multiply-add, so every CPU, with or without
/// SIMD, computes the same bits.
#[inline]
pub fn exp_f32(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³
    const LN2_HI: f32 = 0.693_359_4; // 355/512: 9 bits, so n·LN2_HI is exact
    const LN2_LO: f32 = -2.121_944_4e-4; // ln 2 − LN2_HI
    const LOW: f32 = -87.33; // n = −126: the smallest normal exponent
    const HIGH: f32 = 88.37; // n = 127: the largest
    let inside = if x < LOW { LOW } else { x };
    let inside = if inside > HIGH { HIGH } else { inside };
    let t = inside * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = (inside - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    let two_n = f32::from_bits(t.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127) << 23);
    if x < LOW {
        0.0
    } else if x > HIGH {
        f32::INFINITY
    } else {
        p * two_n
    }
}
// ANCHOR_END: exp_f32

#[cfg(test)]
mod tests {
    use super::*;

    /// |approx − exact| in units of the last place of exact rounded to f32.
    fn ulps(approx: f32, exact: f64) -> f64 {
        let rounded = exact as f32;
        let ulp = (f32::from_bits(rounded.to_bits() + 1) - rounded) as f64;
        (approx as f64 - exact).abs() / ulp
    }

    #[test]
    fn flush_subnormal_zeroes_subnormals_only_and_keeps_their_sign() {
        let smallest = f32::from_bits(1);
        let largest = f32::from_bits(f32::MIN_POSITIVE.to_bits() - 1);
        for x in [smallest, largest, 1e-40, -smallest, -largest, -1e-40] {
            let zero = if x < 0.0 { -0.0f32 } else { 0.0 };
            assert_eq!(x.flush_subnormal().to_bits(), zero.to_bits(), "{x:e}");
        }
        let kept = [
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            0.0,
            -0.0,
            1.0,
            -3.5e-30,
            f32::MAX,
        ];
        for x in kept.into_iter().chain([f32::INFINITY, f32::NEG_INFINITY]) {
            assert_eq!(x.flush_subnormal().to_bits(), x.to_bits(), "{x:e}");
        }
        assert!(f32::NAN.flush_subnormal().is_nan());
        assert_eq!(f64::from_bits(1).flush_subnormal().to_bits(), 0);
        assert_eq!(f64::MIN_POSITIVE.flush_subnormal(), f64::MIN_POSITIVE);
        assert_eq!(<f32 as Scalar>::MIN_NORMAL, f32::MIN_POSITIVE);
    }

    proptest::proptest! {
        /// Why flushing a subnormal δ is safe: its share of a step, α·s with α = η·a and
        /// |η|, |a| ≤ 2¹⁰, moves no weight larger than 2⁻⁸⁰ (w + α·s rounds back to w).
        #[test]
        fn a_subnormal_share_of_a_step_moves_no_weight(
            mantissa in 0u32..1 << 23,
            exponent in -80i32..=20,
            negative: bool,
            s_bits in 1u32..1 << 23,
            alpha in -1_048_576.0f32..=1_048_576.0,
        ) {
            let w = f32::from_bits(((exponent + 127) as u32) << 23 | mantissa);
            let w = if negative { -w } else { w };
            let s = f32::from_bits(s_bits);
            proptest::prop_assert!(s != 0.0 && s.flush_subnormal() == 0.0);
            proptest::prop_assert_eq!((w + alpha * s).to_bits(), w.to_bits());
            proptest::prop_assert_eq!((w - alpha * s).to_bits(), w.to_bits());
        }
    }

    #[test]
    fn exp_f32_is_within_two_ulps_over_its_range() {
        // Every 1/1024 from −87.33 to 88.37, plus the points just around each multiple of ln 2
        // (where n changes and r is at its largest).
        let grid = (-88 * 1024..=89 * 1024).map(|i| i as f32 / 1024.0);
        let ln2 = std::f64::consts::LN_2;
        let edges = (-125..=126).flat_map(|n| {
            let x = ((n as f64 + 0.5) * ln2) as f32;
            [
                f32::from_bits(x.to_bits() - 1),
                x,
                f32::from_bits(x.to_bits() + 1),
            ]
        });
        let mut worst = (0.0, 0.0f32);
        for x in grid.chain(edges).filter(|x| (-87.33..=88.37).contains(x)) {
            let e = ulps(exp_f32(x), (x as f64).exp());
            if e > worst.0 {
                worst = (e, x);
            }
        }
        assert!(worst.0 <= 2.0, "{:.2} ulps at x = {}", worst.0, worst.1);
    }

    #[test]
    fn exp_f32_is_exact_at_zero_zero_or_infinite_outside_and_keeps_nan() {
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(exp_f32(88.37).is_finite() && exp_f32(-87.33) > 0.0);
        assert_eq!(exp_f32(88.38), f32::INFINITY);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(-87.34), 0.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert_eq!(<f32 as Scalar>::exp(0.5), exp_f32(0.5));
    }
}
