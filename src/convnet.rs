//! A network as a list of layers (convolution, max-pooling, fully connected), its forward
//! pass and backpropagation, for one image and for a batch, and the gradient step.
//!
//! Book chapter: "Convolutional networks". How it relates to [`crate::network::Network`]:
//! that type is the write-up's fully connected network, every layer `Z = W·A + B` with one
//! hidden activation, and it stays exactly as it is (its models train to the same bits). A
//! [`ConvNet`] is a list of [`Layer`]s, each with its own activation, whose fully connected
//! layers do the same maths as `Network`'s (Eqs 1–8, with the same [`Cost`] for Eq 1), and
//! whose convolutional and pooling layers are those of [`crate::conv`] (Eqs 9–13). A
//! `ConvNet` of `Dense` layers only is a `Network` by another route; the tests check that
//! too.
//!
//! Each layer's parameters are a weight matrix and a bias vector, as in `Network`, so the
//! gradient is a [`Gradient`] and the step the same W ← W − η ∂C/∂W: a convolutional layer's
//! weights are its kernel matrix (c_out, c_in·k·k), row j map j's kernels; a pooling layer's
//! are empty (0 × 0 and 0). Batches hold one image per column throughout, a stack of maps
//! as the (c·h·w) vector it is, so a fully connected layer after a pooling layer reads the
//! maps with no copy.
//!
//! Two versions of the passes, as in [`crate::backprop`]: [`backprop_one`] for one image,
//! through the direct loops of [`crate::conv`], and [`forward_batch`] / [`backward_batch`]
//! for a mini-batch, the convolutions lowered to matrix products; training uses the second,
//! the tests prove it equal to the first. Training and evaluation are in
//! [`crate::convtrain`]; dropout, on the inputs of fully connected layers, is
//! [`forward_batch_dropout`]. The layer list on the command line (`784,conv5x5x20,pool2,
//! 100,10`) is read by [`Feature::parse`] and [`ConvNetConfig::from_layer_list`]; model
//! files hold a `ConvNet` as [`crate::formats::convmodel`] says. Left out: padding, strides
//! other than the kernel's 1 and the pool's k, and convolutions after a fully connected
//! layer.

use crate::activation::Activation;
use crate::backprop::Gradient;
use crate::conv::{
    conv_backward, conv_backward_batch, conv_forward, conv_forward_batch, pool_backward,
    pool_backward_batch, pool_forward, pool_forward_batch, ConvShape, MapShape,
};
use crate::cost::{validate, Cost};
use crate::error::{Error, Result};
use crate::init::Init;
use crate::linalg::{gemm, Matrix, Scalar, Vector};
use crate::network::{dense_forward, NetworkConfig, MAX_LAYERS, MAX_LAYER_SIZE};
use crate::rng::Rng;

// ANCHOR: layer
/// One layer of a [`ConvNet`]. Each variant is one token of the layer list written
/// `784,conv5x5x20,pool2,100,10` (see [`Layer::token`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// `convKxKxM`: M feature maps, each the sum over the input maps of a K × K kernel slid
    /// over them (stride 1, no padding), plus a bias, then `activation`.
    Conv {
        /// The side K of every kernel.
        k: usize,
        /// The number M of output maps.
        maps: usize,
        /// The non-linearity applied to every value of every map.
        activation: Activation,
    },
    /// `poolK`: each K × K window (stride K) of each map replaced by its largest value.
    Pool {
        /// The side K of every window.
        k: usize,
    },
    /// `N`: N neurons, each connected to every value of the layer before, then `activation`.
    Dense {
        /// The number N of neurons.
        neurons: usize,
        /// The non-linearity (softmax only on the last layer).
        activation: Activation,
    },
}
// ANCHOR_END: layer

impl Layer {
    /// The layer's activation; pooling has none.
    pub fn activation(self) -> Option<Activation> {
        match self {
            Layer::Conv { activation, .. } | Layer::Dense { activation, .. } => Some(activation),
            Layer::Pool { .. } => None,
        }
    }

    /// The layer's token in a layer list: `conv5x5x20`, `pool2`, `100`.
    pub fn token(self) -> String {
        match self {
            Layer::Conv { k, maps, .. } => format!("conv{k}x{k}x{maps}"),
            Layer::Pool { k } => format!("pool{k}"),
            Layer::Dense { neurons, .. } => neurons.to_string(),
        }
    }
}

/// A convolution or pooling layer as a layer list names it (`conv5x5x20`, `pool2`), before
/// its activation is chosen: [`ConvNetConfig::from_layer_list`] gives every convolution the
/// hidden layers' activation.
///
/// Book: "Convolutional networks".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// `convKxKxM`: M maps from K × K kernels.
    Conv {
        /// The side K of every kernel.
        k: usize,
        /// The number M of output maps.
        maps: usize,
    },
    /// `poolK`: max-pooling over K × K windows.
    Pool {
        /// The side K of every window.
        k: usize,
    },
}

impl Feature {
    /// Reads `conv5x5x20` (K × K kernels, M maps; both sides must be equal) or `pool2`;
    /// `None` for anything else, a plain number included.
    pub fn parse(token: &str) -> Option<Feature> {
        let number = |s: &str| s.parse::<usize>().ok();
        if let Some(k) = token.strip_prefix("pool") {
            return number(k).map(|k| Feature::Pool { k });
        }
        let parts: Vec<usize> = token
            .strip_prefix("conv")?
            .split('x')
            .map(number)
            .collect::<Option<_>>()?;
        match parts[..] {
            [k, k2, maps] if k == k2 => Some(Feature::Conv { k, maps }),
            _ => None,
        }
    }

    /// The layer, the activation `f` given to a convolution.
    pub fn layer(self, f: Activation) -> Layer {
        match self {
            Feature::Conv { k, maps } => Layer::Conv {
                k,
                maps,
                activation: f,
            },
            Feature::Pool { k } => Layer::Pool { k },
        }
    }
}

/// What a [`ConvNet`] is built from: the input's shape, the layers, the cost and the initial
/// weights' recipe.
///
/// Book: "Convolutional networks".
#[derive(Clone, Debug, PartialEq)]
pub struct ConvNetConfig {
    /// One input image: (1, 28, 28) for MNIST.
    pub input: MapShape,
    /// The layers, first to last; the last must be [`Layer::Dense`], the output.
    pub layers: Vec<Layer>,
    /// The cost; with a softmax output, [`Cost::LogLikelihood`].
    pub cost: Cost,
    /// How the initial weights and biases are drawn (fan-in c_in·k·k for a kernel).
    pub init: Init,
}

/// A network as a list of layers: see the module's documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvNet<T> {
    /// The layers, first to last.
    layers: Vec<Layer>,
    /// `shapes[l]`: the shape of layer l's input (`shapes[0]` the image's); the last entry is
    /// the output's, (classes, 1, 1). A fully connected layer of n neurons makes (n, 1, 1).
    shapes: Vec<MapShape>,
    /// `weights[l]`: convolution (c_out, c_in·k·k), the kernel matrix; fully connected
    /// (n_out, n_in), as `Network`'s; pooling 0 × 0.
    pub weights: Vec<Matrix<T>>,
    /// `biases[l]`: (c_out) or (n_out); empty for pooling.
    pub biases: Vec<Vector<T>>,
    /// The cost the network is trained on.
    pub cost: Cost,
}

impl ConvNetConfig {
    /// The network a layer list describes: an input of `sizes[0]` values read as one square
    /// map (784 is 28 × 28), then the `features` (every convolution with `net.hidden`), then
    /// fully connected layers of `sizes[1..]` neurons (`net.hidden`, the last `net.output`),
    /// with `net`'s cost and initialisation. `784,conv5x5x20,pool2,100,10` is `sizes` [784,
    /// 100, 10] with `features` [conv 5×5×20, pool 2].
    ///
    /// # Errors
    /// [`Error::Invalid`] when `sizes[0]` is not a square or `sizes` has no output layer.
    pub fn from_layer_list(features: &[Feature], net: &NetworkConfig) -> Result<Self> {
        let (input, dense) = match net.sizes.split_first() {
            Some((&input, dense)) if !dense.is_empty() => (input, dense),
            _ => {
                return Err(Error::Invalid(
                    "a layer list needs an input size and an output layer".into(),
                ))
            }
        };
        let side = input.isqrt();
        if side * side != input {
            return Err(Error::Invalid(format!(
                "{input} inputs are not a square image, which convolutions need"
            )));
        }
        let (last, hidden) = dense.split_last().expect("not empty");
        let dense = |neurons, activation| Layer::Dense {
            neurons,
            activation,
        };
        let layers = features.iter().map(|f| f.layer(net.hidden));
        let layers = layers
            .chain(hidden.iter().map(|&n| dense(n, net.hidden)))
            .chain(std::iter::once(dense(*last, net.output)))
            .collect();
        Ok(ConvNetConfig {
            input: MapShape::new(1, side, side),
            layers,
            cost: net.cost,
            init: net.init,
        })
    }
}

impl<T: Scalar> ConvNet<T> {
    /// A network of `layers` on `input` with the given parameters, as a model file holds
    /// them.
    ///
    /// # Errors
    /// What [`ConvNet::build`] refuses, and [`Error::Invalid`] when a weight matrix or bias
    /// vector does not have its layer's shape.
    pub fn from_parameters(
        input: MapShape,
        layers: Vec<Layer>,
        cost: Cost,
        weights: Vec<Matrix<T>>,
        biases: Vec<Vector<T>>,
    ) -> Result<Self> {
        let (shapes, sizes) = checked_shapes(input, &layers)?;
        check_activations(&layers, cost)?;
        let got = weights.iter().map(|w| (w.rows(), w.cols()));
        let bias_rows = biases.iter().map(|b| b.len());
        let expected = sizes.iter().map(|&(rows, cols, _)| (rows, cols));
        if !got.eq(expected) || !bias_rows.eq(sizes.iter().map(|&(rows, _, _)| rows)) {
            return Err(Error::Invalid(
                "the parameters do not have the layers' shapes".into(),
            ));
        }
        Ok(ConvNet {
            shapes,
            layers,
            weights,
            biases,
            cost,
        })
    }

    // ANCHOR: build
    /// The network `config` describes, its weights drawn by `config.init` from `rng` (every
    /// layer's weights first, then every layer's biases, as [`crate::network::Network::build`]
    /// draws them).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the layer when a kernel or window does not fit its input,
    /// a size is 0, or the last layer is not fully connected; [`Error::Incompatible`] when
    /// the activations and cost do not go together ([`validate`]: softmax only last, with
    /// log-likelihood); [`Error::TooLarge`] for more than [`MAX_LAYERS`] layers, a layer of
    /// more than [`MAX_LAYER_SIZE`] values, a convolution of more than [`MAX_PATCH_VALUES`]
    /// patch values per image, or more than [`crate::network::MAX_PARAMETERS`] parameters.
    pub fn build(config: &ConvNetConfig, rng: &mut Rng) -> Result<Self> {
        let (shapes, sizes) = checked_shapes(config.input, &config.layers)?;
        check_activations(&config.layers, config.cost)?;
        let (layers, init) = (&config.layers, config.init);
        let weights = sizes
            .iter()
            .map(|&(rows, cols, fan_out)| {
                let std = init.weight_std(cols, fan_out);
                Matrix::from_fn(rows, cols, |_, _| T::from_f64(rng.normal() * std))
            })
            .collect();
        let bias_std = init.bias_std();
        let biases = sizes
            .iter()
            .map(|&(rows, _, _)| {
                if bias_std == 0.0 {
                    Vector::zeros(rows)
                } else {
                    Vector::from_fn(rows, |_| T::from_f64(rng.normal() * bias_std))
                }
            })
            .collect();
        Ok(ConvNet {
            layers: layers.clone(),
            shapes,
            weights,
            biases,
            cost: config.cost,
        })
    }
    // ANCHOR_END: build

    /// The layers, first to last.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The shape of one input image.
    pub fn input(&self) -> MapShape {
        self.shapes[0]
    }

    /// The shape of layer `l`'s input; `shape(layers().len())` is the output's.
    pub fn shape(&self, l: usize) -> MapShape {
        self.shapes[l]
    }

    /// The number of outputs (classes).
    pub fn outputs(&self) -> usize {
        self.shapes[self.layers.len()].len()
    }

    /// The geometry of convolutional layer `l`.
    ///
    /// # Panics
    /// If layer `l` is not a convolution.
    #[track_caller]
    pub fn conv_shape(&self, l: usize) -> ConvShape {
        match self.layers[l] {
            Layer::Conv { k, maps, .. } => ConvShape {
                input: self.shapes[l],
                k,
                maps,
            },
            other => panic!("layer {l} is {}, not a convolution", other.token()),
        }
    }

    /// The layer list as one string, input first: `784,conv5x5x20,pool2,100,10`. (The input
    /// is its number of values; a shape other than one square map is written maps×rows×cols.)
    pub fn spec(&self) -> String {
        let input = self.input();
        let first = match input {
            MapShape {
                maps: 1,
                rows,
                cols,
            } if rows == cols => input.len().to_string(),
            MapShape { maps, rows, cols } => format!("{maps}x{rows}x{cols}"),
        };
        let rest = self.layers.iter().map(|l| l.token());
        std::iter::once(first)
            .chain(rest)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Total number of weights and biases.
    pub fn num_parameters(&self) -> usize {
        let w: usize = self.weights.iter().map(|w| w.rows() * w.cols()).sum();
        w + self.biases.iter().map(|b| b.len()).sum::<usize>()
    }

    /// A zero gradient shaped like the parameters.
    pub fn zero_gradient(&self) -> Gradient<T> {
        Gradient {
            nabla_w: self
                .weights
                .iter()
                .map(|w| Matrix::zeros(w.rows(), w.cols()))
                .collect(),
            nabla_b: self.biases.iter().map(|b| Vector::zeros(b.len())).collect(),
        }
    }

    /// The output layer's activation.
    fn output_activation(&self) -> Activation {
        let last = self.layers[self.layers.len() - 1];
        last.activation()
            .expect("the last layer is fully connected")
    }

    /// The output for one image: `x` (the input's c·h·w values) through every layer.
    ///
    /// Book: "Convolutional networks".
    ///
    /// # Panics
    /// If `x` is not one input image long.
    #[track_caller]
    pub fn feedforward(&self, x: &[T]) -> Vec<T> {
        let mut trace = forward_one(self, x);
        trace.a.pop().expect("the output")
    }

    /// The predicted class for one image: the index of the largest output.
    pub fn predict(&self, x: &[T]) -> usize {
        crate::linalg::argmax(&self.feedforward(x))
    }
}

/// Every layer's input shape and the output's, or the first layer that does not fit.
fn layer_shapes(input: MapShape, layers: &[Layer]) -> Result<Vec<MapShape>> {
    let invalid = |l: usize, layer: Layer, why: String| {
        Err(Error::Invalid(format!(
            "layer {} ({}): {why}",
            l + 1,
            layer.token()
        )))
    };
    if input.is_empty() {
        return Err(Error::Invalid(format!("the input {input:?} has no values")));
    }
    if layers.len() >= MAX_LAYERS {
        return Err(Error::TooLarge {
            what: "layers".into(),
            got: layers.len() as u64 + 1,
            limit: MAX_LAYERS as u64,
        });
    }
    check_size(
        "values in the input",
        [input.maps, input.rows, input.cols],
        MAX_LAYER_SIZE,
    )?;
    let mut shapes = vec![input];
    for (l, &layer) in layers.iter().enumerate() {
        let s = shapes[l];
        let next = match layer {
            Layer::Conv { k, .. } | Layer::Pool { k } if k == 0 || k > s.rows.min(s.cols) => {
                let what = format!(
                    "a {k}×{k} window does not fit in {}×{} maps",
                    s.rows, s.cols
                );
                return invalid(l, layer, what);
            }
            Layer::Conv { maps: 0, .. } | Layer::Dense { neurons: 0, .. } => {
                return invalid(l, layer, "a layer needs at least one map or neuron".into());
            }
            Layer::Conv { k, maps, .. } => s.after_conv(k, maps),
            Layer::Pool { k } => s.after_pool(k),
            Layer::Dense { neurons, .. } => MapShape::new(neurons, 1, 1),
        };
        let what = format!("values out of layer {}", l + 1);
        check_size(&what, [next.maps, next.rows, next.cols], MAX_LAYER_SIZE)?;
        if let Layer::Conv { k, .. } = layer {
            // The patch matrix the fast version builds: c_in·k·k rows, oh·ow columns an image.
            let what = format!("patch values per image of layer {}", l + 1);
            check_size(
                &what,
                [s.maps * k * k, next.rows, next.cols],
                MAX_PATCH_VALUES,
            )?;
        }
        shapes.push(next);
    }
    match layers.last() {
        Some(Layer::Dense { .. }) => Ok(shapes),
        _ => Err(Error::Invalid(
            "the last layer must be fully connected (the output), e.g. 10".into(),
        )),
    }
}

/// The most values the patch matrices of one mini-batch may hold (batch × the largest
/// convolution's patch values per image): 2²⁸, a GiB of `f32`. [`check_batch`] refuses more.
pub const MAX_BATCH_PATCH_VALUES: usize = 1 << 28;

/// Refuses a mini-batch of `batch` images whose patch matrices would pass
/// [`MAX_BATCH_PATCH_VALUES`] for `layers` on `input` (checked as [`ConvNet::build`] checks
/// them).
///
/// # Errors
/// [`Error::TooLarge`] naming the batch; what [`parameter_shapes`] refuses.
pub fn check_batch(input: MapShape, layers: &[Layer], batch: usize) -> Result<()> {
    let largest = largest_patch(&layer_shapes(input, layers)?, layers);
    let what = format!("patch values in a mini-batch of {batch} ({largest} an image)");
    check_size(&what, [batch, largest, 1], MAX_BATCH_PATCH_VALUES)
}

/// The most patch values per image of any convolution in `layers`, whose inputs have
/// `shapes`; 0 without convolutions.
fn largest_patch(shapes: &[MapShape], layers: &[Layer]) -> usize {
    let patch = |(l, layer): (usize, &Layer)| match *layer {
        Layer::Conv { k, .. } => shapes[l].maps * k * k * shapes[l + 1].rows * shapes[l + 1].cols,
        _ => 0,
    };
    layers.iter().enumerate().map(patch).max().unwrap_or(0)
}

/// How many images evaluation runs through `net` at once: [`EVAL_CHUNK`], or fewer when its
/// patch matrices would pass 2²⁴ values (64 MiB).
pub fn eval_chunk<T>(net: &ConvNet<T>) -> usize {
    let largest = largest_patch(&net.shapes, &net.layers).max(1);
    ((1 << 24) / largest).clamp(1, EVAL_CHUNK)
}

/// The most values one image's patch matrix may hold for one convolution (c_in·k·k ×
/// oh·ow): 2²², 16 MiB of `f32`, far above any network here (`nielsen-ch6`'s largest is
/// 32,000, `best-cnn`'s 51,200), so that no layer list or model file can make the fast
/// version allocate gigabytes per image.
pub const MAX_PATCH_VALUES: usize = 1 << 22;

/// Refuses a size that is the product of `factors` when it passes `limit`, without
/// overflowing.
fn check_size(what: &str, factors: [usize; 3], limit: usize) -> Result<()> {
    let len = factors.iter().try_fold(1usize, |n, &f| n.checked_mul(f));
    match len {
        Some(n) if n <= limit => Ok(()),
        _ => Err(Error::TooLarge {
            what: what.into(),
            got: len.map_or(u64::MAX, |n| n as u64),
            limit: limit as u64,
        }),
    }
}

/// Checks every hidden activation, the output's and the cost together ([`validate`]).
fn check_activations(layers: &[Layer], cost: Cost) -> Result<()> {
    let (last, hidden) = layers
        .split_last()
        .expect("layer_shapes checked there is one");
    let output = last
        .activation()
        .expect("layer_shapes checked it is fully connected");
    let mut hidden: Vec<Activation> = hidden.iter().filter_map(|l| l.activation()).collect();
    if hidden.is_empty() {
        hidden.push(Activation::Sigmoid); // no hidden layer: only the output pairing to check
    }
    hidden
        .into_iter()
        .try_for_each(|h| validate(h, output, cost))
}

/// (rows, cols, fan-out) of a layer's weight matrix for `input`: the fan-in is `cols`.
fn parameter_shape(layer: Layer, input: MapShape) -> (usize, usize, usize) {
    match layer {
        Layer::Conv { k, maps, .. } => (maps, input.maps * k * k, maps * k * k),
        Layer::Pool { .. } => (0, 0, 0),
        Layer::Dense { neurons, .. } => (neurons, input.len(), neurons),
    }
}

/// The (rows, columns) of every layer's weight matrix for `layers` on `input` (its bias
/// vector has that many rows), after the checks [`ConvNet::build`] makes of the shapes: what a
/// model file's header is checked with before anything is allocated from it.
///
/// # Errors
/// As [`ConvNet::build`], but for the activations.
pub fn parameter_shapes(input: MapShape, layers: &[Layer]) -> Result<Vec<(usize, usize)>> {
    let (_, sizes) = checked_shapes(input, layers)?;
    Ok(sizes.iter().map(|&(rows, cols, _)| (rows, cols)).collect())
}

/// (rows, cols, fan-out) of a layer's weight matrix; the fan-in is `cols`.
type WeightShape = (usize, usize, usize);

/// Every layer's input shape ([`layer_shapes`]) and (rows, cols, fan-out) of its weight
/// matrix, after every check of sizes [`ConvNet::build`] makes.
fn checked_shapes(input: MapShape, layers: &[Layer]) -> Result<(Vec<MapShape>, Vec<WeightShape>)> {
    let shapes = layer_shapes(input, layers)?;
    let sizes: Vec<WeightShape> = layers
        .iter()
        .zip(&shapes)
        .map(|(&layer, &input)| parameter_shape(layer, input))
        .collect();
    check_parameter_count(&sizes)?;
    Ok((shapes, sizes))
}

/// Refuses more weights and biases than [`crate::network::MAX_PARAMETERS`].
fn check_parameter_count(sizes: &[(usize, usize, usize)]) -> Result<()> {
    let count = sizes.iter().fold(0usize, |sum, &(rows, cols, _)| {
        sum.saturating_add(rows.saturating_mul(cols).saturating_add(rows))
    });
    let limit = crate::network::MAX_PARAMETERS;
    if count > limit {
        return Err(Error::TooLarge {
            what: "weights and biases".into(),
            got: count as u64,
            limit: limit as u64,
        });
    }
    Ok(())
}

// ANCHOR: backprop_one
/// What the forward pass for one image leaves for the backward pass (and for a reader who
/// wants to see the feature maps).
#[derive(Clone, Debug, PartialEq)]
pub struct Trace<T> {
    /// `a[l]`: the input of layer l, (shape(l).len()); `a[0]` is the image, the last entry
    /// the output.
    pub a: Vec<Vec<T>>,
    /// `argmax[l]`: for a pooling layer, where each output value came from (an index into
    /// `a[l]`); empty for other layers.
    pub argmax: Vec<Vec<usize>>,
}

/// The forward pass for one image through the direct loops of [`crate::conv`], keeping
/// every layer's input and every pooling layer's winners: Zˡ = Wˡaˡ⁻¹ + Bˡ for a fully
/// connected layer, Kˡ ⋆ aˡ⁻¹ + bˡ for a convolution, then aˡ = f(Zˡ); the window maxima for
/// pooling.
///
/// Book: "Convolutional networks".
///
/// `x`: (c·h·w) of the input.
///
/// # Panics
/// If `x` is not one input image long.
#[track_caller]
pub fn forward_one<T: Scalar>(net: &ConvNet<T>, x: &[T]) -> Trace<T> {
    assert_eq!(
        x.len(),
        net.input().len(),
        "ConvNet: an image of {} values for an input of {:?}",
        x.len(),
        net.input()
    );
    let (mut a, mut argmax) = (vec![x.to_vec()], Vec::new());
    for (l, &layer) in net.layers.iter().enumerate() {
        let (w, b) = (&net.weights[l], &net.biases[l]);
        let mut out = vec![T::ZERO; net.shapes[l + 1].len()];
        let mut winners = Vec::new();
        match layer {
            Layer::Conv { .. } => conv_forward(
                net.conv_shape(l),
                &a[l],
                w.as_slice(),
                b.as_slice(),
                &mut out,
            ),
            Layer::Pool { k } => {
                winners.resize(out.len(), 0);
                pool_forward(net.shapes[l], k, &a[l], &mut out, &mut winners);
            }
            Layer::Dense { .. } => {
                let z = &w.mul_vec(&Vector::from_vec(a[l].clone())) + b;
                out = z.into_vec();
            }
        }
        if let Some(f) = layer.activation() {
            f.apply_column(&mut out);
        }
        a.push(out);
        argmax.push(winners);
    }
    Trace { a, argmax }
}

/// Backpropagation for one image `x` with one-hot target `y`, through the direct loops: the
/// gradient of that image's cost. From the output back: Eq 1 gives δᴸ; each layer then gives
/// its parameters' gradient and the error ∂C/∂a of its input (a fully connected layer by
/// Eqs 7, 8 and (Wˡ)ᵀδˡ; a convolution by Eqs 10, 11, 13; a pooling layer by Eq 12), and
/// times f′ of the layer below, that is the layer below's δ (Eq 2, Eq 9).
///
/// Book: "Convolutional networks".
///
/// `x`: (c·h·w) of the input; `y`: (classes). Returns ∂C_x/∂W and ∂C_x/∂B for every layer.
///
/// # Panics
/// If `x` or `y` has the wrong length.
#[track_caller]
pub fn backprop_one<T: Scalar>(net: &ConvNet<T>, x: &[T], y: &[T]) -> Gradient<T> {
    let Trace { a, argmax } = forward_one(net, x);
    let top = net.layers.len();
    assert_eq!(y.len(), a[top].len(), "backprop_one: target vs output");
    // Eq 1: δᴸ = (aᴸ − y) ⊙ σ′(zᴸ), the cost supplying the first factor.
    let out = net.output_activation();
    let mut delta: Vec<T> = (a[top].iter().zip(y))
        .map(|(&a, &y)| net.cost.output_delta(out, a, y))
        .collect();
    let mut grad = net.zero_gradient();
    for l in (0..top).rev() {
        let mut back = vec![T::ZERO; a[l].len()]; // ∂C/∂a[l], the error of layer l's input
        match net.layers[l] {
            Layer::Dense { .. } => {
                let d = Vector::from_vec(delta);
                grad.nabla_w[l] = d.outer(&Vector::from_vec(a[l].clone())); // Eq 7
                back = net.weights[l].t_mul_vec(&d).into_vec(); // Eq 2, before its ⊙ σ′
                grad.nabla_b[l] = d; // Eq 8
            }
            Layer::Conv { .. } => conv_backward(
                net.conv_shape(l),
                &a[l],
                net.weights[l].as_slice(),
                &delta,
                grad.nabla_w[l].as_mut_slice(),
                grad.nabla_b[l].as_mut_slice(),
                &mut back,
            ), // Eqs 10, 11, 13
            Layer::Pool { .. } => pool_backward(&delta, &argmax[l], &mut back), // Eq 12
        }
        // Eq 2 / Eq 9: the layer below's δ is ∂C/∂a ⊙ f′(z), f′ read from a = f(z) (a
        // pooling layer has no f: its δ is ∂C/∂a itself).
        if let Some(f) = l
            .checked_sub(1)
            .and_then(|below| net.layers[below].activation())
        {
            for (d, &ai) in back.iter_mut().zip(&a[l]) {
                *d *= f.derivative_from_output(ai);
            }
        }
        delta = back;
    }
    grad
}
// ANCHOR_END: backprop_one

/// The output for every column of `x`, (input values, n) → (outputs, n): the batched
/// forward pass ([`forward_batch`]: Zˡ = Kˡ ⋆ aˡ⁻¹ + bˡ for a convolution, Wˡaˡ⁻¹ + Bˡ for a
/// fully connected layer, then aˡ = f(Zˡ); window maxima for pooling), [`eval_chunk`] images
/// at a time so the patch matrices stay a few megabytes whatever n is.
///
/// Book: "Convolutional networks".
///
/// # Panics
/// If `x` does not have one row per input value.
#[track_caller]
pub fn feedforward_batch<T: Scalar>(net: &ConvNet<T>, x: &Matrix<T>) -> Matrix<T> {
    assert_eq!(
        x.rows(),
        net.input().len(),
        "ConvNet::feedforward_batch: x is {}×{}, the input {:?}",
        x.rows(),
        x.cols(),
        net.input()
    );
    let mut out = Matrix::zeros(net.outputs(), x.cols());
    let mut ws = ConvWorkspace::new();
    let chunk = eval_chunk(net);
    for start in (0..x.cols()).step_by(chunk) {
        let n = chunk.min(x.cols() - start);
        *ws.input() = Matrix::from_fn(x.rows(), n, |i, k| x[(i, start + k)]);
        forward_batch(net, &mut ws);
        let a = ws.output();
        for j in 0..out.rows() {
            out.row_mut(j)[start..start + n].copy_from_slice(a.row(j));
        }
    }
    out
}

/// How many images [`feedforward_batch`] and evaluation run through a network at once (at
/// most: see [`eval_chunk`]).
pub const EVAL_CHUNK: usize = 200;

/// Buffers for [`forward_batch`] and [`backward_batch`], kept between mini-batches so that
/// the passes allocate nothing after the first batch.
#[derive(Clone, Debug, Default)]
pub struct ConvWorkspace<T> {
    /// `a[l]`: the input of layer l, (shape(l).len(), batch), one image per column; `a[0]`
    /// is the batch X ([`ConvWorkspace::input`]), the last the output.
    pub a: Vec<Matrix<T>>,
    /// `cols[l]`: for a convolutional layer, the patch matrix of `a[l]` (see
    /// [`crate::linalg::im2col`]), kept for ∂C/∂K; empty for other layers.
    cols: Vec<Matrix<T>>,
    /// `argmax[l]`: for a pooling layer, the row of `a[l]` each output value came from.
    argmax: Vec<Vec<usize>>,
    /// Δ of the layer being processed, one column per image.
    delta: Matrix<T>,
    /// The error ∂C/∂a of its input, then the δ of the layer below.
    back: Matrix<T>,
    /// The mean gradient over the batch, after [`backward_batch`].
    pub grad: Option<Gradient<T>>,
    /// Dropout: `masks[l]` multiplies the input of layer l, (shape(l).len(), batch), each
    /// entry 0 or 1/(1 − p); 0 × 0 where nothing is dropped. Drawn by
    /// [`forward_batch_dropout`] for every fully connected layer but the first layer.
    masks: Vec<Matrix<T>>,
    /// `kept[l]` = `a[l]` ⊙ `masks[l]`: what layer l reads when its input has a mask.
    kept: Vec<Matrix<T>>,
}

impl<T: Scalar> ConvWorkspace<T> {
    /// An empty workspace; buffers grow on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// The input batch X = `a[0]`, to be filled: resize it to (c·h·w, batch), image j in
    /// column j ([`crate::data::samples::Samples::gather`] does).
    pub fn input(&mut self) -> &mut Matrix<T> {
        if self.a.is_empty() {
            self.a.push(Matrix::zeros(0, 0));
        }
        &mut self.a[0]
    }

    /// The network's output from the last forward pass: (classes, batch).
    pub fn output(&self) -> &Matrix<T> {
        self.a
            .last()
            .expect("ConvWorkspace::output before a forward pass")
    }
}

// ANCHOR: forward_batch
/// The forward pass for a mini-batch, every layer's input kept in `ws.a` for the backward
/// pass: convolutions as one matrix product each ([`conv_forward_batch`]), pooling a row of
/// images at a time ([`pool_forward_batch`]), a fully connected layer as `Network`'s,
/// A = f(W·A + B).
///
/// Book: "Convolutional networks".
///
/// `ws.input()`: (c·h·w, batch), one image per column; the output, `ws.output()`:
/// (classes, batch).
///
/// # Panics
/// If `ws.input()` does not have the input's number of rows.
#[track_caller]
pub fn forward_batch<T: Scalar>(net: &ConvNet<T>, ws: &mut ConvWorkspace<T>) {
    forward(net, ws, None)
}

/// [`forward_batch`] in training with (inverted) dropout: the input of every fully connected
/// layer (but of a first layer, which reads the image) is multiplied by a fresh mask, each
/// value kept with probability 1 − p and scaled by 1/(1 − p), or set to 0, as Nielsen's
/// `network3.py` drops the inputs of its fully connected and softmax layers. The scaling
/// keeps each value's expected size, so evaluation ([`forward_batch`]) needs no correction.
/// The masks come from `rng` and stay in `ws` for [`backward_batch`].
///
/// Book: "Convolutional networks".
///
/// # Panics
/// If p is not in [0, 1), or as [`forward_batch`].
#[track_caller]
pub fn forward_batch_dropout<T: Scalar>(
    net: &ConvNet<T>,
    ws: &mut ConvWorkspace<T>,
    p: f64,
    rng: &mut Rng,
) {
    assert!(
        (0.0..1.0).contains(&p),
        "dropout p must be in [0, 1), got {p}"
    );
    forward(net, ws, Some((p, rng)))
}

/// The forward pass, with dropout when `dropout` is given.
#[track_caller]
fn forward<T: Scalar>(
    net: &ConvNet<T>,
    ws: &mut ConvWorkspace<T>,
    mut dropout: Option<(f64, &mut Rng)>,
) {
    let top = net.layers.len();
    ws.a.resize_with(top + 1, Matrix::default);
    ws.cols.resize_with(top, Matrix::default);
    ws.argmax.resize_with(top, Vec::new);
    ws.masks.resize_with(top, Matrix::default);
    ws.kept.resize_with(top, Matrix::default);
    for (l, &layer) in net.layers.iter().enumerate() {
        ws.masks[l].resize(0, 0);
        if let (Layer::Dense { .. }, 1.., Some((p, rng))) = (layer, l, dropout.as_mut()) {
            drop_out(&ws.a[l], *p, rng, &mut ws.masks[l], &mut ws.kept[l]);
        }
        // Layer l's output is taken out of `ws` while the layer reads its input from it.
        let mut out = std::mem::take(&mut ws.a[l + 1]);
        let a = if ws.masks[l].rows() > 0 {
            &ws.kept[l]
        } else {
            &ws.a[l]
        };
        let (w, b) = (&net.weights[l], &net.biases[l]);
        match layer {
            Layer::Conv { activation, .. } => {
                let shape = net.conv_shape(l);
                conv_forward_batch(shape, a, w, b, activation, &mut ws.cols[l], &mut out)
            }
            Layer::Pool { k } => {
                pool_forward_batch(net.shapes[l], k, a, &mut out, &mut ws.argmax[l])
            }
            Layer::Dense { activation, .. } => dense_forward(w, b, activation, a.view(), &mut out),
        }
        ws.a[l + 1] = out;
    }
}

/// Draws a dropout mask for `a` (each entry 0 with probability p, else 1/(1 − p), row by
/// row from `rng`) into `mask`, and `kept` = `a` ⊙ `mask`. Nothing is drawn for p = 0.
fn drop_out<T: Scalar>(
    a: &Matrix<T>,
    p: f64,
    rng: &mut Rng,
    mask: &mut Matrix<T>,
    kept: &mut Matrix<T>,
) {
    if p == 0.0 {
        return;
    }
    let keep = T::from_f64(1.0 / (1.0 - p));
    mask.resize(a.rows(), a.cols());
    for m in mask.as_mut_slice() {
        *m = if rng.uniform() < p { T::ZERO } else { keep };
    }
    kept.resize(a.rows(), a.cols());
    let values = a.as_slice().iter().zip(mask.as_slice());
    for (k, (&a, &m)) in kept.as_mut_slice().iter_mut().zip(values) {
        *k = a * m;
    }
}
// ANCHOR_END: forward_batch

// ANCHOR: backward_batch
/// Backpropagation for the mini-batch [`forward_batch`] last ran, one column per image: the
/// mean gradient over the batch, left in `ws.grad`. Layer by layer from the output, as
/// [`backprop_one`] but every image at once: a fully connected layer by Eqs 5, 6 and 2 as
/// matrix products, a convolution by [`conv_backward_batch`], pooling by
/// [`pool_backward_batch`]. Nothing is sent back below the first layer.
///
/// Book: "Convolutional networks".
///
/// `y`: (classes, batch), one one-hot column per image.
///
/// # Panics
/// If `y`'s shape is not the output's.
#[track_caller]
pub fn backward_batch<T: Scalar>(net: &ConvNet<T>, y: &Matrix<T>, ws: &mut ConvWorkspace<T>) {
    let top = net.layers.len();
    let mut grad = ws.grad.take().unwrap_or_else(|| net.zero_gradient());
    let out = net.output_activation();
    net.cost
        .output_delta_batch(out, &ws.a[top], y, &mut ws.delta); // Eq 1
    let inv_n = T::ONE / T::from_f64(y.cols() as f64);
    for l in (0..top).rev() {
        let (w, nabla_w, nabla_b) = (&net.weights[l], &mut grad.nabla_w[l], &mut grad.nabla_b[l]);
        let back = (l > 0).then_some(&mut ws.back);
        match net.layers[l] {
            Layer::Dense { .. } => {
                // Eq 5, 1/n as gemm's α; Eq 6; Eq 2 before its ⊙ σ′. The input is the one the
                // forward pass used (dropout's, if it had a mask).
                let a = if ws.masks[l].rows() > 0 {
                    &ws.kept[l]
                } else {
                    &ws.a[l]
                };
                let (d, nabla) = (ws.delta.view(), nabla_w.as_mut_slice());
                gemm(inv_n, d, a.view().t(), T::ZERO, nabla);
                for (gb, i) in nabla_b.as_mut_slice().iter_mut().zip(0..) {
                    *gb = ws.delta.row(i).iter().fold(T::ZERO, |s, &d| s + d) * inv_n;
                }
                if let Some(back) = back {
                    w.t_matmul_into(&ws.delta, back);
                }
            }
            Layer::Conv { .. } => {
                let (shape, cols) = (net.conv_shape(l), &mut ws.cols[l]);
                conv_backward_batch(shape, w, &ws.delta, cols, nabla_w, nabla_b, back)
            }
            Layer::Pool { .. } => {
                if let Some(back) = back {
                    pool_backward_batch(net.shapes[l], &ws.delta, &ws.argmax[l], back)
                }
            }
        }
        if l > 0 {
            // Eq 2 / Eq 9: times f′ of the layer below (none for pooling).
            if let Some(f) = net.layers[l - 1].activation() {
                f.times_derivative_from_output(ws.back.as_mut_slice(), ws.a[l].as_slice());
            }
            // Dropout: a dropped value passed nothing forward, so it gets no error back.
            let mask = ws.masks[l].as_slice();
            for (d, &m) in ws.back.as_mut_slice().iter_mut().zip(mask) {
                *d *= m;
            }
            std::mem::swap(&mut ws.delta, &mut ws.back);
        }
    }
    ws.grad = Some(grad);
}
// ANCHOR_END: backward_batch

// ANCHOR: sgd_step
/// One step of gradient descent with L2 weight decay (`decay` = ηλ/n, 0 for none), for every
/// layer's weights and biases: W ← (1 − ηλ/n) W − η ∂C/∂W and B ← B − η ∂C/∂B (biases are
/// not decayed), the same rule as `Network`'s.
///
/// Book: "Convolutional networks".
pub fn sgd_step<T: Scalar>(net: &mut ConvNet<T>, grad: &Gradient<T>, eta: T, decay: T) {
    for (w, g) in net.weights.iter_mut().zip(&grad.nabla_w) {
        for (w, &g) in w.as_mut_slice().iter_mut().zip(g.as_slice()) {
            *w = (T::ONE - decay) * *w - eta * g;
        }
    }
    for (b, g) in net.biases.iter_mut().zip(&grad.nabla_b) {
        for (b, &g) in b.as_mut_slice().iter_mut().zip(g.as_slice()) {
            *b -= eta * g;
        }
    }
}
// ANCHOR_END: sgd_step

#[cfg(test)]
mod tests {
    use super::*;

    fn config(layers: Vec<Layer>) -> ConvNetConfig {
        ConvNetConfig {
            input: MapShape::new(1, 28, 28),
            layers,
            cost: Cost::LogLikelihood,
            init: Init::Scaled,
        }
    }

    /// Nielsen's chapter-6 shape: 784 → conv 5×5×20 → pool 2 → FC 100 → softmax 10.
    fn nielsen() -> Vec<Layer> {
        let s = Activation::Sigmoid;
        vec![
            Layer::Conv {
                k: 5,
                maps: 20,
                activation: s,
            },
            Layer::Pool { k: 2 },
            Layer::Dense {
                neurons: 100,
                activation: s,
            },
            Layer::Dense {
                neurons: 10,
                activation: Activation::Softmax,
            },
        ]
    }

    #[test]
    fn nielsens_shape_has_his_parameter_count_and_spec() {
        let net: ConvNet<f32> = ConvNet::build(&config(nielsen()), &mut Rng::new(1)).unwrap();
        // 20·25 + 20, 2880·100 + 100, 100·10 + 10.
        assert_eq!(net.num_parameters(), 520 + 288_100 + 1_010);
        assert_eq!(net.spec(), "784,conv5x5x20,pool2,100,10");
        assert_eq!(net.shape(2), MapShape::new(20, 12, 12));
        assert_eq!(net.weights[0].shape(), (20, 25));
        assert_eq!(net.weights[1].shape(), (0, 0));
    }

    #[test]
    fn layers_that_do_not_fit_are_refused_naming_the_layer() {
        let mut layers = nielsen();
        layers.insert(2, Layer::Pool { k: 13 });
        let err = ConvNet::<f32>::build(&config(layers), &mut Rng::new(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            Error::Invalid("layer 3 (pool13): a 13×13 window does not fit in 12×12 maps".into())
                .to_string()
        );
        let no_output = config(nielsen()[..2].to_vec());
        assert!(matches!(
            ConvNet::<f32>::build(&no_output, &mut Rng::new(1)),
            Err(Error::Invalid(_))
        ));
        let mut softmax_inside = nielsen();
        softmax_inside[0] = Layer::Conv {
            k: 5,
            maps: 20,
            activation: Activation::Softmax,
        };
        assert!(matches!(
            ConvNet::<f32>::build(&config(softmax_inside), &mut Rng::new(1)),
            Err(Error::Incompatible { .. })
        ));
    }

    /// The SGD step worked by hand: w = 2, g = 0.3, η = 0.5, ηλ/n = 0.05 gives
    /// 0.95·2 − 0.15 = 1.75; b = 1, g = 0.2 gives 0.9 (no decay).
    #[test]
    fn sgd_step_with_weight_decay_by_hand() {
        let layers = vec![Layer::Dense {
            neurons: 1,
            activation: Activation::Sigmoid,
        }];
        let cfg = ConvNetConfig {
            input: MapShape::new(1, 1, 1),
            layers,
            cost: Cost::Quadratic,
            init: Init::Normal,
        };
        let mut net: ConvNet<f64> = ConvNet::build(&cfg, &mut Rng::new(1)).unwrap();
        net.weights[0][(0, 0)] = 2.0;
        net.biases[0][0] = 1.0;
        let grad = Gradient {
            nabla_w: vec![Matrix::from_vec(1, 1, vec![0.3])],
            nabla_b: vec![Vector::from_vec(vec![0.2])],
        };
        sgd_step(&mut net, &grad, 0.5, 0.05);
        assert!((net.weights[0][(0, 0)] - 1.75).abs() < 1e-15);
        assert!((net.biases[0][0] - 0.9).abs() < 1e-15);
    }
}
