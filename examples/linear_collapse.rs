// Why every layer needs σ: without it, three layers are one layer in disguise.
//
// Book: "The forward pass". The write-up's argument is W⁴W³W² = W⁵: stacking linear maps
// gives a linear map. This example checks it numerically, biases included, and then shows
// that putting σ between the layers breaks the collapse. Run it with
// `cargo run --example linear_collapse`.

use scratchnet::activation::sigmoid;
use scratchnet::linalg::{Matrix, Vector};
use scratchnet::rng::Rng;

fn random_matrix(rows: usize, cols: usize, rng: &mut Rng) -> Matrix<f64> {
    Matrix::from_fn(rows, cols, |_, _| rng.normal())
}

fn random_vector(n: usize, rng: &mut Rng) -> Vector<f64> {
    Vector::from_fn(n, |_| rng.normal())
}

fn max_difference(u: &Vector<f64>, v: &Vector<f64>) -> f64 {
    (u - v).as_slice().iter().fold(0.0, |m, d| m.max(d.abs()))
}

fn main() {
    let mut rng = Rng::new(7);
    // A 6 → 5 → 4 → 3 network, small enough to print.
    let (w2, w3, w4) = (
        random_matrix(5, 6, &mut rng),
        random_matrix(4, 5, &mut rng),
        random_matrix(3, 4, &mut rng),
    );
    let (b2, b3, b4) = (
        random_vector(5, &mut rng),
        random_vector(4, &mut rng),
        random_vector(3, &mut rng),
    );
    let x = random_vector(6, &mut rng);

    // ANCHOR: collapse
    // Three layers with no σ: z⁴ = W⁴(W³(W²x + b²) + b³) + b⁴.
    let layered = &w4.mul_vec(&(&w3.mul_vec(&(&w2.mul_vec(&x) + &b2)) + &b3)) + &b4;
    // One layer: W⁵ = W⁴W³W², b⁵ = W⁴(W³b² + b³) + b⁴.
    let w5 = w4.matmul(&w3).matmul(&w2);
    let b5 = &w4.mul_vec(&(&w3.mul_vec(&b2) + &b3)) + &b4;
    let single = &w5.mul_vec(&x) + &b5;
    let gap = max_difference(&layered, &single);
    println!("three linear layers vs one: largest difference {gap:.1e}");
    assert!(gap < 1e-12, "the layers should collapse to W⁵ = W⁴W³W²");
    // ANCHOR_END: collapse

    // ANCHOR: with_sigma
    // An affine map f (linear plus a constant) sends the midpoint of two inputs to the
    // midpoint of their outputs: f((x + y)/2) = (f(x) + f(y))/2. The collapsed layers do;
    // the same layers with σ after each do not, so no single W⁵, B⁵ can stand in for them.
    let y = random_vector(6, &mut rng);
    let midpoint = (&x + &y).scale(0.5);
    let affine = |x: &Vector<f64>| &w5.mul_vec(x) + &b5;
    let with_sigma = |x: &Vector<f64>| {
        let a2 = (&w2.mul_vec(x) + &b2).map(sigmoid);
        let a3 = (&w3.mul_vec(&a2) + &b3).map(sigmoid);
        (&w4.mul_vec(&a3) + &b4).map(sigmoid)
    };
    let gap_affine = max_difference(&affine(&midpoint), &(&affine(&x) + &affine(&y)).scale(0.5));
    let gap_sigma = max_difference(
        &with_sigma(&midpoint),
        &(&with_sigma(&x) + &with_sigma(&y)).scale(0.5),
    );
    println!("midpoint test: without σ off by {gap_affine:.1e}, with σ off by {gap_sigma:.3}");
    // Rounding alone is ~1e-16; with σ the gap is billions of times larger.
    assert!(gap_affine < 1e-12 && gap_sigma > 1e-6);
    // ANCHOR_END: with_sigma
}
