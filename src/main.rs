//! The `scratchnet` command: parses nothing itself, see [`scratchnet::app::cli`].

use scratchnet::{app::cli, Error};

fn main() {
    if let Err(err) = run() {
        eprintln!("error: {}", cli::message(&err));
        std::process::exit(cli::exit_code(&err));
    }
}

fn run() -> Result<(), Error> {
    cli::run(cli::utf8_arguments(std::env::args_os().skip(1))?)
}
