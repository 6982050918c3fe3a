//! `scratchnet serve` over real sockets on loopback: good and bad requests, HEAD, and a
//! bounded load test that prints its throughput (no timing assertion). The tests that time
//! the server (deadlines, refusals, latency under attack) are in `serve_timing.rs`, which
//! runs alone.

use crate::common::serve::{exchange, predict_request, start_default};
use std::thread;
use std::time::{Duration, Instant};

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

/// A convolutional model over real sockets: /predict answers its feature maps' shapes, one
/// `"layers"` entry for each entry of `"hidden"` (issue 14, item 4).
#[test]
fn a_convolutional_model_answers_with_its_maps() {
    use scratchnet::app::serve::{spawn, Limits};
    use scratchnet::formats::saved::Model;
    let net = crate::common::convnet("784,conv5x5x2,pool2,10", 2);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = spawn(listener, Model::Conv(net), Limits::default()).unwrap();
    let reply = exchange(server.addr, &predict_request(140));
    assert_eq!(reply.status, 200);
    let json = String::from_utf8(reply.body).unwrap();
    let layers = "\"layers\":[{\"name\":\"conv5x5x2\",\"maps\":2,\"rows\":24,\"cols\":24},\
                  {\"name\":\"pool2\",\"maps\":2,\"rows\":12,\"cols\":12}]";
    assert!(json.contains(layers), "{json}");
    // The two layers' values: 2 · 24 · 24 and 2 · 12 · 12 numbers.
    let hidden = json.split("\"hidden\":[[").nth(1).unwrap();
    let hidden = hidden.split("]],").next().unwrap();
    let counts: Vec<usize> = hidden.split("],[").map(|m| m.split(',').count()).collect();
    assert_eq!(counts, [2 * 24 * 24, 2 * 12 * 12]);
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
