//! The `scratchnet` binary from the outside: help, exit codes, messages, and `predict` on a
//! model saved by the library. Nothing here needs MNIST or the network.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::common::{assert_exit, names_in, scratchnet, temp_dir, text};
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
            &["train", "--layers", "784,0,10"],
            "--layers 784,0,10: expected at least one neuron in every layer",
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
        (
            "--lambda",
            "abc",
            "a finite number ≥ 0 (the L2 regularisation λ)",
        ),
        ("--batch", "0", "a whole number ≥ 1 (images per mini-batch)"),
        (
            "--epochs",
            "-1",
            "a whole number from 1 to 100000 (passes over the training images)",
        ),
        (
            "--layers",
            "5",
            "at least two sizes, input and output (e.g. 784,20,10,10)",
        ),
        (
            "--activation",
            "foo",
            "one of sigmoid, tanh, relu, leaky-relu, identity",
        ),
        (
            "--preset",
            "nope",
            "one of writeup, nielsen-ch1, nielsen-ch3, best-mlp, best-mlp-augmented, \
             nielsen-ch6, best-cnn (see `scratchnet presets`)",
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

/// A small data set in MNIST's IDX form that a network learns in a few epochs: image `i` is
/// of class `i % 10`, a bright bar three rows high at rows 2c+3 to 2c+5 on a noisy
/// background. `train` training images (five sixths train, a sixth validate), `test` tests.
fn bars(name: &str, train: u32, test: u32) -> PathBuf {
    let dir = temp_dir(name);
    let mut state = 1u64;
    let mut images = |count: u32| {
        let mut bytes = Vec::new();
        for v in [2051, count, 28, 28] {
            bytes.extend_from_slice(&u32::to_be_bytes(v));
        }
        for i in 0..count as usize {
            let bar = 2 * (i % 10) + 3..2 * (i % 10) + 6;
            for p in 0..784 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                let noise = (state >> 58) as u8;
                bytes.push(if bar.contains(&(p / 28)) { 255 } else { noise });
            }
        }
        bytes
    };
    let labels = |count: u32| {
        let mut bytes = [2049, count].map(u32::to_be_bytes).concat();
        bytes.extend((0..count).map(|i| (i % 10) as u8));
        bytes
    };
    fs::write(dir.join("train-images-idx3-ubyte"), images(train)).unwrap();
    fs::write(dir.join("train-labels-idx1-ubyte"), labels(train)).unwrap();
    fs::write(dir.join("t10k-images-idx3-ubyte"), images(test)).unwrap();
    fs::write(dir.join("t10k-labels-idx1-ubyte"), labels(test)).unwrap();
    dir
}

/// Fails unless the run's error output contains `what`.
fn assert_stderr_says(out: &Output, what: &str) {
    let stderr = text(&out.stderr);
    assert!(stderr.contains(what), "expected {what:?} in:\n{stderr}");
}

/// `--out` or `--log` naming a FIFO, a symbolic link, a folder, or a file in a missing
/// folder is refused before MNIST is looked for (here it is not there: were it looked for,
/// the error would be the download's), and the thing at the path is left as it was. Before:
/// the save renamed a regular file over whatever stood there, after training.
#[cfg(unix)]
#[test]
fn outputs_that_are_not_regular_files_are_refused_before_training() {
    let dir = temp_dir("not-files");
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let precious = dir.join("precious.txt");
    fs::write(&precious, "keep me").unwrap();
    let link = dir.join("link.bin");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let folder = dir.join("folder");
    fs::create_dir(&folder).unwrap();
    let missing = dir.join("missing/m.bin");
    let cases = [
        (&fifo, "is a FIFO (named pipe), not a regular file"),
        (&link, "is a symbolic link, not a regular file"),
        (&folder, "is a folder, not a regular file"),
        (&missing, "does not exist"),
    ];
    for flag in ["--out", "--log"] {
        for (path, problem) in cases {
            let out = run(&["train", "--epochs", "1", flag, path.to_str().unwrap()]);
            assert_exit(&out, 1);
            let stderr = text(&out.stderr);
            assert!(stderr.contains(problem), "{flag} {path:?}: {stderr}");
            assert!(!stderr.contains("download"), "{flag} {path:?}: {stderr}");
        }
    }
    let fifo_type = fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo_type));
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(fs::read_to_string(&precious).unwrap(), "keep me");
    assert_eq!(
        names_in(&dir),
        ["fifo", "folder", "link.bin", "precious.txt"]
    );
}

/// `--log` and `--out` naming one file, even under two names, is a bad command line. Before:
/// the log truncated the model's file at the start.
#[test]
fn log_and_model_in_one_file_are_refused() {
    let dir = temp_dir("one-file");
    let model = dir.join("m.bin");
    fs::write(&model, "an old model").unwrap();
    let same = dir.join(".").join("m.bin");
    let out = run(&[
        "train",
        "--out",
        model.to_str().unwrap(),
        "--log",
        same.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert_stderr_says(&out, "expected a file other than the model's");
    assert_eq!(fs::read_to_string(&model).unwrap(), "an old model");
}

/// Settings that cannot learn (η = 1000 saturates every sigmoid, so the network answers the
/// same for every image) end at chance: exit 1 with advice, and the old model and log are as
/// they were, with no temporary file beside them. What this guards against: exit 0, both replaced.
#[test]
fn a_run_no_better_than_chance_replaces_nothing() {
    let data = bars("chance-data", 600, 100);
    let dir = temp_dir("chance");
    let (model, log) = (dir.join("m.bin"), dir.join("log.csv"));
    fs::write(&model, "a good old model").unwrap();
    fs::write(&log, "a good old log").unwrap();
    let args = |eta: &'static str| {
        let mut args = vec!["train", "--data", data.to_str().unwrap(), "--epochs", "2"];
        args.extend(["--eta", eta, "--out", model.to_str().unwrap()]);
        args.extend(["--log", log.to_str().unwrap()]);
        args
    };
    let out = run(&args("1000"));
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("training did not learn"), "{stderr}");
    assert!(
        stderr.contains("no better than guessing among 10 classes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("try another --eta (e.g. --eta 100 or"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&model).unwrap(), "a good old model");
    assert_eq!(fs::read_to_string(&log).unwrap(), "a good old log");
    assert_eq!(names_in(&dir), ["log.csv", "m.bin"]);
    // The same data with the write-up's η learns, and replaces both.
    let out = run(&args("3"));
    assert_exit(&out, 0);
    assert!(scratchnet::formats::model::load(&model).is_ok());
    let rows = fs::read_to_string(&log).unwrap();
    assert!(
        rows.starts_with("epoch,") && rows.lines().count() == 3,
        "{rows}"
    );
    assert_eq!(names_in(&dir), ["log.csv", "m.bin"]);
}

/// The last line names the epoch whose weights were saved and their test accuracy, and
/// `eval` of the file gives that accuracy. What this guards against: the summary named the best validation
/// epoch while the file held the last epoch's weights.
#[test]
fn the_saved_epoch_and_its_accuracy_are_what_eval_finds() {
    saved_epoch_is_what_eval_finds("saved", &[]);
}

/// The same for a convolutional network, saved as model file version 2 and read back by
/// `eval` and `predict`.
#[test]
fn a_convolutional_network_trains_saves_and_evaluates() {
    let layers = ["--layers", "784,conv5x5x4,pool4,10", "--eta", "1"];
    let model = saved_epoch_is_what_eval_finds("saved-conv", &layers);
    let bytes = fs::read(&model).unwrap();
    assert_eq!(bytes[4..8], [2, 0, 0, 0], "format version 2");
    let (pgm, _) = pgm_of_a_one();
    let picture = model.with_file_name("one.pgm");
    fs::write(&picture, pgm).unwrap();
    let data = bars("saved-conv-data-predict", 0, 10);
    let args = [
        "predict",
        model.to_str().unwrap(),
        picture.to_str().unwrap(),
    ];
    let out = run(&[&args[..], &["--data", data.to_str().unwrap()]].concat());
    assert_exit(&out, 0);
    // The oracle: the loaded network's own forward pass on the picture as predict prepares it.
    let (_, pixels) = pgm_of_a_one();
    let prepared = scratchnet::app::preprocess::prepare(&pixels, 28, 28).unwrap();
    let net = scratchnet::formats::saved::load_model(&model).unwrap();
    let expected = net.predict(prepared.input().as_slice());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("prediction: {expected}")),
        "{stdout}"
    );
}

/// Trains on the bars for four epochs with `extra` options, checks that the saved line names
/// the best epoch and that `eval` of the saved model finds its test accuracy, and returns the
/// model's path.
fn saved_epoch_is_what_eval_finds(tag: &str, extra: &[&str]) -> PathBuf {
    let data = bars(&format!("{tag}-data"), 600, 100);
    let dir = temp_dir(tag);
    let model = dir.join("m.bin");
    let data_arg = data.to_str().unwrap();
    let args = ["train", "--data", data_arg, "--epochs", "4"];
    let out = run(&[&args[..], extra, &["--out", model.to_str().unwrap()]].concat());
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let saved = stdout.lines().last().unwrap();
    let best = stdout
        .lines()
        .find(|l| l.starts_with("best validation"))
        .unwrap();
    let epoch = best
        .split("at epoch ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(
        saved.starts_with(&format!("saved the weights of epoch {epoch} (validation ")),
        "{stdout}"
    );
    let test = saved
        .split("test ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let eval = run(&["eval", model.to_str().unwrap(), "--data", data_arg]);
    assert_exit(&eval, 0);
    let eval = text(&eval.stdout);
    assert!(
        eval.starts_with(&format!("test accuracy: {test} ")),
        "{saved}\n{eval}"
    );
    model
}

/// A data set with no training images is an error, and no model is written. What this guards against: an
/// untrained network was saved.
#[test]
fn zero_training_images_save_nothing() {
    let data = bars("empty-data", 0, 10);
    let dir = temp_dir("empty");
    let model = dir.join("m.bin");
    let out = run(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_exit(&out, 1);
    assert_stderr_says(&out, "nothing to train on");
    assert!(names_in(&dir).is_empty());
}

/// Sizes beyond the limits are refused as any bad value is, before anything is allocated.
/// What this guards against: an abort on a 313 GB allocation, a panic, and 800 threads.
#[test]
fn sizes_beyond_the_limits_are_refused_in_one_form() {
    let layers: String = format!("784,{}10", "3,".repeat(1100));
    let cases = [
        (
            "--layers",
            "784,100000000,10",
            "at most 1048576 neurons in layer 2",
        ),
        (
            "--layers",
            "784,18446744073709551615,10",
            "at most 1048576 neurons in layer 2",
        ),
        ("--layers", &layers, "at most 1024 layers"),
        ("--threads", "100000", "a whole number from 1 to 256"),
    ];
    for (flag, value, expected) in cases {
        let out = run(&["train", flag, value]);
        assert_exit(&out, 2);
        let stderr = text(&out.stderr);
        let first_line = stderr.lines().next().unwrap_or_default();
        assert!(
            first_line.starts_with(&format!("error: {flag} {value}: expected {expected}")),
            "{stderr}"
        );
    }
}

/// An argument that is not UTF-8 is a clear usage error. What this guards against: a panic.
#[cfg(unix)]
#[test]
fn arguments_that_are_not_utf8_are_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let out = scratchnet()
        .args(["train", "--out"])
        .arg(std::ffi::OsStr::from_bytes(b"mod\xe8le.bin"))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: argument 'mod\u{fffd}le.bin' is not valid UTF-8"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Layer sizes that do not fit the data are refused once it is read, before training, in
/// the one message form: one input per pixel, one output per class.
#[test]
fn layers_that_do_not_fit_the_data_are_refused_before_training() {
    let data = bars("fit-data", 60, 10);
    let out_dir = temp_dir("fit-out");
    let model = out_dir.join("m.bin");
    for (layers, expected) in [
        (
            "100,10",
            "--layers 100,10: expected 784 first, one input per pixel of a 28×28 image",
        ),
        (
            "784,20,9",
            "--layers 784,20,9: expected 10 last, one output per digit",
        ),
    ] {
        let out = scratchnet()
            .args(["train", "--layers", layers, "--epochs", "1", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&model)
            .output()
            .unwrap();
        assert_exit(&out, 2);
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{layers}: {stderr}");
        assert!(
            !text(&out.stdout).contains("epoch"),
            "{layers}: trained anyway"
        );
        assert!(!model.exists(), "{layers}: a model was saved");
    }
}

/// `visualize` of a convolutional model saved as a version-2 file draws the first layer's
/// kernels and the first test image's feature maps (issue 14, item 4), and the pictures that
/// work from outputs, but not the fully connected ones.
#[test]
fn visualize_draws_a_convolutional_models_kernels_and_feature_maps() {
    use scratchnet::formats::saved::Model;
    let data = bars("viz-conv-data", 12, 10);
    let dir = temp_dir("viz-conv");
    let net = crate::common::convnet("784,conv5x5x3,pool2,10", 4);
    let model = dir.join("conv.bin");
    Model::Conv(net).save(&model).unwrap();
    let out_dir = dir.join("pictures");
    let out = scratchnet()
        .arg("visualize")
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let names = [
        "confusion.svg",
        "feature-maps.png",
        "kernels.png",
        "mistakes.png",
    ];
    assert_eq!(names_in(&out_dir), names);
    let size = |name: &str| {
        let image = scratchnet::formats::png::read(&out_dir.join(name)).unwrap();
        (image.width, image.height)
    };
    // Three 5 × 5 kernels at zoom 112/5 = 22, in a row of ten columns, under a label.
    assert_eq!(
        size("kernels.png"),
        (8 + 10 * (5 * 22 + 8), 8 + 14 + 5 * 22 + 8)
    );
    // Bands of title 18, gap 8, label 14, maps, gap 8: the 28 × 28 input at zoom 3, three
    // 24 × 24 maps at zoom 3, three 12 × 12 at zoom 7; ten map columns wide at 84.
    let band = |side: usize| 18 + 8 + 14 + side + 8;
    let height = band(28 * 3) + band(24 * 3) + band(12 * 7);
    assert_eq!(size("feature-maps.png"), (8 + 10 * (84 + 8), height));
    fs::remove_dir_all(&dir).ok();
    fs::remove_dir_all(&data).ok();
}
