//! A saved network of either kind: [`Model`], what a model file holds, and the loading of a
//! file of either format version into one — version 1, the write-up's fully connected
//! network ([`crate::formats::model`]), or version 2, a network with convolutions
//! ([`crate::formats::convmodel`]).
//!
//! Book chapters: "Model files" and "Convolutional networks". The command line's `eval`,
//! `predict`, `serve` and `visualize` load through here, so they read both kinds; `train`
//! saves through [`Model::save`], which writes a fully connected network as version 1, byte
//! for byte as before.

use std::path::Path;

use crate::convnet::ConvNet;
use crate::formats::read::read_limited;
use crate::formats::{convmodel, model, output};
use crate::linalg::{Matrix, Vector};
use crate::network::Network;
use crate::Result;

/// A trained network of either kind: what a model file holds. The command line's `eval`,
/// `predict`, `serve` and `visualize` take one, so they read both.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    /// The write-up's fully connected network (format version 1).
    Dense(Network<f32>),
    /// A list of layers with convolutions and pooling (format version 2).
    Conv(ConvNet<f32>),
}

impl Model {
    /// The number of inputs (pixels), and of outputs (classes).
    pub fn inputs_and_outputs(&self) -> [usize; 2] {
        match self {
            Model::Dense(net) => [net.sizes()[0], *net.sizes().last().expect("two layers")],
            Model::Conv(net) => [net.input().len(), net.outputs()],
        }
    }

    /// The layer list, input first: `784,20,10,10` or `784,conv5x5x20,pool2,100,10`.
    pub fn spec(&self) -> String {
        match self {
            Model::Dense(net) => {
                let sizes: Vec<String> = net.sizes().iter().map(usize::to_string).collect();
                sizes.join(",")
            }
            Model::Conv(net) => net.spec(),
        }
    }

    /// The output for every column of `x`, (inputs, n) → (outputs, n).
    pub fn feedforward_batch(&self, x: &Matrix<f32>) -> Matrix<f32> {
        match self {
            Model::Dense(net) => net.feedforward_batch(x),
            Model::Conv(net) => crate::convnet::feedforward_batch(net, x),
        }
    }

    /// The output for one image, `x` its (inputs) values.
    pub fn feedforward(&self, x: &[f32]) -> Vec<f32> {
        match self {
            Model::Dense(net) => net.feedforward(&Vector::from_vec(x.to_vec())).into_vec(),
            Model::Conv(net) => net.feedforward(x),
        }
    }

    /// The predicted class for one image: the index of its largest output.
    pub fn predict(&self, x: &[f32]) -> usize {
        crate::linalg::argmax(&self.feedforward(x))
    }

    /// Every weight and bias.
    fn parameters(&self) -> impl Iterator<Item = &f32> {
        let (weights, biases) = match self {
            Model::Dense(net) => (&net.weights, &net.biases),
            Model::Conv(net) => (&net.weights, &net.biases),
        };
        let w = weights.iter().flat_map(|w| w.as_slice());
        w.chain(biases.iter().flat_map(|b| b.as_slice()))
    }

    /// The file's bytes: version 1 for a fully connected network, 2 for one with
    /// convolutions.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Model::Dense(net) => model::to_bytes(net),
            Model::Conv(net) => convmodel::to_bytes(net),
        }
    }

    /// Saves the model as [`model::save`] does.
    ///
    /// # Errors
    /// As [`model::save`].
    pub fn save(&self, path: &Path) -> Result<()> {
        output::write_file(path, &self.to_bytes())
    }
}

/// Parses a model file of either version.
///
/// # Errors
/// What [`model::from_bytes`] and [`convmodel::from_bytes`] refuse.
pub fn from_bytes_any(bytes: &[u8]) -> Result<Model> {
    match model::version(bytes)? {
        convmodel::VERSION => convmodel::from_bytes(bytes).map(Model::Conv),
        _ => model::from_bytes(bytes).map(Model::Dense),
    }
}

/// Loads a model file of either version.
///
/// # Errors
/// [`crate::Error::Io`] if the file cannot be read, and everything [`from_bytes_any`] rejects.
pub fn load_model(path: &Path) -> Result<Model> {
    let bytes = read_limited(path, model::MAX_FILE_BYTES, "bytes in a model file")?;
    from_bytes_any(&bytes).map_err(|err| model::name_the_file(err, path))
}

/// How many of the model's weights and biases are NaN or infinite.
pub fn non_finite_parameters(model: &Model) -> usize {
    model.parameters().filter(|x| !x.is_finite()).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn both_versions_load_into_their_kind_and_non_finite_values_are_counted() {
        let mut dense: Network<f32> = Network::new(&[6, 4, 3], &mut Rng::new(7));
        dense.weights[1][(2, 3)] = f32::NAN;
        dense.biases[0][1] = f32::NEG_INFINITY;
        let dense = Model::Dense(dense);
        let back = from_bytes_any(&dense.to_bytes()).unwrap();
        assert!(matches!(back, Model::Dense(_)));
        assert_eq!(non_finite_parameters(&back), 2);
        assert_eq!(back.spec(), "6,4,3");
        assert_eq!(back.inputs_and_outputs(), [6, 3]);
    }
}
