//! The integration tests, as one test binary: each module below is one file of `tests/`,
//! testing the library or the `scratchnet` binary from the outside. One binary instead of one
//! per file, because every test binary links the whole library again (see `autotests` in
//! Cargo.toml). Tests that need the process to themselves are in `serial.rs`.
//!
//! Run one file's tests with a filter: `cargo test --release --test integration cli::`.
//! Tests marked `#[ignore = "needs …"]` need MNIST (`MNIST_DIR`) or an outside tool; CI
//! runs them with `-- --ignored`.

mod common;

mod beyond;
mod cli;
mod conv;
mod download;
mod gemm_kernels;
mod gradient_check;
mod gradient_check_all;
mod handmade;
mod mnist_end_to_end;
mod mnist_files;
mod serve;
mod train_synthetic;
mod visualize_mnist;

/// With `autotests = false`, a file added to `tests/` is compiled only if a test binary
/// declares it as a module: check that every one is, so none is silently left out.
#[test]
fn every_file_in_tests_is_a_module_of_a_test_binary() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let roots = ["integration.rs", "serial.rs"];
    let declared: String = roots
        .iter()
        .map(|root| std::fs::read_to_string(tests.join(root)).unwrap())
        .collect();
    for entry in std::fs::read_dir(&tests).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        if !roots.contains(&name.as_str()) {
            assert!(
                declared.contains(&format!("\nmod {module};\n")),
                "tests/{name} is in no test binary: add `mod {module};` to tests/integration.rs"
            );
        }
    }
}
