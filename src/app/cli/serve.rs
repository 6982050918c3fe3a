//! `scratchnet serve MODEL [--port 8080] [--bind 127.0.0.1] [--requests N] [LIMITS]`: a
//! page to draw digits on, answered live by a saved model (see [`crate::app::serve`]).
//!
//! Book chapter: "Looking inside". Every count it takes is checked against
//! [`Limits::MAX`] before anything starts. Left out: HTTPS and authentication, so it binds
//! to the loopback address unless `--bind` says otherwise.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use super::eval::load_picture_model;
use super::{is_help, parse_value, refused, unknown_argument, Args};
use crate::app::serve::{serve, Limits, Served};
use crate::{Error, Result};

/// One line for the top-level help.
pub const SUMMARY: &str = "Serve a page to draw digits on and watch the network read them";

/// The `--help` text.
pub const USAGE: &str = "\
Serve a page to draw digits on and watch the network read them

Usage: scratchnet serve MODEL [--port 8080] [--bind 127.0.0.1] [--requests N] [LIMITS]

Open the printed URL in a browser and draw a digit: the page shows the ten
outputs and every hidden neuron's activation as you draw. When the data folder
holds a classes.txt (one name per line), the outputs are named by it instead
of digits.

Arguments:
  MODEL                 A model file saved by `scratchnet train`

Options:
      --port PORT       TCP port; 0 picks a free one [default: 8080]
      --bind ADDR       Address to listen on [default: 127.0.0.1, this machine only]
      --requests N      Stop after N connections (for scripts and tests)
      --data DIR        Data folder, for its classes.txt [default: $MNIST_DIR,
                        else data/mnist]
  -h, --help            Print this help

Limits (a client over one is answered 408 or 503 and closed):
      --workers N       Threads running the network, 1 to 256 [default: 4]
      --connections N   Connections open at once, 1 to 4096 [default: 256]
      --per-address N   Connections open at once from one client address (IPv6:
                        one /64), 1 to 4096 [default: 16]; raise it behind a proxy
      --deadline SECS   Seconds a client has to send its whole request, and again
                        to take the answer, 1 to 600 [default: 10]
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
    /// `--data`: the data folder whose `classes.txt` names the outputs, if given.
    pub data: Option<PathBuf>,
    /// `--workers`, `--connections`, `--per-address` and `--deadline`; the rest default.
    pub limits: Limits,
}

/// Parses `scratchnet serve`'s arguments; `Ok(None)` means `--help` was asked for.
pub fn parse(args: Vec<String>) -> Result<Option<ServeArgs>> {
    let mut a = ServeArgs {
        model: PathBuf::new(),
        port: 8080,
        bind: "127.0.0.1".into(),
        requests: None,
        data: None,
        limits: Limits::default(),
    };
    let max = Limits::MAX;
    let mut model = None;
    let mut args = Args::new(args);
    while let Some(arg) = args.next() {
        let flag = arg.as_str();
        let l = &mut a.limits;
        match flag {
            "--port" => a.port = args.parse(flag)?,
            "--bind" => a.bind = args.value(flag)?,
            "--data" => a.data = Some(args.value(flag)?.into()),
            "--requests" => {
                a.requests = Some(count(&mut args, flag, usize::MAX, "connections to serve")?)
            }
            "--workers" => l.workers = count(&mut args, flag, max.workers, "worker threads")?,
            "--connections" => {
                l.connections = count(&mut args, flag, max.connections, "open connections")?
            }
            "--per-address" => {
                l.per_address = count(&mut args, flag, max.per_address, "connections")?
            }
            "--deadline" => {
                let seconds = count(&mut args, flag, max.deadline.as_secs() as usize, "seconds")?;
                l.deadline = Duration::from_secs(seconds as u64);
            }
            h if is_help(h) => return Ok(None),
            f if f.starts_with('-') => return Err(unknown_argument(f)),
            _ if model.is_none() => model = Some(PathBuf::from(arg)),
            other => return Err(unknown_argument(other)),
        }
    }
    a.model = model.ok_or_else(|| Error::Usage("serve needs a MODEL file".into()))?;
    Ok(Some(a))
}

/// The value of `flag` as a whole number from 1 to `max` (`what` it counts), refused in the
/// usual words otherwise: `--workers 100000: expected a whole number from 1 to 256 (worker
/// threads)`.
fn count(args: &mut Args, flag: &str, max: usize, what: &str) -> Result<usize> {
    let expected = if max == usize::MAX {
        format!("a whole number ≥ 1 ({what})")
    } else {
        format!("a whole number from 1 to {max} ({what})")
    };
    let text = args.value(flag)?;
    let n: usize = parse_value(flag, &text, &expected)?;
    if (1..=max).contains(&n) {
        Ok(n)
    } else {
        Err(refused(flag, &text, &expected))
    }
}

/// `scratchnet serve ARGS`.
pub fn main(args: Vec<String>) -> Result<()> {
    super::run_parsed(parse(args)?, USAGE, run)
}

/// Loads the model, binds, prints the URL and serves until stopped.
pub fn run(a: &ServeArgs) -> Result<()> {
    let (net, classes) = load_picture_model(&a.model, a.data.as_deref())?;
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
    serve(
        listener,
        Arc::new(Served { net, classes }),
        a.limits.clone(),
        Arc::new(AtomicBool::new(false)),
        a.requests,
    )
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

    #[test]
    fn every_count_is_checked_against_its_limit() {
        let parse = |flags: &[&str]| {
            let args = ["m"].iter().chain(flags).map(|s| s.to_string()).collect();
            parse(args).map(Option::unwrap)
        };
        let refusal = |flags: &[&str]| match parse(flags) {
            Err(Error::Usage(message)) => message,
            other => panic!("{flags:?}: expected a usage error, got {other:?}"),
        };
        assert_eq!(
            refusal(&["--workers", "100000"]),
            "--workers 100000: expected a whole number from 1 to 256 (worker threads)"
        );
        for flags in [
            ["--workers", "0"],
            ["--connections", "4097"],
            ["--per-address", "0"],
            ["--deadline", "601"],
            ["--deadline", "-1"],
            ["--requests", "0"],
        ] {
            assert!(refusal(&flags).starts_with(&format!("{} {}: expected", flags[0], flags[1])));
        }
        let a = parse(&[
            "--workers=256",
            "--connections",
            "4096",
            "--per-address",
            "1",
            "--deadline",
            "600",
        ])
        .unwrap();
        let expected = Limits {
            workers: 256,
            connections: 4096,
            per_address: 1,
            deadline: Duration::from_secs(600),
            ..Limits::default()
        };
        assert_eq!(a.limits, expected);
        assert!(a.limits.check().is_ok());
    }

    #[test]
    fn the_help_states_the_limits_the_server_has() {
        let (default, max) = (Limits::default(), Limits::MAX);
        for (flag, default, max) in [
            ("--workers N", default.workers, max.workers),
            ("--connections N", default.connections, max.connections),
            ("--per-address N", default.per_address, max.per_address),
            (
                "--deadline SECS",
                default.deadline.as_secs() as usize,
                max.deadline.as_secs() as usize,
            ),
        ] {
            let text = &USAGE[USAGE.find(flag).unwrap()..];
            let text = &text[..text.find("]").unwrap()];
            assert!(
                text.contains(&format!("1 to {max} [default: {default}")),
                "{text}"
            );
        }
    }
}
