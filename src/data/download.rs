//! Fetching MNIST's files from a public mirror, checked against pinned SHA-256 digests.
//!
//! Book chapter: "Reading MNIST". Std has no HTTP or TLS, so we shell out to `curl`, write to
//! a temporary file of our own (`.NAME.PID.part`, created new), hash it with our own
//! [`crate::formats::sha256`], and only link it into place when the digest is the one pinned
//! in [`crate::data::mnist::FILES`]; a wrong or partial file never sits where the loader would
//! find it. When curl is missing or no mirror answers, the error says exactly where to put the
//! files by hand.
//!
//! A file already in the folder is never deleted or replaced: only files this module wrote are
//! removed (its own `.part` files), and a download is linked into place only where nothing
//! stands. A present file that is not MNIST's (another data set in MNIST's IDX form, say) is
//! left alone and named in the error, and nothing is fetched beside it, so MNIST's files are
//! never mixed into another data set.
//!
//! Left out: resuming partial downloads, proxies beyond what curl itself reads from the
//! environment, and progress bars (the caller's `progress` gets one line per file).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::data::mnist::{file_names, has_files, Split, FILES, UNZIPPED_SHA256};
use crate::formats::sha256::{to_hex, Sha256};
use crate::{Error, Result};

/// Public mirrors of the canonical MNIST `.gz` files, tried in order.
pub const MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Environment variable holding a URL prefix (e.g. `file:///srv/mnist/`) that replaces
/// [`MIRRORS`].
pub const MIRROR_ENV: &str = "SCRATCHNET_MNIST_MIRROR";

/// The largest file curl is allowed to fetch: 64 MiB (MNIST's largest `.gz` is 9.9 MB).
pub const MAX_DOWNLOAD_BYTES: u64 = 64 << 20;

/// Both of MNIST's sets: all four files.
pub const ALL: [Split; 2] = [Split::Train, Split::Test];

/// The mirrors to try: [`MIRROR_ENV`] if set and non-empty, else [`MIRRORS`].
pub fn mirrors() -> Vec<String> {
    match std::env::var(MIRROR_ENV) {
        Ok(prefix) if !prefix.is_empty() => vec![prefix],
        _ => MIRRORS.iter().map(|m| m.to_string()).collect(),
    }
}

/// Downloads every MNIST file missing from `dir` (creating it), using [`mirrors`] and the
/// `curl` on `PATH`. `progress` receives one human-readable line per step.
pub fn download(dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<()> {
    download_from(dir, &ALL, &mirrors(), "curl", progress)
}

/// The files of `splits` in `dir`, downloaded first when any of them is missing (see
/// [`download_from`]); when all are there, whatever they hold, nothing is checked or fetched,
/// so a folder holding another data set in MNIST's form is used as it is. `eval` asks for
/// [`Split::Test`] alone, training for [`ALL`].
pub fn ensure(dir: &Path, splits: &[Split], progress: &mut dyn FnMut(&str)) -> Result<()> {
    if has_files(dir, splits) {
        return Ok(());
    }
    progress(&format!(
        "MNIST files missing from {}; downloading them",
        dir.display()
    ));
    download_from(dir, splits, &mirrors(), "curl", progress)
}

/// Downloads the files of `splits` missing from `dir`, with the mirror list and the curl
/// program given explicitly (tests use this rather than changing process-wide environment
/// variables).
///
/// A file already in `dir` under any of its names (see [`crate::data::mnist::file_names`])
/// is kept when its SHA-256 is MNIST's (gzipped or unzipped). When one is not, nothing is
/// fetched and nothing is touched: the error names the file and says what to do.
pub fn download_from(
    dir: &Path,
    splits: &[Split],
    mirrors: &[String],
    curl: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| Error::io(dir, source))?;
    let (mut missing, mut foreign) = (Vec::new(), Vec::new());
    for index in splits.iter().flat_map(|split| split.files()) {
        match presence(dir, index)? {
            Presence::Missing => missing.push(index),
            Presence::Mnist(path) => progress(&format!(
                "{}: already present, SHA-256 matches",
                path.display()
            )),
            Presence::Other(path, what) => foreign.push((path, what)),
        }
    }
    if !foreign.is_empty() {
        return Err(left_alone(&foreign, &missing));
    }
    for index in missing {
        let (file, digest) = FILES[index];
        fetch(dir, file, digest, mirrors, curl, progress)?;
    }
    Ok(())
}

/// What stands in the folder under one of a file's names.
enum Presence {
    /// Nothing, under any name.
    Missing,
    /// MNIST's file (its digest is pinned), at this path.
    Mnist(PathBuf),
    /// Something else at this path, described ("is not MNIST's (SHA-256 …)").
    Other(PathBuf, String),
}

/// Looks for [`FILES`]`[index]` in `dir` under each of its names, first found first.
fn presence(dir: &Path, index: usize) -> Result<Presence> {
    for name in file_names(FILES[index].0) {
        let path = dir.join(name);
        if fs::symlink_metadata(&path).is_err() {
            continue; // nothing at all under this name
        }
        // Only a regular file is hashed: reading a FIFO could wait forever.
        if !fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            let what = "is not a regular file".to_string();
            return Ok(Presence::Other(path, what));
        }
        let digest = file_sha256(&path)?;
        if digest == FILES[index].1 || digest == UNZIPPED_SHA256[index] {
            return Ok(Presence::Mnist(path));
        }
        let what = format!("is not MNIST's (its SHA-256 is {digest})");
        return Ok(Presence::Other(path, what));
    }
    Ok(Presence::Missing)
}

/// The error for files in the way: each named, with what to do about them.
fn left_alone(foreign: &[(PathBuf, String)], missing: &[usize]) -> Error {
    let found: Vec<String> = foreign
        .iter()
        .map(|(path, what)| format!("{} {what}", path.display()))
        .collect();
    let missing: Vec<&str> = missing.iter().map(|&index| FILES[index].0).collect();
    let file = match missing.first() {
        Some(first) => first.to_string(),
        None => foreign[0].0.display().to_string(),
    };
    let by_hand = if missing.is_empty() {
        String::new()
    } else {
        format!(
            " If the folder holds another data set in MNIST's form, put its missing files \
             there by hand ({}).",
            missing.join(", ")
        )
    };
    Error::Download {
        file,
        reason: format!(
            "{}; left alone, and nothing was downloaded beside it.{by_hand} To use MNIST, \
             move that file away, or download into another folder.",
            found.join("; ")
        ),
    }
}

/// Tries each mirror until one delivers `file` with the pinned `digest`.
fn fetch(
    dir: &Path,
    file: &str,
    digest: &str,
    mirrors: &[String],
    curl: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let part = create_part(dir, file)?;
    let target = dir.join(file);
    let mut failures = Vec::new();
    let mut mismatch = None;
    for mirror in mirrors {
        let url = if mirror.ends_with('/') {
            format!("{mirror}{file}")
        } else {
            format!("{mirror}/{file}")
        };
        progress(&format!("{file}: fetching {url}"));
        // A mirror that does not answer within 30 s is skipped rather than waited on forever.
        let output = Command::new(curl)
            .args(["--fail", "--location", "--silent", "--show-error"])
            .args(["--connect-timeout", "30", "--max-filesize"])
            .arg(MAX_DOWNLOAD_BYTES.to_string())
            .arg("-o")
            .arg(&part)
            .arg(&url)
            .output();
        let output = match output {
            Ok(output) => output,
            Err(err) => {
                let _ = fs::remove_file(&part);
                return Err(by_hand(
                    dir,
                    file,
                    &format!("could not run `{curl}` ({err}): is curl installed and on PATH?"),
                ));
            }
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            failures.push(format!("{url}: {}", stderr.trim()));
            continue;
        }
        let got = match file_sha256(&part) {
            Ok(got) => got,
            Err(err) => {
                let _ = fs::remove_file(&part);
                return Err(err);
            }
        };
        if got != digest {
            progress(&format!("{file}: wrong SHA-256 from {url}; not kept"));
            mismatch = Some(got);
            continue;
        }
        place(&part, &target)?;
        progress(&format!("{file}: done, SHA-256 matches"));
        return Ok(());
    }
    let _ = fs::remove_file(&part);
    if let Some(got) = mismatch {
        return Err(Error::DigestMismatch {
            file: file.to_string(),
            expected: digest.to_string(),
            got,
        });
    }
    let why = if failures.is_empty() {
        "no mirror to download from".to_string()
    } else {
        format!("every mirror failed: {}", failures.join("; "))
    };
    Err(by_hand(dir, file, &why))
}

/// A new, empty `dir/.FILE.PID.part` for curl to write into: created here, so it is ours to
/// remove; a name already taken is skipped, never truncated.
fn create_part(dir: &Path, file: &str) -> Result<PathBuf> {
    for attempt in 0..100 {
        let part = dir.join(format!(".{file}.{}.{attempt}.part", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part)
        {
            Ok(_) => return Ok(part),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&part, e)),
        }
    }
    let part = dir.join(format!(".{file}.{}.part", std::process::id()));
    let taken = io::Error::new(io::ErrorKind::AlreadyExists, "100 names were all taken");
    Err(Error::io(part, taken))
}

/// Moves our finished `part` to `target` only if nothing stands at `target`: a hard link
/// fails rather than replace, then the part is removed. Where links are not supported, a
/// rename after checking that `target` is free.
fn place(part: &Path, target: &Path) -> Result<()> {
    let linked = fs::hard_link(part, target);
    let result = match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if fs::symlink_metadata(target).is_ok() => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "appeared while downloading",
        )),
        Err(_) => return fs::rename(part, target).map_err(|e| Error::io(target, e)),
    };
    let _ = fs::remove_file(part);
    result.map_err(|e| {
        let why = format!("{e}; it was left alone and the download discarded");
        Error::io(target, io::Error::new(e.kind(), why))
    })
}

/// An [`Error::Download`] whose reason says how to fetch the files by hand.
fn by_hand(dir: &Path, file: &str, why: &str) -> Error {
    let names: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
    Error::Download {
        file: file.to_string(),
        reason: format!(
            "{why}\nTo set up the data by hand, download the four MNIST files {} (e.g. from {}) \
             and put them in the folder {} (gzipped or not), or put them in any folder and \
             name it in the MNIST_DIR environment variable.",
            names.join(", "),
            MIRRORS[0],
            display_dir(dir).display()
        ),
    }
}

/// `dir` made absolute when possible, so the message names a folder unambiguously.
fn display_dir(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// The SHA-256 of a file's contents, in lower-case hex, read in 64 KiB pieces.
pub fn file_sha256(path: &Path) -> Result<String> {
    let read = || -> io::Result<String> {
        let mut file = fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(to_hex(&hasher.finish()));
            }
            hasher.update(&buf[..n]);
        }
    };
    read().map_err(|source| Error::io(path, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_download_never_replaces_what_appeared_meanwhile() {
        let dir = std::env::temp_dir().join(format!("scratchnet-place-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let part = create_part(&dir, "f.gz").unwrap();
        assert!(part
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".f.gz."));
        fs::write(&part, b"downloaded").unwrap();
        let target = dir.join("f.gz");
        fs::write(&target, b"the user's").unwrap();
        let err = place(&part, &target).unwrap_err();
        assert!(err.to_string().contains("left alone"), "{err}");
        assert_eq!(fs::read(&target).unwrap(), b"the user's");
        assert!(!part.exists(), "the part is ours to remove");
        fs::remove_file(&target).unwrap();
        let part = create_part(&dir, "f.gz").unwrap();
        fs::write(&part, b"downloaded").unwrap();
        place(&part, &target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"downloaded");
        assert!(!part.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
