//! `scratchnet presets`: lists the named set-ups `scratchnet train --preset NAME` accepts.
//!
//! Book chapter: "Beyond the write-up". Each line is one preset and every setting it fixes,
//! so a row of the results table can be reproduced from it. The presets themselves live in
//! [`crate::app::preset`]. Left out: user-defined presets.

use super::{is_help, unknown_argument, Args};
use crate::app::preset::{preset, PRESETS};
use crate::Result;

/// One line for the top-level help.
pub const SUMMARY: &str = "List the presets for `train --preset NAME` and their settings";

/// The `--help` text.
pub const USAGE: &str = "\
List the presets for `train --preset NAME` and their settings

Usage: scratchnet presets

Options given to `train` after (or before) `--preset NAME` override the preset's values.

Options:
  -h, --help            Print this help
";

/// The listing: the name, then its settings as `key=value` pairs, one preset per line.
pub fn listing() -> String {
    PRESETS
        .iter()
        .map(|name| {
            let settings = preset(name).expect("every listed preset exists");
            format!("{name:<20}{}\n", settings.describe())
        })
        .collect()
}

/// `scratchnet presets ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    let mut args = Args::new(args);
    if let Some(arg) = args.next() {
        if is_help(&arg) {
            print!("{USAGE}");
            return Ok(());
        }
        return Err(unknown_argument(&arg));
    }
    print!("{}", listing());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_preset_once_with_its_settings() {
        let text = listing();
        assert_eq!(text.lines().count(), PRESETS.len());
        for name in PRESETS {
            assert!(text.lines().any(|l| l.starts_with(name)), "{name} missing");
        }
        assert!(text.contains("layers=784,100,10") && text.contains("lambda=5"));
    }
}
