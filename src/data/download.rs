//! Fetching the four MNIST files from a public mirror, checked against pinned SHA-256 digests.
//!
//! Book chapter: "Reading MNIST". Std has no HTTP or TLS, so we shell out to `curl`, write to
//! `FILE.part`, hash it with our own [`crate::formats::sha256`], and only rename it into place when the
//! digest is the one pinned in [`crate::data::mnist::FILES`]; a wrong or partial file never sits
//! where the loader would find it. When curl is missing or no mirror answers, the error says
//! exactly where to put the files by hand.
//!
//! Left out: resuming partial downloads, proxies beyond what curl itself reads from the
//! environment, and progress bars (the caller's `progress` gets one line per file).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::data::mnist::{find_file, FILES};
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
    download_from(dir, &mirrors(), "curl", progress)
}

/// [`download`] with the mirror list and the curl program given explicitly (tests use this
/// rather than changing process-wide environment variables).
///
/// A file already in `dir` is kept if it is the `.gz` with the pinned digest, or if it is
/// present under another of its names (unzipped or dotted; see [`crate::data::mnist::file_names`]).
pub fn download_from(
    dir: &Path,
    mirrors: &[String],
    curl: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| Error::io(dir, source))?;
    for (file, digest) in FILES {
        let target = dir.join(file);
        if target.is_file() {
            if file_sha256(&target)? == digest {
                progress(&format!("{file}: already present, SHA-256 matches"));
                continue;
            }
            progress(&format!(
                "{file}: present but its SHA-256 does not match; downloading it again"
            ));
        } else if let Some(existing) = find_file(dir, file) {
            progress(&format!("{file}: using {}", existing.display()));
            continue;
        }
        fetch(dir, file, digest, mirrors, curl, progress)?;
    }
    Ok(())
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
    let part = dir.join(format!("{file}.part"));
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
            .args(["--connect-timeout", "30", "-o"])
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
            let _ = fs::remove_file(&part);
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
            let _ = fs::remove_file(&part);
            progress(&format!("{file}: wrong SHA-256 from {url}; not kept"));
            mismatch = Some(got);
            continue;
        }
        fs::rename(&part, &target).map_err(|source| Error::io(&target, source))?;
        progress(&format!("{file}: done, SHA-256 matches"));
        return Ok(());
    }
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
