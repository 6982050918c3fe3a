//! `scratchnet serve` against the clock, over real sockets on loopback: slow clients cut off
//! at the deadline, connections over the limits refused at once, and a slow-loris attack
//! from one address while a client on another is served within 100 ms (the 99th percentile).
//! In the `serial` binary, each test holding [`serial`](crate::serial), so no other test
//! competes for the CPU while they measure.

use crate::common::serve::{exchange, predict_request, read_reply, start, Reply};
use crate::serial;
use scratchnet::app::serve::Limits;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// Sends `request` a byte every `pause` from another thread, as a slow-loris client does,
/// and returns the reply with the time it took to arrive, counted from before connecting (so
/// never less than the server counts from its accept).
fn drip(addr: SocketAddr, request: Vec<u8>, pause: Duration) -> (Reply, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
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
    let _alone = serial();
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
    // The whole request would take 170 s at this pace: 3 s of slack for a loaded machine
    // still fails a server without a deadline.
    assert!(
        deadline <= took && took < deadline + Duration::from_secs(3),
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

/// Reads the answer to a connection the server should refuse at once: 503, and `why`, well
/// before the default 10 s deadline would have answered it 408.
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
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn connections_over_the_limits_are_refused_at_once() {
    let _alone = serial();
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
            started.elapsed() < Duration::from_secs(10),
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
/// with a 99th-percentile latency under 100 ms. Run twice: with the default per-address
/// limit (all but 16 attackers refused at once) and with it lifted (all 200 held by reader
/// threads, none by the workers).
#[cfg(target_os = "linux")]
#[test]
fn a_client_on_another_address_is_served_during_a_slow_loris_attack() {
    let _alone = serial();
    for per_address in [Limits::default().per_address, 1000] {
        let server = start(Limits {
            per_address,
            ..Limits::default()
        });
        let attackers: Vec<TcpStream> = (0..200)
            .map(|_| TcpStream::connect(server.addr).unwrap())
            .collect();
        // The accept loop takes connections in order, so once a later client is answered
        // every attacker has been admitted or refused.
        let mut probe = from_address::connect_from([127, 0, 0, 2], server.addr).unwrap();
        probe
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        probe.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(read_reply(&mut probe).status, 200);
        let expected = 200 - per_address.min(200);
        assert_eq!(
            refusals(&attackers, expected),
            expected,
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

/// How many of `streams` the server has answered 503, waiting up to 10 s for `expected` of
/// them: a refusal is written at once, but a loaded machine may deliver it late.
#[cfg(target_os = "linux")]
fn refusals(streams: &[TcpStream], expected: usize) -> usize {
    let started = Instant::now();
    loop {
        let refused = streams.iter().filter(|s| answered_503(s)).count();
        if refused >= expected || started.elapsed() > Duration::from_secs(10) {
            return refused;
        }
        thread::sleep(Duration::from_millis(20));
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
