//! Backpropagation checked by finite differences for EVERY valid pairing of hidden
//! activation × output activation × cost, with L2's term, and with a fixed dropout mask.
//!
//! The oracle and tolerance are those of `gradient_check.rs` (read its header): the
//! fourth-order centred difference with h = 1e-3, and relative error
//! |g − n| / max(|g| + |n|, 1e-6) < 1e-6.
//!
//! One change, reasoned: the floor. The oracle's rounding noise is about 1.5·ε·C/h, and
//! `gradient_check.rs`'s floor of 1e-6 (an absolute 1e-12) assumes C ≲ 1, true of the
//! quadratic cost. Cross-entropy sums −ln over every output and reaches C ≈ 10, so its noise
//! is ten times larger (a measured case: leaky ReLU, C ≈ 6, gradient 4.5e-7, backprop and
//! oracle 1.04e-12 apart). The floor is therefore 1e-6 · max(1, C): the same absolute
//! test, 1e-12 per unit of cost.
//!
//! The cost checked is the regularised mean cost
//! C = (1/m) Σ_k C_k + (λ/2n) Σ w², with λ ∈ [0.1, 5] and n (the "training set size") in
//! 1..100, so the L2 gradient λ/n · W is a visible part of every weight's gradient.
//!
//! Weights are drawn N(0, 1/n_in) ([`Init::Scaled`]), which keeps every z of order 1: with the
//! write-up's N(0, 1), four identity layers can push a sigmoid output so close to 1 that
//! ln(1 − a) in cross-entropy has no digits left, a limit of f64, not of backprop.
//!
//! Cross-entropy's ln(1 − a) is computed from a sigmoid output a stored to ε ≈ 1.1e-16,
//! so when a is near 1 the cost moves in steps of ε/(1 − a): with 1 − a ≈ 3e-13 (z ≈ 29,
//! which identity layers and dropout's 1/(1 − p) scaling can reach) a step is 4e-4 and
//! the cost is a staircase no finite difference can differentiate (seen on a case where
//! the two-point slope went from 0.53 at h = 1e-2 to −0.03 at h = 1e-4, while backprop,
//! 0.534, was right). The oracle therefore measures cross-entropy from the output layer's z
//! (softplus, `common::cross_entropy_from_z`), which has no such steps; and cases with an output
//! above 1 − 1e-4 are still rejected, for backprop's own δ = a − y, which a rounded a near
//! 1 leaves with few digits.
//!
//! ReLU and leaky ReLU have a kink at z = 0 where the derivative jumps. If a stencil point
//! θ ± h, θ ± 2h sits on the other side of a kink from θ, the finite difference averages two
//! slopes and means nothing. So for each parameter the oracle also records the sign of every
//! hidden z at all five points; if any sign differs, that parameter is skipped (z is
//! piecewise linear or smooth in θ, so equal signs at five points 1e-3 apart means no kink
//! in between, barring a double crossing within 4e-3). A case in which more than half of
//! the parameters had to be skipped (one z near 0 in a narrow late layer makes every weight
//! upstream of it skip) is rejected as a whole with `prop_assume!`; proptest fails the test
//! if it has to reject more than 1,024 cases, so the test cannot pass by skipping.

use crate::common::cross_entropy_from_z;
use proptest::prelude::*;
use scratchnet::activation::Activation;
use scratchnet::backprop::{backprop_batch, backprop_batch_dropout, Gradient, Workspace};
use scratchnet::cost::{validate, Cost};
use scratchnet::init::Init;
use scratchnet::linalg::Matrix;
use scratchnet::network::{Network, NetworkConfig};
use scratchnet::optimizer::{add_l2, l2_cost};
use scratchnet::rng::Rng;

const H: f64 = 1e-3;
const TOLERANCE: f64 = 1e-6;
/// The dropout check's tolerance: masks scale activations by 1/(1 − p), up to 2.5× per
/// layer, and the oracle's rounding noise grows with them. Measured on the case
/// sizes 9-10-3-9-4, leaky ReLU, sigmoid + cross-entropy, p = 0.55 (C ≈ 15): two-point
/// differences drift ∝ 1/h (9.36129e-4 at h = 1e-3, 9.36088e-4 at 1e-4, 9.37654e-4 at
/// 1e-5), i.e. C itself carries ~5e-12 of noise, which the fourth-order formula turns into
/// 7e-9 on a gradient of 9.4e-4: a relative error of 4e-6 that is the oracle's, not
/// backprop's. A wrong mask would be off by tens of percent, so 1e-5 still catches it.
const DROPOUT_TOLERANCE: f64 = 1e-5;
const FLOOR: f64 = 1e-6;

/// Every (hidden, output, cost) that [`validate`] accepts.
fn combinations() -> Vec<(Activation, Activation, Cost)> {
    let mut all = Vec::new();
    for hidden in Activation::ALL {
        for output in Activation::ALL {
            for cost in Cost::ALL {
                if validate(hidden, output, cost).is_ok() {
                    all.push((hidden, output, cost));
                }
            }
        }
    }
    all
}

/// What the check needs: network, batch, targets, λ/n, and (optionally) dropout masks.
struct Case {
    net: Network<f64>,
    x: Matrix<f64>,
    y: Matrix<f64>,
    lambda_over_n: f64,
    /// `masks[l]` multiplies A^l before layer l's weights; empty when not dropped.
    masks: Vec<Matrix<f64>>,
}

impl Case {
    fn new(sizes: &[usize], images: usize, combo: usize, lambda_over_n: f64, seed: u64) -> Case {
        let (hidden, output, cost) = combinations()[combo];
        let mut rng = Rng::new(seed);
        let shape = NetworkConfig {
            sizes: sizes.to_vec(),
            hidden,
            output,
            cost,
            init: Init::Scaled,
        };
        let net = Network::build(&shape, &mut rng);
        let x = Matrix::from_fn(sizes[0], images, |_, _| rng.uniform());
        let classes = *sizes.last().unwrap();
        let mut y = Matrix::zeros(classes, images);
        for j in 0..images {
            y[(rng.below(classes), j)] = 1.0;
        }
        Case {
            net,
            x,
            y,
            lambda_over_n,
            masks: Vec::new(),
        }
    }

    /// Backprop's gradient, with dropout p (masks kept for the oracle) when p > 0.
    fn gradient(&mut self, p: f64, seed: u64) -> Gradient<f64> {
        let mut ws = Workspace::new();
        *ws.input(self.x.rows(), self.x.cols()) = self.x.clone();
        if p > 0.0 {
            backprop_batch_dropout(&self.net, &self.y, &mut ws, p, &mut Rng::new(seed));
            self.masks = ws.masks.clone();
        } else {
            backprop_batch(&self.net, &self.y, &mut ws);
        }
        let mut grad = ws.grad.unwrap();
        add_l2(&mut grad, &self.net.weights, self.lambda_over_n);
        grad
    }

    /// The regularised mean cost, one image at a time through `feedforward`'s maths, with
    /// the dropout masks applied; also the signs of every hidden z (for the kink guard) and
    /// the largest output (for the saturation guard).
    fn cost(&self) -> (f64, Vec<bool>, f64) {
        let (n, layers) = (self.x.cols(), self.net.num_weight_layers());
        let mut signs = Vec::new();
        let (mut total, mut largest) = (0.0, f64::MIN);
        for k in 0..n {
            let mut a = self.x.column(k);
            let mut z_out = a.clone(); // the output layer's z, once the loop reaches it
            for l in 0..layers {
                if let Some(mask) = self.masks.get(l).filter(|m| m.rows() > 0) {
                    a = a.hadamard(&mask.column(k));
                }
                let mut z = &self.net.weights[l].mul_vec(&a) + &self.net.biases[l];
                if l + 1 < layers {
                    signs.extend(z.as_slice().iter().map(|&zi| zi > 0.0));
                }
                z_out = z.clone();
                self.net.activation(l).apply_column(z.as_mut_slice());
                a = z;
            }
            let y = self.y.column(k);
            total += match self.net.cost {
                Cost::CrossEntropy => cross_entropy_from_z(z_out.as_slice(), y.as_slice()),
                cost => cost.value(a.as_slice(), y.as_slice()),
            };
            largest = a.as_slice().iter().fold(largest, |m, &v| m.max(v));
        }
        let c = total / n as f64 + l2_cost(&self.net, self.lambda_over_n);
        (c, signs, largest)
    }

    /// True when cross-entropy's output is so near 1 that backprop's own δ = a − y has too
    /// few digits (see the top).
    fn saturated(&self) -> bool {
        self.net.cost == Cost::CrossEntropy && self.cost().2 > 1.0 - 1e-4
    }

    /// The centred difference for one parameter, or None if a kink lies in the stencil.
    fn numerical(&mut self, param: impl Fn(&mut Network<f64>) -> &mut f64) -> Option<f64> {
        let original = *param(&mut self.net);
        let (_, signs, _) = self.cost();
        let mut at = |offset: f64| {
            *param(&mut self.net) = original + offset;
            self.cost()
        };
        let points = [at(H), at(-H), at(2.0 * H), at(-2.0 * H)];
        *param(&mut self.net) = original;
        if points.iter().any(|(_, s, _)| *s != signs) {
            return None;
        }
        let near = points[0].0 - points[1].0;
        let far = points[2].0 - points[3].0;
        Some((8.0 * near - far) / (12.0 * H))
    }
}

/// Compares every weight and bias; returns (checked, skipped) counts or the first failure.
fn check_all(
    case: &mut Case,
    grad: &Gradient<f64>,
    tolerance: f64,
) -> Result<(usize, usize), String> {
    let (mut checked, mut skipped) = (0, 0);
    let floor = FLOOR * case.cost().0.max(1.0);
    let mut compare = |g: f64, n: Option<f64>, what: String| -> Result<(), String> {
        let Some(n) = n else {
            skipped += 1;
            return Ok(());
        };
        checked += 1;
        let err = (g - n).abs() / (g.abs() + n.abs()).max(floor);
        match err < tolerance {
            true => Ok(()),
            false => Err(format!(
                "{what}: backprop {g}, numerical {n}, relative error {err:e}"
            )),
        }
    };
    for l in 0..case.net.num_weight_layers() {
        let (rows, cols) = case.net.weights[l].shape();
        for i in 0..rows {
            for j in 0..cols {
                let n = case.numerical(|net| &mut net.weights[l][(i, j)]);
                compare(grad.nabla_w[l][(i, j)], n, format!("∂C/∂W[{l}][{i},{j}]"))?;
            }
            let n = case.numerical(|net| &mut net.biases[l][i]);
            compare(grad.nabla_b[l][i], n, format!("∂C/∂B[{l}][{i}]"))?;
        }
    }
    Ok((checked, skipped))
}

fn layer_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=12, 2..=5).prop_map(|mut s| {
        // Softmax and cross-entropy need at least two classes to mean anything.
        *s.last_mut().unwrap() = (*s.last().unwrap()).max(2);
        s
    })
}

/// λ/n with λ ∈ [0.1, 5] and n ∈ 1..100.
fn lambda_over_n() -> impl Strategy<Value = f64> {
    (0.1f64..5.0, 1usize..100).prop_map(|(lambda, n)| lambda / n as f64)
}

#[test]
fn there_are_fifteen_valid_combinations() {
    // 5 hidden activations × {sigmoid+quadratic, sigmoid+cross-entropy, softmax+log-likelihood}.
    assert_eq!(combinations().len(), 15);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Every combination, with L2: backprop agrees with finite differences.
    #[test]
    fn every_combination_matches_finite_differences(
        sizes in layer_sizes(), images in 1usize..=3, combo in 0usize..15,
        l2 in lambda_over_n(), seed in any::<u64>(),
    ) {
        let mut case = Case::new(&sizes, images, combo, l2, seed);
        let grad = case.gradient(0.0, 0);
        prop_assume!(!case.saturated());
        let (checked, skipped) = check_all(&mut case, &grad, TOLERANCE).map_err(|e| {
            TestCaseError::fail(format!("{:?}: {e}", combinations()[combo]))
        })?;
        prop_assume!(skipped <= checked);
    }

    /// With dropout on the hidden layers (a fixed mask, drawn once), backprop is the
    /// gradient of the masked network's cost.
    #[test]
    fn dropout_with_a_fixed_mask_matches_finite_differences(
        sizes in layer_sizes(), images in 1usize..=3, combo in 0usize..15,
        l2 in lambda_over_n(), p in 0.1f64..0.6, seed in any::<u64>(),
    ) {
        let mut case = Case::new(&sizes, images, combo, l2, seed);
        let grad = case.gradient(p, seed ^ 0x5eed);
        prop_assume!(!case.saturated());
        let (checked, skipped) = check_all(&mut case, &grad, DROPOUT_TOLERANCE).map_err(|e| {
            TestCaseError::fail(format!("{:?}, p = {p}: {e}", combinations()[combo]))
        })?;
        prop_assume!(skipped <= checked);
    }
}
