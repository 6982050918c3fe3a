//! The crate's one error type, for everything that can go wrong with files and user input.
//!
//! Book chapter: "Reading MNIST". Shape mismatches in the maths are bugs and panic instead
//! (see [`crate::linalg`]). Every message says what was expected, what was found, and where
//! it helps, what to do next.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong reading data, models, images and arguments.
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
        /// The version this build reads.
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
        /// The learning rate used.
        eta: f64,
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
                "model file format version {got} is not supported (this build reads version \
                 {supported}); retrain the model with this build"
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
            Error::Diverged { epoch, eta } => write!(
                f,
                "training diverged in epoch {epoch}: the cost became NaN or infinite with \
                 η = {eta}; try a smaller learning rate (e.g. --eta {}); no model was saved",
                eta / 10.0
            ),
            Error::Usage(message) => write!(f, "{message}"),
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
