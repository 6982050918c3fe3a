// The write-up's network trained on MNIST through the library, as `scratchnet train` does.
//
// Book: "Gradient descent and training". Needs the four MNIST files: in the folder
// `MNIST_DIR` names, else in data/mnist/ (`scratchnet download` puts them there). Run it with
// `cargo run --release --example train_mnist` (about ten seconds); `-- 3` trains 3 epochs.

use scratchnet::data::mnist::{data_dir, Mnist};
use scratchnet::data::samples::Samples;
use scratchnet::network::{Network, NetworkConfig};
use scratchnet::rng::Rng;
use scratchnet::train::{train, EpochReport, Observer, TrainConfig};

// Matrices start on a cache line: see `scratchnet::linalg::CacheAligned`.
#[global_allocator]
static ALLOCATOR: scratchnet::linalg::CacheAligned = scratchnet::linalg::CacheAligned;

/// Prints one line per epoch, as the command line does.
struct Print;

impl Observer for Print {
    fn epoch_done(&mut self, r: &EpochReport) {
        let percent = |a: Option<f64>| 100.0 * a.unwrap_or(0.0);
        let (validation, test) = (percent(r.validation_accuracy), percent(r.test_accuracy));
        let (epoch, cost) = (r.epoch, r.train_cost);
        println!("epoch {epoch:2}  cost {cost:.5}  validation {validation:.2}%  test {test:.2}%");
    }
}

fn main() -> scratchnet::Result<()> {
    let epochs = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    // ANCHOR: train_mnist
    // Nielsen's split: the first 50,000 training images to learn from, the last 10,000 to
    // choose settings by; the 10,000 test images only to report.
    let mnist = Mnist::load(&data_dir(None))?;
    let (train_set, validation_set) = mnist.train.split_at(50_000);
    let training = Samples::from_dataset(train_set);
    let validation = Samples::from_dataset(validation_set);
    let test = Samples::from_dataset(mnist.test);
    // Mini-batches of 10 at η = 3.0, the defaults.
    let config = TrainConfig {
        epochs,
        ..TrainConfig::default()
    };

    // 784-20-10-10, sigmoid everywhere, quadratic cost, N(0, 1) weights: the write-up's.
    let mut rng = Rng::new(1);
    let mut net: Network<f32> = Network::build(&NetworkConfig::default(), &mut rng);
    train(
        &mut net,
        &training,
        Some(&validation),
        Some(&test),
        &config,
        &mut rng,
        &mut Print,
    )?;
    // ANCHOR_END: train_mnist
    Ok(())
}
