//! `scratchnet serve` over real sockets on loopback: good and bad requests, HEAD, slow
//! clients cut off at the deadline, the connection limits, a slow-loris attack from one
//! address while a client on another is served, and a bounded load test that prints its
//! throughput (its only timing assertion is the attack test's 99th percentile).

use scratchnet::app::serve::{spawn, Limits, ServerHandle};
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// A server with a random write-up-shaped network and `limits`, on a free port of 127.0.0.1.
fn start(limits: Limits) -> ServerHandle {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let net: Network<f32> = Network::new(&[784, 20, 10, 10], &mut Rng::new(7));
    spawn(listener, net, limits).unwrap()
}

/// A server with the default limits.
fn start_default() -> ServerHandle {
    start(Limits::default())
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
    let server = start_default();
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

/// A POST /predict with four bytes of body and these Content-Length values, one header each.
fn with_length(values: &[&str]) -> Vec<u8> {
    let headers: String = values
        .iter()
        .map(|v| format!("Content-Length: {v}\r\n"))
        .collect();
    format!("POST /predict?w=2&h=2 HTTP/1.1\r\nHost: test\r\n{headers}\r\nabcd").into_bytes()
}

#[test]
fn bad_requests_get_4xx_answers() {
    let server = start_default();
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
        // Content-Length is plain digits, given once.
        (with_length(&["+4"]), 400),
        (with_length(&["-1"]), 400),
        (with_length(&["4 4"]), 400),
        (with_length(&["4", "4"]), 400),
        (with_length(&["4", "5"]), 400),
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
fn head_gets_the_headers_and_no_body() {
    let server = start_default();
    let get = exchange(server.addr, b"GET / HTTP/1.1\r\nHost: test\r\n\r\n");
    let head = exchange(server.addr, b"HEAD / HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!((head.status, head.head.as_str()), (200, get.head.as_str()));
    assert!(get
        .head
        .contains(&format!("Content-Length: {}\r\n", get.body.len())));
    assert!(head.body.is_empty(), "{} body bytes", head.body.len());
    let wrong = exchange(server.addr, b"HEAD /predict HTTP/1.1\r\n\r\n");
    assert_eq!(wrong.status, 405);
    assert!(wrong.head.contains("\r\nAllow: POST") && wrong.body.is_empty());
    server.shutdown();
}

/// Sends `request` a byte every `pause` from another thread, as a slow-loris client does,
/// and returns the reply with the time it took to arrive.
fn drip(addr: SocketAddr, request: Vec<u8>, pause: Duration) -> (Reply, Duration) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let started = Instant::now();
    thread::spawn(move || {
        for byte in request {
            if writer.write_all(&[byte]).is_err() {
                return; // the server has closed the connection
            }
            thread::sleep(pause);
        }
    });
    let reply = read_reply(&mut stream);
    (reply, started.elapsed())
}

#[test]
fn a_slow_loris_is_cut_off_at_the_deadline() {
    let deadline = Duration::from_millis(1500);
    let server = start(Limits {
        deadline,
        ..Limits::default()
    });
    let addr = server.addr;
    // A byte every 200 ms: a timeout per read would never fire.
    let slow = thread::spawn(move || drip(addr, predict_request(28), Duration::from_millis(200)));
    thread::sleep(Duration::from_millis(100));
    for _ in 0..5 {
        assert_eq!(exchange(server.addr, &predict_request(28)).status, 200);
    }
    let (reply, took) = slow.join().unwrap();
    assert_eq!(reply.status, 408);
    assert!(
        deadline <= took && took < deadline + Duration::from_secs(1),
        "cut off after {took:?}, deadline {deadline:?}"
    );
    server.shutdown();
}

/// A connection from 127.0.0.1 that has sent the start of a request and waits.
fn partial(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET / HT").unwrap();
    stream
}

/// Reads the answer to a connection the server should refuse at once: 503, and `why`.
fn assert_refused(mut stream: TcpStream, why: &str) {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let reply = read_reply(&mut stream);
    let body = String::from_utf8(reply.body).unwrap();
    assert_eq!(reply.status, 503, "{body}");
    assert!(body.contains(why), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn connections_over_the_limits_are_refused_at_once() {
    let server = start(Limits {
        per_address: 2,
        connections: 3,
        ..Limits::default()
    });
    let addr = server.addr;
    let mut held: Vec<TcpStream> = (0..2).map(|_| partial(addr)).collect();
    let third = TcpStream::connect(addr).unwrap();
    assert_refused(third, "too many connections from your address");
    // Another address still gets in, up to the total of 3 …
    let mut other = from_address::connect_from([127, 0, 0, 2], addr).unwrap();
    other.write_all(b"GET / HT").unwrap();
    held.push(other);
    // … and no further, whatever the address.
    let fourth = from_address::connect_from([127, 0, 0, 2], addr).unwrap();
    assert_refused(fourth, "too many connections;");
    // Closed connections free their places.
    drop(held);
    let started = Instant::now();
    while exchange(addr, b"GET / HTTP/1.1\r\n\r\n").status != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "places not freed"
        );
        thread::sleep(Duration::from_millis(20));
    }
    server.shutdown();
}

/// `connect` from a chosen local address, which std cannot do. Linux answers all of 127/8
/// on the loopback interface, but gives every connection to it the source 127.0.0.1 unless
/// the socket is bound first; the attack test needs a client whose source differs.
#[cfg(target_os = "linux")]
mod from_address {
    use std::io;
    use std::net::{SocketAddr, TcpStream};
    use std::os::fd::FromRawFd;

    /// Linux's `struct sockaddr_in`.
    #[repr(C)]
    struct SockaddrIn {
        family: u16,
        port: [u8; 2],
        addr: [u8; 4],
        zero: [u8; 8],
    }

    const AF_INET: i32 = 2;
    const SOCK_STREAM: i32 = 1;
    const SOCK_CLOEXEC: i32 = 0o2_000_000;

    extern "C" {
        fn socket(domain: i32, kind: i32, protocol: i32) -> i32;
        fn bind(fd: i32, addr: *const SockaddrIn, len: u32) -> i32;
        fn connect(fd: i32, addr: *const SockaddrIn, len: u32) -> i32;
    }

    fn sockaddr(ip: [u8; 4], port: u16) -> SockaddrIn {
        SockaddrIn {
            family: AF_INET as u16,
            port: port.to_be_bytes(),
            addr: ip,
            zero: [0; 8],
        }
    }

    /// A TCP connection to the IPv4 address `to` from the local address `from`.
    pub fn connect_from(from: [u8; 4], to: SocketAddr) -> io::Result<TcpStream> {
        let SocketAddr::V4(to) = to else {
            return Err(io::ErrorKind::InvalidInput.into());
        };
        let check = |result: i32| {
            if result < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(result)
            }
        };
        // SAFETY: socket takes no pointers; a negative result is an error, checked.
        let fd = check(unsafe { socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) })?;
        // SAFETY: fd is a new socket that nothing else owns; the stream closes it when dropped,
        // on the error paths below too.
        let stream = unsafe { TcpStream::from_raw_fd(fd) };
        let len = std::mem::size_of::<SockaddrIn>() as u32;
        // SAFETY: both addresses are valid sockaddr_in values that outlive the calls, and
        // len is their size.
        check(unsafe { bind(fd, &sockaddr(from, 0), len) })?;
        // SAFETY: as for bind.
        check(unsafe { connect(fd, &sockaddr(to.ip().octets(), to.port()), len) })?;
        Ok(stream)
    }
}

/// The acceptance test of issue 12: 200 connections from 127.0.0.1 each send a request a
/// byte a second, while a client on 127.0.0.2 sends 250 POST /predict one after another,
/// 10 ms apart (so for about 3 s, 3 bytes from each attacker); every one is answered 200,
/// with a 99th-percentile latency under 100 ms. Run twice: with
/// the default per-address limit (all but 16 attackers refused at once) and with it lifted
/// (all 200 held by reader threads, none by the workers).
#[cfg(target_os = "linux")]
#[test]
fn a_client_on_another_address_is_served_during_a_slow_loris_attack() {
    for per_address in [Limits::default().per_address, 1000] {
        let server = start(Limits {
            per_address,
            ..Limits::default()
        });
        let attackers: Vec<TcpStream> = (0..200)
            .map(|_| TcpStream::connect(server.addr).unwrap())
            .collect();
        thread::sleep(Duration::from_millis(200));
        let refused = attackers.iter().filter(|s| answered_503(s)).count();
        assert_eq!(
            refused,
            200 - per_address.min(200),
            "per address {per_address}"
        );
        let attack = slow_attack(attackers);
        let latencies = legitimate_client(server.addr, 250);
        let p99 = latencies[(latencies.len() * 99).div_ceil(100) - 1]; // nearest rank
        println!(
            "per-address limit {per_address}: 250 POST /predict from 127.0.0.2 during the attack: \
             median {:?}, p99 {p99:?}, worst {:?}",
            latencies[latencies.len() / 2],
            latencies[latencies.len() - 1]
        );
        assert!(p99 < Duration::from_millis(100), "p99 {p99:?}");
        drop(attack); // closes the attackers' connections
        server.shutdown();
    }
}

/// True if the server has answered `stream` with a 503 (without waiting for it).
#[cfg(target_os = "linux")]
fn answered_503(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut start = [0u8; 12];
    let refused = matches!(stream.peek(&mut start), Ok(12) if &start == b"HTTP/1.1 503");
    stream.set_nonblocking(false).unwrap();
    refused
}

/// Sends a valid request a byte a second on every connection, until dropped.
#[cfg(target_os = "linux")]
struct SlowAttack {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

#[cfg(target_os = "linux")]
fn slow_attack(mut streams: Vec<TcpStream>) -> SlowAttack {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = thread::spawn(move || {
        let request = predict_request(28);
        for &byte in request.iter().cycle() {
            for stream in &mut streams {
                let _ = stream.write_all(&[byte]); // refused ones fail; that is fine
            }
            for _ in 0..10 {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
    });
    SlowAttack {
        stop,
        thread: Some(thread),
    }
}

#[cfg(target_os = "linux")]
impl Drop for SlowAttack {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends `n` POST /predict from 127.0.0.2, one after another and 10 ms apart; returns their
/// latencies (connect to last byte of the answer), sorted. Every answer must be 200.
#[cfg(target_os = "linux")]
fn legitimate_client(addr: SocketAddr, n: usize) -> Vec<Duration> {
    let request = predict_request(140);
    let mut latencies: Vec<Duration> = (0..n)
        .map(|_| {
            let started = Instant::now();
            let mut stream = from_address::connect_from([127, 0, 0, 2], addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            stream.write_all(&request).unwrap();
            let reply = read_reply(&mut stream);
            assert_eq!(
                reply.status,
                200,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            let latency = started.elapsed();
            thread::sleep(Duration::from_millis(10));
            latency
        })
        .collect();
    latencies.sort();
    latencies
}

#[test]
fn load_test_keeps_answering() {
    let server = start_default();
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
