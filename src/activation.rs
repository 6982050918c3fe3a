//! Activation functions, each beside its derivative: σ and σ′, tanh, ReLU, leaky ReLU, the
//! identity, and softmax for the output layer.
//!
//! Book chapters: "Activation" (σ) and "Beyond the write-up" (the rest). The write-up puts σ
//! on every layer, hidden and output; without a non-linearity the layers would multiply into
//! one linear map (W⁴W³W² = W⁵), and depth would buy nothing — [`Activation::Identity`] is
//! here to show exactly that. Softmax is the one activation that is not element by element
//! (each output depends on the whole column), so it is allowed only on the output layer,
//! paired with the log-likelihood cost, whose δᴸ = a − y needs no softmax Jacobian (see
//! [`crate::cost::validate`]). Left out: activations with learned parameters (PReLU, …).

use crate::linalg::{
    add_to_columns_then_map, map_in_place, zip_map_in_place, Matrix, Scalar, Vector,
};

/// Which non-linearity a layer applies to its weighted input z.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// The logistic sigmoid σ(z) = 1 / (1 + e⁻ᶻ), squashing z into (0, 1).
    Sigmoid,
    /// tanh(z) = (eᶻ − e⁻ᶻ)/(eᶻ + e⁻ᶻ) = 2σ(2z) − 1, squashing z into (−1, 1).
    Tanh,
    /// ReLU(z) = max(0, z).
    Relu,
    /// Leaky ReLU: z for z > 0, 0.01·z otherwise, so no neuron is ever quite dead.
    LeakyRelu,
    /// f(z) = z: no non-linearity at all (for the write-up's thought experiment).
    Identity,
    /// softmax(z)ᵢ = exp(zᵢ) / Σⱼ exp(zⱼ) over one column: output layer only.
    Softmax,
}

/// The slope of leaky ReLU for z ≤ 0.
pub const LEAKY_SLOPE: f64 = 0.01;

// ANCHOR: sigmoid
/// σ(z) = 1 / (1 + e⁻ᶻ): the write-up's activation, Aˡ = σ(Zˡ) for every layer.
///
/// Book: "Activation".
///
/// For very negative z, e⁻ᶻ overflows to +∞ and σ(z) becomes exactly 0: no NaN.
#[inline]
pub fn sigmoid<T: Scalar>(z: T) -> T {
    T::ONE / (T::ONE + (-z).exp())
}

/// σ′(z) = σ(z)(1 − σ(z)): the σ′(Zˡ) of Eqs 1 and 2.
///
/// Book: "Activation", "Backpropagation".
#[inline]
pub fn sigmoid_prime<T: Scalar>(z: T) -> T {
    let s = sigmoid(z);
    s * (T::ONE - s)
}
// ANCHOR_END: sigmoid

// ANCHOR: softmax
/// softmax over one column, in place: zᵢ ← exp(zᵢ − m) / Σⱼ exp(zⱼ − m), m = maxⱼ zⱼ.
///
/// Subtracting the largest z changes nothing mathematically (it cancels between top and
/// bottom) but keeps every exponent ≤ 0, so nothing overflows.
pub fn softmax_in_place<T: Scalar>(z: &mut [T]) {
    let m = z.iter().fold(z[0], |m, &x| m.max(x));
    let mut sum = T::ZERO;
    for x in z.iter_mut() {
        *x = (*x - m).exp();
        sum += *x;
    }
    let inv = T::ONE / sum;
    z.iter_mut().for_each(|x| *x *= inv);
}
// ANCHOR_END: softmax

/// softmax of every column of `z`, (n_l, batch), in place.
fn softmax_columns<T: Scalar>(z: &mut Matrix<T>) {
    // Columns are strided in the row-major matrix: copy each out, softmax it, copy back.
    let (rows, cols) = z.shape();
    let mut column = vec![T::ZERO; rows];
    for j in 0..cols {
        for (i, c) in column.iter_mut().enumerate() {
            *c = z[(i, j)];
        }
        softmax_in_place(&mut column);
        for (i, &c) in column.iter().enumerate() {
            z[(i, j)] = c;
        }
    }
}

impl Activation {
    /// All activations, in the order `--help` lists them.
    pub const ALL: [Activation; 6] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Identity,
        Activation::Softmax,
    ];

    /// The activations a hidden layer may use: all but softmax.
    pub const HIDDEN: [Activation; 5] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Identity,
    ];

    // ANCHOR: apply
    /// a = f(z) for one element: one value of Aˡ = f(Zˡ).
    ///
    /// # Panics
    /// For softmax, which needs the whole column: use [`Activation::apply_column`].
    #[inline]
    pub fn apply<T: Scalar>(self, z: T) -> T {
        match self {
            Activation::Sigmoid => sigmoid(z),
            Activation::Tanh => z.tanh(),
            Activation::Relu => z.max(T::ZERO),
            Activation::LeakyRelu => {
                if z > T::ZERO {
                    z
                } else {
                    T::from_f64(LEAKY_SLOPE) * z
                }
            }
            Activation::Identity => z,
            Activation::Softmax => panic!("softmax is not element-wise: use apply_column"),
        }
    }

    /// f′(z) for one element: one value of the σ′(Zˡ) of Eqs 1 and 2, for f = σ.
    ///
    /// # Panics
    /// For softmax, whose derivative is a Jacobian, not a number per element; it is never
    /// needed, because softmax only comes with the log-likelihood cost, whose δᴸ = a − y.
    #[inline]
    pub fn derivative<T: Scalar>(self, z: T) -> T {
        match self {
            Activation::Sigmoid => sigmoid_prime(z),
            Activation::Tanh => {
                let t = z.tanh();
                T::ONE - t * t
            }
            Activation::Relu | Activation::LeakyRelu | Activation::Identity => {
                self.derivative_from_output(self.apply(z))
            }
            Activation::Softmax => panic!("softmax has no element-wise derivative"),
        }
    }

    /// f′(z) written in terms of the output a = f(z), as Eqs 1 and 2 use it (σ′(Zˡ) from Aˡ):
    /// σ′ = a(1 − a), tanh′ = 1 − a², ReLU′ = 1 if a > 0 else 0, leaky′ = 1 or 0.01 by the
    /// sign of a (which is z's), identity′ = 1.
    ///
    /// Book: "Backpropagation".
    ///
    /// The batched backward pass uses this so it needs to keep only A, not Z, and computes
    /// no second exponential. At the kink z = 0 ReLU and leaky ReLU take the left slope.
    ///
    /// # Panics
    /// For softmax (see [`Activation::derivative`]).
    #[inline]
    pub fn derivative_from_output<T: Scalar>(self, a: T) -> T {
        match self {
            Activation::Sigmoid => a * (T::ONE - a),
            Activation::Tanh => T::ONE - a * a,
            Activation::Relu => {
                if a > T::ZERO {
                    T::ONE
                } else {
                    T::ZERO
                }
            }
            Activation::LeakyRelu => {
                if a > T::ZERO {
                    T::ONE
                } else {
                    T::from_f64(LEAKY_SLOPE)
                }
            }
            Activation::Identity => T::ONE,
            Activation::Softmax => panic!("softmax has no element-wise derivative"),
        }
    }
    // ANCHOR_END: apply

    /// Applies the activation to one layer's column z (one image), in place.
    pub fn apply_column<T: Scalar>(self, z: &mut [T]) {
        match self {
            Activation::Softmax => softmax_in_place(z),
            _ => z.iter_mut().for_each(|x| *x = self.apply(*x)),
        }
    }

    /// A = f(Z) for a whole layer, in place: column j of `z` is image j.
    ///
    /// `z`: (n_l, batch).
    ///
    /// An element-wise f runs as one loop over every value, which [`map_in_place`] compiles
    /// for the CPU's widest vectors (the same bits either way; see the book's "Making it
    /// fast"). σ gets a loop of its own, so that no `match` is left inside it.
    pub fn apply_in_place<T: Scalar>(self, z: &mut Matrix<T>) {
        match self {
            Activation::Softmax => softmax_columns(z),
            Activation::Sigmoid => map_in_place(z.as_mut_slice(), sigmoid),
            act => map_in_place(z.as_mut_slice(), |x| act.apply(x)),
        }
    }

    /// Z ← Z + B, then A = f(Z), for a whole layer in place: B added to every column (every
    /// image). The forward pass calls it with the product W·A in `z`, so that Z = W·A + B as
    /// in the write-up.
    ///
    /// `z`: (n_l, batch); `b`: (n_l).
    ///
    /// The element-wise f run as [`Activation::apply_in_place`] runs them, a wide layer on
    /// several threads ([`add_to_columns_then_map`]).
    ///
    /// # Panics
    /// If `b`'s length is not `z`'s number of rows.
    #[track_caller]
    pub fn add_bias_and_apply<T: Scalar>(self, z: &mut Matrix<T>, b: &Vector<T>) {
        match self {
            Activation::Softmax => {
                z.add_to_columns(b);
                softmax_columns(z)
            }
            // One arm per activation, so that f is a constant in each loop: a `match` per
            // value is not hoisted out of it, and kept ReLU from vectorising.
            Activation::Sigmoid => add_to_columns_then_map(z, b, sigmoid),
            Activation::Relu => add_to_columns_then_map(z, b, |x| Activation::Relu.apply(x)),
            Activation::LeakyRelu => {
                add_to_columns_then_map(z, b, |x| Activation::LeakyRelu.apply(x))
            }
            Activation::Tanh => add_to_columns_then_map(z, b, |x| Activation::Tanh.apply(x)),
            Activation::Identity => add_to_columns_then_map(z, b, |x| x),
        }
    }

    /// Δ ← Δ ⊙ f′(Z) for a whole layer, f′ read from A = f(Z)
    /// ([`Activation::derivative_from_output`]): the ⊙ σ′(Zˡ) of Eq 2 for every image at once.
    /// A product that comes out subnormal is stored as a zero of its sign
    /// ([`Scalar::flush_subnormal`]: it could not move a weight, and later products would
    /// crawl over it on Intel cores). (Identity's f′ = 1 leaves Δ as it is, unflushed.)
    ///
    /// `delta` and `a`: the same (n_l, batch) values, row by row.
    ///
    /// # Panics
    /// If `delta` and `a` differ in length, or for softmax (see
    /// [`Activation::derivative`]).
    #[track_caller]
    pub fn times_derivative_from_output<T: Scalar>(self, delta: &mut [T], a: &[T]) {
        assert_eq!(
            delta.len(),
            a.len(),
            "Δ ⊙ f′: {} errors for {} outputs",
            delta.len(),
            a.len()
        );
        // One arm per activation, as in `add_bias_and_apply`.
        match self {
            Activation::Relu => {
                times_each(delta, a, |a| Activation::Relu.derivative_from_output(a))
            }
            Activation::LeakyRelu => times_each(delta, a, |a| {
                Activation::LeakyRelu.derivative_from_output(a)
            }),
            Activation::Sigmoid => {
                times_each(delta, a, |a| Activation::Sigmoid.derivative_from_output(a))
            }
            Activation::Tanh => {
                times_each(delta, a, |a| Activation::Tanh.derivative_from_output(a))
            }
            Activation::Identity => {}
            Activation::Softmax => panic!("softmax has no element-wise derivative"),
        }
    }

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky-relu",
            Activation::Identity => "identity",
            Activation::Softmax => "softmax",
        }
    }

    /// The activation called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// d ← d · g(a) for every pair of `delta` and `a`: one loop, `g` inlined into it (split across
/// threads for a large layer, by [`zip_map_in_place`]).
#[inline(always)]
fn times_each<T: Scalar>(delta: &mut [T], a: &[T], g: impl Fn(T) -> T + Sync) {
    zip_map_in_place(delta, a, |d, a| (d * g(a)).flush_subnormal());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layers_subnormal_errors_are_stored_as_zero() {
        // σ′ of a saturated sigmoid (a = 1e-30: σ′ ≈ 1e-30) times δ = 1e-10 is 1e-40, a
        // subnormal f32 (the product alone would keep it); times δ = 1e-5 it is 1e-35, a
        // normal number.
        let a = [1e-30f32, 1e-30, 0.5, 1e-30];
        let mut delta = [1e-10f32, -1e-10, 1e-20, 1e-5];
        let product = 1e-10f32 * Activation::Sigmoid.derivative_from_output(1e-30f32);
        assert!(product != 0.0 && product.abs() < f32::MIN_POSITIVE);
        Activation::Sigmoid.times_derivative_from_output(&mut delta, &a);
        assert_eq!(delta[0].to_bits(), 0.0f32.to_bits());
        assert_eq!(delta[1].to_bits(), (-0.0f32).to_bits());
        assert_eq!(delta[2], 1e-20 * 0.25);
        assert_eq!(
            delta[3],
            1e-5 * Activation::Sigmoid.derivative_from_output(1e-30f32)
        );
        assert!(delta[3] >= f32::MIN_POSITIVE);
    }

    #[test]
    fn sigmoid_values_worked_by_hand() {
        // σ(0) = 1/2; σ(ln 3) = 1/(1 + 1/3) = 3/4; σ′(0) = 1/2 · 1/2.
        assert_eq!(sigmoid(0.0f64), 0.5);
        assert!((sigmoid(3.0f64.ln()) - 0.75).abs() < 1e-15);
        assert_eq!(sigmoid_prime(0.0f64), 0.25);
    }

    /// The layer loops (vector instructions, AVX2 where the CPU has it) give the bits that
    /// one `apply` at a time gives, for every element-wise activation, in f32 and f64; with a
    /// bias too, as the forward pass runs them. (`linalg`'s tests check the same loops
    /// compiled for any CPU.)
    #[test]
    fn the_layer_loop_equals_one_value_at_a_time_bit_for_bit() {
        fn check<T: Scalar>(act: Activation, values: &[T]) {
            let n = values.len();
            let mut layer = Matrix::from_vec(1, n, values.to_vec());
            act.apply_in_place(&mut layer);
            let half = T::from_f64(0.5);
            let mut biased = Matrix::from_vec(n, 1, values.to_vec());
            act.add_bias_and_apply(&mut biased, &Vector::from_fn(n, |_| half));
            for (k, &z) in values.iter().enumerate() {
                let pairs = [
                    (layer[(0, k)], act.apply(z)),
                    (biased[(k, 0)], act.apply(z + half)),
                ];
                for (a, one) in pairs {
                    // Bit for bit (widening to f64 is exact, and keeps −0 apart from +0); a
                    // NaN must stay NaN, whatever its payload.
                    let same = a.to_f64().to_bits() == one.to_f64().to_bits();
                    assert!(
                        same || (a != a && one != one),
                        "{act:?}({z}): the layer loop gives {a}, one value {one}"
                    );
                }
            }
        }
        let specials = [
            0.0,
            -0.0,
            1e-30,
            87.0,
            88.5,
            -88.0,
            1e4,
            -1e4,
            f64::INFINITY,
        ];
        let values: Vec<f64> = (-2000..2000)
            .map(|i| i as f64 * 0.0537)
            .chain(specials)
            .chain([f64::NEG_INFINITY, f64::NAN])
            .collect();
        let values32: Vec<f32> = values.iter().map(|&x| x as f32).collect();
        for act in Activation::ALL {
            if act != Activation::Softmax {
                check(act, &values32);
                check(act, &values);
            }
        }
    }

    #[test]
    fn sigmoid_saturates_without_nan() {
        assert_eq!(sigmoid(-1000.0f32), 0.0);
        assert_eq!(sigmoid(1000.0f32), 1.0);
        assert_eq!(sigmoid_prime(-1000.0f32), 0.0);
    }

    #[test]
    fn derivative_matches_finite_difference_and_output_form() {
        // Away from ReLU's kink at 0, where the finite difference straddles two slopes.
        for act in Activation::HIDDEN {
            for &z in &[-3.0f64, -0.5, 0.1, 2.0] {
                let h = 1e-6;
                let numeric = (act.apply(z + h) - act.apply(z - h)) / (2.0 * h);
                assert!((act.derivative(z) - numeric).abs() < 1e-8, "{act:?} at {z}");
                let from_output = act.derivative_from_output(act.apply(z));
                assert!((act.derivative(z) - from_output).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn new_activations_worked_by_hand() {
        assert_eq!(Activation::Relu.apply(-2.0f64), 0.0);
        assert_eq!(Activation::Relu.apply(1.5f64), 1.5);
        assert_eq!(Activation::LeakyRelu.apply(-2.0f64), -0.02);
        assert_eq!(Activation::Identity.apply(-7.25f64), -7.25);
        // tanh(z) = 2σ(2z) − 1.
        let z = 0.3f64;
        assert!((Activation::Tanh.apply(z) - (2.0 * sigmoid(2.0 * z) - 1.0)).abs() < 1e-15);
    }

    #[test]
    fn softmax_sums_to_one_and_survives_huge_inputs() {
        // softmax(0, ln 3) = (1/4, 3/4); adding 1000 to both changes nothing.
        let mut z = Matrix::from_vec(
            2,
            2,
            vec![0.0f64, 1000.0, 3.0f64.ln(), 1000.0 + 3.0f64.ln()],
        );
        Activation::Softmax.apply_in_place(&mut z);
        for j in 0..2 {
            // 1000 + ln 3 keeps only ~13 digits of ln 3, hence 1e-12.
            assert!((z[(0, j)] - 0.25).abs() < 1e-12 && (z[(1, j)] - 0.75).abs() < 1e-12);
        }
    }

    #[test]
    fn names_round_trip() {
        for act in Activation::ALL {
            assert_eq!(Activation::from_name(act.name()), Some(act));
        }
        assert_eq!(Activation::from_name("swish"), None);
    }
}
