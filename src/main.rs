//! The `scratchnet` command: parses nothing itself, see [`scratchnet::app::cli`].

use scratchnet::{app::cli, Error};

// Matrices start on a cache line: see `scratchnet::linalg::CacheAligned`.
#[global_allocator]
static ALLOCATOR: scratchnet::linalg::CacheAligned = scratchnet::linalg::CacheAligned;

fn main() {
    if let Err(err) = run() {
        eprintln!("error: {}", cli::message(&err));
        std::process::exit(cli::exit_code(&err));
    }
}

fn run() -> Result<(), Error> {
    cli::run(cli::utf8_arguments(std::env::args_os().skip(1))?)
}
