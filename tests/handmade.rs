//! Pictures read and prepared as `scratchnet predict` prepares them: the hand-made digits in
//! tests/handmade/ (drawn by make_digits.py with Python's own zlib, so they also test our PNG
//! decoder against an independent encoder), and — when `MNIST_DIR` is set — MNIST's own test
//! images written out as pictures, which must get `eval`'s answers.

use scratchnet::app::preprocess::{prepare, SIDE};
use scratchnet::data::mnist::{data_dir, Mnist};
use scratchnet::data::samples::Samples;
use scratchnet::formats::image::read_image;
use scratchnet::network::{Network, NetworkConfig};
use scratchnet::rng::Rng;
use scratchnet::train::{evaluate, train, TrainConfig};
use std::path::Path;

#[test]
fn python_written_pngs_decode_and_prepare_into_28x28() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/handmade");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "png") {
            let image = read_image(&path).unwrap();
            assert_eq!(
                (image.width, image.height),
                (200, 200),
                "{}",
                path.display()
            );
            // White (or transparent) paper: the corner is background, full white.
            assert_eq!(image.pixels[0], 255, "{}", path.display());
            let prepared = prepare(&image.pixels, image.width, image.height).unwrap();
            assert!(prepared.inverted && !prepared.already_prepared);
            assert_eq!(prepared.pixels.len(), SIDE * SIDE);
            seen += 1;
        }
    }
    assert!(seen >= 17, "only {seen} PNGs in {}", dir.display());
}

/// A binary PGM of a `width × height` greyscale picture.
fn pgm(pixels: &[u8], width: usize, height: usize) -> Vec<u8> {
    let mut bytes = format!("P5\n{width} {height}\n255\n").into_bytes();
    bytes.extend_from_slice(pixels);
    bytes
}

/// MNIST image `digit` (28 × 28) drawn 4× larger, dark on light grey, at (17, 9) of a
/// 150 × 130 picture: large, off-centre and the wrong way round.
fn drawing(digit: &[u8]) -> Vec<u8> {
    let (width, height) = (150, 130);
    let mut pixels = vec![230u8; width * height];
    for (i, &p) in digit.iter().enumerate() {
        let (x, y) = (17 + 4 * (i % SIDE), 9 + 4 * (i / SIDE));
        for k in 0..16 {
            pixels[(y + k / 4) * width + x + k % 4] = 230 - (p as u32 * 230 / 255) as u8;
        }
    }
    pixels
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR"]
fn mnist_test_images_written_as_pictures_get_evals_answers() {
    // Issue 12, item 12: before, predict re-fitted every picture, and 694 of the 10,000 test
    // images written as 28×28 pictures got another answer than eval's. Now a picture already
    // in MNIST's form is used as it is: at least 99.9% must agree.
    let mnist = Mnist::load(&data_dir(None)).unwrap();
    let mut rng = Rng::new(1);
    let mut net: Network<f32> = Network::build(&NetworkConfig::default(), &mut rng);
    let config = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    let training = Samples::from_dataset(mnist.train);
    train(&mut net, &training, None, None, &config, &mut rng, &mut ()).unwrap();
    let evals = evaluate(&net, &Samples::from_dataset(mnist.test.clone())).predictions;

    let dir = std::env::temp_dir().join(format!("scratchnet-pgm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut agree, mut as_is) = (0, 0);
    for (i, &answer) in evals.iter().enumerate() {
        let path = dir.join(format!("{i}.pgm"));
        std::fs::write(&path, pgm(mnist.test.images.image(i), SIDE, SIDE)).unwrap();
        let image = read_image(&path).unwrap();
        let prepared = prepare(&image.pixels, image.width, image.height).unwrap();
        as_is += prepared.already_prepared as usize;
        agree += (net.feedforward(&prepared.input()).argmax() == answer) as usize;
        std::fs::remove_file(&path).unwrap();
    }
    println!("{agree} of 10,000 answers agree with eval's; {as_is} pictures used as they are");
    assert!(agree >= 9_990, "only {agree} of 10,000 agree");

    // Large, off-centre, dark-on-light drawings of the first 100 are still prepared as MNIST
    // was (inverted, fitted, centred), and most still get eval's answer (83 of 100 when this
    // was written: re-fitting moves a digit by up to a pixel, and a network trained for one
    // epoch is easily swayed).
    let mut refitted_agree = 0;
    for (i, &answer) in evals.iter().enumerate().take(100) {
        let picture = drawing(mnist.test.images.image(i));
        let prepared = prepare(&picture, 150, 130).unwrap();
        assert!(
            prepared.inverted && !prepared.already_prepared,
            "drawing {i}"
        );
        refitted_agree += (net.feedforward(&prepared.input()).argmax() == answer) as usize;
    }
    println!("{refitted_agree} of 100 large drawings get eval's answer");
    assert!(refitted_agree >= 75, "only {refitted_agree} of 100");
    std::fs::remove_dir_all(dir).ok();
}
