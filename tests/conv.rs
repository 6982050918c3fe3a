//! Convolutional layers and networks, checked against independent oracles.
//!
//! 1. The fast version (a batch, lowered to matrix products) equals the teaching version (the
//!    direct loops, one image at a time): convolution to rounding, pooling bit for bit, and
//!    whole networks' gradients to rounding.
//! 2. Backpropagation through conv → pool → conv → pool → FC stacks of random small shapes
//!    matches central finite differences of the cost, for EVERY kernel weight, bias and
//!    fully connected weight, in f64, relative error < 1e-6; and with dropout (fixed masks)
//!    to 1e-5.
//! 3. A `ConvNet` of fully connected layers only is the write-up's `Network`, bit for bit,
//!    with dropout too.
//! 4. Training gives the same bits on one thread and on two.
//!
//! Why "to rounding" and not bit for bit in 1: the teaching loops add their products one at
//! a time from left to right; the matrix multiply adds them in another order (in blocks, and
//! with fused multiply-adds, which round once where the loop rounds twice), and the batch
//! scales each sum by 1/n once, where the mean of per-image gradients sums n scaled terms.
//! Every value here is a sum of at most a few thousand products of numbers of order 1, so the
//! two differ by about 1e-14; the tests allow |a − b| ≤ 1e-12 · max(1, |a|, |b|). Pooling
//! only compares and copies, so it is exact.
//!
//! The finite differences are those of `gradient_check_all.rs` (read its header for why):
//! the fourth-order centred difference with h = 1e-3, relative error
//! |g − n| / max(|g| + |n|, 1e-6 · max(1, C)) < 1e-6, the cost measured one image at a time
//! through the teaching forward pass. Max-pooling has a kink wherever two values of a window
//! swap places, as ReLU has at z = 0: if any pooling winner or any ReLU's sign differs at a
//! stencil point from the unperturbed network's, that parameter is skipped; a case that
//! skips more than it checks, or whose cross-entropy output is saturated, is rejected (and
//! proptest fails the test if it must reject too many). Cross-entropy is measured from the
//! output layer's z (`image_cost`), not from a = σ(z): ln(1 − a) of a rounded a near 1 is
//! off by up to ε/(1 − a), which the difference quotient multiplies by 1.5/h (at
//! a = 0.99988 that failed a correct gradient by 3.6e-6). Above 1 − 1e-4 the case is still
//! rejected, because there backprop's own δ = a − y starts to lose digits.

use proptest::prelude::*;
use scratchnet::activation::Activation;
use scratchnet::backprop::{backprop_batch_dropout, Gradient, Workspace};
use scratchnet::conv::{
    conv_backward, conv_backward_batch, conv_forward, conv_forward_batch, pool_backward,
    pool_backward_batch, pool_forward, pool_forward_batch, ConvShape, MapShape,
};
use scratchnet::convnet::{
    backprop_one, backward_batch, forward_batch, forward_batch_dropout, forward_one, ConvNet,
    ConvNetConfig, ConvWorkspace, Layer, Trace,
};
use scratchnet::convtrain::train_epoch;
use scratchnet::cost::Cost;
use scratchnet::data::augment::Augment;
use scratchnet::data::samples::Samples;
use scratchnet::init::Init;
use scratchnet::linalg::{set_threads, Matrix, Vector};
use scratchnet::network::{Network, NetworkConfig};
use scratchnet::optimizer::{Optimizer, OptimizerState};
use scratchnet::rng::Rng;
use scratchnet::train::TrainConfig;

/// |a − b| ≤ 1e-12 · max(1, |a|, |b|): equal to rounding (see the top).
fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let scale = 1f64.max(x.abs()).max(y.abs());
        assert!(
            (x - y).abs() <= 1e-12 * scale,
            "{what}[{i}]: {x} vs {y} (difference {:e})",
            (x - y).abs()
        );
    }
}

/// A (rows, cols) matrix of uniform values in [−1, 1).
fn uniform(rows: usize, cols: usize, rng: &mut Rng) -> Matrix<f64> {
    Matrix::from_fn(rows, cols, |_, _| 2.0 * rng.uniform() - 1.0)
}

/// Column j of `m` as a vector.
fn column(m: &Matrix<f64>, j: usize) -> Vec<f64> {
    m.column(j).into_vec()
}

/// A convolutional layer's geometry from a proptest's numbers, the kernel shrunk to fit.
fn conv_shape(maps_in: usize, rows: usize, cols: usize, k: usize, maps: usize) -> ConvShape {
    ConvShape {
        input: MapShape::new(maps_in, rows, cols),
        k: k.min(rows).min(cols),
        maps,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The batched convolution (im2col and gemm) equals the direct loops, image by image:
    /// the output, ∂C/∂K and ∂C/∂b (the batch's mean), and the error sent back.
    #[test]
    fn fast_convolution_equals_the_teaching_loops(
        maps_in in 1usize..=3, rows in 1usize..=9, cols in 1usize..=9, k in 1usize..=4,
        maps in 1usize..=4, batch in 1usize..=4, seed in any::<u64>(),
    ) {
        let shape = conv_shape(maps_in, rows, cols, k, maps);
        let (input, output) = (shape.input, shape.output());
        let mut rng = Rng::new(seed);
        let a = uniform(input.len(), batch, &mut rng);
        let kernels = uniform(maps, shape.kernel_len(), &mut rng);
        let b = Vector::from_fn(maps, |_| rng.uniform());
        let delta = uniform(output.len(), batch, &mut rng);

        let (mut cols, mut z) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
        conv_forward_batch(shape, &a, &kernels, &b, Activation::Identity, &mut cols, &mut z);
        let (mut nabla_k, mut nabla_b, mut delta_in) =
            (Matrix::zeros(maps, shape.kernel_len()), Vector::zeros(maps), Matrix::zeros(0, 0));
        let back = Some(&mut delta_in);
        conv_backward_batch(shape, &kernels, &delta, &mut cols, &mut nabla_k, &mut nabla_b, back);

        let (mut sum_k, mut sum_b) = (vec![0.0; nabla_k.as_slice().len()], vec![0.0; maps]);
        for n in 0..batch {
            let (a_n, delta_n) = (column(&a, n), column(&delta, n));
            let mut z_n = vec![0.0; output.len()];
            conv_forward(shape, &a_n, kernels.as_slice(), b.as_slice(), &mut z_n);
            assert_close(&column(&z, n), &z_n, "Z");
            let mut back_n = vec![0.0; input.len()];
            let (k, d) = (kernels.as_slice(), &delta_n);
            conv_backward(shape, &a_n, k, d, &mut sum_k, &mut sum_b, &mut back_n);
            assert_close(&column(&delta_in, n), &back_n, "∂C/∂A (Eq 13)");
        }
        let mean = |v: Vec<f64>| -> Vec<f64> { v.iter().map(|x| x / batch as f64).collect() };
        assert_close(nabla_k.as_slice(), &mean(sum_k), "∂C/∂K (Eq 10)");
        assert_close(nabla_b.as_slice(), &mean(sum_b), "∂C/∂b (Eq 11)");
    }

    /// The batched max-pooling picks the same winners as the direct loops and routes δ to
    /// them: exactly the same values, since pooling only compares and copies.
    #[test]
    fn fast_pooling_equals_the_teaching_loops_bit_for_bit(
        maps in 1usize..=3, rows in 1usize..=9, cols in 1usize..=9, k in 1usize..=3,
        batch in 1usize..=4, ties in any::<bool>(), seed in any::<u64>(),
    ) {
        let k = k.min(rows).min(cols);
        let (shape, mut rng) = (MapShape::new(maps, rows, cols), Rng::new(seed));
        let pooled = shape.after_pool(k);
        // With `ties`, values from {0, 1, 2}: windows full of equal maxima.
        let a = Matrix::from_fn(shape.len(), batch, |_, _| match ties {
            true => rng.below(3) as f64,
            false => rng.uniform(),
        });
        let delta = uniform(pooled.len(), batch, &mut rng);
        let (mut out, mut argmax, mut back) = (Matrix::zeros(0, 0), Vec::new(), Matrix::zeros(0, 0));
        pool_forward_batch(shape, k, &a, &mut out, &mut argmax);
        pool_backward_batch(shape, &delta, &argmax, &mut back);
        for n in 0..batch {
            let (mut out_n, mut argmax_n) = (vec![0.0; pooled.len()], vec![0; pooled.len()]);
            pool_forward(shape, k, &column(&a, n), &mut out_n, &mut argmax_n);
            prop_assert_eq!(column(&out, n), out_n);
            let winners: Vec<usize> = (0..pooled.len()).map(|o| argmax[o * batch + n]).collect();
            prop_assert_eq!(winners, argmax_n.clone());
            let mut back_n = vec![0.0; shape.len()];
            pool_backward(&column(&delta, n), &argmax_n, &mut back_n);
            prop_assert_eq!(column(&back, n), back_n);
        }
    }
}

/// The numbers a random stack is made from: conv → pool → conv → pool → (FC) → output.
#[derive(Clone, Debug)]
struct Stack {
    input: MapShape,
    /// (k, maps) of the two convolutions.
    convs: [(usize, usize); 2],
    /// k of the two poolings.
    pools: [usize; 2],
    /// Neurons of the hidden fully connected layer (0: none).
    hidden: usize,
    classes: usize,
    /// Activations of the two convolutions and the hidden layer.
    activations: [Activation; 3],
    /// Which (output activation, cost) pairing.
    output: usize,
}

/// The (output activation, cost) pairings `cost::validate` accepts.
const OUTPUTS: [(Activation, Cost); 3] = [
    (Activation::Softmax, Cost::LogLikelihood),
    (Activation::Sigmoid, Cost::CrossEntropy),
    (Activation::Sigmoid, Cost::Quadratic),
];

impl Stack {
    /// The layers, each kernel and window shrunk to fit what reaches it.
    fn layers(&self) -> Vec<Layer> {
        let mut shape = self.input;
        let mut layers = Vec::new();
        for ((&(k, maps), &pool), &activation) in
            self.convs.iter().zip(&self.pools).zip(&self.activations)
        {
            let k = k.min(shape.rows).min(shape.cols);
            shape = shape.after_conv(k, maps);
            let pool = pool.min(shape.rows).min(shape.cols);
            shape = shape.after_pool(pool);
            layers.push(Layer::Conv {
                k,
                maps,
                activation,
            });
            layers.push(Layer::Pool { k: pool });
        }
        if self.hidden > 0 {
            let activation = self.activations[2];
            layers.push(Layer::Dense {
                neurons: self.hidden,
                activation,
            });
        }
        let activation = OUTPUTS[self.output].0;
        layers.push(Layer::Dense {
            neurons: self.classes,
            activation,
        });
        layers
    }

    fn net(&self, seed: u64) -> ConvNet<f64> {
        let config = ConvNetConfig {
            input: self.input,
            layers: self.layers(),
            cost: OUTPUTS[self.output].1,
            init: Init::Scaled,
        };
        ConvNet::build(&config, &mut Rng::new(seed)).expect("every layer fits")
    }
}

/// Random stacks whose hidden layers use `activations` and whose output pairing is one of
/// `outputs` (indices into [`OUTPUTS`]).
fn stacks(
    activations: &[Activation],
    outputs: std::ops::Range<usize>,
) -> impl Strategy<Value = Stack> {
    let activation = prop::sample::select(activations.to_vec());
    (
        (1usize..=2, 4usize..=11, 4usize..=11),
        [(1usize..=4, 1usize..=3), (1usize..=4, 1usize..=3)],
        [1usize..=2, 1usize..=2],
        (0usize..=3, 2usize..=4),
        [activation.clone(), activation.clone(), activation],
        outputs,
    )
        .prop_map(
            |((maps, rows, cols), convs, pools, (hidden, classes), activations, output)| Stack {
                input: MapShape::new(maps, rows, cols),
                convs,
                pools,
                hidden,
                classes,
                activations,
                output,
            },
        )
}

/// A network, a batch X (one image per column), one-hot targets Y, and dropout's p and the
/// seed of its masks, if it has dropout (the same seed gives the same masks every time).
struct Case {
    net: ConvNet<f64>,
    x: Matrix<f64>,
    y: Matrix<f64>,
    dropout: Option<(f64, u64)>,
}

impl Case {
    fn new(stack: &Stack, images: usize, seed: u64) -> Case {
        let net = stack.net(seed);
        let mut rng = Rng::new(seed ^ 0xda7a);
        let x = Matrix::from_fn(net.input().len(), images, |_, _| rng.uniform());
        let mut y = Matrix::zeros(net.outputs(), images);
        for j in 0..images {
            y[(rng.below(net.outputs()), j)] = 1.0;
        }
        let dropout = None;
        Case { net, x, y, dropout }
    }

    /// The fast forward pass, with the case's dropout masks if it has dropout.
    fn fast_forward(&self) -> ConvWorkspace<f64> {
        let mut ws = ConvWorkspace::new();
        *ws.input() = self.x.clone();
        match self.dropout {
            Some((p, seed)) => forward_batch_dropout(&self.net, &mut ws, p, &mut Rng::new(seed)),
            None => forward_batch(&self.net, &mut ws),
        }
        ws
    }

    /// The fast version's gradient, the batch's mean.
    fn fast_gradient(&self) -> Gradient<f64> {
        let mut ws = self.fast_forward();
        backward_batch(&self.net, &self.y, &mut ws);
        ws.grad.unwrap()
    }

    /// The mean cost, one image at a time through the teaching forward pass (with dropout,
    /// through the fast one, which alone has masks); also what decides each kink (every
    /// pooling winner, every ReLU's sign; without dropout) and the largest output.
    fn cost(&self) -> (f64, Vec<usize>, f64) {
        let (mut total, mut kinks, mut largest) = (0.0, Vec::new(), f64::MIN);
        for n in 0..self.x.cols() {
            let trace = forward_one(&self.net, &column(&self.x, n));
            for (l, layer) in self.net.layers().iter().enumerate() {
                kinks.extend(&trace.argmax[l]);
                if matches!(
                    layer.activation(),
                    Some(Activation::Relu | Activation::LeakyRelu)
                ) {
                    kinks.extend(trace.a[l + 1].iter().map(|&a| usize::from(a > 0.0)));
                }
            }
            total += image_cost(&self.net, &trace, &column(&self.y, n));
            let out = trace.a.last().unwrap();
            largest = out.iter().fold(largest, |m, &v| m.max(v));
        }
        if self.dropout.is_some() {
            // The masked network's cost: through the fast forward pass with the same masks
            // (softmax outputs only, whose −ln a loses no digits: see `image_cost`).
            let (a, y) = (self.fast_forward().output().transpose(), self.y.transpose());
            total = (0..a.rows())
                .map(|k| self.net.cost.value(a.row(k), y.row(k)))
                .sum();
        }
        (total / self.x.cols() as f64, kinks, largest)
    }

    /// The fourth-order centred difference for one parameter, or None across a kink.
    fn numerical(&mut self, param: impl Fn(&mut ConvNet<f64>) -> &mut f64) -> Option<f64> {
        const H: f64 = 1e-3;
        let original = *param(&mut self.net);
        let (_, kinks, _) = self.cost();
        let mut at = |offset: f64| {
            *param(&mut self.net) = original + offset;
            self.cost()
        };
        let points = [at(H), at(-H), at(2.0 * H), at(-2.0 * H)];
        *param(&mut self.net) = original;
        if points.iter().any(|(_, k, _)| *k != kinks) {
            return None;
        }
        let (near, far) = (points[0].0 - points[1].0, points[2].0 - points[3].0);
        Some((8.0 * near - far) / (12.0 * H))
    }
}

/// One image's cost, from its trace through the teaching forward pass. Cross-entropy is
/// written in the output layer's z, C_x = Σ_j [y_j softplus(−z_j) + (1 − y_j) softplus(z_j)]
/// with softplus(z) = ln(1 + eᶻ) = −ln(1 − σ(z)): `Cost::value` takes ln(1 − a) of a = σ(z)
/// rounded to ε, which is off by up to ε/(1 − a) (1e-12 at a = 0.99988, still below the
/// saturation guard), and the difference quotient multiplies that by 1.5/h, enough to fail a
/// correct gradient (`a_nearly_saturated_cross_entropy_output_meets_1e_6`). The other costs
/// take no difference of nearly equal numbers, so they go through `Cost::value`.
fn image_cost(net: &ConvNet<f64>, trace: &Trace<f64>, y: &[f64]) -> f64 {
    let top = net.layers().len();
    if net.cost != Cost::CrossEntropy {
        return net.cost.value(&trace.a[top], y);
    }
    let input = Vector::from_vec(trace.a[top - 1].clone());
    let z = &net.weights[top - 1].mul_vec(&input) + &net.biases[top - 1];
    crate::common::cross_entropy_from_z(z.as_slice(), y)
}

/// Every weight and bias of every layer: its name, backprop's value, and the finite
/// difference (None where a kink is in the stencil).
fn every_parameter(case: &mut Case, grad: &Gradient<f64>) -> Vec<(String, f64, Option<f64>)> {
    let mut all = Vec::new();
    for l in 0..case.net.layers().len() {
        let (rows, cols) = case.net.weights[l].shape();
        let token = case.net.layers()[l].token();
        for i in 0..rows {
            for j in 0..cols {
                let n = case.numerical(|net| &mut net.weights[l][(i, j)]);
                all.push((
                    format!("{token}: ∂C/∂W[{i},{j}]"),
                    grad.nabla_w[l][(i, j)],
                    n,
                ));
            }
            let n = case.numerical(|net| &mut net.biases[l][i]);
            all.push((format!("{token}: ∂C/∂b[{i}]"), grad.nabla_b[l][i], n));
        }
    }
    all
}

/// Checks every parameter's gradient against finite differences, to `tolerance`; rejects
/// the case if cross-entropy's output is saturated or it skips more than it checks.
fn check_against_finite_differences(
    case: &mut Case,
    stack: &Stack,
    tolerance: f64,
) -> Result<(), TestCaseError> {
    let grad = case.fast_gradient();
    let (cost, _, largest) = case.cost();
    let cross_entropy = OUTPUTS[stack.output].1 == Cost::CrossEntropy;
    // Backprop's δ = a − y is off by ε/(1 − a) when y = 1 (the oracle is not: `image_cost`).
    prop_assume!(!(cross_entropy && largest > 1.0 - 1e-4));
    let floor = 1e-6 * cost.max(1.0);
    let all = every_parameter(case, &grad);
    let checked: Vec<_> = all
        .iter()
        .filter_map(|(w, g, n)| n.map(|n| (w, *g, n)))
        .collect();
    for (what, g, n) in &checked {
        let err = (g - n).abs() / (g.abs() + n.abs()).max(floor);
        prop_assert!(
            err < tolerance,
            "{}, {:?}, {what}: backprop {g}, numerical {n}, relative error {err:e}",
            case.net.spec(),
            stack.activations
        );
    }
    prop_assume!(all.len() - checked.len() <= checked.len());
    Ok(())
}

/// The case proptest found (tests/conv.proptest-regressions), built here so that it does
/// not depend on proptest's version: a sigmoid output of 0.99988 whose target is 0, where
/// the oracle, when it took ln(1 − a) of the rounded a, missed backprop's correct ∂C/∂W[0,2]
/// of the first convolution (1.6009941e-5) by 1.2e-10, a relative error of 3.6e-6.
#[test]
fn a_nearly_saturated_cross_entropy_output_meets_1e_6() {
    use Activation::{Identity, LeakyRelu, Sigmoid};
    let stack = Stack {
        input: MapShape::new(1, 9, 7),
        convs: [(4, 2), (2, 1)],
        pools: [2, 1],
        hidden: 0,
        classes: 4,
        activations: [LeakyRelu, Identity, Sigmoid],
        output: 1,
    };
    let mut case = Case::new(&stack, 1, 12_034_627_200_126_549_779);
    let (_, _, largest) = case.cost();
    assert!(
        (0.9998..1.0 - 1e-4).contains(&largest),
        "the network changed: its largest output is {largest}, not the case's 0.99988"
    );
    check_against_finite_differences(&mut case, &stack, 1e-6).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every kernel weight, bias and fully connected weight: the fast version's gradient is
    /// the slope of the cost.
    #[test]
    fn every_gradient_matches_finite_differences(
        stack in stacks(&Activation::HIDDEN, 0..3), images in 1usize..=3, seed in any::<u64>(),
    ) {
        check_against_finite_differences(&mut Case::new(&stack, images, seed), &stack, 1e-6)?;
    }

    /// With dropout on the inputs of the fully connected layers (a fixed mask), the gradient
    /// is the slope of the masked network's cost. Smooth activations only, so the one kind of
    /// kink is pooling's, which comes before every mask; softmax output. The tolerance is
    /// that of `gradient_check_all.rs`'s dropout check, for the same reason (the masks' 1/(1 − p)
    /// scaling amplifies the oracle's rounding noise); a wrong mask is off by far more.
    #[test]
    fn dropout_with_a_fixed_mask_matches_finite_differences(
        stack in stacks(&[Activation::Sigmoid, Activation::Tanh, Activation::Identity], 0..1),
        images in 1usize..=3, p in 0.1f64..0.6, seed in any::<u64>(),
    ) {
        let mut case = Case::new(&stack, images, seed);
        case.dropout = Some((p, seed ^ 0x5eed));
        check_against_finite_differences(&mut case, &stack, 1e-5)?;
    }

    /// The batch's gradient (fast version) is the mean of the per-image gradients of the
    /// direct loops.
    #[test]
    fn the_batch_gradient_is_the_mean_of_the_teaching_gradients(
        stack in stacks(&Activation::HIDDEN, 0..3), images in 1usize..=4, seed in any::<u64>(),
    ) {
        let case = Case::new(&stack, images, seed);
        let fast = case.fast_gradient();
        let mut sum = case.net.zero_gradient();
        for n in 0..images {
            let one = backprop_one(&case.net, &column(&case.x, n), &column(&case.y, n));
            for (s, g) in sum.nabla_w.iter_mut().zip(&one.nabla_w) {
                *s += g;
            }
            for (s, g) in sum.nabla_b.iter_mut().zip(&one.nabla_b) {
                *s += g;
            }
        }
        let mean = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x / images as f64).collect() };
        for l in 0..case.net.layers().len() {
            let token = case.net.layers()[l].token();
            let what = format!("{}: ∂C/∂W of {token}", case.net.spec());
            assert_close(fast.nabla_w[l].as_slice(), &mean(sum.nabla_w[l].as_slice()), &what);
            let what = format!("{}: ∂C/∂b of {token}", case.net.spec());
            assert_close(fast.nabla_b[l].as_slice(), &mean(sum.nabla_b[l].as_slice()), &what);
        }
    }
}

/// The fully connected layers of a `ConvNet` are the write-up's: built with the same seed,
/// a `ConvNet` of `Dense` layers has `Network`'s weights, outputs and gradients, bit for bit,
/// with dropout too.
#[test]
fn a_convnet_of_dense_layers_is_the_write_ups_network() {
    let (sigmoid, tanh) = (Activation::Sigmoid, Activation::Tanh);
    let dense = |neurons, activation| Layer::Dense {
        neurons,
        activation,
    };
    let config = ConvNetConfig {
        input: MapShape::new(1, 4, 4),
        layers: vec![dense(7, tanh), dense(5, tanh), dense(3, sigmoid)],
        cost: Cost::CrossEntropy,
        init: Init::Normal,
    };
    let conv: ConvNet<f64> = ConvNet::build(&config, &mut Rng::new(9)).unwrap();
    let shape = NetworkConfig {
        sizes: vec![16, 7, 5, 3],
        hidden: tanh,
        output: sigmoid,
        cost: Cost::CrossEntropy,
        init: Init::Normal,
    };
    let net: Network<f64> = Network::build(&shape, &mut Rng::new(9));
    assert_eq!((&conv.weights, &conv.biases), (&net.weights, &net.biases));

    let mut rng = Rng::new(10);
    let x = Matrix::from_fn(16, 6, |_, _| rng.uniform());
    let y = Matrix::from_fn(3, 6, |i, j| f64::from(u8::from(i == j % 3)));
    // Without dropout, and with it (the same masks from the same seed: both drop the inputs
    // of every layer but the first).
    for p in [0.0, 0.4] {
        let mut ws = Workspace::new();
        *ws.input(16, 6) = x.clone();
        backprop_batch_dropout(&net, &y, &mut ws, p, &mut Rng::new(11));
        let mut conv_ws = ConvWorkspace::new();
        *conv_ws.input() = x.clone();
        forward_batch_dropout(&conv, &mut conv_ws, p, &mut Rng::new(11));
        backward_batch(&conv, &y, &mut conv_ws);
        assert_eq!(conv_ws.output(), ws.output());
        assert_eq!(conv_ws.grad, ws.grad, "dropout p = {p}");
    }
}

/// The parameters of a small convolutional network after two epochs on `threads` threads,
/// with every random choice training makes (shuffling, distorted images, dropout masks) and L2.
/// The convolution's product (8 × 25 times 25 × 28,800) passes `PARALLEL_MIN_WORK` and its
/// σ over 230,400 values `PARALLEL_MIN_ELEMENTS`, so both really are split.
fn trained_bits(threads: usize, optimizer: Optimizer) -> Vec<u64> {
    let mut rng = Rng::new(4);
    let images = Matrix::from_fn(100, 784, |_, _| rng.uniform() as f32);
    let data = Samples::new(images, (0..100).map(|_| rng.below(10) as u8).collect());
    let relu = Activation::Relu;
    let config = ConvNetConfig {
        input: MapShape::new(1, 28, 28),
        layers: vec![
            Layer::Conv {
                k: 5,
                maps: 8,
                activation: relu,
            },
            Layer::Pool { k: 2 },
            Layer::Dense {
                neurons: 10,
                activation: Activation::Softmax,
            },
        ],
        cost: Cost::LogLikelihood,
        init: Init::He,
    };
    let mut net: ConvNet<f32> = ConvNet::build(&config, &mut rng).unwrap();
    let train = TrainConfig {
        batch_size: 50,
        eta: 0.1,
        lambda: 1.0,
        augment: Augment::Distort,
        dropout: 0.3,
        ..TrainConfig::default()
    };
    set_threads(threads);
    let mut ws = ConvWorkspace::new();
    let mut opt = OptimizerState::for_parameters(optimizer, &net.weights, &net.biases);
    let train = TrainConfig { optimizer, ..train };
    for epoch in 1..=2 {
        let state = (&mut ws, &mut opt);
        train_epoch(
            &mut net,
            &data,
            &train,
            (0.1, epoch),
            &mut rng,
            state,
            &mut (),
        );
    }
    set_threads(1);
    let w = net.weights.iter().flat_map(|w| w.as_slice());
    let b = net.biases.iter().flat_map(|b| b.as_slice());
    w.chain(b).map(|x| u64::from(x.to_bits())).collect()
}

#[test]
fn training_gives_the_same_bits_on_one_thread_and_on_two() {
    for optimizer in [Optimizer::Sgd, Optimizer::Adam] {
        let one = trained_bits(1, optimizer);
        assert_eq!(one, trained_bits(1, optimizer), "the same seed twice");
        assert_eq!(one, trained_bits(2, optimizer), "one thread and two");
    }
}
