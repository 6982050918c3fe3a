//! Helpers for the tests of `scratchnet serve` over real sockets on loopback, shared by
//! `serve.rs` (in the `integration` binary) and `serve_timing.rs` (in `serial`).

use scratchnet::app::serve::{spawn, Limits, ServerHandle};
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// A server with a random write-up-shaped network and `limits`, on a free port of 127.0.0.1.
pub fn start(limits: Limits) -> ServerHandle {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let net: Network<f32> = Network::new(&[784, 20, 10, 10], &mut Rng::new(7));
    spawn(listener, net, limits).unwrap()
}

/// A server with the default limits.
pub fn start_default() -> ServerHandle {
    start(Limits::default())
}

/// Status code, header block and body of a response.
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

/// Reads a whole response (the server always closes the connection).
pub fn read_reply(stream: &mut TcpStream) -> Reply {
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8(bytes[..split].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    Reply {
        status,
        head,
        body: bytes[split + 4..].to_vec(),
    }
}

/// Sends `request` in one piece, half-closes, and reads the reply.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request).unwrap();
    let _ = stream.shutdown(Shutdown::Write);
    read_reply(&mut stream)
}

/// A POST /predict request for a `side × side` white canvas with a black vertical bar.
pub fn predict_request(side: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..side * side)
        .map(|i| {
            if (side * 2 / 5..side * 3 / 5).contains(&(i % side))
                && (side / 5..side * 4 / 5).contains(&(i / side))
            {
                0
            } else {
                255
            }
        })
        .collect();
    let mut request = format!(
        "POST /predict?w={side}&h={side} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}
