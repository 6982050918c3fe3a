//! The `scratchnet` command line: dispatch to one subcommand per file, and the small
//! argument-parsing helpers they share.
//!
//! Book chapter: "The command line". Arguments are parsed by hand with a `while let` /
//! `match` loop, std only. To add a subcommand, add a file here with `SUMMARY`, `USAGE` and
//! `fn main(args)`, and one line to [`COMMANDS`]. Errors: a bad command line is an
//! [`Error::Usage`] whose message ends with the usage (exit code 2, see [`exit_code`]); every
//! refused value reads the same, `--eta abc: expected a positive number (the learning rate
//! η)`, because [`refused`] words them all. Anything that goes wrong at run time is another
//! [`Error`] (exit 1), carrying the library's facts; [`message`] adds the flags to try.
//! Left out: shell completion, colours, and combined short flags (`-abc`).

pub mod download;
pub mod eval;
pub mod predict;
pub mod presets;
pub mod serve;
pub mod train;
pub mod visualize;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::data::mnist;
use crate::error::short_number;
use crate::{Error, Result};

/// A subcommand: its name, one-line summary, usage text and entry point.
pub struct Command {
    /// What the user types after `scratchnet`.
    pub name: &'static str,
    /// One line for the top-level help.
    pub summary: &'static str,
    /// The full `--help` text.
    pub usage: &'static str,
    /// Parses the arguments after the name and runs.
    pub main: fn(Vec<String>) -> Result<()>,
}

/// Every subcommand, in the order the top-level help lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "train",
        summary: train::SUMMARY,
        usage: train::USAGE,
        main: train::main,
    },
    Command {
        name: "eval",
        summary: eval::SUMMARY,
        usage: eval::USAGE,
        main: eval::main,
    },
    Command {
        name: "predict",
        summary: predict::SUMMARY,
        usage: predict::USAGE,
        main: predict::main,
    },
    Command {
        name: "presets",
        summary: presets::SUMMARY,
        usage: presets::USAGE,
        main: presets::main,
    },
    Command {
        name: "serve",
        summary: serve::SUMMARY,
        usage: serve::USAGE,
        main: serve::main,
    },
    Command {
        name: "visualize",
        summary: visualize::SUMMARY,
        usage: visualize::USAGE,
        main: visualize::main,
    },
    Command {
        name: "download",
        summary: download::SUMMARY,
        usage: download::USAGE,
        main: download::main,
    },
];

/// The top-level `--help` text.
pub fn usage() -> String {
    let mut text = format!(
        "scratchnet {}: a neural network that reads handwritten digits, from scratch\n\n\
         Usage: scratchnet [COMMAND] [OPTIONS]\n\n\
         With no command, trains the write-up's network (784-20-10-10) on MNIST, as\n\
         `scratchnet train` does.\n\nCommands:\n",
        env!("CARGO_PKG_VERSION")
    );
    for c in COMMANDS {
        text += &format!("  {:<10}{}\n", c.name, c.summary);
    }
    text += "\nOptions:\n  -h, --help     Print this help (`scratchnet COMMAND --help` for a command's)\n  \
             -V, --version  Print the version\n";
    text
}

/// Runs the command line `args` (without the program name).
pub fn run(args: Vec<String>) -> Result<()> {
    let mut args = args.into_iter();
    let Some(first) = args.next() else {
        return (COMMANDS[0].main)(Vec::new());
    };
    match first.as_str() {
        "-h" | "--help" | "help" => {
            print!("{}", usage());
            Ok(())
        }
        "-V" | "--version" => {
            println!("scratchnet {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        name => match COMMANDS.iter().find(|c| c.name == name) {
            Some(c) => (c.main)(args.collect()).map_err(|e| with_usage(e, c.usage)),
            None => Err(with_usage(
                Error::Usage(format!("unknown command or option '{name}'")),
                &usage(),
            )),
        },
    }
}

/// The command line's arguments as text, for [`run`].
///
/// # Errors
/// [`Error::Usage`] naming the first argument that is not valid UTF-8 (shown with `�` for
/// the bytes it cannot show).
pub fn utf8_arguments(args: impl IntoIterator<Item = OsString>) -> Result<Vec<String>> {
    let text = |arg: OsString| {
        arg.into_string().map_err(|arg| {
            Error::Usage(format!(
                "argument '{}' is not valid UTF-8; scratchnet reads its arguments as UTF-8 text \
                 (rename the file, or name it through a link whose name is UTF-8)",
                arg.to_string_lossy()
            ))
        })
    };
    args.into_iter().map(text).collect()
}

/// Appends `usage` to a usage error's message; other errors pass through.
pub fn with_usage(err: Error, usage: &str) -> Error {
    match err {
        Error::Usage(message) => Error::Usage(format!("{message}\n\n{usage}")),
        other => other,
    }
}

/// What `scratchnet` prints for `err`: the library's message, then what to try on this
/// command line. The library's errors carry the facts; only here are flags named.
pub fn message(err: &Error) -> String {
    match err {
        Error::Diverged { eta, lambda, .. } => {
            let or_lambda = match lambda {
                Some(lambda) => format!(" or a smaller --lambda than {lambda}"),
                None => String::new(),
            };
            format!(
                "{err}; try a smaller --eta (e.g. --eta {}){or_lambda}; no model was saved",
                short_number(eta / 10.0)
            )
        }
        Error::DidNotLearn { eta, .. } => format!(
            "{err}; try another --eta (e.g. --eta {} or --eta {}), more --epochs, or a preset \
             (see `scratchnet presets`); no model was saved",
            short_number(eta / 10.0),
            short_number(eta * 10.0)
        ),
        Error::Download { .. } => {
            format!("{err}\nOr give scratchnet the folder that holds them with --data DIR.")
        }
        _ => err.to_string(),
    }
}

/// The process exit code for an error: 2 for a bad command line, 1 for everything else.
pub fn exit_code(err: &Error) -> i32 {
    match err {
        Error::Usage(_) => 2,
        _ => 1,
    }
}

/// The arguments of one subcommand, consumed flag by flag. `--flag=value` is split into
/// `--flag` and `value`.
pub struct Args {
    items: std::vec::IntoIter<String>,
    pending: Option<String>,
}

impl Args {
    /// Wraps the arguments that follow the subcommand's name.
    pub fn new(args: Vec<String>) -> Self {
        Args {
            items: args.into_iter(),
            pending: None,
        }
    }

    /// The next flag or positional argument.
    #[allow(clippy::should_implement_trait)] // `while let` reads better than a for loop here
    pub fn next(&mut self) -> Option<String> {
        let arg = self.items.next()?;
        match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                self.pending = Some(value.to_string());
                Some(flag.to_string())
            }
            _ => Some(arg),
        }
    }

    /// The value after `flag`, or a usage error saying it is missing: at the end, or where
    /// the next argument is another option (`--augment --epochs 3`, from when `--augment` was
    /// a switch, would otherwise take `--epochs` as its value and then refuse the `3`).
    pub fn value(&mut self, flag: &str) -> Result<String> {
        if let Some(value) = self.pending.take() {
            return Ok(value);
        }
        match self.items.next() {
            Some(value) if !value.starts_with("--") => Ok(value),
            _ => Err(Error::Usage(format!("{flag} needs a value"))),
        }
    }

    /// The value after `flag`, parsed as a `T` (see [`parse_value`]).
    pub fn parse<T: FromStr>(&mut self, flag: &str) -> Result<T> {
        let text = self.value(flag)?;
        parse_value(flag, &text, type_description::<T>())
    }

    /// Fails if `flag` was written `--flag=value` although it takes no value (`predict
    /// --show`).
    pub fn no_value(&mut self, flag: &str) -> Result<()> {
        match self.pending.take() {
            Some(v) => Err(refused(flag, &v, "no value (it is a switch)")),
            None => Ok(()),
        }
    }
}

/// The one message for a value an option cannot take, whichever check refused it:
/// `--eta abc: expected a positive number (the learning rate η)`.
pub fn refused(flag: &str, value: &str, expected: &str) -> Error {
    let value = if value.is_empty() { "''" } else { value };
    Error::Usage(format!("{flag} {value}: expected {expected}"))
}

/// Parses `text`, the value of `flag`, as a `T`; refused as not being `expected` otherwise.
pub fn parse_value<T: FromStr>(flag: &str, text: &str, expected: &str) -> Result<T> {
    text.trim()
        .parse()
        .map_err(|_| refused(flag, text, expected))
}

/// "a whole number" or "a number", for options with no more to say about their values.
fn type_description<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    if name.starts_with('u') || name.starts_with('i') {
        "a whole number"
    } else if name.starts_with('f') {
        "a number"
    } else {
        "a valid value"
    }
}

/// A usage error for an argument the subcommand does not know.
pub fn unknown_argument(arg: &str) -> Error {
    if arg.starts_with('-') {
        Error::Usage(format!("unknown option '{arg}'"))
    } else {
        Error::Usage(format!("unexpected argument '{arg}'"))
    }
}

/// True for `-h` and `--help`.
pub fn is_help(arg: &str) -> bool {
    arg == "-h" || arg == "--help"
}

/// Runs a subcommand on its parsed arguments, or prints its usage when `parse` returned
/// `None` because `--help` was asked for.
pub fn run_parsed<A>(parsed: Option<A>, usage: &str, run: fn(&A) -> Result<()>) -> Result<()> {
    match parsed {
        Some(args) => run(&args),
        None => {
            print!("{usage}");
            Ok(())
        }
    }
}

/// The data folder ([`mnist::data_dir`]), with the four files downloaded into it first if
/// any is missing.
pub fn ensure_data(flag: Option<&Path>) -> Result<PathBuf> {
    let dir = mnist::data_dir(flag);
    let all = crate::data::download::ALL;
    crate::data::download::ensure(&dir, &all, &mut |line| eprintln!("  {line}"))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::new(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn refused_values_get_one_form() {
        assert_eq!(parse_value::<usize>("--port", "30", "x").unwrap(), 30);
        let err = parse_value::<usize>("--epochs", "thirty", "a whole number").unwrap_err();
        assert_eq!(err.to_string(), "--epochs thirty: expected a whole number");
        let mut a = args(&["--port=fast"]);
        a.next();
        let err = a.parse::<u16>("--port").unwrap_err();
        assert_eq!(err.to_string(), "--port fast: expected a whole number");
        let mut a = args(&["--show=yes"]);
        a.next();
        let err = a.no_value("--show").unwrap_err();
        assert_eq!(
            err.to_string(),
            "--show yes: expected no value (it is a switch)"
        );
        assert_eq!(
            refused("--out", "", "a file").to_string(),
            "--out '': expected a file"
        );
    }

    #[test]
    fn the_command_line_adds_advice_the_library_leaves_out() {
        let err = Error::Diverged {
            epoch: 2,
            cost: f64::NAN,
            eta: 3.0,
            lambda: None,
        };
        assert_eq!(
            message(&err),
            format!("{err}; try a smaller --eta (e.g. --eta 0.3); no model was saved")
        );
        let err = Error::Diverged {
            epoch: 2,
            cost: f64::INFINITY,
            eta: 3.0,
            lambda: Some(5.0),
        };
        assert!(message(&err).contains("--eta 0.3) or a smaller --lambda than 5;"));
        assert_eq!(
            [
                1e-6 * 10.0,
                30.0,
                0.3,
                1e-7,
                123456789.0,
                1e299,
                1e-12,
                1e-9 * 0.1,
                -1.23456789e12
            ]
            .map(short_number),
            [
                "0.00001",
                "30",
                "0.3",
                "0.0000001",
                "123456789",
                "1e299",
                "1e-12",
                "1e-10",
                "-1.23457e12"
            ]
        );
        let err = Error::DidNotLearn {
            epoch: 3,
            accuracy: 0.098,
            classes: 10,
            eta: 3.0,
        };
        assert_eq!(
            message(&err),
            format!(
                "{err}; try another --eta (e.g. --eta 0.3 or --eta 30), more --epochs, or a \
                 preset (see `scratchnet presets`); no model was saved"
            )
        );
        let err = Error::Download {
            file: "f".into(),
            reason: "r".into(),
        };
        assert!(message(&err).ends_with("with --data DIR."));
        assert_eq!(message(&Error::Invalid("x".into())), "x");
    }

    #[test]
    fn flag_equals_value_and_missing_values() {
        let mut a = args(&["--eta=0.5", "--epochs"]);
        assert_eq!(a.next().as_deref(), Some("--eta"));
        assert_eq!(a.parse::<f64>("--eta").unwrap(), 0.5);
        assert_eq!(a.next().as_deref(), Some("--epochs"));
        let err = a.value("--epochs").unwrap_err();
        assert_eq!(err.to_string(), "--epochs needs a value");
        assert!(a.next().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn arguments_that_are_not_utf8_are_a_usage_error() {
        use std::os::unix::ffi::OsStringExt;
        let args = [
            OsString::from("train"),
            OsString::from_vec(b"caf\xe9".to_vec()),
        ];
        let err = utf8_arguments(args).unwrap_err();
        assert_eq!(exit_code(&err), 2);
        assert!(err
            .to_string()
            .starts_with("argument 'caf\u{fffd}' is not valid UTF-8"));
        let args = utf8_arguments([OsString::from("--eta=0.5")]).unwrap();
        assert_eq!(args, ["--eta=0.5"]);
    }

    #[test]
    fn usage_errors_get_the_usage_and_exit_2() {
        let err = with_usage(Error::Usage("bad".into()), "Usage: x");
        assert_eq!(err.to_string(), "bad\n\nUsage: x");
        assert_eq!(exit_code(&err), 2);
        assert_eq!(exit_code(&Error::Invalid("x".into())), 1);
    }

    #[test]
    fn unknown_command_is_a_usage_error() {
        let err = run(vec!["fly".into()]).unwrap_err();
        assert_eq!(exit_code(&err), 2);
        assert!(err.to_string().contains("unknown command or option 'fly'"));
        assert!(err.to_string().contains("Commands:"));
    }

    #[test]
    fn every_command_is_listed_in_the_help() {
        let text = usage();
        for c in COMMANDS {
            assert!(text.contains(c.name) && c.usage.starts_with(c.summary));
        }
    }
}
