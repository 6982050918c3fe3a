//! Named training set-ups ("presets"), so each row of the results table is one command.
//!
//! Book chapter: "Beyond the write-up". A preset is a complete [`Settings`]: the network's
//! shape, activations, cost and initialisation, the [`TrainConfig`], and the seed. Presets
//! are data only: `scratchnet train` applies one first and then its options, with the same
//! parser and range check as every other option ([`crate::app::cli::train::parse`]).
//! Left out: reading settings from a file.

use crate::activation::Activation;
use crate::convnet::{ConvNet, ConvNetConfig, Feature};
use crate::cost::Cost;
use crate::data::augment::Augment;
use crate::formats::saved::Model;
use crate::init::Init;
use crate::linalg::Scalar;
use crate::network::{Network, NetworkConfig};
use crate::optimizer::Optimizer;
use crate::rng::Rng;
use crate::schedule::Schedule;
use crate::train::TrainConfig;
use crate::Result;

/// Everything that decides a training run's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The network: layer sizes, activations, cost and initialisation. With `features`, the
    /// sizes are the input's and the fully connected layers' after them.
    pub net: NetworkConfig,
    /// The convolution and pooling layers between the input and the first fully connected
    /// layer, as `--layers 784,conv5x5x20,pool2,100,10` lists them; empty for the write-up's
    /// fully connected networks.
    pub features: Vec<Feature>,
    /// Epochs, batch size, η and the rest.
    pub train: TrainConfig,
    /// The seed of the one [`Rng`] behind initialisation, shuffling, dropout and changed images.
    pub seed: u64,
}

/// The presets' names, in the order `scratchnet presets` lists them.
pub const PRESETS: [&str; 7] = [
    "writeup",
    "nielsen-ch1",
    "nielsen-ch3",
    "best-mlp",
    "best-mlp-augmented",
    "nielsen-ch6",
    "best-cnn",
];

/// The seed every preset uses unless `--seed` says otherwise.
pub const DEFAULT_SEED: u64 = 1;

impl Default for Settings {
    /// The write-up: 784-20-10-10, sigmoid everywhere, quadratic cost, N(0, 1), 30 epochs
    /// of mini-batches of 10 at η = 3.0, seed 1.
    fn default() -> Self {
        Settings {
            net: NetworkConfig::default(),
            features: Vec::new(),
            train: TrainConfig::default(),
            seed: DEFAULT_SEED,
        }
    }
}

// ANCHOR: presets
/// The preset called `name`, or `None` if there is none (the caller says what to do).
pub fn preset(name: &str) -> Option<Settings> {
    let writeup = Settings::default();
    let best = Settings {
        net: NetworkConfig {
            sizes: vec![784, 800, 800, 10],
            hidden: Activation::Relu,
            output: Activation::Softmax,
            cost: Cost::LogLikelihood,
            init: Init::He,
        },
        train: TrainConfig {
            epochs: 20,
            batch_size: 100,
            eta: 0.001,
            optimizer: Optimizer::Adam,
            dropout: 0.2,
            schedule: Schedule::Cosine,
            evaluate_train: false,
            ..TrainConfig::default()
        },
        ..writeup.clone()
    };
    Some(match name {
        "writeup" => writeup,
        "nielsen-ch1" => Settings {
            net: NetworkConfig {
                sizes: vec![784, 30, 10],
                ..writeup.net
            },
            ..writeup
        },
        "nielsen-ch3" => Settings {
            net: NetworkConfig {
                sizes: vec![784, 100, 10],
                cost: Cost::CrossEntropy,
                init: Init::Scaled,
                ..writeup.net
            },
            train: TrainConfig {
                eta: 0.5,
                lambda: 5.0,
                ..TrainConfig::default()
            },
            ..writeup
        },
        "best-mlp" => best,
        "best-mlp-augmented" => Settings {
            train: TrainConfig {
                epochs: 35,
                augment: Augment::Shift,
                ..best.train
            },
            ..best
        },
        // Nielsen's 99.23% (network3.py): conv 20 → pool → conv 40 → pool → 100 → softmax,
        // ReLU, η = 0.03, batches of 10, 60 epochs, his λ = 0.1. He divides λ by the number
        // of mini-batches where we divide by the number of images, so his λ is ours / 10.
        "nielsen-ch6" => Settings {
            net: NetworkConfig {
                sizes: vec![784, 100, 10],
                hidden: Activation::Relu,
                output: Activation::Softmax,
                cost: Cost::LogLikelihood,
                init: Init::Scaled,
            },
            features: features([20, 40]),
            train: TrainConfig {
                epochs: 60,
                eta: 0.03,
                lambda: 1.0,
                evaluate_train: false,
                ..TrainConfig::default()
            },
            ..writeup
        },
        // Nielsen's best single network made wider in its convolutions (32 and 64 maps) and
        // narrower after them (one layer of 1,024 where he has two of 1,000), with dropout,
        // distorted images and Adam.
        "best-cnn" => Settings {
            net: NetworkConfig {
                sizes: vec![784, 1024, 10],
                init: Init::He,
                ..best.net
            },
            features: features([32, 64]),
            train: TrainConfig {
                epochs: 45,
                batch_size: 50,
                dropout: 0.5,
                augment: Augment::Distort,
                ..best.train
            },
            ..writeup
        },
        _ => return None,
    })
}
// ANCHOR_END: presets

/// Two convolution-and-pooling stages of 5 × 5 kernels and 2 × 2 pools, with `maps` maps:
/// Nielsen's are [20, 40].
fn features(maps: [usize; 2]) -> Vec<Feature> {
    let pool = Feature::Pool { k: 2 };
    let conv = |maps| Feature::Conv { k: 5, maps };
    vec![conv(maps[0]), pool, conv(maps[1]), pool]
}

impl Settings {
    /// A fresh fully connected network for these settings, drawn from `rng` (the
    /// `features` are not its business: see [`Settings::model`]).
    pub fn network<T: Scalar>(&self, rng: &mut Rng) -> Network<T> {
        Network::build(&self.net, rng)
    }

    /// A fresh network for these settings, drawn from `rng`: a [`Network`] as the write-up
    /// builds it when there are no `features`, else a [`ConvNet`].
    ///
    /// # Errors
    /// What [`ConvNetConfig::from_layer_list`] and [`ConvNet::build`] refuse.
    pub fn model(&self, rng: &mut Rng) -> Result<Model> {
        if self.features.is_empty() {
            return Ok(Model::Dense(self.network(rng)));
        }
        let config = self.conv_config()?;
        ConvNet::build(&config, rng).map(Model::Conv)
    }

    /// The convolutional network's description: [`ConvNetConfig::from_layer_list`].
    ///
    /// # Errors
    /// As that function.
    pub fn conv_config(&self) -> Result<ConvNetConfig> {
        ConvNetConfig::from_layer_list(&self.features, &self.net)
    }

    /// The layer list as `--layers` takes it: `784,conv5x5x20,pool2,100,10`.
    pub fn layers_text(&self) -> String {
        let sizes = self.net.sizes.iter().map(usize::to_string);
        let mut items: Vec<String> = sizes.clone().take(1).collect();
        items.extend(
            self.features
                .iter()
                .map(|f| f.layer(self.net.hidden).token()),
        );
        items.extend(sizes.skip(1));
        items.join(",")
    }

    /// One line of `key=value` pairs: every setting, as `scratchnet presets` prints them.
    /// Each key is the `train` option that sets it (`eta=0.5` is `--eta 0.5`).
    pub fn describe(&self) -> String {
        let t = &self.train;
        format!(
            "layers={} activation={} output={} cost={} init={} epochs={} batch={} \
             eta={} lambda={} optimizer={} dropout={} schedule={} patience={} augment={} seed={}",
            self.layers_text(),
            self.net.hidden.name(),
            self.net.output.name(),
            self.net.cost.name(),
            self.net.init.name(),
            t.epochs,
            t.batch_size,
            t.eta,
            t.lambda,
            t.optimizer.name(),
            t.dropout,
            t.schedule.name(),
            t.patience,
            t.augment.name(),
            self.seed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_preset_exists_and_writeup_is_the_default() {
        for name in PRESETS {
            assert!(preset(name).is_some(), "{name}");
        }
        assert_eq!(preset("writeup"), Some(Settings::default()));
        assert_eq!(Settings::default().train, TrainConfig::default());
        assert_eq!(preset("nope"), None);
    }

    #[test]
    fn nielsen_ch6_has_his_settings_and_both_conv_presets_build() {
        let s = preset("nielsen-ch6").unwrap();
        assert_eq!(
            s.layers_text(),
            "784,conv5x5x20,pool2,conv5x5x40,pool2,100,10"
        );
        assert_eq!(
            (s.net.hidden, s.net.output),
            (Activation::Relu, Activation::Softmax)
        );
        assert_eq!(
            (s.train.eta, s.train.lambda, s.train.epochs),
            (0.03, 1.0, 60)
        );
        assert_eq!(s.train.batch_size, 10);
        for name in ["nielsen-ch6", "best-cnn"] {
            let s = preset(name).unwrap();
            match s.model(&mut Rng::new(1)).unwrap() {
                Model::Conv(net) => assert_eq!(net.spec(), s.layers_text(), "{name}"),
                Model::Dense(_) => panic!("{name} built a fully connected network"),
            }
        }
    }

    #[test]
    fn nielsen_ch3_has_his_settings() {
        let s = preset("nielsen-ch3").unwrap();
        assert_eq!(s.net.sizes, [784, 100, 10]);
        assert_eq!((s.net.cost, s.net.init), (Cost::CrossEntropy, Init::Scaled));
        assert_eq!((s.train.lambda, s.train.eta), (5.0, 0.5));
        assert_eq!((s.train.epochs, s.train.batch_size), (30, 10));
    }
}
