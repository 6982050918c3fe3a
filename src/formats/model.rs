//! Model files: saving a trained [`Network`] to disk and loading it back, bit for bit, and
//! the bounds-checked reading every model file format shares. A network with convolutions is
//! format version 2 ([`crate::formats::convmodel`]); a file of either version loads into a
//! [`crate::formats::saved::Model`].
//!
//! Book chapter: "Gradient descent and training" (the last section, "Keeping what was
//! learned"). Version 1, the format of a fully connected network, is little-endian binary,
//! small enough to read with a hex dump:
//!
//! ```text
//! offset        size        field
//! 0             4           magic: the bytes "SNET" (0x53 0x4E 0x45 0x54)
//! 4             4           format version, u32: 1 (version 2 is `convmodel`'s)
//! 8             4           L, the number of layers including the input, u32 (2 ≤ L ≤ 1024)
//! 12            4·L         sizes[0..L], u32 each, input first (784, 20, 10, 10); each ≥ 1
//! …             4 + n       hidden activation name: u32 byte length n (≤ 64), then UTF-8
//! …             4 + n       output activation name, the same way
//! …             4 + n       cost name, the same way
//! …             4·P         parameters, f32 each: for l = 0 … L−2, W^l row-major
//!                           (sizes[l+1] rows × sizes[l] columns), then B^l (sizes[l+1])
//! end − 4       4           CRC-32 (IEEE, as in gzip) of every byte before it, u32
//! ```
//!
//! Names are the ones [`Activation::name`] and [`Cost::name`] print ("sigmoid",
//! "quadratic"). [`save`] writes through [`crate::formats::output`]: to a temporary file beside
//! the target, renamed into place, so a crash or full disk never leaves half a model where a
//! whole one was, and only ever over a regular file.
//! [`load`] reads a regular file of at most [`MAX_FILE_BYTES`] and checks, in order: the magic
//! ([`Error::BadMagic`], "not a scratchnet model"), the version
//! ([`Error::UnsupportedVersion`]), the layer sizes against the limits every network has
//! ([`crate::network::check_sizes`]: [`Error::TooLarge`]), that every header field fits in
//! the file and the parameter count the sizes imply is exactly what is left
//! ([`Error::Truncated`], or [`Error::Corrupt`] for an empty layer and trailing bytes), the
//! CRC ([`Error::Checksum`]), and last the names ([`Error::Corrupt`] naming the unknown name).
//! Nothing is allocated from a header value before it has been checked against its limit and
//! the file's length. Whether the network fits a data set (784 inputs, 10 outputs) is the
//! caller's check: [`crate::data::shape::Shape::check_network`].
//!
//! Non-finite parameters (NaN, ±∞) load as they were saved: the file is a faithful record, and
//! the training command never saves a diverged network anyway. [`crate::formats::saved::non_finite_parameters`]
//! counts them so the command line can warn. Left out: f64 parameters, and any metadata
//! beyond what is needed to run the network (no training history, no data set name).

use std::path::Path;

use crate::activation::Activation;
use crate::cost::Cost;
use crate::formats::checksum::crc32;
use crate::formats::output;
use crate::formats::read::read_limited;
use crate::linalg::{Matrix, Vector};
use crate::network::{check_sizes, Network, MAX_LAYERS, MAX_PARAMETERS};
use crate::{Error, Result};

/// The four bytes every model file starts with.
pub const MAGIC: [u8; 4] = *b"SNET";
/// The format version of a fully connected network's file, which [`save`] writes.
pub const VERSION: u32 = 1;
/// The format version of a network with convolutional layers ([`crate::formats::convmodel`]).
pub const CONV_VERSION: u32 = 2;
/// The newest format version this build reads.
pub const NEWEST_VERSION: u32 = CONV_VERSION;
/// The longest activation or cost name a model file may hold, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// What error messages call a model file.
const WHAT: &str = "scratchnet model";
/// The largest model file [`load`] and [`crate::formats::saved::load_model`] read: the larger header, version 2's
/// (magic, version, input shape and layer count, then for each of [`MAX_LAYERS`] layers three
/// sizes and a name at its longest, and the cost's name), [`MAX_PARAMETERS`] parameters and
/// the CRC (about 1 GiB). Version 1's header, 4 bytes a layer and three names, is smaller.
pub const MAX_FILE_BYTES: u64 =
    (24 + MAX_LAYERS * (12 + 4 + MAX_NAME_BYTES) + (4 + MAX_NAME_BYTES) + 4 * MAX_PARAMETERS + 4)
        as u64;

// ANCHOR: to_bytes
/// The complete file contents for `net`, CRC trailer included (see the module doc).
///
/// Book: "Model files".
pub fn to_bytes(net: &Network<f32>) -> Vec<u8> {
    let sizes = net.sizes();
    let mut bytes = Vec::with_capacity(64 + 4 * (sizes.len() + net.num_parameters()));
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&(sizes.len() as u32).to_le_bytes());
    for &n in sizes {
        bytes.extend_from_slice(&(n as u32).to_le_bytes());
    }
    for name in [net.hidden.name(), net.output.name(), net.cost.name()] {
        put_name(&mut bytes, name);
    }
    put_parameters_and_crc(bytes, &net.weights, &net.biases)
}
// ANCHOR_END: to_bytes

/// Appends a name as every model file stores one: its byte length (u32), then its UTF-8.
pub(crate) fn put_name(bytes: &mut Vec<u8>, name: &str) {
    bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
    bytes.extend_from_slice(name.as_bytes());
}

/// Ends a model file as every version does: each layer's weights row by row, then its
/// biases, as f32; then the CRC-32 of every byte before it.
pub(crate) fn put_parameters_and_crc(
    mut bytes: Vec<u8>,
    weights: &[Matrix<f32>],
    biases: &[Vector<f32>],
) -> Vec<u8> {
    for (w, b) in weights.iter().zip(biases) {
        for &x in w.as_slice().iter().chain(b.as_slice()) {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
    }
    let crc = crc32(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// Saves `net` to `path` through [`output::write_file`]: the bytes go to a temporary file
/// beside `path`, flushed to disk, then renamed over `path`; a path that names anything but a
/// regular file (a link, a FIFO, a device, a folder) is refused, never replaced.
///
/// # Errors
/// [`Error::Io`] if `path` is not a regular file, the folder is not writable or the disk is
/// full; `path` is then untouched and no temporary file remains.
pub fn save(net: &Network<f32>, path: &Path) -> Result<()> {
    output::write_file(path, &to_bytes(net))
}

/// Loads a model saved by [`save`].
///
/// # Errors
/// [`Error::Io`] if the file cannot be read, and everything [`from_bytes`] rejects.
pub fn load(path: &Path) -> Result<Network<f32>> {
    let bytes = read_limited(path, MAX_FILE_BYTES, "bytes in a model file")?;
    from_bytes(&bytes).map_err(|err| name_the_file(err, path))
}

/// Puts the file's name into a format error, so "not a scratchnet model (m.bin)".
pub(crate) fn name_the_file(err: Error, path: &Path) -> Error {
    let what = format!("{WHAT} ({})", path.display());
    match err {
        Error::BadMagic { expected, got, .. } => Error::BadMagic {
            what,
            expected,
            got,
        },
        Error::Truncated {
            needed, available, ..
        } => Error::Truncated {
            what,
            needed,
            available,
        },
        Error::Checksum { expected, got, .. } => Error::Checksum {
            what,
            expected,
            got,
        },
        Error::Corrupt { reason, .. } => Error::Corrupt { what, reason },
        Error::TooLarge {
            what: size,
            got,
            limit,
        } => Error::TooLarge {
            what: format!("{size} in {what}"),
            got,
            limit,
        },
        other => other,
    }
}

// ANCHOR: from_bytes
/// Parses a model file's contents (see the module doc for the checks and their order).
///
/// Book: "Model files".
pub fn from_bytes(bytes: &[u8]) -> Result<Network<f32>> {
    match version(bytes)? {
        VERSION => {}
        CONV_VERSION => {
            return Err(Error::Invalid(format!(
                "this {WHAT} holds a network with convolutional layers (format version \
                 {CONV_VERSION}); read it with saved::load_model"
            )))
        }
        got => {
            return Err(Error::UnsupportedVersion {
                got,
                supported: NEWEST_VERSION,
            })
        }
    }
    let mut r = Reader::after_version(bytes);
    let sizes = r.sizes()?;
    let names = [r.name()?, r.name()?, r.name()?];
    r.expect_exactly(parameter_count(&sizes))?;
    check_crc(bytes)?;
    let [hidden, output, cost] = names;
    let hidden = Activation::from_name(&hidden).ok_or_else(|| unknown("activation", &hidden))?;
    let output = Activation::from_name(&output).ok_or_else(|| unknown("activation", &output))?;
    let cost = Cost::from_name(&cost).ok_or_else(|| unknown("cost", &cost))?;
    let (weights, biases) = r.parameters(&sizes);
    Ok(Network::from_parameters(
        weights, biases, hidden, output, cost,
    ))
}
// ANCHOR_END: from_bytes

/// The magic, then the format version: the first eight bytes of every model file.
pub(crate) fn version(bytes: &[u8]) -> Result<u32> {
    check_magic(bytes)?;
    Reader { bytes, pos: 4 }.u32()
}

/// Refuses a file whose CRC trailer is not the CRC-32 of the bytes before it. Only called
/// once the file is known to be longer than its header, so at least 4 bytes long.
pub(crate) fn check_crc(bytes: &[u8]) -> Result<()> {
    let stored = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap());
    let computed = crc32(&bytes[..bytes.len() - 4]);
    if stored != computed {
        return Err(Error::Checksum {
            what: WHAT.to_string(),
            expected: stored,
            got: computed,
        });
    }
    Ok(())
}

/// A file that is a prefix of the magic is a truncated model; anything else is not a model.
fn check_magic(bytes: &[u8]) -> Result<()> {
    let head = &bytes[..bytes.len().min(4)];
    if head != &MAGIC[..head.len()] {
        let mut got = [0u8; 4];
        got[..head.len()].copy_from_slice(head);
        return Err(Error::BadMagic {
            what: WHAT.to_string(),
            expected: u32::from_be_bytes(MAGIC),
            got: u32::from_be_bytes(got),
        });
    }
    if bytes.len() < 4 {
        return Err(truncated(4, bytes.len()));
    }
    Ok(())
}

/// The number of f32 parameters `sizes` implies (at most [`MAX_PARAMETERS`] once
/// [`check_sizes`] has passed them).
fn parameter_count(sizes: &[usize]) -> usize {
    sizes
        .windows(2)
        .map(|pair| pair[1] * pair[0] + pair[1])
        .sum()
}

fn truncated(needed: usize, available: usize) -> Error {
    Error::Truncated {
        what: WHAT.to_string(),
        needed: needed as u64,
        available: available as u64,
    }
}

pub(crate) fn unknown(kind: &str, name: &str) -> Error {
    corrupt(format!(
        "it names the {kind} {name:?}, which this build does not know"
    ))
}

/// The file is a model file, but a damaged one, for `reason`.
pub(crate) fn corrupt(reason: impl Into<String>) -> Error {
    Error::corrupt(WHAT, reason)
}

/// A cursor over the file's bytes whose every read is bounds-checked.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A cursor after the magic and version, the first 8 bytes (which [`version`] read).
    pub(crate) fn after_version(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 8 }
    }

    /// The next u32, as a size.
    pub(crate) fn size(&mut self) -> Result<usize> {
        Ok(self.u32()? as usize)
    }

    /// The next `n` f32 values. Only called after [`Reader::expect_exactly`] succeeded.
    pub(crate) fn floats(&mut self, n: usize) -> Vec<f32> {
        let raw = self.take(4 * n).expect("length checked before");
        raw.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    /// The next `n` bytes, or Truncated.
    pub(crate) fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| truncated(self.pos.saturating_add(n), self.bytes.len()))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    /// L, then the L layer sizes, each checked against the limits every network has
    /// ([`check_sizes`]) before anything is allocated from it.
    fn sizes(&mut self) -> Result<Vec<usize>> {
        let layers = self.u32()? as usize;
        if layers > MAX_LAYERS {
            return Err(Error::TooLarge {
                what: "layers".into(),
                got: layers as u64,
                limit: MAX_LAYERS as u64,
            });
        }
        let raw = self.take(4 * layers)?;
        let sizes: Vec<usize> = raw
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as usize)
            .collect();
        check_sizes(&sizes).map_err(|err| match err {
            Error::Invalid(reason) => Error::corrupt(WHAT, reason),
            other => other,
        })?;
        Ok(sizes)
    }

    /// A length-prefixed UTF-8 name.
    pub(crate) fn name(&mut self) -> Result<String> {
        let len = self.u32()? as usize;
        if len > MAX_NAME_BYTES {
            return Err(Error::corrupt(
                WHAT,
                format!("a name is {len} bytes long (at most {MAX_NAME_BYTES} allowed)"),
            ));
        }
        let raw = self.take(len)?;
        String::from_utf8(raw.to_vec())
            .map_err(|_| Error::corrupt(WHAT, "a layer or cost name is not valid UTF-8"))
    }

    /// Checks that exactly `count` f32 parameters and the 4-byte CRC remain.
    pub(crate) fn expect_exactly(&self, count: usize) -> Result<()> {
        let needed = count
            .checked_mul(4)
            .and_then(|n| n.checked_add(4 + self.pos))
            .ok_or_else(|| Error::corrupt(WHAT, "its layer sizes are impossibly large"))?;
        match needed.cmp(&self.bytes.len()) {
            std::cmp::Ordering::Greater => Err(truncated(needed, self.bytes.len())),
            std::cmp::Ordering::Less => Err(Error::corrupt(
                WHAT,
                format!(
                    "it has {} bytes after the end its header implies ({needed} bytes)",
                    self.bytes.len() - needed
                ),
            )),
            std::cmp::Ordering::Equal => Ok(()),
        }
    }

    /// Every layer's W then B. Only called after [`Reader::expect_exactly`] succeeded.
    fn parameters(&mut self, sizes: &[usize]) -> (Vec<Matrix<f32>>, Vec<Vector<f32>>) {
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        for pair in sizes.windows(2) {
            let (n_in, n_out) = (pair[0], pair[1]);
            weights.push(Matrix::from_vec(n_out, n_in, self.floats(n_out * n_in)));
            biases.push(Vector::from_vec(self.floats(n_out)));
        }
        (weights, biases)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::mutate::{fix_crc32_trailer, run_mutations, Layout};
    use crate::rng::Rng;

    fn small_net() -> Network<f32> {
        Network::new(&[6, 4, 3], &mut Rng::new(7))
    }

    fn bits(net: &Network<f32>) -> Vec<u32> {
        let w = net.weights.iter().flat_map(|w| w.as_slice());
        let b = net.biases.iter().flat_map(|b| b.as_slice());
        w.chain(b).map(|x| x.to_bits()).collect()
    }

    #[test]
    fn header_bytes_worked_by_hand() {
        let bytes = to_bytes(&small_net());
        // "SNET", version 1, 3 layers: 6, 4, 3, then "sigmoid" (7 bytes).
        assert_eq!(&bytes[..4], b"SNET");
        assert_eq!(bytes[4..8], [1, 0, 0, 0]);
        assert_eq!(bytes[8..12], [3, 0, 0, 0]);
        assert_eq!(bytes[12..24], [6, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(bytes[24..28], [7, 0, 0, 0]);
        assert_eq!(&bytes[28..35], b"sigmoid");
        // Header 24 + names 3·4 + 7 + 7 + 9 + parameters (6·4 + 4 + 4·3 + 3)·4 + CRC 4.
        assert_eq!(bytes.len(), 24 + 12 + 23 + 43 * 4 + 4);
    }

    #[test]
    fn round_trip_is_bit_exact_including_nan() {
        let mut net = small_net();
        net.weights[1][(2, 3)] = f32::NAN;
        net.biases[0][1] = f32::NEG_INFINITY;
        let back = from_bytes(&to_bytes(&net)).unwrap();
        assert_eq!(back.sizes(), net.sizes());
        assert_eq!(bits(&back), bits(&net));
        assert_eq!(
            (back.hidden, back.output, back.cost),
            (net.hidden, net.output, net.cost)
        );
    }

    #[test]
    fn save_then_load_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("scratchnet-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.bin");
        let net = small_net();
        save(&net, &path).unwrap();
        assert_eq!(bits(&load(&path).unwrap()), bits(&net));
        let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(entries.len(), 1, "only the model should remain");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wrong_magic_is_not_a_model() {
        let err = from_bytes(b"hello, world").unwrap_err();
        assert!(matches!(err, Error::BadMagic { .. }), "{err:?}");
        assert!(err.to_string().contains("not a scratchnet model"), "{err}");
    }

    #[test]
    fn other_version_is_unsupported() {
        let mut bytes = to_bytes(&small_net());
        bytes[4] = 3;
        let err = from_bytes(&bytes).unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnsupportedVersion {
                    got: 3,
                    supported: 2
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn every_truncation_is_reported_as_truncated() {
        let bytes = to_bytes(&small_net());
        for len in 0..bytes.len() {
            let err = from_bytes(&bytes[..len]).unwrap_err();
            assert!(
                matches!(err, Error::Truncated { .. }),
                "length {len}: {err:?}"
            );
        }
    }

    #[test]
    fn every_flipped_byte_is_an_error_and_after_the_header_a_checksum_error() {
        let bytes = to_bytes(&small_net());
        let names_end = 24 + 12 + 23;
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            let err = from_bytes(&bad).unwrap_err();
            if i >= names_end {
                assert!(matches!(err, Error::Checksum { .. }), "byte {i}: {err:?}");
            }
        }
    }

    #[test]
    fn absurd_sizes_are_rejected_before_allocating() {
        let mut bytes = Vec::from(MAGIC);
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&3u32.to_le_bytes());
        for n in [u32::MAX, u32::MAX, u32::MAX] {
            bytes.extend_from_slice(&n.to_le_bytes());
        }
        for name in ["sigmoid", "sigmoid", "quadratic"] {
            bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
            bytes.extend_from_slice(name.as_bytes());
        }
        let err = from_bytes(&bytes).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
        // A layer count of four billion is refused outright.
        let mut huge = Vec::from(MAGIC);
        huge.extend_from_slice(&1u32.to_le_bytes());
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            from_bytes(&huge).unwrap_err(),
            Error::TooLarge { .. }
        ));
    }

    /// A whole, correctly checksummed file for a network of `sizes` whose parameters are all
    /// zero, written without building the network (so a huge claim costs nothing here).
    fn file_claiming(sizes: &[u32]) -> Vec<u8> {
        let mut bytes = Vec::from(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&(sizes.len() as u32).to_le_bytes());
        for n in sizes {
            bytes.extend_from_slice(&n.to_le_bytes());
        }
        for name in ["sigmoid", "sigmoid", "quadratic"] {
            bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
            bytes.extend_from_slice(name.as_bytes());
        }
        let count: usize = sizes
            .windows(2)
            .map(|p| (p[0] as usize + 1) * p[1] as usize)
            .sum();
        bytes.resize(bytes.len() + 4 * count, 0);
        let crc = crc32(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    #[test]
    fn a_layer_wider_than_the_limit_is_too_large_even_in_a_whole_file() {
        // What this guards against: a 1 × 2²⁰+1 output layer (a 8 MB file with a good CRC) loaded, and eval then
        // asked for activations of 1,000 images × 2²⁰ outputs (4 GB).
        let wide = crate::network::MAX_LAYER_SIZE as u32 + 1;
        match from_bytes(&file_claiming(&[1, 1, wide])) {
            Err(Error::TooLarge { what, got, .. }) => {
                assert_eq!((what.as_str(), got), ("neurons in layer 3", wide as u64))
            }
            other => panic!("{other:?}"),
        }
        assert!(from_bytes(&file_claiming(&[3, 2, 4])).is_ok());
    }

    #[test]
    fn unknown_names_are_corrupt_and_named() {
        let net = small_net();
        let good = to_bytes(&net);
        // Replace "quadratic" with "quadratiX" and fix up the CRC so only the name is wrong.
        let mut bytes = good[..good.len() - 4].to_vec();
        let at = bytes.windows(9).position(|w| w == b"quadratic").unwrap();
        bytes[at + 8] = b'X';
        let crc = crc32(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        let err = from_bytes(&bytes).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("quadratiX"), "{err}");
    }

    #[test]
    fn mutated_files_never_panic() {
        // 10,000 mutations of two small models, half with the CRC trailer made right again
        // so that the sizes, names and parameters behind it are reached.
        let seeds = [
            to_bytes(&small_net()),
            to_bytes(&Network::new(&[2, 3, 2, 2], &mut Rng::new(2))),
        ];
        let layout = Layout {
            magic: 4,
            header: 64,
        };
        run_mutations(&seeds, layout, fix_crc32_trailer, |input| {
            drop(from_bytes(input))
        });
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_are_an_error_not_a_panic(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            prefix in 0usize..40,
        ) {
            // Start from a real header so the parser gets past the magic and version.
            let mut bytes = to_bytes(&small_net())[..prefix].to_vec();
            bytes.extend_from_slice(&tail);
            proptest::prop_assert!(from_bytes(&bytes).is_err());
            proptest::prop_assert!(from_bytes(&tail).is_err());
        }
    }

    #[test]
    fn trailing_bytes_are_corrupt() {
        let mut bytes = to_bytes(&small_net());
        bytes.push(0);
        assert!(matches!(
            from_bytes(&bytes).unwrap_err(),
            Error::Corrupt { .. }
        ));
    }
}
