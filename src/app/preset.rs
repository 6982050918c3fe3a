//! Named training set-ups ("presets"), and the command-line options that build or override
//! them, so each row of the results table is one command.
//!
//! Book chapter: "Beyond the write-up". A preset is a complete [`Settings`]: the network's
//! shape, activations, cost and initialisation, the [`TrainConfig`], and the seed. Options
//! given after (or before) `--preset NAME` override its values, whatever their order.
//! Parsing lives here, not in the command line's code, so it can be tested on its own.
//! Left out: reading settings from a file.

use crate::activation::Activation;
use crate::cost::{validate, Cost};
use crate::error::{Error, Result};
use crate::init::Init;
use crate::linalg::Scalar;
use crate::network::Network;
use crate::optimizer::Optimizer;
use crate::rng::Rng;
use crate::schedule::Schedule;
use crate::train::TrainConfig;

/// Everything that decides a training run's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Neurons per layer, input first: `[784, 20, 10, 10]` for the write-up.
    pub sizes: Vec<usize>,
    /// The hidden layers' activation.
    pub hidden: Activation,
    /// The output layer's activation.
    pub output: Activation,
    /// The cost.
    pub cost: Cost,
    /// How the weights and biases are drawn.
    pub init: Init,
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
            sizes: vec![784, 20, 10, 10],
            hidden: Activation::Sigmoid,
            output: Activation::Sigmoid,
            cost: Cost::Quadratic,
            init: Init::Normal,
            train: TrainConfig::default(),
            seed: DEFAULT_SEED,
        }
    }
}

// ANCHOR: presets
/// The preset called `name`.
///
/// # Errors
/// [`Error::Usage`] listing the presets when there is none by that name.
pub fn preset(name: &str) -> Result<Settings> {
    let writeup = Settings::default();
    let best = Settings {
        sizes: vec![784, 800, 800, 10],
        hidden: Activation::Relu,
        output: Activation::Softmax,
        cost: Cost::LogLikelihood,
        init: Init::He,
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
    Ok(match name {
        "writeup" => writeup,
        "nielsen-ch1" => Settings {
            sizes: vec![784, 30, 10],
            ..writeup
        },
        "nielsen-ch3" => Settings {
            sizes: vec![784, 100, 10],
            cost: Cost::CrossEntropy,
            init: Init::Scaled,
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
        _ => {
            return Err(Error::Usage(format!(
                "no preset called {name:?}; the presets are {} (see `scratchnet presets`)",
                PRESETS.join(", ")
            )))
        }
    })
}
// ANCHOR_END: presets

/// What each option expects, for `--help` and error messages.
pub const OPTIONS: &str = "\
  --preset NAME                       writeup | nielsen-ch1 | nielsen-ch3 | best-mlp | best-mlp-augmented
  --layers 784,20,10,10                neurons per layer, input first
  --activation sigmoid|tanh|relu|leaky-relu|identity   hidden layers
  --output sigmoid|softmax            output layer
  --cost quadratic|cross-entropy|log-likelihood
  --init normal|scaled|xavier|he
  --epochs N  --batch N  --eta X  --lambda X  --seed N
  --optimizer sgd|momentum|adam       (--eta is the learning rate for all three)
  --dropout P                         hidden-neuron dropout in training, 0 <= P < 1
  --schedule constant|step|cosine
  --patience N                        early stopping on validation accuracy (0 = off)
  --augment                           random shifts of up to 2 pixels";

/// Parses a number, or says which option wanted one.
fn number<N: std::str::FromStr>(flag: &str, value: &str) -> Result<N> {
    value
        .parse()
        .map_err(|_| Error::Usage(format!("{flag} expects a number, got {value:?}")))
}

/// Looks `value` up with `from_name`, or lists the choices `names`.
fn choice<E>(
    flag: &str,
    value: &str,
    from_name: fn(&str) -> Option<E>,
    names: &[&str],
) -> Result<E> {
    from_name(value).ok_or_else(|| {
        Error::Usage(format!(
            "{flag} {value:?} is not one of {}",
            names.join(", ")
        ))
    })
}

impl Settings {
    /// True for the options [`Settings::set`] understands that take no value.
    pub fn is_switch(flag: &str) -> bool {
        flag == "--augment"
    }

    /// True for every option [`Settings::set`] understands.
    pub fn knows(flag: &str) -> bool {
        Self::is_switch(flag)
            || [
                "--layers",
                "--activation",
                "--output",
                "--cost",
                "--init",
                "--epochs",
                "--batch",
                "--eta",
                "--lambda",
                "--seed",
                "--optimizer",
                "--dropout",
                "--schedule",
                "--patience",
            ]
            .contains(&flag)
    }

    /// Sets one option (`value` is ignored for switches).
    ///
    /// # Errors
    /// [`Error::Usage`] for an unknown option or a value it cannot take.
    pub fn set(&mut self, flag: &str, value: &str) -> Result<()> {
        let t = &mut self.train;
        match flag {
            "--layers" => self.sizes = parse_sizes(value)?,
            "--activation" => {
                let names = Activation::HIDDEN.map(Activation::name);
                self.hidden = choice(flag, value, Activation::from_name, &names)?
            }
            "--output" => {
                self.output = choice(flag, value, Activation::from_name, &["sigmoid", "softmax"])?
            }
            "--cost" => {
                self.cost = choice(flag, value, Cost::from_name, &Cost::ALL.map(Cost::name))?
            }
            "--init" => {
                self.init = choice(flag, value, Init::from_name, &Init::ALL.map(Init::name))?
            }
            "--optimizer" => {
                let names = Optimizer::ALL.map(Optimizer::name);
                t.optimizer = choice(flag, value, Optimizer::from_name, &names)?
            }
            "--schedule" => {
                let names = Schedule::ALL.map(Schedule::name);
                t.schedule = choice(flag, value, Schedule::from_name, &names)?
            }
            "--epochs" => t.epochs = number(flag, value)?,
            "--batch" => t.batch_size = number(flag, value)?,
            "--eta" => t.eta = number(flag, value)?,
            "--lambda" => t.lambda = number(flag, value)?,
            "--dropout" => t.dropout = number(flag, value)?,
            "--patience" => t.patience = number(flag, value)?,
            "--seed" => self.seed = number(flag, value)?,
            "--augment" => t.augment = true,
            _ => return Err(Error::Usage(format!("unknown option {flag}\n{OPTIONS}"))),
        }
        Ok(())
    }

    /// Builds settings from command-line words: `--preset NAME` (default `writeup`) first,
    /// then every other option this module knows, in any order, overriding it. Words it
    /// does not know are returned, in order, for the caller (e.g. `--data DIR`, `--log F`).
    ///
    /// # Errors
    /// [`Error::Usage`] for a missing value or a bad one; [`Error::Invalid`] when the
    /// result does not make sense (see [`Settings::check`]).
    pub fn from_args(args: &[String]) -> Result<(Settings, Vec<String>)> {
        let preset_name = match args.iter().position(|a| a == "--preset") {
            Some(i) => args
                .get(i + 1)
                .ok_or_else(|| Error::Usage("--preset needs a name".into()))?,
            None => "writeup",
        };
        let mut settings = preset(preset_name)?;
        let mut rest = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let flag = args[i].as_str();
            if flag == "--preset" {
                i += 2;
            } else if Self::is_switch(flag) {
                settings.set(flag, "")?;
                i += 1;
            } else if Self::knows(flag) {
                let value = args
                    .get(i + 1)
                    .ok_or_else(|| Error::Usage(format!("{flag} needs a value")))?;
                settings.set(flag, value)?;
                i += 2;
            } else {
                rest.push(args[i].clone());
                i += 1;
            }
        }
        settings.check()?;
        Ok((settings, rest))
    }

    /// Refuses settings that cannot train: nonsense activation/cost pairings (see
    /// [`validate`]), fewer than two layers, an empty layer, a zero batch, p ∉ [0, 1).
    ///
    /// # Errors
    /// [`Error::Invalid`] saying what is wrong, or [`Error::Incompatible`] from [`validate`].
    pub fn check(&self) -> Result<()> {
        validate(self.hidden, self.output, self.cost)?;
        let t = &self.train;
        let bad = |what: String| Err(Error::Invalid(what));
        if self.sizes.len() < 2 || self.sizes.contains(&0) {
            return bad(format!(
                "--layers {:?}: need ≥ 2 layers, none empty",
                self.sizes
            ));
        }
        if t.batch_size == 0 || t.epochs == 0 {
            return bad("--batch and --epochs must be at least 1".into());
        }
        if !(0.0..1.0).contains(&t.dropout) {
            return bad(format!("--dropout {} must be in [0, 1)", t.dropout));
        }
        if !(t.eta > 0.0 && t.eta.is_finite()) || t.lambda < 0.0 {
            return bad(format!(
                "--eta {} must be > 0 and --lambda {} ≥ 0",
                t.eta, t.lambda
            ));
        }
        Ok(())
    }

    /// A fresh network for these settings, drawn from `rng`.
    pub fn network<T: Scalar>(&self, rng: &mut Rng) -> Network<T> {
        Network::with_init(
            &self.sizes,
            self.init,
            self.hidden,
            self.output,
            self.cost,
            rng,
        )
    }

    /// One line of `key=value` pairs: every setting, as `scratchnet presets` prints them.
    pub fn describe(&self) -> String {
        let t = &self.train;
        let sizes: Vec<String> = self.sizes.iter().map(|n| n.to_string()).collect();
        format!(
            "layers={} activation={} output={} cost={} init={} epochs={} batch={} \
             eta={} lambda={} optimizer={} dropout={} schedule={} patience={} augment={} seed={}",
            sizes.join(","),
            self.hidden.name(),
            self.output.name(),
            self.cost.name(),
            self.init.name(),
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

/// Parses `784,30,10` into `[784, 30, 10]`.
fn parse_sizes(value: &str) -> Result<Vec<usize>> {
    value
        .split(',')
        .map(|n| number::<usize>("--layers", n.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &str) -> Vec<String> {
        words.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn every_preset_is_valid_and_writeup_is_the_default() {
        for name in PRESETS {
            preset(name).unwrap().check().unwrap();
        }
        let (s, rest) = Settings::from_args(&[]).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.train, TrainConfig::default());
        assert!(rest.is_empty());
    }

    #[test]
    fn nielsen_ch3_has_his_settings() {
        let s = preset("nielsen-ch3").unwrap();
        assert_eq!(s.sizes, [784, 100, 10]);
        assert_eq!((s.cost, s.init), (Cost::CrossEntropy, Init::Scaled));
        assert_eq!((s.train.lambda, s.train.eta), (5.0, 0.5));
        assert_eq!((s.train.epochs, s.train.batch_size), (30, 10));
    }

    #[test]
    fn explicit_options_override_the_preset_in_any_order() {
        let (s, rest) = Settings::from_args(&args(
            "--eta 0.1 --preset nielsen-ch3 --data /x --augment --layers 784,50,10 --log f.csv",
        ))
        .unwrap();
        assert_eq!(s.train.eta, 0.1);
        assert_eq!(s.train.lambda, 5.0);
        assert!(s.train.augment);
        assert_eq!(s.sizes, [784, 50, 10]);
        assert_eq!(rest, args("--data /x --log f.csv"));
    }

    #[test]
    fn bad_options_are_refused_with_a_message() {
        let err = |w: &str| Settings::from_args(&args(w)).unwrap_err().to_string();
        assert!(err("--output softmax").contains("log-likelihood"));
        assert!(err("--activation softmax").contains("output layer only"));
        assert!(err("--preset nope").contains("best-mlp"));
        assert!(err("--eta fast").contains("number"));
        assert!(err("--dropout 1.0").contains("[0, 1)"));
        assert!(err("--epochs").contains("needs a value"));
    }
}
