// Equations 1–4 worked by hand on the smallest network that has a hidden layer, and checked
// against backprop_one.
//
// Book: "Backpropagation". The network is 1 → 1 → 1: one input x, one hidden neuron, one
// output, so every matrix is a single number and each equation is one line of arithmetic.
// Run it with `cargo run --example backprop_by_hand`.

use scratchnet::activation::{sigmoid, sigmoid_prime, Activation};
use scratchnet::backprop::backprop_one;
use scratchnet::cost::Cost;
use scratchnet::linalg::{Matrix, Vector};
use scratchnet::network::Network;

fn main() {
    // ANCHOR: by_hand
    // The parameters: W², B² into the hidden neuron, W³, B³ into the output.
    let (w2, b2, w3, b3) = (0.5, 0.0, -1.0, 0.25);
    // One image with one pixel, x = 1, whose target is y = 1.
    let (x, y) = (1.0, 1.0);

    // Forward pass, keeping every z and a.
    let a1 = x;
    let z2 = w2 * a1 + b2;
    let a2 = sigmoid(z2);
    let z3 = w3 * a2 + b3;
    let a3 = sigmoid(z3);

    // Eq 1: the output error.
    let delta3 = (a3 - y) * sigmoid_prime(z3);
    // Eq 2: the error one layer back, through the weight that carried a² forward.
    let delta2 = w3 * delta3 * sigmoid_prime(z2);
    // Eqs 3 and 4: each weight's gradient is its neuron's error times its input;
    // each bias's gradient is its neuron's error.
    let (dc_dw3, dc_db3) = (delta3 * a2, delta3);
    let (dc_dw2, dc_db2) = (delta2 * a1, delta2);
    println!("δ³ = {delta3:+.6}, δ² = {delta2:+.6}");
    println!("∂C/∂W³ = {dc_dw3:+.6}, ∂C/∂B³ = {dc_db3:+.6}");
    println!("∂C/∂W² = {dc_dw2:+.6}, ∂C/∂B² = {dc_db2:+.6}");
    // ANCHOR_END: by_hand

    // ANCHOR: check
    // The library's backprop_one on the same network must give the same four numbers.
    let one = |v: f64| Matrix::from_vec(1, 1, vec![v]);
    let net = Network::from_parameters(
        vec![one(w2), one(w3)],
        vec![Vector::from_vec(vec![b2]), Vector::from_vec(vec![b3])],
        Activation::Sigmoid,
        Activation::Sigmoid,
        Cost::Quadratic,
    );
    let grad = backprop_one(&net, &Vector::from_vec(vec![x]), &Vector::from_vec(vec![y]));
    // weights[0] is the write-up's W², weights[1] its W³.
    let pairs = [
        (grad.nabla_w[1][(0, 0)], dc_dw3),
        (grad.nabla_b[1][0], dc_db3),
        (grad.nabla_w[0][(0, 0)], dc_dw2),
        (grad.nabla_b[0][0], dc_db2),
    ];
    for (library, by_hand) in pairs {
        assert!((library - by_hand).abs() < 1e-15, "{library} vs {by_hand}");
    }
    println!("backprop_one agrees with the hand calculation");
    // ANCHOR_END: check
}
