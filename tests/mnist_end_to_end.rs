//! The write-up's network on the real MNIST: one epoch, saved, loaded, evaluated again.
//!
//! Needs the four MNIST files: `MNIST_DIR=/path/to/mnist cargo test --release --test
//! integration mnist_end_to_end:: -- --ignored`.

use std::time::Instant;

use crate::common::{assert_exit, mnist_dir, scratchnet, temp_dir};
use scratchnet::app::cli::train::train_network;
use scratchnet::data::mnist::Mnist;
use scratchnet::data::samples::Samples;
use scratchnet::train::{evaluate, TrainConfig};

#[test]
#[ignore = "needs MNIST: set MNIST_DIR"]
fn one_epoch_reaches_85_percent_and_survives_save_and_load() {
    let mnist = Mnist::load(&mnist_dir()).unwrap();
    let (train, _validation) = mnist.train.split_at(50_000);
    let (train, test) = (
        Samples::from_dataset(train),
        Samples::from_dataset(mnist.test),
    );
    let config = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    let start = Instant::now();
    let (net, reports) = train_network(
        &[784, 20, 10, 10],
        &config,
        1,
        &train,
        None,
        Some(&test),
        &mut (),
    )
    .unwrap();
    let accuracy = reports[0].test_accuracy.unwrap();
    eprintln!(
        "one epoch: test accuracy {:.2}%, {:.1} s",
        100.0 * accuracy,
        start.elapsed().as_secs_f64()
    );
    assert!(
        accuracy >= 0.85,
        "test accuracy after one epoch: {accuracy}"
    );

    let path = temp_dir("model").join("net.bin");
    scratchnet::formats::model::save(&net, &path).unwrap();
    let loaded = scratchnet::formats::model::load(&path).unwrap();
    assert_eq!(evaluate(&loaded, &test).accuracy, accuracy);
    std::fs::remove_file(&path).unwrap();
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR"]
fn the_binary_prints_the_same_lines_for_the_same_seed() {
    let dir = temp_dir("binary");
    let run = |name: &str| -> Vec<String> {
        let out = scratchnet()
            .args(["train", "--epochs", "1", "--seed", "3", "--out"])
            .arg(dir.join(name))
            .env("MNIST_DIR", mnist_dir())
            .output()
            .unwrap();
        assert_exit(&out, 0);
        // Drop the seconds (the last field of an epoch line) and the model's name.
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("epoch"))
            .map(|l| l.rsplitn(3, "  ").nth(2).unwrap().to_string())
            .collect()
    };
    let first = run("a.bin");
    assert_eq!(first.len(), 1);
    assert_eq!(first, run("b.bin"));
    let a = std::fs::read(dir.join("a.bin")).unwrap();
    assert_eq!(
        a,
        std::fs::read(dir.join("b.bin")).unwrap(),
        "bit-identical models"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR"]
fn a_diverged_run_exits_1_and_leaves_the_old_model_alone() {
    let dir = temp_dir("diverge");
    let model = dir.join("keep.bin");
    std::fs::write(&model, b"an older model").unwrap();
    let out = scratchnet()
        .args(["train", "--epochs", "1", "--eta", "1e300", "--out"])
        .arg(&model)
        .env("MNIST_DIR", mnist_dir())
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("diverged in epoch 1"), "{stderr}");
    assert_eq!(std::fs::read(&model).unwrap(), b"an older model");
    let _ = std::fs::remove_dir_all(&dir);
}
