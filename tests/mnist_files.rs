//! Reading IDX files from disk: the fixtures in `tests/data/` (see its README for how each was
//! made), random bytes, and — when `MNIST_DIR` is set — the real MNIST files; and `eval` and
//! `visualize` on the tiny fixture set, a data set in MNIST's form of 2 × 3 images.

use std::path::{Path, PathBuf};

use crate::common::{mnist_dir, temp_dir};
use proptest::prelude::*;
use scratchnet::app::cli::{eval, visualize};
use scratchnet::data::classes::Classes;
use scratchnet::data::mnist::{
    has_all_files, parse_images, parse_labels, read_idx_file, Images, Mnist, FILES, MAX_IMAGES,
};
use scratchnet::data::samples::Samples;
use scratchnet::data::shape::Shape;
use scratchnet::formats::inflate::gunzip;
use scratchnet::formats::sha256::{sha256, to_hex};
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use scratchnet::train::{train, TrainConfig};
use scratchnet::Error;

/// A fixture file: committed as `NAME.fixture` (see `tests/data/README.md`).
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(format!("{name}.fixture"))
}

/// A fixture folder copied to a fresh temporary folder under its real file names
/// (each committed file's `.fixture` suffix stripped), ready for `Mnist::load`.
fn fixture_folder(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        let file = entry.file_name().to_string_lossy().into_owned();
        let real = file
            .strip_suffix(".fixture")
            .expect("fixture files end in .fixture");
        std::fs::copy(entry.path(), dir.join(real)).unwrap();
    }
    dir
}

fn read_images(name: &str) -> scratchnet::Result<Images> {
    parse_images(read_idx_file(&fixture(name))?, name)
}

const TINY_PIXELS: [u8; 18] = [
    0, 128, 255, 255, 128, 0, 1, 2, 3, 4, 5, 6, 255, 0, 255, 0, 255, 0,
];

#[test]
fn tiny_raw_and_gzipped_agree() {
    for name in ["tiny-images-idx3-ubyte", "tiny-images-idx3-ubyte.gz"] {
        let images = read_images(name).unwrap();
        assert_eq!(
            (images.count, images.rows, images.cols),
            (3, 2, 3),
            "{name}"
        );
        assert_eq!(images.pixels, TINY_PIXELS, "{name}");
        assert_eq!(images.image(2), &TINY_PIXELS[12..]);
    }
    for name in ["tiny-labels-idx1-ubyte", "tiny-labels-idx1-ubyte.gz"] {
        let bytes = read_idx_file(&fixture(name)).unwrap();
        assert_eq!(parse_labels(&bytes, name).unwrap(), [7, 2, 1], "{name}");
    }
}

#[test]
fn gzip_is_detected_by_content_not_name() {
    let dir = temp_dir("gzip-by-magic");
    let path = dir.join("no-suffix");
    std::fs::copy(fixture("tiny-labels-idx1-ubyte.gz"), &path).unwrap();
    let bytes = read_idx_file(&path).unwrap();
    assert_eq!(parse_labels(&bytes, "no-suffix").unwrap(), [7, 2, 1]);
    let path = dir.join("raw.gz");
    std::fs::copy(fixture("tiny-labels-idx1-ubyte"), &path).unwrap();
    let bytes = read_idx_file(&path).unwrap();
    assert_eq!(parse_labels(&bytes, "raw.gz").unwrap(), [7, 2, 1]);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn load_finds_every_name_variant() {
    let dir = fixture_folder("tiny");
    assert!(has_all_files(&dir));
    let mnist = Mnist::load(&dir).unwrap();
    assert_eq!((mnist.train.len(), mnist.test.len()), (3, 3));
    assert_eq!(mnist.train.labels, [7, 2, 1]);
    assert_eq!(mnist.test.images.pixels, TINY_PIXELS);
    let (first, rest) = mnist.train.split_at(2);
    assert_eq!((first.labels, rest.labels), (vec![7, 2], vec![1]));
}

#[test]
fn count_mismatch() {
    match Mnist::load(&fixture_folder("mismatch")) {
        Err(Error::CountMismatch { images, labels }) => assert_eq!((images, labels), (3, 2)),
        other => panic!("expected CountMismatch, got {other:?}"),
    }
}

#[test]
fn missing_file_says_how_to_get_it() {
    let dir = temp_dir("missing");
    assert!(!has_all_files(&dir));
    match Mnist::load(&dir) {
        Err(err @ Error::Io { .. }) => {
            let Error::Io { path, .. } = &err else {
                unreachable!()
            };
            assert_eq!(path, &dir.join(FILES[0].0));
            let message = err.to_string();
            assert!(message.contains("train-images-idx3-ubyte"), "{message}");
            assert!(message.contains("MNIST_DIR"), "{message}");
        }
        other => panic!("expected Io, got {other:?}"),
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_magic() {
    assert!(matches!(
        read_images("bad-magic-idx3-ubyte"),
        Err(Error::BadMagic {
            expected: 2051,
            got: 2052,
            ..
        })
    ));
    // A label file is not an image file, and vice versa.
    let labels = read_idx_file(&fixture("tiny-labels-idx1-ubyte")).unwrap();
    assert!(matches!(
        parse_images(labels.clone(), "labels"),
        Err(Error::BadMagic { got: 2049, .. })
    ));
    let images = read_idx_file(&fixture("tiny-images-idx3-ubyte")).unwrap();
    assert!(matches!(
        parse_labels(&images, "images"),
        Err(Error::BadMagic { got: 2051, .. })
    ));
}

#[test]
fn truncated_idx() {
    assert!(matches!(
        read_images("truncated-idx3-ubyte"),
        Err(Error::Truncated {
            needed: 34,
            available: 29,
            ..
        })
    ));
}

#[test]
fn header_larger_than_its_limit() {
    match read_images("huge-count-idx3-ubyte") {
        Err(Error::TooLarge { what, got, limit }) => {
            assert_eq!((got, limit), (4_000_000_000, MAX_IMAGES as u64));
            assert!(what.starts_with("images in IDX file"), "{what}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn trailing_bytes_zero_rows_and_bad_labels_are_corrupt() {
    assert!(matches!(
        read_images("trailing-idx3-ubyte"),
        Err(Error::Corrupt { .. })
    ));
    assert!(matches!(
        read_images("zero-rows-idx3-ubyte"),
        Err(Error::Corrupt { .. })
    ));
    let bytes = read_idx_file(&fixture("bad-label-idx1-ubyte")).unwrap();
    match parse_labels(&bytes, "bad") {
        Err(Error::Corrupt { reason, .. }) => assert!(reason.contains("label 10"), "{reason}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn truncated_gzip() {
    // Its last four bytes are deflate data read as ISIZE: 2.1 GB, refused before inflating,
    // with the likelier cause named.
    match read_idx_file(&fixture("truncated-gzip-idx3-ubyte.gz")) {
        Err(Error::TooLarge { what, .. }) => {
            assert!(what.contains("truncated-gzip"), "{what}");
            assert!(what.contains("cut off"), "{what}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn corrupt_deflate() {
    match read_idx_file(&fixture("corrupt-deflate-idx3-ubyte.gz")) {
        Err(Error::Corrupt { what, reason }) => {
            assert_eq!(reason, "invalid block type 3");
            assert!(what.contains("corrupt-deflate-idx3-ubyte.gz"), "{what}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn wrong_crc() {
    assert!(matches!(
        read_idx_file(&fixture("bad-crc-idx3-ubyte.gz")),
        Err(Error::Checksum { .. })
    ));
}

#[test]
fn wrong_isize() {
    match read_idx_file(&fixture("bad-isize-idx3-ubyte.gz")) {
        Err(Error::Corrupt { reason, .. }) => {
            assert!(reason.starts_with("ISIZE trailer says 35"), "{reason}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// A model of `sizes` saved in `dir` (seed 1), for the commands to load.
fn saved_model(dir: &Path, sizes: &[usize]) -> PathBuf {
    let net: Network<f32> = Network::new(sizes, &mut Rng::new(1));
    let path = dir.join(format!("{sizes:?}.bin"));
    scratchnet::formats::model::save(&net, &path).unwrap();
    path
}

fn eval(model: &Path, data: &Path) -> scratchnet::Result<()> {
    let model = model.to_path_buf();
    eval::run(&eval::EvalArgs {
        model,
        data: Some(data.to_path_buf()),
    })
}

#[test]
fn another_data_set_of_2x3_images_trains_evaluates_and_visualises() {
    // Issue 12, item 5: images that are not 28×28 panicked in the batched forward pass.
    // Trained through the library, checked as `train` should check it (Shape::of_data).
    let data = fixture_folder("tiny");
    let set = Mnist::load(&data).unwrap();
    let shape = Shape::of_data(&set, &Classes::load(&data).unwrap()).unwrap();
    assert_eq!((shape.rows, shape.cols, shape.classes), (2, 3, 10));
    let sizes = [shape.pixels(), 4, shape.classes];
    shape.check_network(&sizes, "--layers").unwrap();
    let mut rng = Rng::new(1);
    let mut net: Network<f32> = Network::new(&sizes, &mut rng);
    let training = Samples::from_dataset(set.train);
    let config = TrainConfig {
        epochs: 2,
        batch_size: 2,
        ..TrainConfig::default()
    };
    train(&mut net, &training, None, None, &config, &mut rng, &mut ()).unwrap();
    let model = data.join("trained.bin");
    scratchnet::formats::model::save(&net, &model).unwrap();
    eval(&model, &data).unwrap();
    let out = data.join("pictures");
    let model = saved_model(&data, &[6, 5, 3, 10]);
    visualize::run(&visualize::VisualizeArgs {
        model,
        log: None,
        out: out.clone(),
        data: Some(data.clone()),
    })
    .unwrap();
    let chunks = scratchnet::formats::png::read(&out.join("chunks.png")).unwrap();
    // 5 tiles of 2 rows × 3 columns at zoom 112/3 = 37, in one row: 8 + 5·(111 + 8) wide.
    assert_eq!(chunks.width, 8 + 5 * (3 * 37 + 8));
    std::fs::remove_dir_all(data).ok();
}

#[test]
fn a_model_that_does_not_fit_the_data_is_refused_in_words() {
    // What this guards against: an output layer narrower than the labels panicked in eval (item 4), and an
    // input layer of another size panicked in the forward pass (item 5).
    let data = fixture_folder("tiny");
    for (sizes, says) in [
        (&[6, 4, 5][..], "has 5 outputs, but the data has 10 classes"),
        (
            &[784, 4, 10],
            "takes 784 inputs, but the images are 2 × 3 = 6 pixels",
        ),
    ] {
        let err = eval(&saved_model(&data, sizes), &data).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err:?}");
        assert!(err.to_string().contains(says), "{err}");
    }
    std::fs::remove_dir_all(data).ok();
}

#[test]
fn classes_txt_names_the_classes_and_sets_their_number() {
    let data = fixture_folder("tiny");
    // Labels 7, 2, 1 need at least 8 classes: three names are refused in words.
    std::fs::write(data.join("classes.txt"), "cat\ndog\nbird\n").unwrap();
    let err = eval(&saved_model(&data, &[6, 4, 3]), &data).unwrap_err();
    assert!(
        err.to_string()
            .contains("label 7 at index 0 names no class"),
        "{err}"
    );
    let names: String = (0..8).map(|k| format!("class {k}\n")).collect();
    std::fs::write(data.join("classes.txt"), names).unwrap();
    eval(&saved_model(&data, &[6, 4, 8]), &data).unwrap();
    let err = eval(&saved_model(&data, &[6, 4, 10]), &data).unwrap_err();
    assert!(err.to_string().contains("the data has 8 classes"), "{err}");
    std::fs::remove_dir_all(data).ok();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_images(data.clone(), "random");
        let _ = parse_labels(&data, "random");
        let _ = gunzip(&data);
    }

    #[test]
    fn random_headers_never_panic(
        count in any::<u32>(), rows in any::<u32>(), cols in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = Vec::new();
        for v in [2051, count, rows, cols] {
            bytes.extend_from_slice(&u32::to_be_bytes(v));
        }
        bytes.extend_from_slice(&body);
        if let Ok(images) = parse_images(bytes.clone(), "random") {
            prop_assert_eq!(images.count * images.rows * images.cols, body.len());
        }
        let mut labels = Vec::new();
        for v in [2049, count] {
            labels.extend_from_slice(&u32::to_be_bytes(v));
        }
        labels.extend_from_slice(&body);
        let _ = parse_labels(&labels, "random");
    }

    #[test]
    fn mutated_gzip_fixture_never_panics(at in 0usize..46, xor in 1u8..=255) {
        let mut data = std::fs::read(fixture("tiny-images-idx3-ubyte.gz")).unwrap();
        data[at] ^= xor;
        let _ = gunzip(&data);
    }
}

/// SHA-256 of the decompressed files, from /work/shared/mnist/SHA256SUMS.
const RAW_SHA256: [&str; 4] = [
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
];

#[test]
#[ignore = "needs MNIST: set MNIST_DIR"]
fn real_mnist_loads() {
    let dir = mnist_dir();
    assert!(has_all_files(&dir));
    let mnist = Mnist::load(&dir).unwrap();
    assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
    for set in [&mnist.train, &mnist.test] {
        assert_eq!((set.images.rows, set.images.cols), (28, 28));
    }
    assert_eq!(mnist.train.labels[0], 5);
    assert_eq!(mnist.test.labels[0], 7);
    let counts = |labels: &[u8]| {
        let mut counts = [0usize; 10];
        for &label in labels {
            counts[label as usize] += 1;
        }
        counts
    };
    // From /work/shared/mnist/README.md.
    assert_eq!(
        counts(&mnist.train.labels),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        counts(&mnist.test.labels),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    let (train, validation) = mnist.train.split_at(50_000);
    assert_eq!((train.len(), validation.len()), (50_000, 10_000));
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR"]
fn real_mnist_decompresses_to_pinned_digests() {
    let dir = mnist_dir();
    for ((file, _), raw_digest) in FILES.iter().zip(RAW_SHA256) {
        let gz = std::fs::read(dir.join(file)).unwrap();
        let started = std::time::Instant::now();
        let raw = gunzip(&gz).unwrap();
        let elapsed = started.elapsed();
        println!(
            "gunzip {file}: {} → {} bytes in {:.1} ms ({:.0} MB/s out)",
            gz.len(),
            raw.len(),
            elapsed.as_secs_f64() * 1e3,
            raw.len() as f64 / elapsed.as_secs_f64() / 1e6
        );
        assert_eq!(to_hex(&sha256(&raw)), raw_digest, "{file}");
    }
}
