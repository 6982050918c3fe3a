//! MNIST's IDX files: parsing images and labels, finding the four files on disk, and
//! Nielsen's train/validation split.
//!
//! Book chapter: "Reading MNIST". An IDX file is a big-endian header then raw bytes:
//!
//! ```text
//! images: 0x00000803 (2051)  count  rows  cols   then count × rows × cols pixel bytes
//! labels: 0x00000801 (2049)  count               then count label bytes (0–9)
//! ```
//!
//! Pixels are stored row by row from the top left, 0 = background, 255 = ink. Files may be raw
//! or gzipped (detected by their first two bytes, not their name); see [`crate::formats::inflate`].
//! Any IDX data set of this form reads, not only MNIST: images of any rows × cols (up to
//! [`MAX_PIXELS_PER_IMAGE`]), labels 0–9, under MNIST's four file names. Every header value
//! is checked against its limit ([`MAX_IMAGES`], [`MAX_PIXELS_PER_IMAGE`], [`MAX_IDX_BYTES`])
//! and the file's real length *before* anything is allocated from it, so a corrupt count
//! cannot ask for terabytes.
//!
//! Left out: IDX element types other than unsigned bytes (the format also allows i8, i16,
//! i32, f32, f64) and dimensions other than 1 (labels) and 3 (images); scaling pixels to
//! [0, 1] belongs to the network's input layer, not here.

use std::io;
use std::path::{Path, PathBuf};

use crate::formats::inflate::{gunzip_limited, is_gzip};
use crate::formats::read::read_limited;
use crate::{Error, Result};

/// The magic number that opens an IDX image file: unsigned bytes, 3 dimensions.
pub const IMAGES_MAGIC: u32 = 2051;
/// The magic number that opens an IDX label file: unsigned bytes, 1 dimension.
pub const LABELS_MAGIC: u32 = 2049;

/// The four MNIST files as distributed (gzipped), with the SHA-256 of each `.gz` file.
/// Order: training images, training labels, test images, test labels.
pub const FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
];

/// The SHA-256 of each of [`FILES`] unzipped (`NAME-idx3-ubyte`), in the same order: a file
/// present under its unzipped name is MNIST's when it has this digest.
pub const UNZIPPED_SHA256: [&str; 4] = [
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
];

/// The most images (or labels) one IDX file may hold: 2²⁴, 280 times MNIST's 60,000.
pub const MAX_IMAGES: usize = 1 << 24;

/// The most pixels one image may have: 2¹⁶ (256 × 256; MNIST's are 28 × 28 = 784). One
/// input neuron per pixel, so this also bounds the input layer of a network trained on them.
pub const MAX_PIXELS_PER_IMAGE: usize = 1 << 16;

/// The most bytes one IDX file may hold, gzipped or unzipped: 1 GiB (MNIST's largest is
/// 47 MB unzipped), the most [`crate::formats::inflate`] ever produces.
pub const MAX_IDX_BYTES: usize = crate::formats::inflate::MAX_OUTPUT;

/// One of MNIST's two sets, each an image file and a label file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The 60,000 training images (Nielsen's training and validation sets).
    Train,
    /// The 10,000 test images.
    Test,
}

impl Split {
    /// The indices in [`FILES`] of this set's image file and label file.
    pub fn files(self) -> [usize; 2] {
        match self {
            Split::Train => [0, 1],
            Split::Test => [2, 3],
        }
    }
}

/// Where the data lives when nothing says otherwise (relative to the working directory).
pub const DEFAULT_DIR: &str = "data/mnist";

/// A stack of greyscale images, all `rows × cols`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Pixel rows per image (28 for MNIST).
    pub rows: usize,
    /// Pixel columns per image (28 for MNIST).
    pub cols: usize,
    /// pixels: (count, rows × cols), row-major; image i is
    /// `pixels[i*rows*cols..(i+1)*rows*cols]`, 0 = background, 255 = ink.
    pub pixels: Vec<u8>,
}

impl Images {
    /// Pixels per image: rows × cols (784 for MNIST, the input layer's size).
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `i`'s rows × cols pixels, row by row.
    ///
    /// # Panics
    /// If `i >= self.count`.
    #[track_caller]
    pub fn image(&self, i: usize) -> &[u8] {
        assert!(
            i < self.count,
            "image index {i} out of range: there are {} images",
            self.count
        );
        let n = self.pixels_per_image();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Images `start..end` as a new stack.
    ///
    /// # Panics
    /// If `start > end` or `end > self.count`.
    #[track_caller]
    pub fn slice(&self, start: usize, end: usize) -> Images {
        assert!(
            start <= end && end <= self.count,
            "image range {start}..{end} out of range: there are {} images",
            self.count
        );
        let n = self.pixels_per_image();
        Images {
            count: end - start,
            rows: self.rows,
            cols: self.cols,
            pixels: self.pixels[start * n..end * n].to_vec(),
        }
    }
}

/// Reads the big-endian u32 at `at` (the caller has checked the length).
fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks that `bytes` is exactly `header + body` long, where `body` comes from header
/// fields: Truncated if shorter, Corrupt if longer. Works in u128 so no header can overflow.
fn check_length(bytes: &[u8], header: u64, body: u128, what: &str) -> Result<()> {
    let needed = header as u128 + body;
    let available = bytes.len() as u128;
    if needed > available {
        return Err(Error::Truncated {
            what: what.to_string(),
            needed: needed.min(u64::MAX as u128) as u64,
            available: available as u64,
        });
    }
    if needed < available {
        return Err(Error::corrupt(
            what,
            format!(
                "{} bytes after the {needed} its header describes",
                available - needed
            ),
        ));
    }
    Ok(())
}

/// Checks an IDX header's length and magic number; `kind` is "image" or "label".
fn check_header(bytes: &[u8], header: usize, magic: u32, kind: &str, name: &str) -> Result<()> {
    let what = format!("IDX {kind} file {name}");
    // The magic first: a label file passed as images should say so, not "truncated".
    if bytes.len() >= 4 && be_u32(bytes, 0) != magic {
        return Err(Error::BadMagic {
            // Read as "not a valid IDX image file (NAME): it starts with …".
            what: format!("valid IDX {kind} file ({name})"),
            expected: magic,
            got: be_u32(bytes, 0),
        });
    }
    if bytes.len() < header {
        return Err(Error::Truncated {
            what: what.to_string(),
            needed: header as u64,
            available: bytes.len() as u64,
        });
    }
    Ok(())
}

/// Refuses a header's `got` above `limit`, as [`Error::TooLarge`] naming `what` and the file.
fn check_limit(got: u64, limit: usize, what: &str, name: &str) -> Result<()> {
    if got > limit as u64 {
        return Err(Error::TooLarge {
            what: format!("{what} in IDX file {name}"),
            got,
            limit: limit as u64,
        });
    }
    Ok(())
}

// ANCHOR: parse_images
/// Parses an IDX image file (already decompressed). `name` names it in errors. The file's
/// bytes become the pixels (its 16-byte header removed in place), so MNIST's 47 MB of
/// training images are never held twice.
///
/// Book: "Reading MNIST".
pub fn parse_images(mut bytes: Vec<u8>, name: &str) -> Result<Images> {
    let what = format!("IDX image file {name}");
    check_header(&bytes, 16, IMAGES_MAGIC, "image", name)?;
    let count = be_u32(&bytes, 4);
    let rows = be_u32(&bytes, 8);
    let cols = be_u32(&bytes, 12);
    if rows == 0 || cols == 0 {
        return Err(Error::corrupt(
            &what,
            format!("images of {rows} × {cols} pixels hold nothing"),
        ));
    }
    let pixels = rows as u64 * cols as u64;
    check_limit(count as u64, MAX_IMAGES, "images", name)?;
    check_limit(pixels, MAX_PIXELS_PER_IMAGE, "pixels per image", name)?;
    check_length(&bytes, 16, count as u128 * pixels as u128, &what)?;
    bytes.drain(..16);
    Ok(Images {
        count: count as usize,
        rows: rows as usize,
        cols: cols as usize,
        pixels: bytes,
    })
}
// ANCHOR_END: parse_images

// ANCHOR: parse_labels
/// Parses an IDX label file (already decompressed): one digit 0–9 per image.
///
/// Book: "Reading MNIST".
pub fn parse_labels(bytes: &[u8], name: &str) -> Result<Vec<u8>> {
    let what = format!("IDX label file {name}");
    check_header(bytes, 8, LABELS_MAGIC, "label", name)?;
    let count = be_u32(bytes, 4);
    check_limit(count as u64, MAX_IMAGES, "labels", name)?;
    check_length(bytes, 8, count as u128, &what)?;
    let labels = &bytes[8..];
    if let Some(i) = labels.iter().position(|&label| label > 9) {
        return Err(Error::corrupt(
            &what,
            format!("label {} at index {i} is not a digit 0–9", labels[i]),
        ));
    }
    Ok(labels.to_vec())
}
// ANCHOR_END: parse_labels

/// Reads a whole IDX file, gunzipping it when it starts with the gzip magic bytes; at most
/// [`MAX_IDX_BYTES`] either way (a regular file only, see [`read_limited`]).
pub fn read_idx_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_limited(path, MAX_IDX_BYTES as u64, "bytes in an IDX file")?;
    if is_gzip(&bytes) {
        gunzip_limited(&bytes, MAX_IDX_BYTES).map_err(|err| name_file(err, path))
    } else {
        Ok(bytes)
    }
}

/// Replaces the generic "gzip data" in a decompression error with the file's path.
fn name_file(err: Error, path: &Path) -> Error {
    let name = path.display().to_string();
    match err {
        Error::Truncated {
            needed, available, ..
        } => Error::Truncated {
            what: name,
            needed,
            available,
        },
        Error::Checksum {
            what,
            expected,
            got,
        } => Error::Checksum {
            what: what.replace("gzip data", &name),
            expected,
            got,
        },
        Error::Corrupt { reason, .. } => Error::Corrupt { what: name, reason },
        Error::TooLarge { what, got, limit } => Error::TooLarge {
            what: what.replace("gzip data", &name),
            got,
            limit,
        },
        other => other,
    }
}

/// Images and their labels: `labels[i]` is the digit drawn in `images.image(i)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSet {
    /// The images.
    pub images: Images,
    /// One digit 0–9 per image.
    pub labels: Vec<u8>,
}

impl DataSet {
    /// Pairs images with labels, which must be equally many.
    pub fn new(images: Images, labels: Vec<u8>) -> Result<DataSet> {
        if images.count != labels.len() {
            return Err(Error::CountMismatch {
                images: images.count,
                labels: labels.len(),
            });
        }
        Ok(DataSet { images, labels })
    }

    /// Number of (image, label) pairs.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The first `n` pairs and the rest, as Nielsen splits MNIST's 60,000 training images
    /// into 50,000 for training and 10,000 for validation: `train.split_at(50_000)`.
    ///
    /// Book: "Reading MNIST", "Gradient descent and training".
    ///
    /// # Panics
    /// If `n > self.len()`.
    #[track_caller]
    pub fn split_at(mut self, n: usize) -> (DataSet, DataSet) {
        assert!(n <= self.len(), "cannot split {} images at {n}", self.len());
        // The first part keeps the loaded buffer; only the second part is copied.
        let images = &mut self.images;
        let second = DataSet {
            images: Images {
                count: images.count - n,
                pixels: images.pixels.split_off(n * images.pixels_per_image()),
                ..*images
            },
            labels: self.labels.split_off(n),
        };
        images.count = n;
        images.pixels.shrink_to_fit();
        self.labels.shrink_to_fit();
        (self, second)
    }
}

/// All of MNIST: 60,000 training pairs and 10,000 test pairs.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// The training set (split it with [`DataSet::split_at`] for validation).
    pub train: DataSet,
    /// The test set, reported separately.
    pub test: DataSet,
}

impl Mnist {
    /// Loads the four files from `dir`, gzipped or raw, under any of the names in
    /// [`find_file`]. A missing file is an [`Error::Io`] naming it and where it was looked for.
    ///
    /// Book: "Reading MNIST".
    pub fn load(dir: &Path) -> Result<Mnist> {
        Ok(Mnist {
            train: load_split(dir, Split::Train)?,
            test: load_split(dir, Split::Test)?,
        })
    }
}

/// Loads one set's two files from `dir` (see [`Mnist::load`]): the test set alone reads only
/// the two test files.
pub fn load_split(dir: &Path, split: Split) -> Result<DataSet> {
    let read = |index: usize| -> Result<(Vec<u8>, String)> {
        let path = require_file(dir, FILES[index].0)?;
        Ok((read_idx_file(&path)?, path.display().to_string()))
    };
    let [images, labels] = split.files();
    let (bytes, name) = read(images)?;
    let images = parse_images(bytes, &name)?;
    let (bytes, name) = read(labels)?;
    DataSet::new(images, parse_labels(&bytes, &name)?)
}

/// The names a file in [`FILES`] may go by: `NAME-idx3-ubyte.gz` as distributed, unzipped
/// `NAME-idx3-ubyte`, and the dotted `NAME.idx3-ubyte(.gz)` some mirrors use.
pub fn file_names(file: &str) -> [String; 4] {
    let stem = file.strip_suffix(".gz").unwrap_or(file);
    let dotted = stem.replacen("-idx", ".idx", 1);
    [
        format!("{stem}.gz"),
        stem.to_string(),
        format!("{dotted}.gz"),
        dotted,
    ]
}

/// The first of [`file_names`]`(file)` that exists in `dir`.
pub fn find_file(dir: &Path, file: &str) -> Option<PathBuf> {
    file_names(file)
        .into_iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// [`find_file`], or an [`Error::Io`] that names the file and says how to get it.
fn require_file(dir: &Path, file: &str) -> Result<PathBuf> {
    find_file(dir, file).ok_or_else(|| {
        let [_, raw, dotted_gz, dotted] = file_names(file);
        Error::io(
            dir.join(file),
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "MNIST file not found (also looked for {raw}, {dotted_gz} and {dotted} in \
                     {}); download the four files into that folder, or name a folder that \
                     holds them in MNIST_DIR",
                    dir.display()
                ),
            ),
        )
    })
}

/// True when all four MNIST files are in `dir` (under any of their names).
pub fn has_all_files(dir: &Path) -> bool {
    has_files(dir, &[Split::Train, Split::Test])
}

/// True when both files of each of `splits` are in `dir` (under any of their names).
pub fn has_files(dir: &Path, splits: &[Split]) -> bool {
    let mut files = splits.iter().flat_map(|split| split.files());
    files.all(|index| find_file(dir, FILES[index].0).is_some())
}

/// The data folder: the `--data` flag if given, else `MNIST_DIR` if set and non-empty, else
/// [`DEFAULT_DIR`].
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    match std::env::var_os("MNIST_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_DIR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::mutate::{run_mutations, Layout};

    /// An IDX image file built by hand: `count` images of rows × cols, pixel value = index.
    fn idx_images(count: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        for v in [IMAGES_MAGIC, count, rows, cols] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        bytes.extend((0..count * rows * cols).map(|i| i as u8));
        bytes
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut bytes = LABELS_MAGIC.to_be_bytes().to_vec();
        bytes.extend_from_slice(&(labels.len() as u32).to_be_bytes());
        bytes.extend_from_slice(labels);
        bytes
    }

    #[test]
    fn images_parse_row_major() {
        let images = parse_images(idx_images(3, 2, 3), "test").unwrap();
        assert_eq!((images.count, images.rows, images.cols), (3, 2, 3));
        assert_eq!(images.image(1), &[6, 7, 8, 9, 10, 11]);
    }

    #[test]
    fn image_headers_are_checked_before_allocating() {
        let mut huge = idx_images(1, 2, 3);
        huge[4..8].copy_from_slice(&(MAX_IMAGES as u32).to_be_bytes());
        match parse_images(huge.clone(), "test") {
            Err(Error::Truncated { needed, .. }) => assert_eq!(needed, 16 + (6 << 24)),
            other => panic!("{other:?}"),
        }
        let mut zero = idx_images(1, 2, 3);
        zero[8..12].copy_from_slice(&0u32.to_be_bytes());
        assert!(matches!(
            parse_images(zero, "t"),
            Err(Error::Corrupt { .. })
        ));
        let mut trailing = idx_images(1, 2, 3);
        trailing.push(0);
        assert!(matches!(
            parse_images(trailing, "t"),
            Err(Error::Corrupt { .. })
        ));
        assert!(matches!(
            parse_images(idx_labels(&[1]), "t"),
            Err(Error::BadMagic {
                expected: 2051,
                got: 2049,
                ..
            })
        ));
        assert!(matches!(
            parse_images(vec![0, 0, 8, 3, 0], "t"),
            Err(Error::Truncated { needed: 16, .. })
        ));
    }

    #[test]
    fn header_values_above_their_limits_are_too_large() {
        // Before the limits, 4·10⁹ images was only "truncated", and 2¹⁶ × 2¹⁶-pixel images
        // were read.
        let too_large = |bytes: &[u8]| match parse_images(bytes.to_vec(), "t") {
            Err(Error::TooLarge { what, got, limit }) => (what, got, limit),
            other => panic!("{other:?}"),
        };
        let mut many = idx_images(1, 2, 3);
        many[4..8].copy_from_slice(&4_000_000_000u32.to_be_bytes());
        let (what, got, limit) = too_large(&many);
        assert_eq!((got, limit), (4_000_000_000, MAX_IMAGES as u64));
        assert_eq!(what, "images in IDX file t");
        let mut wide = idx_images(1, 2, 3);
        wide[8..12].copy_from_slice(&65_536u32.to_be_bytes());
        wide[12..16].copy_from_slice(&2u32.to_be_bytes());
        let (what, got, _) = too_large(&wide);
        assert_eq!(
            (what.as_str(), got),
            ("pixels per image in IDX file t", 131_072)
        );
        let mut labels = idx_labels(&[1]);
        labels[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            parse_labels(&labels, "t"),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn mutated_files_never_panic() {
        // 10,000 mutations of an image file and a label file, each read as both.
        let seeds = [idx_images(3, 2, 3), idx_labels(&[7, 2, 1, 0])];
        let layout = Layout {
            magic: 0,
            header: 16,
        };
        run_mutations(
            &seeds,
            layout,
            |_| {},
            |input| {
                drop(parse_images(input.to_vec(), "mutated"));
                drop(parse_labels(input, "mutated"));
            },
        );
    }

    #[test]
    fn labels_must_be_digits() {
        assert_eq!(
            parse_labels(&idx_labels(&[5, 0, 9]), "t").unwrap(),
            [5, 0, 9]
        );
        assert!(matches!(
            parse_labels(&idx_labels(&[5, 10]), "t"),
            Err(Error::Corrupt { .. })
        ));
    }

    #[test]
    fn split_keeps_pairs_together() {
        let images = parse_images(idx_images(5, 1, 2), "t").unwrap();
        let set = DataSet::new(images, vec![0, 1, 2, 3, 4]).unwrap();
        let (train, validation) = set.split_at(3);
        assert_eq!((train.len(), validation.len()), (3, 2));
        assert_eq!(validation.labels, [3, 4]);
        assert_eq!(validation.images.image(0), &[6, 7]);
        assert_eq!(train.images.image(2), &[4, 5]);
    }

    #[test]
    fn count_mismatch() {
        let images = parse_images(idx_images(2, 1, 1), "t").unwrap();
        assert!(matches!(
            DataSet::new(images, vec![1]),
            Err(Error::CountMismatch {
                images: 2,
                labels: 1
            })
        ));
    }

    #[test]
    fn file_name_variants() {
        assert_eq!(
            file_names("train-images-idx3-ubyte.gz"),
            [
                "train-images-idx3-ubyte.gz",
                "train-images-idx3-ubyte",
                "train-images.idx3-ubyte.gz",
                "train-images.idx3-ubyte"
            ]
        );
    }

    #[test]
    fn data_dir_prefers_the_flag() {
        assert_eq!(data_dir(Some(Path::new("x/y"))), PathBuf::from("x/y"));
    }
}
