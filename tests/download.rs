//! The download step, offline: `file://` mirrors in temporary folders stand in for the web.
//! The mirror list and the curl program are passed to `download_from` explicitly, because
//! environment variables are shared by the tests running in parallel. The tests that run
//! curl are `#[ignore = "needs curl"]`: CI runs them with `-- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{mnist_dir, names_in, temp_dir};
use scratchnet::data::download::{download_from, ALL};
use scratchnet::data::mnist::{has_all_files, Split, FILES};
use scratchnet::Error;

fn file_url(dir: &Path) -> String {
    format!("file://{}/", dir.display())
}

#[test]
#[ignore = "needs curl"]
fn wrong_digest_is_rejected_and_nothing_is_left_behind() {
    let mirror = temp_dir("fake-mirror");
    for (file, _) in FILES {
        std::fs::write(mirror.join(file), b"these bytes are not MNIST").unwrap();
    }
    let dest = temp_dir("fake-dest");
    let mut lines = Vec::new();
    let result = download_from(&dest, &ALL, &[file_url(&mirror)], "curl", &mut |line| {
        lines.push(line.to_string())
    });
    match result {
        Err(Error::DigestMismatch {
            file,
            expected,
            got,
        }) => {
            assert_eq!(file, FILES[0].0);
            assert_eq!(expected, FILES[0].1);
            // sha256sum of "these bytes are not MNIST".
            assert_ne!(got, expected);
            assert_eq!(got.len(), 64);
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert!(
        names_in(&dest).is_empty(),
        "left behind: {:?}",
        names_in(&dest)
    );
    assert!(!lines.is_empty());
    std::fs::remove_dir_all(mirror).ok();
    std::fs::remove_dir_all(dest).ok();
}

/// Checks that a Download error's reason tells the user how to set up the data by hand.
fn assert_helpful(err: Error, dest: &Path) {
    let message = err.to_string();
    assert!(matches!(err, Error::Download { .. }), "{err:?}");
    let folder = std::path::absolute(dest).unwrap();
    assert!(message.contains(&folder.display().to_string()), "{message}");
    for (file, _) in FILES {
        assert!(message.contains(file), "{message}");
    }
    assert!(
        !message.contains("--data"),
        "the command line adds its flags: {message}"
    );
    assert!(message.contains("MNIST_DIR"), "{message}");
}

#[test]
fn missing_curl_gives_instructions() {
    let dest = temp_dir("no-curl");
    let err = download_from(
        &dest,
        &ALL,
        &["https://example.invalid/".to_string()],
        "scratchnet-test-no-such-curl",
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("is curl installed"), "{err}");
    assert_helpful(err, &dest);
    assert!(names_in(&dest).is_empty());
    std::fs::remove_dir_all(dest).ok();
}

#[test]
fn curl_not_on_path_gives_instructions() {
    // The public `download` looks curl up on PATH and reads the mirror from the environment,
    // so it runs in a child process (this test binary again, one test selected) whose PATH
    // holds no curl; parallel tests in this process are untouched.
    let dest = temp_dir("empty-path");
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "download::child_download_without_curl",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("PATH", "/scratchnet-no-such-dir")
        .env("SCRATCHNET_MNIST_MIRROR", "https://example.invalid/mnist/")
        .env("SCRATCHNET_TEST_DEST", &dest)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed:\n{stdout}");
    assert!(stdout.contains("1 passed"), "child did not run:\n{stdout}");
    std::fs::remove_dir_all(dest).ok();
}

#[test]
#[ignore = "run as a child process by curl_not_on_path_gives_instructions"]
fn child_download_without_curl() {
    let Some(dest) = std::env::var_os("SCRATCHNET_TEST_DEST") else {
        return; // run directly, not as the child: nothing to check
    };
    let dest = PathBuf::from(dest);
    let err = scratchnet::data::download::download(&dest, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("is curl installed"), "{err}");
    assert_helpful(err, &dest);
    assert!(names_in(&dest).is_empty());
}

#[test]
#[ignore = "needs curl"]
fn every_mirror_failing_gives_instructions() {
    let empty_mirror = temp_dir("empty-mirror");
    let dest = temp_dir("failing-dest");
    let err = download_from(
        &dest,
        &ALL,
        &[
            file_url(&empty_mirror),
            file_url(&empty_mirror.join("nope")),
        ],
        "curl",
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("every mirror failed"), "{err}");
    assert_helpful(err, &dest);
    assert!(names_in(&dest).is_empty());
    std::fs::remove_dir_all(empty_mirror).ok();
    std::fs::remove_dir_all(dest).ok();
}

/// The tiny fixtures (another "data set" in MNIST's form) copied into `dest` under their
/// real names, all but those for which `skip` is true; returns the names written.
fn tiny_data_set(dest: &Path, skip: impl Fn(&str) -> bool) -> Vec<String> {
    let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny");
    let mut written = Vec::new();
    for entry in std::fs::read_dir(&tiny).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let name = name.trim_end_matches(".fixture").to_string();
        if !skip(&name) {
            std::fs::copy(entry.path(), dest.join(&name)).unwrap();
            written.push(name);
        }
    }
    written
}

/// Every file in `dir` with its bytes, to check that nothing changed.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let files = names_in(dir).into_iter();
    files
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap_or_default();
            (name, bytes)
        })
        .collect()
}

#[test]
fn another_data_set_in_the_folder_is_left_alone_and_named() {
    // Severe item 3 of issue 12: one file missing, and download replaced every file whose
    // digest was not MNIST's. Now nothing is fetched (no curl runs: it does not exist here)
    // and nothing is touched; the error names the files in the way and what to do.
    let dest = temp_dir("other-data-set");
    let written = tiny_data_set(&dest, |name| name.starts_with("t10k-labels"));
    let before = snapshot(&dest);
    let err = download_from(
        &dest,
        &ALL,
        &[],
        "scratchnet-test-no-such-curl",
        &mut |_| {},
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Download { .. }), "{err:?}");
    assert!(
        message.starts_with("could not download t10k-labels-idx1-ubyte.gz:"),
        "{message}"
    );
    for name in &written {
        assert!(
            message.contains(name.as_str()),
            "{name} not named: {message}"
        );
    }
    assert!(
        message.contains("is not MNIST's (its SHA-256 is "),
        "{message}"
    );
    assert!(message.contains("left alone"), "{message}");
    assert!(message.contains("put its missing files"), "{message}");
    assert_eq!(snapshot(&dest), before);
    std::fs::remove_dir_all(dest).ok();
}

#[test]
#[ignore = "needs curl"]
fn only_the_asked_for_files_are_checked_and_fetched() {
    // The test files only (as eval asks): the training files' absence and the foreign
    // training files beside them do not matter, and no training file is fetched.
    let mirror = temp_dir("test-only-mirror");
    for (file, _) in FILES {
        std::fs::write(mirror.join(file), b"not MNIST either").unwrap();
    }
    let dest = temp_dir("test-only");
    tiny_data_set(&dest, |name| name.starts_with("t10k"));
    let before = snapshot(&dest);
    let mut fetched = Vec::new();
    let err = download_from(
        &dest,
        &[Split::Test],
        &[file_url(&mirror)],
        "curl",
        &mut |l| fetched.push(l.to_string()),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::DigestMismatch { file, .. } if file == FILES[2].0),
        "{err:?}"
    );
    assert!(fetched.iter().all(|l| !l.contains("train")), "{fetched:?}");
    assert_eq!(snapshot(&dest), before);
    std::fs::remove_dir_all(mirror).ok();
    std::fs::remove_dir_all(dest).ok();
}

#[test]
fn something_that_is_not_a_file_is_left_alone() {
    let dest = temp_dir("not-a-file");
    std::fs::create_dir(dest.join(FILES[3].0)).unwrap();
    let err = download_from(&dest, &[Split::Test], &[], "no-such-curl", &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("is not a regular file"), "{err}");
    assert!(dest.join(FILES[3].0).is_dir());
    assert_eq!(names_in(&dest), [FILES[3].0]);
    std::fs::remove_dir_all(dest).ok();
}

/// Checks that MNIST's four files in `dest` are found, and no curl is needed.
fn assert_found_without_curl(dest: &Path) {
    let curl = "scratchnet-test-no-such-curl";
    download_from(dest, &ALL, &[], curl, &mut |line| {
        assert!(line.contains("already present"), "{line}")
    })
    .unwrap();
}

/// A temporary folder holding MNIST's four `.gz` files, as a `file://` mirror.
fn local_mirror() -> PathBuf {
    let source = mnist_dir();
    let mirror = temp_dir("real-mirror");
    for (file, _) in FILES {
        std::fs::copy(source.join(file), mirror.join(file)).unwrap();
    }
    mirror
}

#[test]
#[ignore = "needs MNIST: set MNIST_DIR"]
fn unzipped_mnist_is_recognised_by_its_digest() {
    let source = mnist_dir();
    let dest = temp_dir("unzipped");
    for (file, _) in FILES {
        let raw = scratchnet::data::mnist::read_idx_file(&source.join(file)).unwrap();
        std::fs::write(dest.join(file.trim_end_matches(".gz")), raw).unwrap();
    }
    assert!(has_all_files(&dest));
    assert_found_without_curl(&dest);
    std::fs::remove_dir_all(dest).ok();
}

#[test]
#[ignore = "needs MNIST (set MNIST_DIR) and curl"]
fn real_files_from_a_local_mirror() {
    let mirror = local_mirror();
    let dest = temp_dir("real-dest");
    let mut lines = Vec::new();
    download_from(&dest, &ALL, &[file_url(&mirror)], "curl", &mut |line| {
        lines.push(line.to_string())
    })
    .unwrap();
    let expected: Vec<String> = {
        let mut names: Vec<String> = FILES.iter().map(|(f, _)| f.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(names_in(&dest), expected);
    // A second run finds them all and never needs curl.
    assert_found_without_curl(&dest);
    // Another data set with one file missing: with MNIST on the mirror, its three files were
    // replaced by MNIST's before; now they are left as they were.
    let other = temp_dir("real-other");
    tiny_data_set(&other, |name| name.starts_with("t10k-labels"));
    let before = snapshot(&other);
    let result = download_from(&other, &ALL, &[file_url(&mirror)], "curl", &mut |_| {});
    assert!(result.is_err());
    assert_eq!(snapshot(&other), before);
    // The test files alone, into an empty folder: exactly the two test files arrive.
    let test_only = temp_dir("real-test-only");
    let split = [Split::Test];
    download_from(
        &test_only,
        &split,
        &[file_url(&mirror)],
        "curl",
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(names_in(&test_only), [FILES[2].0, FILES[3].0]);
    for dir in [mirror, dest, other, test_only] {
        std::fs::remove_dir_all(dir).ok();
    }
}
