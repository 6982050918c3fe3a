//! Model files, version 2: a network as a list of layers ([`ConvNet`]), convolutions and
//! pooling included.
//!
//! Book chapter: "Convolutional networks" (its last section, "Saving a convolutional
//! network"). The layout follows version 1's ([`crate::formats::model`]): little-endian,
//! length-checked, CRC-32 last. Fully connected networks are still written as version 1, byte
//! for byte as before; this version is for networks version 1 cannot describe.
//!
//! ```text
//! offset        size        field
//! 0             4           magic: the bytes "SNET"
//! 4             4           format version, u32: 2
//! 8             12          the input's maps, rows, columns, u32 each (1, 28, 28 for MNIST)
//! 20            4           N, the number of layers after the input, u32 (1 ≤ N < 1024)
//! …             N × …       each layer: kind u32 (0 fully connected, 1 convolution,
//!                           2 max-pooling), size u32 (neurons, or the side k of a kernel or
//!                           window), maps u32 (a convolution's output maps, else 0), then its
//!                           activation name as u32 byte length n (≤ 64) and UTF-8 (n = 0
//!                           for pooling)
//! …             4 + n       cost name
//! …             4·P         parameters, f32 each: for every layer its weight matrix row-major
//!                           (a convolution's is (maps, c_in·k·k), kernel K_{j,i}(p, q) at
//!                           row j, column (i·k + p)·k + q), then its biases (pooling: none)
//! end − 4       4           CRC-32 of every byte before it, u32
//! ```
//!
//! [`from_bytes`] checks, in order: the version, every layer's kind and sizes against the
//! limits [`ConvNet::build`] has ([`parameter_shapes`]: `TooLarge` or `Invalid`), that the
//! parameters the layers imply are exactly what is left, the CRC, then the names, and the
//! activations and cost together; nothing is allocated from a header value before that
//! value has been checked. Left out: f64 parameters, dropout rates (a training setting, not
//! part of the network).

use crate::activation::Activation;
use crate::convnet::{parameter_shapes, ConvNet, Layer};
use crate::cost::Cost;
use crate::formats::model::{
    check_crc, corrupt, put_name, put_parameters_and_crc, unknown, Reader, MAGIC,
};
use crate::linalg::{MapShape, Matrix, Vector};
use crate::network::MAX_LAYERS;
use crate::{Error, Result};

/// This format's version number.
pub const VERSION: u32 = crate::formats::model::CONV_VERSION;

/// A layer's kind as the file writes it.
const DENSE: u32 = 0;
const CONV: u32 = 1;
const POOL: u32 = 2;

/// The complete file contents for `net`, CRC trailer included (see the module doc).
pub fn to_bytes(net: &ConvNet<f32>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64 + 4 * net.num_parameters());
    let put = |bytes: &mut Vec<u8>, n: usize| bytes.extend_from_slice(&(n as u32).to_le_bytes());
    bytes.extend_from_slice(&MAGIC);
    put(&mut bytes, VERSION as usize);
    let input = net.input();
    for n in [input.maps, input.rows, input.cols, net.layers().len()] {
        put(&mut bytes, n);
    }
    for &layer in net.layers() {
        let (kind, size, maps) = match layer {
            Layer::Dense { neurons, .. } => (DENSE, neurons, 0),
            Layer::Conv { k, maps, .. } => (CONV, k, maps),
            Layer::Pool { k } => (POOL, k, 0),
        };
        for n in [kind as usize, size, maps] {
            put(&mut bytes, n);
        }
        put_name(&mut bytes, layer.activation().map_or("", Activation::name));
    }
    put_name(&mut bytes, net.cost.name());
    put_parameters_and_crc(bytes, &net.weights, &net.biases)
}

/// Parses a version-2 file's contents, the magic and version already read as
/// [`crate::formats::saved::from_bytes_any`] does (see the module doc for the checks).
pub fn from_bytes(bytes: &[u8]) -> Result<ConvNet<f32>> {
    let mut r = Reader::after_version(bytes);
    let input = MapShape::new(r.size()?, r.size()?, r.size()?);
    let count = r.size()?;
    if count == 0 || count >= MAX_LAYERS {
        return Err(corrupt(format!(
            "it has {count} layers after the input (1 to {} allowed)",
            MAX_LAYERS - 1
        )));
    }
    let mut raw = Vec::new();
    for _ in 0..count {
        raw.push(((r.u32()?, r.size()?, r.size()?), r.name()?));
    }
    let cost = r.name()?;
    // Sizes first, with a placeholder activation: the names are checked after the CRC.
    let layers = raw
        .iter()
        .map(|&((kind, size, maps), _)| layer(kind, size, maps, Activation::Identity))
        .collect::<Result<Vec<_>>>()?;
    let shapes = parameter_shapes(input, &layers).map_err(|err| match err {
        Error::Invalid(reason) => corrupt(reason),
        other => other,
    })?;
    let count: usize = shapes.iter().map(|&(rows, cols)| rows * cols + rows).sum();
    r.expect_exactly(count)?;
    check_crc(bytes)?;
    let layers = layers
        .into_iter()
        .zip(&raw)
        .map(|(layer, (_, name))| with_activation(layer, name))
        .collect::<Result<Vec<_>>>()?;
    let cost = Cost::from_name(&cost).ok_or_else(|| unknown("cost", &cost))?;
    let (mut weights, mut biases) = (Vec::new(), Vec::new());
    for &(rows, cols) in &shapes {
        weights.push(Matrix::from_vec(rows, cols, r.floats(rows * cols)));
        biases.push(Vector::from_vec(r.floats(rows)));
    }
    ConvNet::from_parameters(input, layers, cost, weights, biases).map_err(|err| match err {
        Error::Invalid(_) | Error::Incompatible { .. } => corrupt(err.to_string()),
        other => other,
    })
}

/// The layer a kind and its sizes describe; only a convolution has maps (0 for the others,
/// as [`to_bytes`] writes them).
fn layer(kind: u32, size: usize, maps: usize, activation: Activation) -> Result<Layer> {
    match (kind, maps) {
        (DENSE, 0) => Ok(Layer::Dense {
            neurons: size,
            activation,
        }),
        (CONV, _) => Ok(Layer::Conv {
            k: size,
            maps,
            activation,
        }),
        (POOL, 0) => Ok(Layer::Pool { k: size }),
        (DENSE | POOL, _) => Err(corrupt(format!(
            "a layer of kind {kind} gives {maps} maps, which only a convolution has"
        ))),
        (other, _) => Err(corrupt(format!(
            "a layer is of kind {other}, which this build does not know"
        ))),
    }
}

/// `layer` with the activation `name` names (none for pooling).
fn with_activation(layer: Layer, name: &str) -> Result<Layer> {
    if let Layer::Pool { .. } = layer {
        return match name {
            "" => Ok(layer),
            _ => Err(corrupt(format!(
                "a pooling layer names the activation {name:?}; pooling has none"
            ))),
        };
    }
    let f = Activation::from_name(name).ok_or_else(|| unknown("activation", name))?;
    Ok(match layer {
        Layer::Dense { neurons, .. } => Layer::Dense {
            neurons,
            activation: f,
        },
        Layer::Conv { k, maps, .. } => Layer::Conv {
            k,
            maps,
            activation: f,
        },
        pool => pool,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convnet::ConvNetConfig;
    use crate::formats::mutate::{fix_crc32_trailer, run_mutations, Layout};
    use crate::formats::saved::{from_bytes_any, Model};
    use crate::init::Init;
    use crate::rng::Rng;

    /// 8×8 input → conv 3×3×2 (relu) → pool 2 → 5 (tanh) → softmax 3.
    fn small_net() -> ConvNet<f32> {
        let config = ConvNetConfig {
            input: MapShape::new(1, 8, 8),
            layers: vec![
                Layer::Conv {
                    k: 3,
                    maps: 2,
                    activation: Activation::Relu,
                },
                Layer::Pool { k: 2 },
                Layer::Dense {
                    neurons: 5,
                    activation: Activation::Tanh,
                },
                Layer::Dense {
                    neurons: 3,
                    activation: Activation::Softmax,
                },
            ],
            cost: Cost::LogLikelihood,
            init: Init::Scaled,
        };
        ConvNet::build(&config, &mut Rng::new(3)).unwrap()
    }

    fn parse(bytes: &[u8]) -> Result<ConvNet<f32>> {
        match from_bytes_any(bytes)? {
            Model::Conv(net) => Ok(net),
            Model::Dense(_) => panic!("a version-2 file read as version 1"),
        }
    }

    #[test]
    fn header_bytes_worked_by_hand() {
        let bytes = to_bytes(&small_net());
        let words: Vec<u32> = bytes[4..32]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        // Version 2, input (1, 8, 8), 4 layers, the first conv (kind 1) 3×3, 2 maps, "relu".
        assert_eq!(words, [2, 1, 8, 8, 4, 1, 3]);
        assert_eq!(bytes[32..36], [2, 0, 0, 0]);
        assert_eq!(bytes[36..40], [4, 0, 0, 0]);
        assert_eq!(&bytes[40..44], b"relu");
        // Parameters: conv 2·9 + 2, pool 0, dense 5·18 + 5, output 3·5 + 3 = 133 floats.
        assert_eq!(small_net().num_parameters(), 133);
    }

    #[test]
    fn round_trip_is_bit_exact() {
        let mut net = small_net();
        net.weights[0][(1, 4)] = f32::NAN;
        let back = parse(&to_bytes(&net)).unwrap();
        assert_eq!(back.layers(), net.layers());
        assert_eq!(back.input(), net.input());
        assert_eq!(back.cost, net.cost);
        let bits = |n: &ConvNet<f32>| -> Vec<u32> {
            let w = n.weights.iter().flat_map(|w| w.as_slice());
            let b = n.biases.iter().flat_map(|b| b.as_slice());
            w.chain(b).map(|x| x.to_bits()).collect()
        };
        assert_eq!(bits(&back), bits(&net));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = to_bytes(&small_net());
        for len in 0..bytes.len() {
            let err = parse(&bytes[..len]).unwrap_err();
            assert!(
                matches!(err, Error::Truncated { .. } | Error::Corrupt { .. }),
                "length {len}: {err:?}"
            );
        }
    }

    #[test]
    fn every_flipped_byte_is_an_error() {
        let bytes = to_bytes(&small_net());
        for i in 4..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x5a;
            assert!(parse(&bad).is_err(), "byte {i} flipped still loads");
        }
    }

    /// A header claiming an input of 2³² − 1 maps of 2³² − 1 × 2³² − 1 values.
    #[test]
    fn absurd_sizes_are_refused_before_allocating() {
        let mut bytes = to_bytes(&small_net());
        bytes[8..20].copy_from_slice(&[0xff; 12]);
        let err = parse(&bytes).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
        let mut bytes = to_bytes(&small_net());
        bytes[28..32].copy_from_slice(&[0xff; 4]); // the first kernel's side
        assert!(parse(&bytes).is_err());
    }

    #[test]
    fn a_kernel_larger_than_its_input_is_corrupt() {
        let mut bytes = to_bytes(&small_net());
        bytes[28] = 9; // a 9×9 kernel on 8×8 maps
        let err = parse(&bytes).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("does not fit"), "{err}");
    }

    /// The bytes of `net` with the layer-table word `word` (counted from the first layer's
    /// kind) set to `value`, the CRC made right again.
    fn with_word(net: &ConvNet<f32>, word: usize, value: u32) -> Vec<u8> {
        let mut bytes = to_bytes(net);
        let at = 24 + 4 * word;
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        fix_crc32_trailer(&mut bytes);
        bytes
    }

    #[test]
    fn only_a_convolution_has_maps() {
        // Layer 2 is the pool: kind at word 0 + 4 + 4 ("relu" is one word), size, then maps.
        let bytes = with_word(&small_net(), 3 + 1 + 1 + 2, 7);
        let err = parse(&bytes).unwrap_err();
        assert!(err.to_string().contains("only a convolution has"), "{err}");
    }

    #[test]
    fn a_convolution_whose_patches_would_not_fit_in_memory_is_refused() {
        // 784 → conv1x1x1300 → conv14x14x1 → 10: every layer small, but the second
        // convolution's patch matrix 1300·14·14 × 15·15 values an image (46 GB a batch of 200).
        let config = ConvNetConfig {
            input: MapShape::new(1, 28, 28),
            layers: vec![
                Layer::Conv {
                    k: 1,
                    maps: 13,
                    activation: Activation::Relu,
                },
                Layer::Conv {
                    k: 14,
                    maps: 1,
                    activation: Activation::Relu,
                },
                Layer::Dense {
                    neurons: 10,
                    activation: Activation::Softmax,
                },
            ],
            cost: Cost::LogLikelihood,
            init: Init::Scaled,
        };
        let net = ConvNet::build(&config, &mut Rng::new(1)).unwrap();
        assert!(parse(&to_bytes(&net)).is_ok());
        let bytes = with_word(&net, 2, 1300); // the first convolution's maps
        let err = parse(&bytes).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("patch values per image of layer 2"),
            "{err}"
        );
    }

    #[test]
    fn mutated_files_never_panic() {
        // Half the mutations get their CRC made right again, so that the layers, names and
        // parameters behind it are reached.
        let layout = Layout {
            magic: 4,
            header: 96,
        };
        let seeds = [to_bytes(&small_net())];
        run_mutations(&seeds, layout, fix_crc32_trailer, |input| {
            drop(from_bytes_any(input))
        });
    }
}
