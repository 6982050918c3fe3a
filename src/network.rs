//! The network: its layers' weights and biases, how they are initialised, and the forward
//! pass that turns an image into ten outputs.
//!
//! Book chapter: "The forward pass". Notation departs from the write-up in one place: the
//! write-up numbers layers from 1 (A¹ is the input, W² the first weights), while Rust
//! indexes from 0, so `weights[0]` is W², `weights[l]` is Wˡ⁺²; each line where this
//! matters says so. Left out: training
//! (see [`crate::backprop`] and [`crate::train`]).

use crate::activation::Activation;
use crate::cost::Cost;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::linalg::{gemm, MatRef, Matrix, Scalar, Vector};
use crate::rng::Rng;

/// A fully connected feed-forward network.
#[derive(Clone, Debug, PartialEq)]
pub struct Network<T> {
    /// Neurons per layer, input first: the write-up's `[784, 20, 10, 10]`. `sizes[l]` is the
    /// write-up's layer l + 1 (it numbers the input layer 1).
    sizes: Vec<usize>,
    /// `weights[l]`: `(sizes[l+1], sizes[l])`, the write-up's Wˡ⁺² — row i holds neuron i's
    /// incoming weights.
    pub weights: Vec<Matrix<T>>,
    /// `biases[l]`: `(sizes[l+1])`, the write-up's Bˡ⁺² — one bias per neuron of the layer
    /// `weights[l]` feeds.
    pub biases: Vec<Vector<T>>,
    /// The activation of every hidden layer.
    pub hidden: Activation,
    /// The activation of the output layer.
    pub output: Activation,
    /// The cost the network is trained on.
    pub cost: Cost,
}

/// The most layers a network may have, input included: one limit for building, training and
/// loading, so every network that trains can be saved and loaded again.
pub const MAX_LAYERS: usize = 1024;

/// The most neurons one layer may have.
pub const MAX_LAYER_SIZE: usize = 1 << 20;

/// The most weights and biases a network may have: 2²⁸, a gibibyte of `f32` values, so a
/// mistyped layer size is refused at once instead of failing to allocate after MNIST loads.
pub const MAX_PARAMETERS: usize = 1 << 28;

/// Checks layer sizes (input first) against [`MAX_LAYERS`], [`MAX_LAYER_SIZE`] and
/// [`MAX_PARAMETERS`], and that there are at least two layers of at least one neuron each.
///
/// # Errors
/// [`Error::TooLarge`] naming the first limit crossed, or [`Error::Invalid`] for fewer than
/// two layers or an empty one.
pub fn check_sizes(sizes: &[usize]) -> Result<()> {
    let too_large = |what: String, got: usize, limit: usize| Error::TooLarge {
        what,
        got: got as u64,
        limit: limit as u64,
    };
    if sizes.len() > MAX_LAYERS {
        return Err(too_large("layers".into(), sizes.len(), MAX_LAYERS));
    }
    if sizes.len() < 2 || sizes.contains(&0) {
        return Err(Error::Invalid(format!(
            "a network needs at least two layers of at least one neuron each, got {sizes:?}"
        )));
    }
    if let Some((l, &n)) = sizes.iter().enumerate().find(|&(_, &n)| n > MAX_LAYER_SIZE) {
        // The write-up numbers the input layer 1.
        return Err(too_large(
            format!("neurons in layer {}", l + 1),
            n,
            MAX_LAYER_SIZE,
        ));
    }
    // Each weight layer holds n_in·n_out weights and n_out biases.
    let parameters = sizes.windows(2).fold(0usize, |sum, p| {
        sum.saturating_add(p[0].saturating_mul(p[1]).saturating_add(p[1]))
    });
    if parameters > MAX_PARAMETERS {
        return Err(too_large(
            "weights and biases".into(),
            parameters,
            MAX_PARAMETERS,
        ));
    }
    Ok(())
}

// ANCHOR: config
/// What a network is built from, by name: its layer sizes and the choices the write-up
/// leaves open. `NetworkConfig::default()` is the write-up's own: 784-20-10-10, sigmoid on
/// every layer, the quadratic cost, every weight and bias drawn from N(0, 1).
///
/// Book: "The forward pass"; the other choices are in "Beyond the write-up".
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// Neurons per layer, input first.
    pub sizes: Vec<usize>,
    /// The activation of every hidden layer.
    pub hidden: Activation,
    /// The activation of the output layer.
    pub output: Activation,
    /// The cost the network is trained on.
    pub cost: Cost,
    /// How the initial weights and biases are drawn.
    pub init: Init,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            sizes: vec![784, 20, 10, 10],
            hidden: Activation::Sigmoid,
            output: Activation::Sigmoid,
            cost: Cost::Quadratic,
            init: Init::Normal,
        }
    }
}
// ANCHOR_END: config

impl<T: Scalar> Network<T> {
    // ANCHOR: init
    /// The write-up's network shape and choices: `sizes` layers, sigmoid everywhere,
    /// quadratic cost, every weight and bias drawn from N(0, 1) by `rng`.
    ///
    /// Book: "The forward pass".
    ///
    /// # Panics
    /// If there are fewer than two layers or a layer has no neurons.
    #[track_caller]
    pub fn new(sizes: &[usize], rng: &mut Rng) -> Self {
        let config = NetworkConfig {
            sizes: sizes.to_vec(),
            ..NetworkConfig::default()
        };
        Self::build(&config, rng)
    }

    /// A network as `config` describes it, its weights drawn by `config.init` from `rng` (all
    /// weight matrices first, then all biases, as [`Network::new`] always has, so
    /// `Init::Normal` reproduces it bit for bit).
    ///
    /// # Panics
    /// If there are fewer than two layers or a layer has no neurons.
    #[track_caller]
    pub fn build(config: &NetworkConfig, rng: &mut Rng) -> Self {
        let NetworkConfig {
            ref sizes,
            init,
            hidden,
            output,
            cost,
        } = *config;
        assert!(
            sizes.len() >= 2,
            "a network needs at least an input and an output layer, got {sizes:?}"
        );
        assert!(
            sizes.iter().all(|&n| n > 0),
            "every layer needs at least one neuron, got {sizes:?}"
        );
        let weights = sizes
            .windows(2)
            .map(|pair| {
                let std = init.weight_std(pair[0], pair[1]);
                Matrix::from_fn(pair[1], pair[0], |_, _| T::from_f64(rng.normal() * std))
            })
            .collect();
        let bias_std = init.bias_std();
        let biases = sizes[1..]
            .iter()
            .map(|&n| {
                Vector::from_fn(n, |_| {
                    if bias_std == 0.0 {
                        T::ZERO
                    } else {
                        T::from_f64(rng.normal() * bias_std)
                    }
                })
            })
            .collect();
        Network {
            sizes: sizes.to_vec(),
            weights,
            biases,
            hidden,
            output,
            cost,
        }
    }
    // ANCHOR_END: init

    /// Builds a network from parameters, checking that their shapes chain together.
    ///
    /// # Panics
    /// If `weights[l]` is not `(sizes[l+1], sizes[l])` or `biases[l]` not `sizes[l+1]`.
    #[track_caller]
    pub fn from_parameters(
        weights: Vec<Matrix<T>>,
        biases: Vec<Vector<T>>,
        hidden: Activation,
        output: Activation,
        cost: Cost,
    ) -> Self {
        assert!(
            !weights.is_empty() && weights.len() == biases.len(),
            "need one bias vector per weight matrix"
        );
        let mut sizes = vec![weights[0].cols()];
        for (w, b) in weights.iter().zip(&biases) {
            let n_in = *sizes.last().unwrap();
            assert!(
                w.cols() == n_in && b.len() == w.rows(),
                "layer shapes do not chain: W {:?}, B {}, previous layer {n_in}",
                w.shape(),
                b.len()
            );
            sizes.push(w.rows());
        }
        Network {
            sizes,
            weights,
            biases,
            hidden,
            output,
            cost,
        }
    }

    /// Neurons per layer, input first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Number of weight layers, L − 1 in the write-up's numbering.
    pub fn num_weight_layers(&self) -> usize {
        self.weights.len()
    }

    /// The activation of weight layer `l` (0-based, so the write-up's layer l + 2): hidden, or
    /// the output's for the last.
    pub fn activation(&self, l: usize) -> Activation {
        if l + 1 == self.weights.len() {
            self.output
        } else {
            self.hidden
        }
    }

    /// Total number of weights and biases (15,980 + 40 for the write-up's network).
    pub fn num_parameters(&self) -> usize {
        self.weights
            .iter()
            .map(|w| w.rows() * w.cols())
            .sum::<usize>()
            + self.biases.iter().map(|b| b.len()).sum::<usize>()
    }

    // ANCHOR: feedforward
    /// The forward pass for one image: for each layer l = 2, …, L of the write-up,
    /// zˡ = Wˡaˡ⁻¹ + Bˡ and aˡ = σ(zˡ). Returns the output aᴸ.
    ///
    /// Book: "The forward pass".
    ///
    /// `x`: `(sizes[0])`. Returns: `(sizes[L−1])`.
    ///
    /// # Panics
    /// If `x.len()` is not the input layer's size.
    #[track_caller]
    pub fn feedforward(&self, x: &Vector<T>) -> Vector<T> {
        let mut a = x.clone();
        // `w`, `b` are the write-up's Wˡ⁺², Bˡ⁺²: `l` counts from 0, its layers from 1 (input).
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            a = &w.mul_vec(&a) + b;
            self.activation(l).apply_column(a.as_mut_slice());
        }
        a
    }
    // ANCHOR_END: feedforward

    /// The forward pass for a batch, one column per image: for l = 2, …, L,
    /// Zˡ = WˡAˡ⁻¹ + Bˡ and Aˡ = σ(Zˡ). Returns Aᴸ.
    ///
    /// Book: "The forward pass".
    ///
    /// `x`: `(sizes[0], batch)`. Returns: `(sizes[L−1], batch)`.
    ///
    /// # Panics
    /// If `x.rows()` is not the input layer's size.
    #[track_caller]
    pub fn feedforward_batch(&self, x: &Matrix<T>) -> Matrix<T> {
        let mut a = x.clone();
        let mut z = Matrix::zeros(0, 0);
        for l in 0..self.weights.len() {
            self.layer_forward(l, a.view(), &mut z);
            std::mem::swap(&mut a, &mut z);
        }
        a
    }

    /// One layer of the batched forward pass: weight layer `l` (0-based) is the write-up's
    /// layer l + 2, so this is [`dense_forward`] with W = Wˡ⁺², B = Bˡ⁺² and `a_prev` = Aˡ⁺¹.
    ///
    /// `a_prev`: `(sizes[l], batch)`; `out`: resized to `(sizes[l+1], batch)`.
    #[track_caller]
    pub(crate) fn layer_forward(&self, l: usize, a_prev: MatRef<'_, T>, out: &mut Matrix<T>) {
        let (w, b) = (&self.weights[l], &self.biases[l]);
        dense_forward(w, b, self.activation(l), a_prev, out);
    }

    /// The predicted digit for one image: the index of the largest output.
    ///
    /// Book: "The forward pass".
    pub fn predict(&self, x: &Vector<T>) -> usize {
        self.feedforward(x).argmax()
    }
}

// ANCHOR: layer_forward
/// One fully connected layer of the batched forward pass, all columns at once:
/// out ← f(W·A + B), f the layer's activation (σ in the write-up). Shared by [`Network`] and
/// the fully connected layers of [`crate::convnet::ConvNet`].
///
/// Book: "The forward pass".
///
/// `w`: `(n_out, n_in)`; `b`: `(n_out)`; `a_prev`: `(n_in, batch)`, a view, so the input batch
/// may be stored transposed (see [`crate::backprop::Workspace::input_rows`]); `out`: resized
/// to `(n_out, batch)`.
///
/// # Panics
/// If `a_prev` does not have `w`'s number of columns as rows, naming both shapes.
#[track_caller]
pub(crate) fn dense_forward<T: Scalar>(
    w: &Matrix<T>,
    b: &Vector<T>,
    f: Activation,
    a_prev: MatRef<'_, T>,
    out: &mut Matrix<T>,
) {
    if w.cols() != a_prev.rows {
        crate::linalg::shape_mismatch("W·A", w.shape(), (a_prev.rows, a_prev.cols));
    }
    out.resize(w.rows(), a_prev.cols);
    // out = W·A (β = 0: whatever `out` held is overwritten).
    gemm(T::ONE, w.view(), a_prev, T::ZERO, out.as_mut_slice());
    // Z = W·A + B, B added to every column (every image), then A = f(Z), in place.
    f.add_bias_and_apply(out, b);
}
// ANCHOR_END: layer_forward

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_against_their_limits_before_anything_is_allocated() {
        assert!(check_sizes(&[784, 20, 10, 10]).is_ok());
        assert!(check_sizes(&[784, 800, 800, 10]).is_ok());
        let limit = |sizes: &[usize]| match check_sizes(sizes) {
            Err(Error::TooLarge { what, got, limit }) => (what, got, limit),
            other => panic!("{sizes:?}: expected TooLarge, got {other:?}"),
        };
        assert_eq!(
            limit(&[784, 100_000_000, 10]),
            ("neurons in layer 2".to_string(), 100_000_000, 1 << 20)
        );
        assert_eq!(limit(&[784, usize::MAX, 10]).1, u64::MAX);
        assert_eq!(limit(&vec![3; MAX_LAYERS + 1]).0, "layers");
        assert!(check_sizes(&vec![3; MAX_LAYERS]).is_ok());
        // 2²⁰ × 2²⁰ weights: each layer is allowed, their product is not.
        assert_eq!(limit(&[1 << 20, 1 << 20]).0, "weights and biases");
        for bad in [&[784][..], &[], &[784, 0, 10]] {
            assert!(
                matches!(check_sizes(bad), Err(Error::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn writeup_network_has_15980_weights_and_40_biases() {
        let net: Network<f32> = Network::new(&[784, 20, 10, 10], &mut Rng::new(1));
        assert_eq!(net.num_parameters(), 15_980 + 40);
        assert_eq!(net.weights[0].shape(), (20, 784));
        assert_eq!(net.weights[2].shape(), (10, 10));
    }

    #[test]
    fn initial_parameters_look_standard_normal() {
        let net: Network<f64> = Network::new(&[784, 30, 10], &mut Rng::new(2));
        let w = net.weights[0].as_slice();
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let var = w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / w.len() as f64;
        // 23,520 draws: standard error of the mean ≈ 0.0065, of the variance ≈ 0.009.
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean}, var {var}"
        );
    }

    #[test]
    fn one_neuron_forward_worked_by_hand() {
        // z = 2·0.5 + (−1)·1 + 0.25 = 0.25 → σ(0.25).
        let w = Matrix::from_vec(1, 2, vec![2.0f64, -1.0]);
        let b = Vector::from_vec(vec![0.25]);
        let net = Network::from_parameters(
            vec![w],
            vec![b],
            Activation::Sigmoid,
            Activation::Sigmoid,
            Cost::Quadratic,
        );
        let out = net.feedforward(&Vector::from_vec(vec![0.5, 1.0]));
        assert_eq!(out[0], 1.0 / (1.0 + (-0.25f64).exp()));
    }

    #[test]
    fn batch_forward_equals_per_image_forward() {
        let mut rng = Rng::new(3);
        let net: Network<f64> = Network::new(&[7, 5, 4, 3], &mut rng);
        let x = Matrix::from_fn(7, 6, |_, _| rng.uniform());
        let out = net.feedforward_batch(&x);
        for j in 0..6 {
            let single = net.feedforward(&x.column(j));
            for i in 0..3 {
                assert!((out[(i, j)] - single[i]).abs() < 1e-14);
            }
        }
    }

    #[test]
    #[should_panic(expected = "shape mismatch")]
    fn wrong_input_size_panics_with_shapes() {
        let net: Network<f32> = Network::new(&[4, 2], &mut Rng::new(1));
        net.feedforward(&Vector::zeros(3));
    }
}
