//! What to do with a gradient: plain SGD, momentum, Adam; and L2 weight decay.
//!
//! Book chapter: "Beyond the write-up". Every optimizer takes the batch's mean gradient
//! g = ∂C/∂θ (Eqs 5–6) and a learning rate η (`--eta`, whatever the optimizer):
//!
//! ```text
//!   SGD       θ ← θ − η g                                   (the write-up)
//!   momentum  v ← μ v − η g;  θ ← θ + v                      (μ = 0.9)
//!   Adam      m ← β₁m + (1 − β₁) g;  s ← β₂ s + (1 − β₂) g²
//!             θ ← θ − η m̂ / (√ŝ + ε),  m̂ = m/(1 − β₁ᵗ), ŝ = s/(1 − β₂ᵗ)   (0.9, 0.999, 1e-8)
//! ```
//!
//! L2 regularisation (Nielsen ch. 3) adds (λ/2n) Σ w² to the cost, n the number of
//! training images; its gradient λ/n · W is added to the batch gradient of the weights
//! (not the biases) by [`add_l2`] before the optimizer sees it. For SGD that is exactly
//! Nielsen's weight decay W ← (1 − ηλ/n) W − η ∂C₀/∂W, and training applies it in that
//! form, inside the backward pass ([`crate::backprop::backward_sgd`], as gemm's β); for
//! momentum and Adam it is the classic "L2 in the gradient" (not AdamW's decoupled decay).
//! The gradient checks test that term against finite differences of the regularised cost.
//! Left out: Nesterov momentum, RMSprop, AdamW, gradient clipping.

use crate::backprop::Gradient;
use crate::linalg::{zip_blocks, Matrix, Scalar, Vector};
use crate::network::Network;

/// Momentum's μ: how much of the last step carries over.
pub const MU: f64 = 0.9;
/// Adam's β₁, β₂ and ε, the values its paper recommends.
pub const ADAM: (f64, f64, f64) = (0.9, 0.999, 1e-8);

/// Which update rule turns a gradient into a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Optimizer {
    /// θ ← θ − η g: the write-up's gradient descent.
    Sgd,
    /// Gradient descent with momentum μ = 0.9.
    Momentum,
    /// Adam (Kingma and Ba, 2015), with bias correction.
    Adam,
}

impl Optimizer {
    /// All optimizers, in the order `--help` lists them.
    pub const ALL: [Optimizer; 3] = [Optimizer::Sgd, Optimizer::Momentum, Optimizer::Adam];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Momentum => "momentum",
            Optimizer::Adam => "adam",
        }
    }

    /// The optimizer called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == name)
    }
}

// ANCHOR: add_l2
/// Adds the L2 term's gradient to the weights' gradient: ∂C/∂W += (λ/n) W.
/// `lambda_over_n` is λ/n; biases are not regularised.
pub fn add_l2<T: Scalar>(grad: &mut Gradient<T>, weights: &[Matrix<T>], lambda_over_n: f64) {
    let k = T::from_f64(lambda_over_n);
    for (g, w) in grad.nabla_w.iter_mut().zip(weights) {
        g.add_scaled(k, w);
    }
}

/// The L2 term of the cost, (λ/2n) Σ w² over every weight.
pub fn l2_cost<T: Scalar>(net: &Network<T>, lambda_over_n: f64) -> f64 {
    let sum: f64 = net
        .weights
        .iter()
        .flat_map(|w| w.as_slice())
        .map(|&w| w.to_f64() * w.to_f64())
        .sum();
    0.5 * lambda_over_n * sum
}
// ANCHOR_END: add_l2

/// An optimizer with its per-parameter memory (velocity, or Adam's two moments),
/// allocated once, shaped like the network.
#[derive(Clone, Debug)]
pub struct OptimizerState<T> {
    /// The update rule.
    pub kind: Optimizer,
    /// Momentum's v or Adam's m, one per parameter: weights then biases, layer by layer, so
    /// with k weight layers `first[l]` goes with `weights[l]` (the write-up's Wˡ⁺²) and
    /// `first[k + l]` with `biases[l]` (Bˡ⁺²).
    first: Vec<Vec<T>>,
    /// Adam's s (running mean of g²), indexed as `first`; empty otherwise.
    second: Vec<Vec<T>>,
    /// Steps taken (Adam's t).
    t: i32,
}

impl<T: Scalar> OptimizerState<T> {
    /// Fresh state (all zeros) for `net`'s parameters.
    pub fn new(kind: Optimizer, net: &Network<T>) -> Self {
        Self::for_parameters(kind, &net.weights, &net.biases)
    }

    /// Fresh state (all zeros) for any network's weight matrices and bias vectors (a
    /// [`crate::convnet::ConvNet`]'s too).
    pub fn for_parameters(kind: Optimizer, weights: &[Matrix<T>], biases: &[Vector<T>]) -> Self {
        let shapes: Vec<usize> = weights
            .iter()
            .map(|w| w.rows() * w.cols())
            .chain(biases.iter().map(|b| b.len()))
            .collect();
        let zeros = |on: bool| -> Vec<Vec<T>> {
            if on {
                shapes.iter().map(|&n| vec![T::ZERO; n]).collect()
            } else {
                Vec::new()
            }
        };
        OptimizerState {
            kind,
            first: zeros(kind != Optimizer::Sgd),
            second: zeros(kind == Optimizer::Adam),
            t: 0,
        }
    }

    // ANCHOR: step
    /// One update of every weight and bias of `net` by the gradient `grad`, learning rate η:
    /// θ ← θ − η g for SGD (the write-up's W ← W − η ∂C/∂W), or the rule of the module's
    /// table.
    pub fn step(&mut self, net: &mut Network<T>, grad: &Gradient<T>, eta: T) {
        self.step_parameters(&mut net.weights, &mut net.biases, grad, eta);
    }

    /// [`OptimizerState::step`] for any network's weight matrices and bias vectors.
    pub fn step_parameters(
        &mut self,
        weights: &mut [Matrix<T>],
        biases: &mut [Vector<T>],
        grad: &Gradient<T>,
        eta: T,
    ) {
        self.t += 1;
        let layers = weights.len();
        let params = weights
            .iter_mut()
            .map(Matrix::as_mut_slice)
            .chain(biases.iter_mut().map(|b| b.as_mut_slice()));
        let grads = grad
            .nabla_w
            .iter()
            .map(Matrix::as_slice)
            .chain(grad.nabla_b.iter().map(|b| b.as_slice()));
        // `p` counts the weight matrices, then the bias vectors, as `first` and `second` do.
        // Each rule works weight by weight, so a large layer's step is split across threads
        // in blocks (`zip_blocks`), as its products are.
        let t = self.t;
        for (p, (theta, g)) in params.zip(grads).enumerate() {
            debug_assert!(p < 2 * layers);
            match self.kind {
                Optimizer::Sgd => zip_blocks([theta], g, |[theta], g| sgd(theta, g, eta)),
                Optimizer::Momentum => zip_blocks([theta, &mut self.first[p]], g, |[th, v], g| {
                    momentum(th, g, v, eta)
                }),
                Optimizer::Adam => {
                    let (m, s) = (&mut self.first[p], &mut self.second[p]);
                    zip_blocks([theta, m, s], g, |[th, m, s], g| adam(th, g, m, s, eta, t));
                }
            }
        }
    }
    // ANCHOR_END: step
}

/// θ ← θ − η g, the gradient-descent step, value by value (θ and g one layer's weights or
/// biases and their gradient, the same length; a block of them when the step is split).
fn sgd<T: Scalar>(theta: &mut [T], g: &[T], eta: T) {
    for (th, &gi) in theta.iter_mut().zip(g) {
        *th -= eta * gi;
    }
}

/// v ← μ v − η g;  θ ← θ + v.
fn momentum<T: Scalar>(theta: &mut [T], g: &[T], v: &mut [T], eta: T) {
    let mu = T::from_f64(MU);
    for ((th, &gi), vi) in theta.iter_mut().zip(g).zip(v) {
        *vi = mu * *vi - eta * gi;
        *th += *vi;
    }
}

/// Adam's update with bias-corrected moments, step number `t` (from 1).
fn adam<T: Scalar>(theta: &mut [T], g: &[T], m: &mut [T], s: &mut [T], eta: T, t: i32) {
    let (beta1, beta2, eps) = ADAM;
    let (b1, b2) = (T::from_f64(beta1), T::from_f64(beta2));
    // Fold both bias corrections into one step size: η √(1 − β₂ᵗ) / (1 − β₁ᵗ).
    let c1 = 1.0 - beta1.powi(t);
    let c2 = 1.0 - beta2.powi(t);
    let (inv_c1, inv_c2, eps) = (
        T::from_f64(1.0 / c1),
        T::from_f64(1.0 / c2),
        T::from_f64(eps),
    );
    for (((th, &gi), mi), si) in theta.iter_mut().zip(g).zip(m).zip(s) {
        *mi = b1 * *mi + (T::ONE - b1) * gi;
        *si = b2 * *si + (T::ONE - b2) * gi * gi;
        let m_hat = *mi * inv_c1;
        let s_hat = *si * inv_c2;
        *th -= eta * m_hat / (s_hat.sqrt() + eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::Vector;

    fn one_weight(w: f64) -> Network<f64> {
        use crate::{activation::Activation, cost::Cost};
        Network::from_parameters(
            vec![Matrix::from_vec(1, 1, vec![w])],
            vec![Vector::from_vec(vec![0.0])],
            Activation::Sigmoid,
            Activation::Sigmoid,
            Cost::Quadratic,
        )
    }

    fn grad(g: f64) -> Gradient<f64> {
        Gradient {
            nabla_w: vec![Matrix::from_vec(1, 1, vec![g])],
            nabla_b: vec![Vector::from_vec(vec![0.0])],
        }
    }

    #[test]
    fn momentum_accumulates_velocity_by_hand() {
        // v₁ = −0.1·1 = −0.1, w = 0.9; v₂ = 0.9·(−0.1) − 0.1 = −0.19, w = 0.71.
        let mut net = one_weight(1.0);
        let mut opt = OptimizerState::new(Optimizer::Momentum, &net);
        opt.step(&mut net, &grad(1.0), 0.1);
        opt.step(&mut net, &grad(1.0), 0.1);
        assert!((net.weights[0][(0, 0)] - 0.71).abs() < 1e-15);
    }

    #[test]
    fn adam_first_step_is_eta_times_sign() {
        // With bias correction, m̂ = g and ŝ = g² at t = 1, so the step is η g/(|g| + ε).
        for g in [3.0, -0.002] {
            let mut net = one_weight(0.5);
            let mut opt = OptimizerState::new(Optimizer::Adam, &net);
            opt.step(&mut net, &grad(g), 0.01);
            let expected = 0.5 - 0.01 * g / (g.abs() + 1e-8);
            assert!((net.weights[0][(0, 0)] - expected).abs() < 1e-12);
        }
    }

    #[test]
    fn l2_with_sgd_is_nielsens_weight_decay() {
        // W ← (1 − ηλ/n) W − η g with η = 0.5, λ/n = 0.1, W = 2, g = 0.3: 0.95·2 − 0.15 = 1.75.
        let mut net = one_weight(2.0);
        let mut g = grad(0.3);
        add_l2(&mut g, &net.weights, 0.1);
        OptimizerState::new(Optimizer::Sgd, &net).step(&mut net, &g, 0.5);
        assert!((net.weights[0][(0, 0)] - 1.75).abs() < 1e-15);
        assert!((l2_cost(&net, 0.1) - 0.05 * 1.75 * 1.75).abs() < 1e-15);
    }
}
