//! `scratchnet serve MODEL [--port 8080] [--bind 127.0.0.1] [--requests N]`: a page to draw
//! digits on, answered live by a saved model (see [`crate::app::serve`]).
//!
//! Book chapter: "Looking inside". Left out: HTTPS and authentication, so it binds to the
//! loopback address unless `--bind` says otherwise.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::eval::load_mnist_model;
use super::{is_help, unknown_argument, Args};
use crate::app::serve::{serve, Limits};
use crate::{Error, Result};

/// One line for the top-level help.
pub const SUMMARY: &str = "Serve a page to draw digits on and watch the network read them";

/// The `--help` text.
pub const USAGE: &str = "\
Serve a page to draw digits on and watch the network read them

Usage: scratchnet serve MODEL [--port 8080] [--bind 127.0.0.1] [--requests N]

Open the printed URL in a browser and draw a digit: the page shows the ten
outputs and every hidden neuron's activation as you draw.

Arguments:
  MODEL                 A model file saved by `scratchnet train`

Options:
      --port PORT       TCP port; 0 picks a free one [default: 8080]
      --bind ADDR       Address to listen on [default: 127.0.0.1, this machine only]
      --requests N      Stop after N connections (for scripts and tests)
      --workers N       Connections served at once [default: 4]
  -h, --help            Print this help
";

/// What `scratchnet serve` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeArgs {
    /// The model file.
    pub model: PathBuf,
    /// `--port`.
    pub port: u16,
    /// `--bind`.
    pub bind: String,
    /// `--requests`.
    pub requests: Option<usize>,
    /// `--workers`.
    pub workers: usize,
}

/// Parses `scratchnet serve`'s arguments; `Ok(None)` means `--help` was asked for.
pub fn parse(args: Vec<String>) -> Result<Option<ServeArgs>> {
    let mut a = ServeArgs {
        model: PathBuf::new(),
        port: 8080,
        bind: "127.0.0.1".into(),
        requests: None,
        workers: Limits::default().workers,
    };
    let mut model = None;
    let mut args = Args::new(args);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => a.port = args.parse(&arg)?,
            "--bind" => a.bind = args.value(&arg)?,
            "--requests" => a.requests = Some(args.parse(&arg)?),
            "--workers" => a.workers = args.parse::<usize>(&arg)?.max(1),
            h if is_help(h) => return Ok(None),
            f if f.starts_with('-') => return Err(unknown_argument(f)),
            _ if model.is_none() => model = Some(PathBuf::from(arg)),
            other => return Err(unknown_argument(other)),
        }
    }
    a.model = model.ok_or_else(|| Error::Usage("serve needs a MODEL file".into()))?;
    Ok(Some(a))
}

/// `scratchnet serve ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    super::run_parsed(parse(args)?, USAGE, run)
}

/// Loads the model, binds, prints the URL and serves until stopped.
pub fn run(a: &ServeArgs) -> Result<()> {
    let net = load_mnist_model(&a.model)?;
    let address = format!("{}:{}", a.bind, a.port);
    let listener = TcpListener::bind(&address).map_err(|e| {
        Error::Invalid(format!(
            "cannot listen on {address}: {e}; try another --port (0 picks a free one)"
        ))
    })?;
    let local = listener.local_addr().map_err(|e| Error::io(&address, e))?;
    let host = if local.ip().is_unspecified() {
        "localhost".to_string()
    } else {
        local.ip().to_string()
    };
    println!(
        "serving {} on http://{host}:{}/ (Ctrl-C to stop)",
        a.model.display(),
        local.port()
    );
    let limits = Limits {
        workers: a.workers,
        ..Limits::default()
    };
    serve(
        listener,
        Arc::new(net),
        limits,
        Arc::new(AtomicBool::new(false)),
        a.requests,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_8080() {
        let a = parse(vec!["m".into()]).unwrap().unwrap();
        assert_eq!(
            (a.port, a.bind.as_str(), a.requests),
            (8080, "127.0.0.1", None)
        );
        let a = parse(vec![
            "m".into(),
            "--port=0".into(),
            "--requests".into(),
            "3".into(),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((a.port, a.requests), (0, Some(3)));
        assert!(matches!(
            parse(vec!["m".into(), "--port".into(), "99999".into()]),
            Err(Error::Usage(_))
        ));
        assert!(matches!(parse(vec![]), Err(Error::Usage(_))));
    }
}
