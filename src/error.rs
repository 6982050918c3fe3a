//! The crate's one error type, for everything that can go wrong with files and user input.
//!
//! Book chapter: "Errors". Shape mismatches in the maths are bugs and panic instead (see
//! [`crate::linalg`]). Each variant carries the facts of what went wrong (what was expected,
//! what was found, the file, the epoch) so a caller can act on them, and its message says
//! them in words true for any caller. Advice that names a command-line flag or subcommand is
//! the command line's to add ([`crate::app::cli::message`]): a library user has neither.
//! Left out: `From<io::Error>`, because every I/O error here names its file ([`Error::io`]).

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong reading data, models, images and arguments, and training.
///
/// Match on a variant for the facts (what was expected, what was found); `Display` says
/// them in one sentence, with no command-line flags in it.
#[derive(Debug)]
pub enum Error {
    /// An operating-system error on a file.
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A file's first bytes are not the format's magic number.
    BadMagic {
        /// What kind of file was expected (e.g. "IDX image file").
        what: String,
        /// The magic number the format starts with.
        expected: u32,
        /// What the file starts with.
        got: u32,
    },
    /// A file ends before the data its header promises.
    Truncated {
        /// What was being read.
        what: String,
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// A checksum (CRC-32, Adler-32) does not match the data.
    Checksum {
        /// What was being checked.
        what: String,
        /// The checksum stored in the file.
        expected: u32,
        /// The checksum of the data actually read.
        got: u32,
    },
    /// Any other malformed content: corrupt deflate data, impossible header values, ….
    Corrupt {
        /// What was being read.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An image file and a label file disagree on how many items they hold.
    CountMismatch {
        /// Number of images.
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A model file written by a format version this build does not read.
    UnsupportedVersion {
        /// The version in the file.
        got: u32,
        /// The newest version this build reads (it reads every version from 1 to this).
        supported: u32,
    },
    /// A download that could not be completed.
    Download {
        /// The file being fetched.
        file: String,
        /// Why it failed, and what to do instead.
        reason: String,
    },
    /// A downloaded file whose SHA-256 is not the pinned one.
    DigestMismatch {
        /// The file.
        file: String,
        /// The pinned digest (hex).
        expected: String,
        /// The digest of what arrived (hex).
        got: String,
    },
    /// Training produced a NaN or infinite cost.
    Diverged {
        /// The epoch (1-based) in which it happened.
        epoch: usize,
        /// The epoch's training cost, L2 term included: NaN or ±∞.
        cost: f64,
        /// The learning rate η the run was given (a schedule may have lowered it since).
        eta: f64,
        /// The L2 strength λ, when L2 was on (its term is part of `cost`).
        lambda: Option<f64>,
    },
    /// Training ended no better than chance (see [`crate::train::check_learned`]).
    DidNotLearn {
        /// The epoch (1-based) whose weights were kept.
        epoch: usize,
        /// That epoch's validation accuracy, a fraction.
        accuracy: f64,
        /// The number of classes, so chance is 1/classes.
        classes: usize,
        /// The learning rate η the run was given.
        eta: f64,
    },
    /// An activation or cost that cannot train with the network's other choices (see
    /// [`crate::cost::validate`]).
    Incompatible {
        /// Which choice is refused: `activation` (the hidden layers'), `output` or `cost`.
        setting: &'static str,
        /// The refused choice, e.g. `quadratic`.
        got: &'static str,
        /// What would work with the other choices, e.g. `log-likelihood with a softmax output`.
        expected: String,
    },
    /// A size, read from a file or an argument, above the limit this crate sets for it; refused
    /// before anything is allocated for it.
    TooLarge {
        /// What the size measures, e.g. "neurons in layer 2" or "decompressed bytes".
        what: String,
        /// The size asked for (saturated at `u64::MAX` when it overflowed).
        got: u64,
        /// The largest size allowed.
        limit: u64,
    },
    /// A bad command line: the message; the caller prints the usage after it.
    Usage(String),
    /// A value that is well-formed but unusable (e.g. a model whose input size is not 784).
    Invalid(String),
}

/// `Result<T, scratchnet::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A [`Error::Corrupt`] for `what` with `reason`.
    pub fn corrupt(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::BadMagic {
                what,
                expected,
                got,
            } => write!(
                f,
                "not a {what}: it starts with magic number {got:#010x}, expected {expected:#010x}"
            ),
            Error::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "{what} is truncated: needs {needed} bytes but only {available} are there \
                 (download it again)"
            ),
            Error::Checksum {
                what,
                expected,
                got,
            } => write!(
                f,
                "{what}: checksum mismatch (stored {expected:#010x}, computed {got:#010x}); \
                 the file is corrupt, download it again"
            ),
            Error::Corrupt { what, reason } => write!(f, "{what} is corrupt: {reason}"),
            Error::CountMismatch { images, labels } => write!(
                f,
                "the image file holds {images} images but the label file holds {labels} labels; \
                 they must come from the same set (train or t10k)"
            ),
            Error::UnsupportedVersion { got, supported } => write!(
                f,
                "model file format version {got} is not supported (this build reads versions 1 \
                 to {supported}); retrain the model with this build"
            ),
            Error::Download { file, reason } => write!(f, "could not download {file}: {reason}"),
            Error::DigestMismatch {
                file,
                expected,
                got,
            } => write!(
                f,
                "{file}: SHA-256 is {got}, expected {expected}; the file was not kept"
            ),
            Error::Diverged {
                epoch,
                cost,
                eta,
                lambda,
            } => {
                let cost = if cost.is_nan() { "NaN" } else { "infinite" };
                write!(
                    f,
                    "training diverged in epoch {epoch}: the training cost became {cost} with \
                     η = {}",
                    short_number(*eta)
                )?;
                match lambda {
                    Some(lambda) => write!(f, " and λ = {}", short_number(*lambda)),
                    None => Ok(()),
                }
            }
            Error::DidNotLearn {
                epoch,
                accuracy,
                classes,
                eta,
            } => write!(
                f,
                "training did not learn: the weights kept from epoch {epoch} classify {:.2}% of \
                 the validation images correctly, no better than guessing among {classes} \
                 classes ({:.2}%), with η = {}",
                100.0 * accuracy,
                100.0 / *classes as f64,
                short_number(*eta)
            ),
            Error::Incompatible {
                setting,
                got,
                expected,
            } => write!(
                f,
                "{setting} {got} cannot train with the other choices: expected {expected}"
            ),
            Error::Usage(message) => write!(f, "{message}"),
            Error::TooLarge { what, got, limit } => {
                write!(
                    f,
                    "too large: {got} {what}, where at most {limit} are allowed"
                )
            }
            Error::Invalid(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `x` to six significant digits (whole numbers below 10⁹ in full), without trailing zeros
/// (`0.00001`, not
/// `0.000009999999999999999`), and in exponent form from 10⁹ up and below 10⁻⁹ (`1e300`,
/// not 301 digits; `1e-10`, not `1.0000000000000002e-10`): a setting as a message names it,
/// or a value to suggest for a flag.
pub(crate) fn short_number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    if !(1e-9..1e9).contains(&x.abs()) {
        let text = format!("{x:.5e}");
        let (digits, exponent) = text.split_once('e').expect("`{:e}` writes an exponent");
        return format!("{}e{exponent}", without_trailing_zeros(digits));
    }
    let decimals = (5.0 - x.abs().log10().floor()).max(0.0) as usize;
    without_trailing_zeros(&format!("{x:.decimals$}")).to_string()
}

/// `text`, a number written out, without the zeros (and point) that end its fraction.
fn without_trailing_zeros(text: &str) -> &str {
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.'),
        false => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_says_what_happened_and_names_no_flag() {
        let err = Error::Diverged {
            epoch: 3,
            cost: f64::NAN,
            eta: 30.0,
            lambda: None,
        };
        assert_eq!(
            err.to_string(),
            "training diverged in epoch 3: the training cost became NaN with η = 30"
        );
        let err = Error::Diverged {
            epoch: 1,
            cost: f64::INFINITY,
            eta: 0.5,
            lambda: Some(5.0),
        };
        let message = err.to_string();
        assert!(
            message.ends_with("became infinite with η = 0.5 and λ = 5"),
            "{message}"
        );
        assert!(!message.contains("--"), "{message}");
        // An absurd setting is named in a few characters, not 301 digits.
        let err = Error::DidNotLearn {
            epoch: 1,
            accuracy: 0.1,
            classes: 10,
            eta: 1e300,
        };
        assert!(err.to_string().ends_with("with η = 1e300"), "{err}");
    }
}
