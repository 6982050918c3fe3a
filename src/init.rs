//! How the weights and biases are drawn before training: four recipes.
//!
//! Book chapter: "Beyond the write-up". The write-up (and Nielsen's chapter 1) draws every
//! weight and bias from N(0, 1). With 784 inputs, z = Σ w x + b then has a standard deviation
//! of tens, so σ(z) starts saturated and learns slowly; scaling each weight's variance by
//! 1/n_in (Nielsen's chapter 3) keeps z near 1. Xavier/Glorot balances the forward and
//! backward signal (variance 2/(n_in + n_out)); He doubles the 1/n_in to make up for ReLU
//! zeroing half its inputs (variance 2/n_in). Left out: uniform variants, orthogonal init.

/// A recipe for the initial weights (and biases) of one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Weights and biases from N(0, 1): the write-up and Nielsen chapter 1.
    Normal,
    /// Weights from N(0, 1/n_in), biases from N(0, 1): Nielsen chapter 3.
    Scaled,
    /// Weights from N(0, 2/(n_in + n_out)), biases 0: Glorot and Bengio (2010).
    Xavier,
    /// Weights from N(0, 2/n_in), biases 0: He et al. (2015), for ReLU layers.
    He,
}

impl Init {
    /// All recipes, in the order `--help` lists them.
    pub const ALL: [Init; 4] = [Init::Normal, Init::Scaled, Init::Xavier, Init::He];

    // ANCHOR: init_std
    /// The standard deviation of a weight in a layer with `n_in` inputs and `n_out` neurons.
    pub fn weight_std(self, n_in: usize, n_out: usize) -> f64 {
        match self {
            Init::Normal => 1.0,
            Init::Scaled => (1.0 / n_in as f64).sqrt(),
            Init::Xavier => (2.0 / (n_in + n_out) as f64).sqrt(),
            Init::He => (2.0 / n_in as f64).sqrt(),
        }
    }

    /// The standard deviation of a bias (0: biases start at exactly zero).
    pub fn bias_std(self) -> f64 {
        match self {
            Init::Normal | Init::Scaled => 1.0,
            Init::Xavier | Init::He => 0.0,
        }
    }
    // ANCHOR_END: init_std

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Init::Normal => "normal",
            Init::Scaled => "scaled",
            Init::Xavier => "xavier",
            Init::He => "he",
        }
    }

    /// The recipe called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_deviations_worked_by_hand() {
        assert_eq!(Init::Normal.weight_std(784, 30), 1.0);
        assert_eq!(Init::Scaled.weight_std(100, 10), 0.1);
        assert_eq!(Init::Xavier.weight_std(150, 50), 0.1);
        assert_eq!(Init::He.weight_std(200, 10), 0.1);
        assert_eq!(Init::He.bias_std(), 0.0);
    }

    #[test]
    fn names_round_trip() {
        for i in Init::ALL {
            assert_eq!(Init::from_name(i.name()), Some(i));
        }
    }
}
