//! Backpropagation: the gradient of the cost with respect to every weight and bias, by the
//! write-up's Equations 1–8.
//!
//! Book chapter: "Backpropagation". The write-up writes δˡ = ∂C/∂Zˡ as a ROW vector; here,
//! as in most code, δˡ is stored as a COLUMN (its transpose), so the write-up's
//! δˡ⁺¹ · Wˡ⁺¹ becomes (Wˡ⁺¹)ᵀ δˡ⁺¹ and its (δˡ)ᵀ (Aˡ⁻¹)ᵀ becomes δˡ (Aˡ⁻¹)ᵀ. And as in
//! [`crate::network`], Rust counts weight layers from 0 where the write-up counts layers from
//! the input's 1: index `l` of `nabla_w`, `nabla_b` or the network's weights is the
//! write-up's layer l + 2, and the lines where this matters say so.
//!
//! Two versions of the same maths:
//! - [`backprop_one`] follows the equations symbol by symbol for one image;
//! - [`backprop_batch`] does a whole mini-batch at once, one column per image, so that the
//!   averages of Eqs 5–6 become one matrix product and one row sum. It is the fast path, and
//!   the tests prove it equals the mean of [`backprop_one`] over the batch. One liberty it
//!   takes: an error δ too small for a normal f32 (below 2⁻¹²⁶) is stored as zero
//!   ([`Scalar::flush_subnormal`], for speed on Intel cores), where [`backprop_one`] keeps
//!   the equations as written.

use crate::linalg::{for_each_row_sum, gemm, zip_map_in_place, MatRef, Matrix, Scalar, Vector};
use crate::network::Network;

/// ∂C/∂W and ∂C/∂B for every layer: the same shapes as the network's weights and biases.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient<T> {
    /// `nabla_w[l]`: `(sizes[l+1], sizes[l])`, ∂C/∂W for weight layer l, the write-up's
    /// ∂C/∂Wˡ⁺² (it numbers the input layer 1).
    pub nabla_w: Vec<Matrix<T>>,
    /// `nabla_b[l]`: `(sizes[l+1])`, ∂C/∂B for weight layer l, the write-up's ∂C/∂Bˡ⁺².
    pub nabla_b: Vec<Vector<T>>,
}

impl<T: Scalar> Gradient<T> {
    /// A zero gradient shaped like `net`'s parameters.
    pub fn zeros_like(net: &Network<T>) -> Self {
        Gradient {
            nabla_w: net
                .weights
                .iter()
                .map(|w| Matrix::zeros(w.rows(), w.cols()))
                .collect(),
            nabla_b: net.biases.iter().map(|b| Vector::zeros(b.len())).collect(),
        }
    }
}

// ANCHOR: backprop_one
/// Backpropagation for one image `x` with one-hot target `y`: the gradient of that image's
/// cost C_x (for the quadratic cost, ½‖aᴸ − y‖²), by Eq 1 (δᴸ), Eq 2 (δˡ from δˡ⁺¹),
/// Eq 3 as Eq 7 (∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ) and Eq 4 as Eq 8 (∂C/∂Bˡ = δˡ).
///
/// Book: "Backpropagation".
///
/// `x`: `(sizes[0])`, `y`: `(sizes[L−1])`. Returns ∂C_x/∂W and ∂C_x/∂B for every layer.
///
/// # Panics
/// If `x` or `y` has the wrong length.
#[track_caller]
pub fn backprop_one<T: Scalar>(net: &Network<T>, x: &Vector<T>, y: &Vector<T>) -> Gradient<T> {
    // Forward pass, keeping every zˡ and aˡ: backward needs them.
    let mut activations = vec![x.clone()]; // a¹ = x, a², …, aᴸ: `activations[l]` is aˡ⁺¹
    let mut zs = Vec::new(); // z², …, zᴸ: `zs[l]` is zˡ⁺²
    for (l, (w, b)) in net.weights.iter().zip(&net.biases).enumerate() {
        // `w`, `b` are Wˡ⁺², Bˡ⁺²: the write-up numbers the input layer 1.
        let z = &w.mul_vec(activations.last().unwrap()) + b;
        let mut a = z.clone();
        net.activation(l).apply_column(a.as_mut_slice());
        activations.push(a);
        zs.push(z);
    }
    let last = net.num_weight_layers() - 1; // the output layer L is last + 2
    let a_out = &activations[last + 1]; // aᴸ
    assert_eq!(
        y.len(),
        a_out.len(),
        "backprop_one: target has {} entries, output {}",
        y.len(),
        a_out.len()
    );

    // Eq 1: δᴸ = (aᴸ − y) ⊙ σ′(zᴸ)   (for the quadratic cost; `Cost` supplies the rest).
    let mut delta = Vector::from_fn(a_out.len(), |i| {
        net.cost.output_delta(net.output, a_out[i], y[i])
    });

    let mut grad = Gradient::zeros_like(net);
    // Rust's `l` is the write-up's layer l + 2, so here `delta` is δˡ⁺², `nabla_b[l]` is
    // ∂C/∂Bˡ⁺², `nabla_w[l]` is ∂C/∂Wˡ⁺² and `activations[l]` is aˡ⁺¹.
    for l in (0..=last).rev() {
        // Eq 4 / Eq 8: ∂C/∂Bˡ⁺² = δˡ⁺².
        grad.nabla_b[l] = delta.clone();
        // Eq 3 / Eq 7: ∂C/∂Wˡ⁺²ᵢⱼ = δˡ⁺²ᵢ aˡ⁺¹ⱼ, the outer product δˡ⁺² (aˡ⁺¹)ᵀ.
        grad.nabla_w[l] = delta.outer(&activations[l]);
        if l > 0 {
            // Eq 2: δˡ⁺¹ = (Wˡ⁺²)ᵀ δˡ⁺² ⊙ σ′(zˡ⁺¹)   (the write-up's δˡ⁺²·Wˡ⁺², as a column),
            // with `weights[l]` = Wˡ⁺² and `zs[l − 1]` = zˡ⁺¹.
            let sp = zs[l - 1].map(|zi| net.activation(l - 1).derivative(zi));
            delta = net.weights[l].t_mul_vec(&delta).hadamard(&sp);
        }
    }
    grad
}
// ANCHOR_END: backprop_one

/// Buffers for [`backprop_batch`], kept between mini-batches so a training step allocates
/// nothing after the first batch.
#[derive(Clone, Debug, Default)]
pub struct Workspace<T> {
    /// `a[l]`: `(sizes[l], batch)`, the write-up's Aˡ⁺¹, for l ≥ 1. `a[0]` holds the input
    /// batch X = A¹, one column per image, either as it is written, `(sizes[0], batch)`, or
    /// stored transposed, one image per ROW, `(batch, sizes[0])`: see
    /// [`Workspace::input_rows`]. Read X through [`Workspace::x`].
    pub a: Vec<Matrix<T>>,
    /// True when `a[0]` holds Xᵀ (one image per row) rather than X.
    x_by_rows: bool,
    /// Δ for the weight layer `l` being processed, the write-up's Δˡ⁺²: `(sizes[l+1], batch)`.
    delta: Matrix<T>,
    /// Scratch for the Δ one layer back, Δˡ⁺¹ = (Wˡ⁺²)ᵀ Δˡ⁺² ⊙ σ′(Zˡ⁺¹) for weight layer `l`:
    /// `(sizes[l], batch)`.
    back: Matrix<T>,
    /// The mean gradient over the batch (Eqs 5–6).
    pub grad: Option<Gradient<T>>,
    /// Dropout: `masks[l]`, for `a[l]` (the write-up's Aˡ⁺¹), is `(sizes[l], batch)` with
    /// entries 0 or 1/(1 − p) for a hidden layer in training, empty (0 × 0) where nothing is
    /// dropped (input, output, or dropout off). Filled by [`forward_batch_dropout`].
    pub masks: Vec<Matrix<T>>,
    /// `kept[l]` = `a[l]` ⊙ `masks[l]` (Aˡ⁺¹ ⊙ mask), what the next layer sees when `a[l]` has
    /// a mask.
    kept: Vec<Matrix<T>>,
}

impl<T: Scalar> Workspace<T> {
    /// An empty workspace; buffers grow on first use and are reused after.
    pub fn new() -> Self {
        Workspace {
            a: Vec::new(),
            x_by_rows: false,
            delta: Matrix::zeros(0, 0),
            back: Matrix::zeros(0, 0),
            grad: None,
            masks: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// The input batch buffer X = A¹, `(sizes[0], batch)`, resized for `batch` columns: fill
    /// column j with image j.
    pub fn input(&mut self, n_in: usize, batch: usize) -> &mut Matrix<T> {
        self.input_buffer(false, n_in, batch)
    }

    // ANCHOR: input_rows
    /// The input batch buffer stored transposed: Xᵀ, `(batch, sizes[0])`, one image per ROW.
    ///
    /// The maths (and [`Workspace::x`]) still sees X with one column per image; only the
    /// storage differs. It is faster: copying an image in is one contiguous copy instead of
    /// `sizes[0]` writes `batch` apart, and both of layer 1's products then read X along
    /// contiguous rows: W·X becomes dot products of W's rows with the images, and
    /// ∇W = Δ·Xᵀ reads Xᵀ as an ordinary row-major matrix. Training and [`crate::train::evaluate`]
    /// use this; [`Workspace::input`] is the plain layout, for tests and readers.
    ///
    /// Book: "Making it fast" (Training an epoch).
    pub fn input_rows(&mut self, n_in: usize, batch: usize) -> &mut Matrix<T> {
        self.input_buffer(true, batch, n_in)
    }

    fn input_buffer(&mut self, by_rows: bool, rows: usize, cols: usize) -> &mut Matrix<T> {
        if self.a.is_empty() {
            self.a.push(Matrix::zeros(0, 0));
        }
        self.x_by_rows = by_rows;
        self.a[0].resize(rows, cols);
        &mut self.a[0]
    }

    /// The input batch X = A¹ as a `(sizes[0], batch)` view, one column per image, however it
    /// is stored (a transposed view of `a[0]` after [`Workspace::input_rows`]; no copy).
    pub fn x(&self) -> MatRef<'_, T> {
        let v = self.a[0].view();
        if self.x_by_rows {
            v.t()
        } else {
            v
        }
    }
    // ANCHOR_END: input_rows

    /// The input of weight layer `l` as a view: `a[l]`, the write-up's Aˡ⁺¹ (X for l = 0),
    /// with dropout's mask applied if it has one.
    fn layer_input(&self, l: usize) -> MatRef<'_, T> {
        match self.masks.get(l) {
            Some(mask) if mask.rows() > 0 => self.kept[l].view(),
            _ if l == 0 => self.x(),
            _ => self.a[l].view(),
        }
    }

    /// The network's output Aᴸ from the last forward pass: `(sizes[L−1], batch)`.
    pub fn output(&self) -> &Matrix<T> {
        self.a
            .last()
            .expect("Workspace::output before any forward pass")
    }
}

/// The batched forward pass into the workspace: Aˡ = σ(WˡAˡ⁻¹ + Bˡ) for every layer
/// l = 2, …, L, keeping every Aˡ for the backward pass. `ws` must hold X = A¹
/// ([`Workspace::input`] or [`Workspace::input_rows`]).
///
/// Book: "The forward pass", "Backpropagation".
pub fn forward_batch<T: Scalar>(net: &Network<T>, ws: &mut Workspace<T>) {
    let layers = net.num_weight_layers();
    ws.a.resize_with(layers + 1, || Matrix::zeros(0, 0));
    ws.masks.iter_mut().for_each(|m| m.resize(0, 0));
    for l in 0..layers {
        // Weight layer `l`'s output `a[l + 1]` (the write-up's Aˡ⁺²) is taken out of `ws` (no
        // copy, no allocation) so that the layer can read its input from `ws` while writing it.
        let mut out = std::mem::take(&mut ws.a[l + 1]);
        net.layer_forward(l, ws.layer_input(l), &mut out);
        ws.a[l + 1] = out;
    }
}

// ANCHOR: dropout
/// The batched forward pass in training with (inverted) dropout: after each hidden layer,
/// every activation is kept with probability 1 − p and scaled by 1/(1 − p), or set to 0.
/// The scaling keeps each neuron's expected output unchanged, so evaluation (which uses
/// [`forward_batch`], no dropout) needs no correction. Masks come from `rng`, so a seed
/// fixes them; they are kept in `ws.masks` for the backward pass.
pub fn forward_batch_dropout<T: Scalar>(
    net: &Network<T>,
    ws: &mut Workspace<T>,
    p: f64,
    rng: &mut crate::rng::Rng,
) {
    assert!(
        (0.0..1.0).contains(&p),
        "dropout p must be in [0, 1), got {p}"
    );
    let layers = net.num_weight_layers();
    let keep = T::from_f64(1.0 / (1.0 - p));
    ws.a.resize_with(layers + 1, || Matrix::zeros(0, 0));
    ws.masks.resize_with(layers + 1, || Matrix::zeros(0, 0));
    ws.kept.resize_with(layers + 1, || Matrix::zeros(0, 0));
    for l in 0..layers {
        // As in `forward_batch`: `a[l + 1]` is the write-up's Aˡ⁺², `masks[l + 1]` its mask.
        let mut out = std::mem::take(&mut ws.a[l + 1]);
        net.layer_forward(l, ws.layer_input(l), &mut out);
        ws.a[l + 1] = out;
        let hidden = l + 1 < layers;
        let (rows, cols) = ws.a[l + 1].shape();
        let mask = &mut ws.masks[l + 1];
        mask.resize(if hidden && p > 0.0 { rows } else { 0 }, cols);
        if mask.rows() == 0 {
            continue;
        }
        for m in mask.as_mut_slice() {
            *m = if rng.uniform() < p { T::ZERO } else { keep };
        }
        let kept = &mut ws.kept[l + 1];
        kept.resize(rows, cols);
        let cells = kept.as_mut_slice().iter_mut().zip(ws.a[l + 1].as_slice());
        for ((k, &a), &m) in cells.zip(mask.as_slice()) {
            *k = a * m;
        }
    }
}
// ANCHOR_END: dropout

// ANCHOR: backprop_batch
/// Backpropagation for a mini-batch, one column per image: the mean gradient over the
/// batch, Eqs 5–6 (with Eqs 1–2 for the Δs), computed as matrix products. The result is
/// left in `ws.grad`.
///
/// Book: "Backpropagation".
///
/// `ws` holds X: `(sizes[0], n)` (see [`Workspace::x`]); `y`: `(sizes[L−1], n)`, one one-hot
/// column per image.
///
/// # Panics
/// If `y`'s shape does not match the output layer and the batch.
#[track_caller]
pub fn backprop_batch<T: Scalar>(net: &Network<T>, y: &Matrix<T>, ws: &mut Workspace<T>) {
    forward_batch(net, ws);
    backward_batch(net, y, ws);
}

// ANCHOR: backward_batch
/// The backward half of [`backprop_batch`]: Eqs 1, 2, 5, 6 for every layer, from the
/// activations (and any dropout masks) the forward pass left in `ws`.
#[track_caller]
pub fn backward_batch<T: Scalar>(net: &Network<T>, y: &Matrix<T>, ws: &mut Workspace<T>) {
    let last = net.num_weight_layers() - 1;
    let inv_n = T::ONE / T::from_f64(ws.x().cols as f64);
    // Taken out of `ws` while the loop reads the rest of it; put back at the end.
    let mut grad = ws.grad.take().unwrap_or_else(|| Gradient::zeros_like(net));
    output_delta(net, y, ws);
    // Rust's `l` is the write-up's layer l + 2: `ws.delta` holds Δˡ⁺², `nabla_w[l]` is
    // ∂C/∂Wˡ⁺², `nabla_b[l]` is ∂C/∂Bˡ⁺², and the layer's input is Aˡ⁺¹.
    for l in (0..=last).rev() {
        // Eq 5 (Eq 7 summed over the batch): ∂C/∂Wˡ⁺² = (1/n) Δˡ⁺² (Aˡ⁺¹)ᵀ, the 1/n
        // applied by gemm's α (one rounding, as if it were a separate pass).
        let input = ws.layer_input(l);
        let nabla_w = grad.nabla_w[l].as_mut_slice();
        gemm(inv_n, ws.delta.view(), input.t(), T::ZERO, nabla_w);
        // Eq 6 (Eq 8 summed over the batch): ∂C/∂Bˡ⁺² = (1/n) Σₖ (column k of Δˡ⁺²), a row
        // sum of Δˡ⁺² for each bias.
        let nabla_b = grad.nabla_b[l].as_mut_slice();
        for_each_row_sum(ws.delta.view(), nabla_b, |gb, sum| *gb = sum * inv_n);
        if l > 0 {
            delta_before(net, l, ws);
            std::mem::swap(&mut ws.delta, &mut ws.back);
        }
    }
    ws.grad = Some(grad);
}

/// Eq 1, all columns: Δᴸ = (Aᴸ − Y) ⊙ σ′(Zᴸ) (the cost supplies the first factor), into
/// `ws.delta`, `(sizes[L−1], batch)`; `y` has that shape too.
fn output_delta<T: Scalar>(net: &Network<T>, y: &Matrix<T>, ws: &mut Workspace<T>) {
    let out = &ws.a[net.num_weight_layers()];
    net.cost
        .output_delta_batch(net.output, out, y, &mut ws.delta);
}

/// Eq 2, all columns: Δˡ = (Wˡ⁺¹)ᵀ Δˡ⁺¹ ⊙ σ′(Zˡ), σ′ from Aˡ. For weight layer `l` (the
/// write-up's layer l + 2) that is Δˡ⁺¹ = (Wˡ⁺²)ᵀ Δˡ⁺² ⊙ σ′(Zˡ⁺¹), with `weights[l]` = Wˡ⁺²
/// and `a[l]` = Aˡ⁺¹: into `ws.back`, `(sizes[l], batch)`, from Δˡ⁺² in `ws.delta`,
/// `(sizes[l+1], batch)`.
fn delta_before<T: Scalar>(net: &Network<T>, l: usize, ws: &mut Workspace<T>) {
    net.weights[l].t_matmul_into(&ws.delta, &mut ws.back);
    let act = net.activation(l - 1);
    act.times_derivative_from_output(ws.back.as_mut_slice(), ws.a[l].as_slice());
    // Dropout: a dropped neuron passed nothing forward, so it gets no error back.
    if let Some(mask) = ws.masks.get(l).filter(|m| m.rows() > 0) {
        zip_map_in_place(ws.back.as_mut_slice(), mask.as_slice(), |b, m| b * m);
    }
}
// ANCHOR_END: backward_batch
// ANCHOR_END: backprop_batch

// ANCHOR: backward_sgd
/// The backward pass and the gradient-descent step in one, for plain SGD (optionally with
/// L2 weight decay, `decay` = ηλ/n; 0 for none). For each layer, from the last:
///
/// Wˡ ← (1 − ηλ/n) Wˡ − (η/n) Δˡ (Aˡ⁻¹)ᵀ,   Bˡ ← Bˡ − η (1/n) Σₖ (column k of Δˡ),
///
/// that is Eqs 5–6 and the step W ← W − η ∂C/∂W of [`backward_batch`] + a separate update,
/// with the weights' part done by ONE matrix product: gemm's C ← αAB + βC with C = Wˡ,
/// α = −η/n and β = 1 − ηλ/n. ∂C/∂W is never written out and read back (for the write-up's
/// network, 63 KB per batch each way; for 784-800-800-10, 5 MB), and the update runs on
/// as many threads as the product. Eq 2 for layer l runs before Wˡ moves, since Δˡ⁻¹
/// needs the weights the forward pass used. Rounding differs from the two-step form (η/n is
/// one constant), so results agree with it to rounding, not bit for bit.
///
/// Book: "Gradient descent and training".
#[track_caller]
pub fn backward_sgd<T: Scalar>(
    net: &mut Network<T>,
    y: &Matrix<T>,
    eta: T,
    decay: T,
    ws: &mut Workspace<T>,
) {
    let last = net.num_weight_layers() - 1;
    let inv_n = T::ONE / T::from_f64(ws.x().cols as f64);
    output_delta(net, y, ws);
    // As in `backward_batch`, Rust's `l` is the write-up's layer l + 2.
    for l in (0..=last).rev() {
        if l > 0 {
            delta_before(net, l, ws);
        }
        let input = ws.layer_input(l);
        let w = net.weights[l].as_mut_slice();
        gemm(
            -(eta * inv_n),
            ws.delta.view(),
            input.t(),
            T::ONE - decay,
            w,
        );
        // Bˡ ← Bˡ − η ∂C/∂Bˡ, the gradient as in `backward_batch` (Eq 6).
        let biases = net.biases[l].as_mut_slice();
        for_each_row_sum(ws.delta.view(), biases, |b, sum| *b -= eta * (sum * inv_n));
        if l > 0 {
            std::mem::swap(&mut ws.delta, &mut ws.back);
        }
    }
}
// ANCHOR_END: backward_sgd

/// [`backprop_batch`] with dropout p on the hidden layers (masks drawn from `rng`).
pub fn backprop_batch_dropout<T: Scalar>(
    net: &Network<T>,
    y: &Matrix<T>,
    ws: &mut Workspace<T>,
    p: f64,
    rng: &mut crate::rng::Rng,
) {
    forward_batch_dropout(net, ws, p, rng);
    backward_batch(net, y, ws);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn one_sigmoid_neuron_gradient_worked_by_hand() {
        // One input x = 1, weight w = 0, bias b = 0, target y = 1:
        // z = 0, a = σ(0) = ½, δ = (a − y) σ′(0) = (−½)(¼) = −⅛; ∂C/∂w = δ·x = −⅛, ∂C/∂b = −⅛.
        let net = Network::from_parameters(
            vec![Matrix::from_vec(1, 1, vec![0.0f64])],
            vec![Vector::from_vec(vec![0.0])],
            crate::activation::Activation::Sigmoid,
            crate::activation::Activation::Sigmoid,
            crate::cost::Cost::Quadratic,
        );
        let g = backprop_one(
            &net,
            &Vector::from_vec(vec![1.0]),
            &Vector::from_vec(vec![1.0]),
        );
        assert_eq!(g.nabla_w[0][(0, 0)], -0.125);
        assert_eq!(g.nabla_b[0][0], -0.125);
    }

    #[test]
    fn batch_of_one_equals_single_image() {
        let mut rng = Rng::new(11);
        let net: Network<f64> = Network::new(&[5, 4, 3], &mut rng);
        let x = Vector::from_fn(5, |_| rng.uniform());
        let y = Vector::one_hot(3, 1);
        let single = backprop_one(&net, &x, &y);
        let mut ws = Workspace::new();
        ws.input(5, 1).set_column(0, &x);
        let mut ym = Matrix::zeros(3, 1);
        ym.set_column(0, &y);
        backprop_batch(&net, &ym, &mut ws);
        let batch = ws.grad.unwrap();
        for l in 0..2 {
            for (a, b) in batch.nabla_w[l]
                .as_slice()
                .iter()
                .zip(single.nabla_w[l].as_slice())
            {
                assert!((a - b).abs() < 1e-15);
            }
        }
    }

    /// backward_sgd (the step fused into the backward pass) against backward_batch followed
    /// by the textbook update W ← W − η(∂C/∂W + (λ/n)W), B ← B − η ∂C/∂B: equal to rounding.
    #[test]
    fn fused_step_is_the_two_step_update() {
        for (dropout, decay_per_eta) in [(0.0, 0.0), (0.0, 0.01), (0.3, 0.002)] {
            let mut rng = Rng::new(5);
            let mut net: Network<f64> = Network::new(&[6, 5, 4, 3], &mut rng);
            let mut ws = Workspace::new();
            let x = ws.input_rows(6, 7);
            x.as_mut_slice().iter_mut().for_each(|v| *v = rng.uniform());
            let y = Matrix::from_fn(3, 7, |i, j| f64::from(u8::from(i == j % 3)));
            forward_batch_dropout(&net, &mut ws, dropout, &mut rng);
            let (eta, mut ws_two, mut two) = (0.7, ws.clone(), net.clone());
            backward_sgd(&mut net, &y, eta, eta * decay_per_eta, &mut ws);
            backward_batch(&two, &y, &mut ws_two);
            let grad = ws_two.grad.unwrap();
            for l in 0..3 {
                for (w, &g) in two.weights[l]
                    .as_mut_slice()
                    .iter_mut()
                    .zip(grad.nabla_w[l].as_slice())
                {
                    *w -= eta * (g + decay_per_eta * *w);
                }
                for (b, &g) in two.biases[l]
                    .as_mut_slice()
                    .iter_mut()
                    .zip(grad.nabla_b[l].as_slice())
                {
                    *b -= eta * g;
                }
            }
            assert_ne!(
                net.weights[0],
                Network::new(&[6, 5, 4, 3], &mut Rng::new(5)).weights[0]
            );
            for l in 0..3 {
                let pairs = net.weights[l]
                    .as_slice()
                    .iter()
                    .zip(two.weights[l].as_slice());
                let pairs = pairs.chain(
                    net.biases[l]
                        .as_slice()
                        .iter()
                        .zip(two.biases[l].as_slice()),
                );
                for (a, b) in pairs {
                    assert!(
                        (a - b).abs() < 1e-14,
                        "layer {l}: fused {a} vs two-step {b}"
                    );
                }
            }
        }
    }
}
