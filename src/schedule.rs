//! Learning-rate schedules: how η changes from epoch to epoch.
//!
//! Book chapter: "Beyond the write-up". Large steps early cover ground; small steps late
//! settle into a minimum instead of bouncing around it. Left out: warm-up, per-batch
//! schedules, schedules that watch the validation accuracy.

/// How the learning rate varies over a run of `epochs` epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// η every epoch (the write-up).
    Constant,
    /// η, then η/10 from half-way, then η/100 from three quarters of the way.
    Step,
    /// η · ½(1 + cos(π e/E)) for epoch e = 0, 1, …, E − 1: smoothly from η down towards 0.
    Cosine,
}

impl Schedule {
    /// All schedules, in the order `--help` lists them.
    pub const ALL: [Schedule; 3] = [Schedule::Constant, Schedule::Step, Schedule::Cosine];

    // ANCHOR: schedule
    /// The learning rate for 0-based epoch `e` of `epochs`, starting from `eta`.
    pub fn eta(self, eta: f64, e: usize, epochs: usize) -> f64 {
        let fraction = e as f64 / epochs.max(1) as f64;
        match self {
            Schedule::Constant => eta,
            Schedule::Step if fraction >= 0.75 => eta * 0.01,
            Schedule::Step if fraction >= 0.5 => eta * 0.1,
            Schedule::Step => eta,
            Schedule::Cosine => eta * 0.5 * (1.0 + (std::f64::consts::PI * fraction).cos()),
        }
    }
    // ANCHOR_END: schedule

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Constant => "constant",
            Schedule::Step => "step",
            Schedule::Cosine => "cosine",
        }
    }

    /// The schedule called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_worked_by_hand() {
        assert_eq!(Schedule::Constant.eta(0.5, 29, 30), 0.5);
        assert_eq!(Schedule::Step.eta(1.0, 4, 10), 1.0);
        assert_eq!(Schedule::Step.eta(1.0, 5, 10), 0.1);
        assert_eq!(Schedule::Step.eta(1.0, 8, 10), 0.01);
        assert_eq!(Schedule::Cosine.eta(2.0, 0, 10), 2.0);
        assert!((Schedule::Cosine.eta(2.0, 5, 10) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn names_round_trip() {
        for s in Schedule::ALL {
            assert_eq!(Schedule::from_name(s.name()), Some(s));
        }
    }
}
