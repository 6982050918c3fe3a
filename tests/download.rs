//! The download step, offline: `file://` mirrors in temporary folders stand in for the web.
//! The mirror list and the curl program are passed to `download_from` explicitly, because
//! environment variables are shared by the tests running in parallel. The tests that run
//! curl are `#[ignore = "needs curl"]`: CI runs them with `-- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{mnist_dir, temp_dir};
use scratchnet::data::download::download_from;
use scratchnet::data::mnist::{has_all_files, FILES};
use scratchnet::Error;

fn file_url(dir: &Path) -> String {
    format!("file://{}/", dir.display())
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
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
    let result = download_from(&dest, &[file_url(&mirror)], "curl", &mut |line| {
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
        entries(&dest).is_empty(),
        "left behind: {:?}",
        entries(&dest)
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
        &["https://example.invalid/".to_string()],
        "scratchnet-test-no-such-curl",
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("is curl installed"), "{err}");
    assert_helpful(err, &dest);
    assert!(entries(&dest).is_empty());
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
    assert!(entries(&dest).is_empty());
}

#[test]
#[ignore = "needs curl"]
fn every_mirror_failing_gives_instructions() {
    let empty_mirror = temp_dir("empty-mirror");
    let dest = temp_dir("failing-dest");
    let err = download_from(
        &dest,
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
    assert!(entries(&dest).is_empty());
    std::fs::remove_dir_all(empty_mirror).ok();
    std::fs::remove_dir_all(dest).ok();
}

#[test]
fn files_present_under_another_name_are_not_fetched() {
    // The tiny fixtures under their alternative names: nothing to download, so no curl runs.
    let dest = temp_dir("present");
    let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny");
    for entry in std::fs::read_dir(&tiny).unwrap() {
        let entry = entry.unwrap();
        // Skip the canonical .gz names: their digests would not match and they would be
        // fetched again.
        let name = entry.file_name().to_string_lossy().into_owned();
        let name = name
            .trim_end_matches(".fixture")
            .trim_end_matches(".gz")
            .to_string();
        std::fs::copy(entry.path(), dest.join(name)).unwrap();
    }
    assert!(has_all_files(&dest));
    download_from(&dest, &[], "scratchnet-test-no-such-curl", &mut |_| {}).unwrap();
    std::fs::remove_dir_all(dest).ok();
}

#[test]
#[ignore = "needs MNIST (set MNIST_DIR) and curl"]
fn real_files_from_a_local_mirror() {
    let source = mnist_dir();
    let mirror = temp_dir("real-mirror");
    for (file, _) in FILES {
        std::fs::copy(source.join(file), mirror.join(file)).unwrap();
    }
    let dest = temp_dir("real-dest");
    let mut lines = Vec::new();
    download_from(&dest, &[file_url(&mirror)], "curl", &mut |line| {
        lines.push(line.to_string())
    })
    .unwrap();
    let expected: Vec<String> = {
        let mut names: Vec<String> = FILES.iter().map(|(f, _)| f.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(entries(&dest), expected);
    // A second run finds them all and never needs curl.
    download_from(&dest, &[], "scratchnet-test-no-such-curl", &mut |line| {
        assert!(line.contains("already present"), "{line}")
    })
    .unwrap();
    std::fs::remove_dir_all(mirror).ok();
    std::fs::remove_dir_all(dest).ok();
}
