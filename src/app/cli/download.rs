//! `scratchnet download`: fetch the four MNIST files into the data folder.
//!
//! Book chapter: "Reading MNIST". The work is done by [`crate::data::download`]; this file only
//! reads the arguments and reports. Left out: choosing a mirror on the command line (set
//! `SCRATCHNET_MNIST_MIRROR` instead).

use std::path::PathBuf;

use super::{is_help, unknown_argument, Args};
use crate::{data::mnist, Result};

/// One line for the top-level help.
pub const SUMMARY: &str = "Download MNIST into the data folder";

/// The `--help` text.
pub const USAGE: &str = "\
Download MNIST into the data folder

Usage: scratchnet download [OPTIONS]

Fetches the four MNIST files with curl and checks their SHA-256 digests; files
already there are kept. Set SCRATCHNET_MNIST_MIRROR to a URL prefix to use
another mirror.

Options:
      --data DIR        MNIST folder [default: $MNIST_DIR, else data/mnist]
  -h, --help            Print this help
";

/// Parses `scratchnet download`'s arguments: `Ok(None)` for `--help`, else `--data`.
pub fn parse(args: Vec<String>) -> Result<Option<Option<PathBuf>>> {
    let mut data = None;
    let mut args = Args::new(args);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => data = Some(args.value(&arg)?.into()),
            a if is_help(a) => return Ok(None),
            other => return Err(unknown_argument(other)),
        }
    }
    Ok(Some(data))
}

/// `scratchnet download ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    let Some(data) = parse(args)? else {
        print!("{USAGE}");
        return Ok(());
    };
    let dir = mnist::data_dir(data.as_deref());
    crate::data::download::download(&dir, &mut |line| println!("{line}"))?;
    println!("MNIST is ready in {}", dir.display());
    Ok(())
}
