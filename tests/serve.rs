//! `scratchnet serve` over real sockets on 127.0.0.1: good and bad requests, slow clients,
//! and a bounded load test that prints its throughput (no timing assertions).

use scratchnet::app::serve::{spawn, Limits, ServerHandle};
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// A server with a random write-up-shaped network and a short timeout, on a free port.
fn start(timeout: Duration) -> ServerHandle {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let net: Network<f32> = Network::new(&[784, 20, 10, 10], &mut Rng::new(7));
    let limits = Limits {
        timeout,
        ..Limits::default()
    };
    spawn(listener, net, limits).unwrap()
}

/// Status code, header block and body of a response.
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Reads a whole response (the server always closes the connection).
fn read_reply(stream: &mut TcpStream) -> Reply {
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
fn exchange(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request).unwrap();
    let _ = stream.shutdown(Shutdown::Write);
    read_reply(&mut stream)
}

/// A POST /predict request for a `side × side` white canvas with a black vertical bar.
fn predict_request(side: usize) -> Vec<u8> {
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

#[test]
fn get_page_and_post_predict() {
    let server = start(Duration::from_secs(5));
    let page = exchange(server.addr, b"GET / HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!(page.status, 200);
    assert!(page.head.contains("Content-Type: text/html"));
    assert!(String::from_utf8(page.body).unwrap().contains("<canvas"));
    let reply = exchange(server.addr, &predict_request(140));
    assert_eq!(reply.status, 200);
    let json = String::from_utf8(reply.body).unwrap();
    assert!(json.starts_with("{\"digit\":"), "{json}");
    // Two hidden layers: "hidden":[[…20…],[…10…]].
    assert!(
        json.contains("\"hidden\":[[") && json.contains("],["),
        "{json}"
    );
    server.shutdown();
}

#[test]
fn bad_requests_get_4xx_answers() {
    let server = start(Duration::from_secs(5));
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"BLAH\r\n\r\n".to_vec(), 400),
        (b"GET /nowhere HTTP/1.1\r\n\r\n".to_vec(), 404),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n".to_vec(),
            405,
        ),
        (b"GET /predict HTTP/1.1\r\n\r\n".to_vec(), 405),
        (
            format!("GET /{} HTTP/1.1\r\n\r\n", "x".repeat(10_000)).into_bytes(),
            414,
        ),
        (
            format!("GET / HTTP/1.1\r\n{}\r\n", "X-A: b\r\n".repeat(100)).into_bytes(),
            431,
        ),
        (
            format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "b".repeat(20_000)).into_bytes(),
            431,
        ),
        (
            b"POST /predict?w=1000&h=2000 HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n".to_vec(),
            413,
        ),
        // Content-Length larger than what is sent, then the client closes its side.
        (
            b"POST /predict?w=10&h=10 HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly this".to_vec(),
            400,
        ),
        (
            b"POST /predict?w=10&h=10 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
            400,
        ),
        (b"\x00\xff\xfe garbage \r\n\r\n".to_vec(), 400),
    ];
    for (request, status) in cases {
        let reply = exchange(server.addr, &request);
        let shown = String::from_utf8_lossy(&request[..request.len().min(40)]).to_string();
        assert_eq!(reply.status, status, "{shown}");
        if status == 405 {
            assert!(reply.head.contains("\r\nAllow: "), "{}", reply.head);
        }
    }
    // The server is still answering after all that.
    assert_eq!(exchange(server.addr, b"GET / HTTP/1.1\r\n\r\n").status, 200);
    server.shutdown();
}

#[test]
fn slow_client_times_out_while_others_are_served() {
    let server = start(Duration::from_millis(500));
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET / HT").unwrap(); // and then nothing
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(exchange(server.addr, &predict_request(28)).status, 200);
    }
    let others = started.elapsed();
    let reply = read_reply(&mut slow);
    assert_eq!(reply.status, 408);
    println!(
        "slow client answered 408 after {:?}; meanwhile 5 others took {others:?}",
        started.elapsed()
    );
    server.shutdown();
}

#[test]
fn load_test_keeps_answering() {
    let server = start(Duration::from_secs(5));
    let addr = server.addr;
    let (threads, per_thread) = (4, 250);
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            thread::spawn(move || {
                let request = predict_request(140);
                let mut worst = Duration::ZERO;
                for _ in 0..per_thread {
                    let t = Instant::now();
                    let reply = exchange(addr, &request);
                    assert_eq!(reply.status, 200);
                    worst = worst.max(t.elapsed());
                }
                worst
            })
        })
        .collect();
    let worst = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .max()
        .unwrap();
    let total = threads * per_thread;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "load: {total} POST /predict (140x140) from {threads} threads in {seconds:.2} s: {:.0} requests/s, worst latency {:.1} ms",
        total as f64 / seconds,
        worst.as_secs_f64() * 1000.0
    );
    server.shutdown();
}
