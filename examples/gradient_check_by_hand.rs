// Checking backpropagation against the definition of a derivative, by hand.
//
// Book: "Reproducibility and testing". For every weight and bias θ of a small network,
// nudge θ by ±h, measure the cost on both sides, and compare the slope
// (C(θ + h) − C(θ − h)) / 2h with what backprop_one (Eqs 1–4) says. The real test,
// tests/gradient_check.rs, does the same over random networks with a more accurate
// difference; this is the idea in a page. Run it with
// `cargo run --example gradient_check_by_hand`.

use scratchnet::backprop::backprop_one;
use scratchnet::linalg::Vector;
use scratchnet::network::Network;
use scratchnet::rng::Rng;

// ANCHOR: numerical
/// The cost of one image, C_x = ½‖a^L − y‖², as a function of the whole network.
fn cost(net: &Network<f64>, x: &Vector<f64>, y: &Vector<f64>) -> f64 {
    net.cost.value(net.feedforward(x).as_slice(), y.as_slice())
}

/// The centred difference (C(θ + h) − C(θ − h)) / 2h for the parameter `theta` picks out.
fn slope(
    net: &mut Network<f64>,
    x: &Vector<f64>,
    y: &Vector<f64>,
    theta: impl Fn(&mut Network<f64>) -> &mut f64,
) -> f64 {
    const H: f64 = 1e-5;
    let original = *theta(net);
    *theta(net) = original + H;
    let above = cost(net, x, y);
    *theta(net) = original - H;
    let below = cost(net, x, y);
    *theta(net) = original;
    (above - below) / (2.0 * H)
}
// ANCHOR_END: numerical

fn main() {
    let mut rng = Rng::new(2024);
    let mut net: Network<f64> = Network::new(&[4, 3, 2], &mut rng);
    let x = Vector::from_fn(4, |_| rng.uniform());
    let y = Vector::one_hot(2, 1);

    // ANCHOR: compare
    let grad = backprop_one(&net, &x, &y);
    let mut worst: f64 = 0.0;
    for l in 0..net.num_weight_layers() {
        let (rows, cols) = net.weights[l].shape();
        for i in 0..rows {
            for j in 0..cols {
                let numerical = slope(&mut net, &x, &y, |n| &mut n.weights[l][(i, j)]);
                let backprop = grad.nabla_w[l][(i, j)];
                println!("∂C/∂W[{l}][{i},{j}]: backprop {backprop:+.9}, numerical {numerical:+.9}");
                worst = worst.max((backprop - numerical).abs());
            }
            let numerical = slope(&mut net, &x, &y, |n| &mut n.biases[l][i]);
            worst = worst.max((grad.nabla_b[l][i] - numerical).abs());
        }
    }
    println!(
        "largest disagreement over all {} parameters: {worst:.1e}",
        net.num_parameters()
    );
    // Centred differences with h = 1e-5 are good to about 1e-10 here (h² truncation,
    // ε/h rounding): far below any gradient a wrong equation would produce.
    assert!(worst < 1e-8);
    // ANCHOR_END: compare
}
