//! Named training set-ups ("presets"), so each row of the results table is one command.
//!
//! Book chapter: "Beyond the write-up". A preset is a complete [`Settings`]: the network's
//! shape, activations, cost and initialisation, the [`TrainConfig`], and the seed. Presets
//! are data only: `scratchnet train` applies one first and then its options, with the same
//! parser and range check as every other option ([`crate::app::cli::train::parse`]).
//! Left out: reading settings from a file.

use crate::activation::Activation;
use crate::cost::Cost;
use crate::init::Init;
use crate::linalg::Scalar;
use crate::network::{Network, NetworkConfig};
use crate::optimizer::Optimizer;
use crate::rng::Rng;
use crate::schedule::Schedule;
use crate::train::TrainConfig;

/// Everything that decides a training run's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The network: layer sizes, activations, cost and initialisation.
    pub net: NetworkConfig,
    /// Epochs, batch size, η and the rest.
    pub train: TrainConfig,
    /// The seed of the one [`Rng`] behind initialisation, shuffling, dropout and shifts.
    pub seed: u64,
}

/// The presets' names, in the order `scratchnet presets` lists them.
pub const PRESETS: [&str; 5] = [
    "writeup",
    "nielsen-ch1",
    "nielsen-ch3",
    "best-mlp",
    "best-mlp-augmented",
];

/// The seed every preset uses unless `--seed` says otherwise.
pub const DEFAULT_SEED: u64 = 1;

impl Default for Settings {
    /// The write-up: 784-20-10-10, sigmoid everywhere, quadratic cost, N(0, 1), 30 epochs
    /// of mini-batches of 10 at η = 3.0, seed 1.
    fn default() -> Self {
        Settings {
            net: NetworkConfig::default(),
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
                augment: true,
                ..best.train
            },
            ..best
        },
        _ => return None,
    })
}
// ANCHOR_END: presets

impl Settings {
    /// A fresh network for these settings, drawn from `rng`.
    pub fn network<T: Scalar>(&self, rng: &mut Rng) -> Network<T> {
        Network::build(&self.net, rng)
    }

    /// One line of `key=value` pairs: every setting, as `scratchnet presets` prints them.
    /// Each key is the `train` option that sets it (`eta=0.5` is `--eta 0.5`).
    pub fn describe(&self) -> String {
        let t = &self.train;
        let sizes: Vec<String> = self.net.sizes.iter().map(|n| n.to_string()).collect();
        format!(
            "layers={} activation={} output={} cost={} init={} epochs={} batch={} \
             eta={} lambda={} optimizer={} dropout={} schedule={} patience={} augment={} seed={}",
            sizes.join(","),
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
            t.augment,
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
    fn nielsen_ch3_has_his_settings() {
        let s = preset("nielsen-ch3").unwrap();
        assert_eq!(s.net.sizes, [784, 100, 10]);
        assert_eq!((s.net.cost, s.net.init), (Cost::CrossEntropy, Init::Scaled));
        assert_eq!((s.train.lambda, s.train.eta), (5.0, 0.5));
        assert_eq!((s.train.epochs, s.train.batch_size), (30, 10));
    }
}
