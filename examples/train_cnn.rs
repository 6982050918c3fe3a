// Nielsen's first convolutional network (chapter 6, network3.py) trained on MNIST through the
// library: 784 → conv 5×5×20 → max-pool 2×2 → 100 → softmax 10, sigmoid activations,
// log-likelihood cost, mini-batches of 10 at η = 0.1, 60 epochs. His result: 98.78% of the
// test images.
//
// Book: "Convolutional networks". Needs the four MNIST files: in the folder `MNIST_DIR`
// names, else in data/mnist/ (`scratchnet download` puts them there). Run it with
// `cargo run --release --example train_cnn`; `-- 3` trains 3 epochs, `-- 3 2` on 2 threads
// (the same bits as on one).
//
// One departure from network3.py: the initial weights are N(0, 1/n_in) for every layer and
// the biases N(0, 1) (`Init::Scaled`), where Nielsen draws N(0, 1/n_out) (n_out = 20·5·5/4 for
// the convolution) and starts the softmax layer at zero.

use scratchnet::activation::Activation;
use scratchnet::conv::MapShape;
use scratchnet::convnet::{ConvNet, ConvNetConfig, Layer};
use scratchnet::convtrain::train;
use scratchnet::cost::Cost;
use scratchnet::data::mnist::{data_dir, Mnist};
use scratchnet::data::samples::Samples;
use scratchnet::init::Init;
use scratchnet::linalg::set_threads;
use scratchnet::rng::Rng;
use scratchnet::train::{EpochReport, Observer, TrainConfig};
use std::time::Instant;

// Matrices start on a cache line: see `scratchnet::linalg::CacheAligned`.
#[global_allocator]
static ALLOCATOR: scratchnet::linalg::CacheAligned = scratchnet::linalg::CacheAligned;

/// Prints one line per epoch: the accuracies, and the seconds spent training and evaluating.
struct Print {
    /// When the epoch's last mini-batch finished (evaluation starts then).
    trained: Instant,
}

impl Observer for Print {
    fn batch_done(&mut self, _epoch: usize, done: usize, total: usize) {
        if done == total {
            self.trained = Instant::now();
        }
    }

    fn epoch_done(&mut self, r: &EpochReport) {
        let percent = |a: Option<f64>| 100.0 * a.unwrap_or(0.0);
        let (validation, test) = (percent(r.validation_accuracy), percent(r.test_accuracy));
        let evaluating = self.trained.elapsed().as_secs_f64();
        let training = r.seconds - evaluating;
        println!(
            "epoch {:2}  validation {validation:.2}%  test {test:.2}%  \
             {training:.1} s training + {evaluating:.1} s evaluating",
            r.epoch
        );
    }
}

fn main() -> scratchnet::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse().ok());
    let epochs = args.next().flatten().unwrap_or(60);
    set_threads(args.next().flatten().unwrap_or(1));
    // ANCHOR: train_cnn
    let mnist = Mnist::load(&data_dir(None))?;
    let (train_set, validation_set) = mnist.train.split_at(50_000);
    let training = Samples::from_dataset(train_set);
    let validation = Samples::from_dataset(validation_set);
    let test = Samples::from_dataset(mnist.test);

    let sigmoid = Activation::Sigmoid;
    let config = ConvNetConfig {
        input: MapShape::new(1, 28, 28),
        layers: vec![
            Layer::Conv {
                k: 5,
                maps: 20,
                activation: sigmoid,
            },
            Layer::Pool { k: 2 },
            Layer::Dense {
                neurons: 100,
                activation: sigmoid,
            },
            Layer::Dense {
                neurons: 10,
                activation: Activation::Softmax,
            },
        ],
        cost: Cost::LogLikelihood,
        init: Init::Scaled,
    };
    let mut rng = Rng::new(1);
    let mut net: ConvNet<f32> = ConvNet::build(&config, &mut rng)?;
    let settings = TrainConfig {
        epochs,
        batch_size: 10,
        eta: 0.1,
        evaluate_train: false, // network3.py reports no training cost either
        ..TrainConfig::default()
    };
    let (spec, size) = (net.spec(), net.num_parameters());
    println!("{spec} ({size} weights and biases)");
    let mut print = Print {
        trained: Instant::now(),
    };
    train(
        &mut net,
        &training,
        Some(&validation),
        Some(&test),
        &settings,
        &mut rng,
        &mut print,
    )?;
    // ANCHOR_END: train_cnn
    Ok(())
}
