//! The `scratchnet` binary from the outside: help, exit codes, messages, and `predict` on a
//! model saved by the library. Nothing here needs MNIST or the network.

use std::fs;
use std::path::PathBuf;
use std::process::Output;
use std::sync::OnceLock;

use crate::common::{assert_exit, scratchnet, temp_dir, text};
use scratchnet::network::Network;
use scratchnet::rng::Rng;

/// Runs the binary with `args`, with no MNIST in reach and downloads pointed at nothing.
fn run(args: &[&str]) -> Output {
    static NO_MNIST: OnceLock<PathBuf> = OnceLock::new();
    scratchnet()
        .args(args)
        .env(
            "MNIST_DIR",
            NO_MNIST.get_or_init(|| temp_dir("cli-no-mnist")),
        )
        .env(
            "SCRATCHNET_MNIST_MIRROR",
            "file:///nonexistent/scratchnet-test-mirror/",
        )
        .output()
        .expect("the scratchnet binary runs")
}

#[test]
fn help_everywhere_exits_0_with_usage() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["train", "--help"],
        &["eval", "-h"],
        &["predict", "--help"],
        &["download", "--help"],
        &["visualize", "--help"],
        &["serve", "-h"],
    ] {
        let out = run(args);
        assert_exit(&out, 0);
        assert!(text(&out.stdout).contains("Usage: scratchnet"), "{args:?}");
    }
    let top = text(&run(&["--help"]).stdout);
    for command in ["train", "eval", "predict", "download", "visualize", "serve"] {
        assert!(top.contains(command), "top-level help lists {command}");
    }
}

#[test]
fn version_exits_0() {
    let out = run(&["--version"]);
    assert_exit(&out, 0);
    assert_eq!(
        text(&out.stdout).trim(),
        format!("scratchnet {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_command_lines_exit_2_with_the_problem_and_the_usage() {
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &["train", "--fast"],
            "unknown option '--fast'",
            "scratchnet train",
        ),
        (
            &["train", "--epochs", "zero"],
            "--epochs zero: expected a whole number",
            "scratchnet train",
        ),
        (
            &["train", "--eta"],
            "--eta needs a value",
            "scratchnet train",
        ),
        (
            &["train", "--layers", "100,10"],
            "--layers 100,10: expected 784 first",
            "scratchnet train",
        ),
        (&["eval"], "needs a MODEL", "scratchnet eval"),
        (&["fly"], "unknown command", "Commands:"),
    ];
    for (args, problem, usage) in cases {
        let out = run(args);
        assert_exit(&out, 2);
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(problem), "{args:?}: {stderr}");
        assert!(
            stderr.contains("Usage:") && stderr.contains(usage),
            "{args:?}: {stderr}"
        );
    }
}

/// Every value `train` refuses, whether it does not parse, is out of range, or names nothing,
/// reads `error: FLAG VALUE: expected WHAT`, then the usage.
#[test]
fn refused_values_read_the_same_whichever_check_refused_them() {
    let cases = [
        ("--eta", "abc", "a positive number (the learning rate η)"),
        ("--lambda", "abc", "a number ≥ 0 (the L2 regularisation λ)"),
        ("--batch", "0", "a whole number ≥ 1 (images per mini-batch)"),
        (
            "--epochs",
            "-1",
            "a whole number ≥ 1 (passes over the training images)",
        ),
        (
            "--layers",
            "5,10",
            "784 first, one input per pixel of a 28×28 MNIST image",
        ),
        (
            "--activation",
            "foo",
            "one of sigmoid, tanh, relu, leaky-relu, identity",
        ),
        (
            "--preset",
            "nope",
            "one of writeup, nielsen-ch1, nielsen-ch3, best-mlp, best-mlp-augmented \
             (see `scratchnet presets`)",
        ),
    ];
    for (flag, value, expected) in cases {
        let out = run(&["train", flag, value]);
        assert_exit(&out, 2);
        let stderr = text(&out.stderr);
        let first_line = stderr.lines().next().unwrap_or_default();
        assert_eq!(
            first_line,
            format!("error: {flag} {value}: expected {expected}")
        );
        assert!(stderr.contains("Usage: scratchnet train"), "{stderr}");
    }
}

#[test]
fn eval_of_a_file_that_is_not_a_model_exits_1() {
    let dir = temp_dir("not-a-model");
    let path = dir.join("notes.txt");
    fs::write(&path, "these are not weights").unwrap();
    let out = run(&["eval", path.to_str().unwrap()]);
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("not a scratchnet model"), "{stderr}");
    assert!(
        !stderr.contains("Usage:"),
        "runtime errors print no usage: {stderr}"
    );
}

/// A 28×28 binary PGM of a dark "1" on white paper.
fn pgm_of_a_one() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..28 * 28)
        .map(|i| {
            if (12..16).contains(&(i % 28)) && (4..24).contains(&(i / 28)) {
                0
            } else {
                255
            }
        })
        .collect();
    let mut pgm = b"P5\n# a one, dark on white\n28 28\n255\n".to_vec();
    pgm.extend_from_slice(&pixels);
    (pgm, pixels)
}

#[test]
fn predict_classifies_a_pgm_with_a_library_saved_model() {
    let dir = temp_dir("predict");
    let net: Network<f32> = Network::new(&[784, 16, 10], &mut Rng::new(5));
    let model = dir.join("tiny.bin");
    scratchnet::formats::model::save(&net, &model).unwrap();
    let (pgm, pixels) = pgm_of_a_one();
    let image = dir.join("one.pgm");
    fs::write(&image, pgm).unwrap();

    let out = run(&["predict", model.to_str().unwrap(), image.to_str().unwrap()]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("inverted"), "{stdout}");
    // The oracle: the library's own forward pass on the picture prepared as MNIST was
    // (inverted, fitted to 20×20, centred; `preprocess` has its own hand-worked tests).
    let prepared = scratchnet::app::preprocess::prepare(&pixels, 28, 28).unwrap();
    assert!(prepared.inverted);
    let expected = net.feedforward(&prepared.input()).argmax();
    assert!(
        stdout.contains(&format!("prediction: {expected}")),
        "{stdout}"
    );
    // One "D  VALUE  BAR" line per digit.
    let outputs = stdout
        .lines()
        .filter(|l| l.len() > 2 && l.as_bytes()[1] == b' ');
    let outputs = outputs.filter(|l| l.as_bytes()[0].is_ascii_digit()).count();
    assert_eq!(outputs, 10, "{stdout}");
}

#[test]
fn predict_takes_any_size_but_rejects_blank_pictures_clearly() {
    let dir = temp_dir("predict-size");
    let net: Network<f32> = Network::new(&[784, 10], &mut Rng::new(1));
    let model = dir.join("m.bin");
    scratchnet::formats::model::save(&net, &model).unwrap();
    let blank = dir.join("blank.pgm");
    fs::write(&blank, "P2 2 2 255\n0 0 0 0\n").unwrap();
    let out = run(&["predict", model.to_str().unwrap(), blank.to_str().unwrap()]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("blank"), "{}", text(&out.stderr));
    // A 5×3 picture with one bright pixel in the middle is fine: it is scaled up to 20×20.
    let dot = dir.join("dot.pgm");
    fs::write(&dot, "P2 5 3 255\n0 0 0 0 0\n0 0 255 0 0\n0 0 0 0 0\n").unwrap();
    let out = run(&[
        "predict",
        model.to_str().unwrap(),
        dot.to_str().unwrap(),
        "--show",
    ]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("prediction: "),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn download_and_train_without_network_explain_what_to_do() {
    let data = temp_dir("no-network");
    for args in [
        &["download", "--data", data.to_str().unwrap()][..],
        &["train", "--epochs", "1", "--data", data.to_str().unwrap()],
    ] {
        let out = run(args);
        assert_exit(&out, 1);
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("error: could not download"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("by hand"), "{args:?}: {stderr}");
        assert!(stderr.contains("MNIST_DIR"), "{args:?}: {stderr}");
        assert!(stderr.contains("--data DIR"), "{args:?}: {stderr}");
    }
}

/// The README shows every help text as "```text\n$ scratchnet … --help\n…\n```": each must be
/// exactly what the binary prints, so the README cannot drift from the program.
#[test]
fn readme_help_texts_match_the_binary() {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut checked = 0;
    for block in readme.split("```text\n$ scratchnet ").skip(1) {
        let (command, rest) = block.split_once('\n').unwrap();
        let shown = rest.split("\n```").next().unwrap();
        let args: Vec<&str> = command.split_whitespace().collect();
        let out = run(&args);
        assert_exit(&out, 0);
        assert_eq!(
            text(&out.stdout).trim_end(),
            shown,
            "README block for `scratchnet {command}`"
        );
        checked += 1;
    }
    assert!(
        checked >= 8,
        "expected a help block per command, found {checked}"
    );
}
