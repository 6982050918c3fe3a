//! A small HTTP/1.1 server, `std::net` only, that lets you draw a digit in a browser and see
//! the network read it live: its ten outputs and every hidden neuron's activation.
//!
//! Book chapter: "Looking inside". One page (`serve/page.html`, compiled into the binary) has
//! a canvas; as you draw, it POSTs the canvas's grey levels to `/predict?w=W&h=H` as raw
//! bytes, W × H of them. The server prepares them exactly as `scratchnet predict` prepares a
//! file ([`crate::app::preprocess::prepare`]), runs the network and answers JSON:
//!
//! ```text
//! {"digit":7,"outputs":[…10],"hidden":[[…20],[…10]],"input":[…784 bytes],"inverted":true}
//! ```
//!
//! The server is deliberately defensive, since anything on the network can talk to it:
//! it binds loopback unless told otherwise, reads with a timeout, caps the request line,
//! header count and size and the body ([`Limits`]), answers what it cannot parse with a 4xx
//! status instead of panicking, and serves a fixed number of connections at once (a pool of
//! worker threads fed through a bounded channel; when the queue is full it answers 503).
//! Every response closes the connection, which keeps the protocol handling small.
//!
//! Left out: keep-alive, chunked request bodies (411/400), HTTPS, HEAD, compression.

use crate::app::preprocess::{self, Prepared};
use crate::linalg::{Scalar, Vector};
use crate::network::Network;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The page, compiled into the binary.
const PAGE: &str = include_str!("serve/page.html");

/// What the server accepts before giving up on a request.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest request line ("POST /predict?w=140&h=140 HTTP/1.1"), bytes; longer → 414.
    pub request_line: usize,
    /// Most header lines; more → 431.
    pub headers: usize,
    /// Most bytes in all header lines together; more → 431.
    pub header_bytes: usize,
    /// Largest body, bytes; a bigger Content-Length → 413.
    pub body: usize,
    /// How long a read may wait for the client; slower → 408 and the connection closes.
    pub timeout: Duration,
    /// Worker threads: connections served at once.
    pub workers: usize,
    /// Accepted connections waiting for a worker; more → 503.
    pub queue: usize,
}

impl Default for Limits {
    /// 8 KiB request line, 64 headers in 16 KiB, 1 MiB body, 5 s timeout, 4 workers, 64 queued.
    fn default() -> Self {
        Limits {
            request_line: 8 * 1024,
            headers: 64,
            header_bytes: 16 * 1024,
            body: 1 << 20,
            timeout: Duration::from_secs(5),
            workers: 4,
            queue: 64,
        }
    }
}

/// An HTTP response: status, extra headers, body.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// Status code, e.g. 200.
    pub status: u16,
    /// Content-Type.
    pub content_type: &'static str,
    /// Other headers (name, value), e.g. ("Allow", "POST").
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A plain-text error response with `message` as its body.
    pub fn error(status: u16, message: &str) -> Self {
        Response::new(
            status,
            "text/plain; charset=utf-8",
            format!("{status} {}: {message}\n", reason(status)),
        )
    }

    /// The response's bytes on the wire (always `Connection: close`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// The reason phrase for the status codes this server uses.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// A parsed request: method, path, query string and body.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// "GET", "POST", ….
    pub method: String,
    /// The path without the query, e.g. "/predict".
    pub path: String,
    /// The query without "?", e.g. "w=140&h=140" (empty if none).
    pub query: String,
    /// The body (Content-Length bytes).
    pub body: Vec<u8>,
}

/// Reads one line ending in "\n" of at most `cap` bytes (without the line ending).
/// `Err(status)` for a line that is too long (`too_long`), a timeout (408) or a connection
/// that ends mid-line (400).
fn read_line(reader: &mut impl BufRead, cap: usize, too_long: u16) -> Result<Vec<u8>, u16> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().map_err(io_status)?;
        if buf.is_empty() {
            return Err(400);
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i + 1], true),
            None => (buf, false),
        };
        if line.len() + chunk.len() > cap + 2 {
            return Err(too_long);
        }
        line.extend_from_slice(chunk);
        let n = chunk.len();
        reader.consume(n);
        if done {
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            return Ok(line);
        }
    }
}

/// The status for an I/O error while reading: timeouts are 408, the rest 400.
fn io_status(e: io::Error) -> u16 {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => 408,
        _ => 400,
    }
}

/// Reads and checks one request from `reader` against `limits`. `Err(status)` says which
/// 4xx to answer.
pub fn read_request(reader: &mut impl BufRead, limits: &Limits) -> Result<Request, u16> {
    let line = read_line(reader, limits.request_line, 414)?;
    let line = String::from_utf8(line).map_err(|_| 400u16)?;
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(400);
    };
    let method_ok = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    if !method_ok || !target.starts_with('/') || !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Err(400);
    }
    let mut content_length: Option<usize> = None;
    let (mut count, mut bytes) = (0, 0);
    loop {
        let header = read_line(reader, limits.header_bytes, 431)?;
        if header.is_empty() {
            break;
        }
        count += 1;
        bytes += header.len();
        if count > limits.headers || bytes > limits.header_bytes {
            return Err(431);
        }
        let header = String::from_utf8(header).map_err(|_| 400u16)?;
        let (name, value) = header.split_once(':').ok_or(400u16)?;
        if name.is_empty() || name.contains(' ') {
            return Err(400);
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n: usize = value.parse().map_err(|_| 400u16)?;
            if content_length.is_some_and(|m| m != n) {
                return Err(400);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(411); // chunked bodies are left out: send Content-Length
        }
    }
    let length = content_length.unwrap_or(0);
    if length > limits.body {
        return Err(413);
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).map_err(io_status)?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        body,
    })
}

/// The network's outputs for a prepared digit, and every hidden layer's activations.
pub struct Reading {
    /// Output layer a^L: (n_out).
    pub outputs: Vec<f32>,
    /// Hidden layers' activations a², a³, …: one Vec per hidden layer.
    pub hidden: Vec<Vec<f32>>,
    /// The index of the largest output.
    pub digit: usize,
}

// ANCHOR: read_digit
/// Runs the forward pass layer by layer (as [`Network::feedforward`] does), keeping each
/// layer's activations a^l = σ(W^l a^{l−1} + B^l).
pub fn read_digit<T: Scalar>(net: &Network<T>, x: &Vector<T>) -> Reading {
    let mut a = x.clone();
    let mut layers = Vec::new();
    for (l, (w, b)) in net.weights.iter().zip(&net.biases).enumerate() {
        let z = &w.mul_vec(&a) + b;
        a = z.map(|zi| net.activation(l).apply(zi));
        layers.push(
            a.as_slice()
                .iter()
                .map(|v| v.to_f64() as f32)
                .collect::<Vec<f32>>(),
        );
    }
    let outputs = layers.pop().unwrap_or_default();
    Reading {
        digit: a.argmax(),
        outputs,
        hidden: layers,
    }
}
// ANCHOR_END: read_digit

/// Formats floats as a JSON array with 4 decimals (NaN and ∞ are not JSON: they become 0).
fn json_floats(values: &[f32]) -> String {
    let items: Vec<String> = values
        .iter()
        .map(|v| {
            if v.is_finite() {
                format!("{v:.4}")
            } else {
                "0".into()
            }
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// The JSON body for a reading of a prepared digit.
pub fn reading_json(reading: &Reading, prepared: &Prepared) -> String {
    let hidden: Vec<String> = reading.hidden.iter().map(|h| json_floats(h)).collect();
    let input: Vec<String> = prepared.pixels.iter().map(|p| p.to_string()).collect();
    format!(
        "{{\"digit\":{},\"outputs\":{},\"hidden\":[{}],\"input\":[{}],\"inverted\":{}}}",
        reading.digit,
        json_floats(&reading.outputs),
        hidden.join(","),
        input.join(","),
        prepared.inverted
    )
}

/// Looks up `key` in a query string "a=1&b=2".
fn query_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// Answers POST /predict?w=W&h=H with W × H grey bytes as the body.
fn predict(net: &Network<f32>, request: &Request) -> Response {
    let dim = |key| {
        query_value(&request.query, key)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| (1..=4096).contains(&n))
    };
    let (Some(w), Some(h)) = (dim("w"), dim("h")) else {
        return Response::error(
            400,
            "POST /predict?w=WIDTH&h=HEIGHT with WIDTH x HEIGHT grey bytes as the body",
        );
    };
    if request.body.len() != w * h {
        return Response::error(
            400,
            &format!(
                "the body has {} bytes, expected w x h = {}",
                request.body.len(),
                w * h
            ),
        );
    }
    match preprocess::prepare(&request.body, w, h) {
        Ok(prepared) => {
            let reading = read_digit(net, &prepared.input());
            Response::new(200, "application/json", reading_json(&reading, &prepared))
        }
        Err(e) => Response::new(
            422,
            "application/json",
            format!("{{\"error\":\"{}\"}}", json_escape(&e.to_string())),
        ),
    }
}

fn json_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if (c as u32) < 0x20 => vec![' '],
            c => vec![c],
        })
        .collect()
}

/// Routes a parsed request: GET / (the page), POST /predict (JSON), anything else 404/405.
pub fn route(net: &Network<f32>, request: &Request) -> Response {
    let allowed = match request.path.as_str() {
        "/" | "/index.html" => "GET",
        "/predict" => "POST",
        _ => {
            return Response::error(
                404,
                &format!("no page at {}; try / or POST /predict", request.path),
            )
        }
    };
    if request.method != allowed {
        let mut response = Response::error(405, &format!("{} takes {allowed}", request.path));
        response.headers.push(("Allow", allowed.to_string()));
        return response;
    }
    match allowed {
        "GET" => Response::new(200, "text/html; charset=utf-8", PAGE),
        _ => predict(net, request),
    }
}

/// Serves one connection: read a request (with the timeout), answer, close.
pub fn handle(net: &Network<f32>, stream: TcpStream, limits: &Limits) {
    let _ = stream.set_read_timeout(Some(limits.timeout));
    let _ = stream.set_write_timeout(Some(limits.timeout));
    let mut reader = BufReader::new(&stream);
    let response = match read_request(&mut reader, limits) {
        Ok(request) => route(net, &request),
        Err(status) => Response::error(status, "the request could not be read"),
    };
    let mut stream = &stream;
    let _ = stream.write_all(&response.to_bytes());
    let _ = stream.flush();
    // Closing with unread input would make the OS send RST and the client might lose the
    // response; shutting down the write side first lets the response arrive.
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// A running server: its address, and how to stop it.
pub struct ServerHandle {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ServerHandle {
    /// Asks the server to stop, wakes its accept loop, and waits for the workers to finish
    /// the connections they hold.
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves `net` on `listener` until `stop` is set (checked after every accepted connection)
/// or, with `max_requests`, after that many connections. Blocks; returns when all workers
/// have finished.
pub fn serve(
    listener: TcpListener,
    net: Arc<Network<f32>>,
    limits: Limits,
    stop: Arc<AtomicBool>,
    max_requests: Option<usize>,
) {
    let (sender, receiver) = mpsc::sync_channel::<TcpStream>(limits.queue);
    let receiver = Arc::new(Mutex::new(receiver));
    let workers: Vec<_> = (0..limits.workers.max(1))
        .map(|_| {
            let (receiver, net, limits) = (Arc::clone(&receiver), Arc::clone(&net), limits.clone());
            thread::spawn(move || worker(&receiver, &net, &limits))
        })
        .collect();
    let accepted = AtomicUsize::new(0);
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors or similar: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        match sender.try_send(stream) {
            Ok(()) => {}
            Err(TrySendError::Full(stream)) => {
                let _ = (&stream).write_all(&Response::error(503, "busy; try again").to_bytes());
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
        if max_requests.is_some_and(|n| accepted.fetch_add(1, Ordering::SeqCst) + 1 >= n) {
            break;
        }
    }
    drop(sender); // workers finish the queue, then see the channel closed
    for w in workers {
        let _ = w.join();
    }
}

/// One worker: takes connections off the queue until it closes. A panic while handling one
/// connection (a bug) is caught so the pool keeps its size.
fn worker(receiver: &Mutex<Receiver<TcpStream>>, net: &Network<f32>, limits: &Limits) {
    loop {
        let next = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok(stream) = next else { return };
        let _ =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(net, stream, limits)));
    }
}

/// Starts [`serve`] on a background thread, for tests and embedding.
pub fn spawn(listener: TcpListener, net: Network<f32>, limits: Limits) -> io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let net = Arc::new(net);
    let thread = thread::spawn(move || serve(listener, net, limits, flag, None));
    Ok(ServerHandle {
        addr,
        stop,
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn parse(raw: &[u8]) -> Result<Request, u16> {
        read_request(&mut BufReader::new(raw), &Limits::default())
    }

    #[test]
    fn parses_a_post_with_a_body() {
        let r = parse(b"POST /predict?w=2&h=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab")
            .unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("POST", "/predict", "w=2&h=1")
        );
        assert_eq!(r.body, b"ab");
    }

    #[test]
    fn bad_requests_get_the_right_status() {
        assert_eq!(parse(b"HELLO\r\n\r\n"), Err(400));
        assert_eq!(parse(b"get / HTTP/1.1\r\n\r\n"), Err(400));
        assert_eq!(parse(b"GET / HTTP/9\r\n\r\n"), Err(400));
        assert_eq!(parse(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), Err(400));
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(400)
        );
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"),
            Err(400)
        );
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n"),
            Err(413)
        );
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(411)
        );
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: x"), Err(400));
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(9000));
        assert_eq!(parse(long.as_bytes()), Err(414));
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(65));
        assert_eq!(parse(many.as_bytes()), Err(431));
    }

    #[test]
    fn routes_answer_404_405_and_json() {
        let net: Network<f32> = Network::new(&[784, 5, 3, 10], &mut Rng::new(1));
        let get = |path: &str| Request {
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            body: vec![],
        };
        assert_eq!(route(&net, &get("/nope")).status, 404);
        let wrong = route(&net, &get("/predict"));
        assert_eq!(wrong.status, 405);
        assert_eq!(wrong.headers, vec![("Allow", "POST".to_string())]);
        assert!(String::from_utf8(route(&net, &get("/")).body)
            .unwrap()
            .contains("<canvas"));
        let mut body = vec![255u8; 100];
        body[44] = 0;
        let post = Request {
            method: "POST".into(),
            path: "/predict".into(),
            query: "w=10&h=10".into(),
            body,
        };
        let json = String::from_utf8(route(&net, &post).body).unwrap();
        assert!(
            json.starts_with("{\"digit\":")
                && json.contains("\"hidden\":[[")
                && json.contains("\"inverted\":true"),
            "{json}"
        );
        let blank = Request {
            body: vec![255; 100],
            ..post
        };
        assert_eq!(route(&net, &blank).status, 422);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_get_an_answer_never_a_panic(
            head in proptest::sample::select(vec!["GET / HTTP/1.1\r\n", "POST /predict?w=3&h=2 HTTP/1.1\r\n", "", "POST /predict?w=0&h=99999999999 HTTP/1.0\r\n"]),
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let net: Network<f32> = Network::new(&[784, 3, 10], &mut Rng::new(2));
            let mut raw = head.as_bytes().to_vec();
            raw.extend_from_slice(&bytes);
            if let Ok(request) = read_request(&mut BufReader::new(&raw[..]), &Limits::default()) {
                let status = route(&net, &request).status;
                proptest::prop_assert!([200, 400, 404, 405, 422].contains(&status));
            }
        }
    }

    #[test]
    fn read_digit_agrees_with_feedforward() {
        let net: Network<f32> = Network::new(&[6, 4, 3, 2], &mut Rng::new(9));
        let x = Vector::from_vec(vec![0.1, 0.5, 0.9, 0.0, 1.0, 0.3]);
        let reading = read_digit(&net, &x);
        assert_eq!(reading.outputs, net.feedforward(&x).into_vec());
        assert_eq!(
            reading.hidden.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![4, 3]
        );
        assert_eq!(reading.digit, net.predict(&x));
    }
}
