//! Reading an input file whole, safely: only a regular file, and only up to a stated limit.
//!
//! Book chapter: "Reading MNIST". Every file the program reads (IDX data, model files,
//! pictures, `classes.txt`, training logs) comes through [`read_limited`], so none of them can
//! make it wait forever (a FIFO with no writer), read without end (`/dev/zero`), or allocate
//! more than the limit its format states. Left out: reading in pieces (every format here is
//! parsed from memory).

use std::fs::{self, File, FileType};
use std::io::{self, Read};
use std::path::Path;

use crate::{Error, Result};

/// The bytes of the regular file at `path`, refused before anything is read when the path
/// names something else (a folder, FIFO, socket or device) or the file is longer than
/// `limit` bytes; `what` names the limit in the error ("bytes in a model file").
///
/// # Errors
/// [`Error::Io`] if the path cannot be opened or is not a regular file, and
/// [`Error::TooLarge`] if the file holds more than `limit` bytes (also if it grows past the
/// limit while being read).
pub fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    // Checked before opening: opening a FIFO for reading waits for a writer.
    let kind = fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .file_type();
    check_regular(path, kind)?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    check_regular(path, meta.file_type())?;
    let too_large = |got: u64| Error::TooLarge {
        what: format!("{what} ({})", path.display()),
        got,
        limit,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // One byte past the limit tells a file that grew since it was measured.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Refuses anything but a regular file, naming what it is.
fn check_regular(path: &Path, kind: FileType) -> Result<()> {
    if kind.is_file() {
        return Ok(());
    }
    let is = if kind.is_dir() {
        "a folder"
    } else if is_special(kind) {
        "a FIFO, socket or device"
    } else {
        "not a regular file"
    };
    Err(Error::io(
        path,
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{is}, where a regular file was expected; give the path of a file"),
        ),
    ))
}

#[cfg(unix)]
fn is_special(kind: FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    kind.is_fifo() || kind.is_socket() || kind.is_block_device() || kind.is_char_device()
}

#[cfg(not(unix))]
fn is_special(_: FileType) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_file_up_to_its_limit_and_refuses_longer_ones() {
        let dir = std::env::temp_dir().join(format!("scratchnet-read-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        fs::write(&path, b"12345").unwrap();
        assert_eq!(read_limited(&path, 5, "bytes").unwrap(), b"12345");
        match read_limited(&path, 4, "bytes in a test file") {
            Err(Error::TooLarge { got, limit, what }) => {
                assert_eq!((got, limit), (5, 4));
                assert!(what.starts_with("bytes in a test file"), "{what}");
            }
            other => panic!("{other:?}"),
        }
        let err = read_limited(&dir, 100, "bytes").unwrap_err();
        assert!(err.to_string().contains("a folder"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_before_reading() {
        // What this guards against: `fs::read("/dev/zero")` grew without end.
        let err = read_limited(Path::new("/dev/zero"), 1 << 30, "bytes").unwrap_err();
        assert!(
            err.to_string().contains("a FIFO, socket or device"),
            "{err}"
        );
    }
}
