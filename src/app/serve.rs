//! A small HTTP/1.1 server, `std::net` only, that lets you draw a digit in a browser and see
//! the network read it live: its ten outputs and every hidden neuron's activation, or for a
//! convolutional network every feature map.
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
//! For a convolutional model `hidden` holds every layer's values but the output's, a layer
//! of maps as its maps one after another, and `"layers"` (after `hidden`) says what each is,
//! so the page can draw the maps: `"layers":[{"name":"conv5x5x20","maps":20,"rows":24,
//! "cols":24},{"name":"pool2","maps":20,"rows":12,"cols":12},{"name":"100","maps":100,
//! "rows":1,"cols":1}]`.
//!
//! # What it defends against, and how
//!
//! Anything on the network can talk to it, so it binds loopback unless told otherwise and
//! bounds everything a client can make it hold ([`Limits`], with their defaults):
//!
//! - **Slow clients** (slow loris: a byte every few seconds). Every connection has a
//!   *deadline* for its whole request, not a timeout per read: before each read the socket's
//!   timeout is set to the time left, so a client that has not sent a complete request
//!   [`Limits::deadline`] after it connected gets 408 and is closed, however it paces its
//!   bytes. The answer must be taken within the same time again.
//! - **Slow clients starving the network.** Requests are read by a *reader stage*, never by
//!   the workers that run the network: a pool of small reader threads, each conversing with
//!   one connection at a time, started as connections need them and reused. Only a
//!   complete, parsed request goes through the bounded queue to the fixed pool of workers,
//!   which compute the answer and hand it back; they never touch a socket, so no client can
//!   hold one. A full queue is answered 503 at once.
//! - **Many connections.** At most [`Limits::connections`] are open at once (and there are
//!   at most that many reader threads), and at most [`Limits::per_address`] from one
//!   client address (an IPv6 client is counted by its /64 network, which one host usually
//!   holds whole). A connection over either limit is answered 503 and closed by the
//!   accepting thread, which never waits on a client.
//! - **Big or malformed requests.** The request line, the header lines and the body are
//!   capped (414, 431, 413); the body is read as it arrives, so memory grows only with the
//!   bytes actually sent: at most `connections × (request_line + header_bytes + body)` in
//!   all, about 70 MiB with the defaults. Anything it cannot parse — including a
//!   `Content-Length` that is not plain digits (`+4`, `-1`, `4 4`) or that is given twice —
//!   is a 400, never a panic; a bug while answering is caught and answered 500.
//!
//! Every response closes the connection, which keeps the protocol handling small. `HEAD`
//! is answered as `GET` without the body.
//!
//! Left out: keep-alive, chunked request bodies (411), HTTPS, compression, and an event
//! loop: std has no portable `poll`/`epoll`, and a thread for each open connection, bounded
//! by [`Limits::connections`], is the one clear way to read many sockets with std alone.

use crate::app::preprocess::{self, Prepared};
use crate::data::classes::Classes;
use crate::formats::saved::Model;
use crate::linalg::{MapShape, Scalar, Vector};
use crate::network::Network;
use crate::Error;
use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// The page, compiled into the binary.
const PAGE: &str = include_str!("serve/page.html");

/// What the server answers with: the network, and the names of its outputs.
pub struct Served {
    /// The network that reads the drawings.
    pub net: Model,
    /// The names of its outputs: the digits, or the lines of a `classes.txt`.
    pub classes: Classes,
}

impl From<Network<f32>> for Served {
    /// A fully connected network whose outputs are the ten digits.
    fn from(net: Network<f32>) -> Served {
        Served::from(Model::Dense(net))
    }
}

impl From<Model> for Served {
    /// A model whose outputs are the ten digits.
    fn from(net: Model) -> Served {
        Served {
            net,
            classes: Classes::digits(),
        }
    }
}

/// The page, with "digit" or "class" where it names what is drawn.
fn page(classes: &Classes) -> String {
    PAGE.replace("{{noun}}", classes.noun())
}

/// Stack of a reader thread: it only parses a request into heap buffers.
const READER_STACK: usize = 128 * 1024;

/// What the server accepts and holds at once; see the module doc for what each defends
/// against. [`Limits::default`] states the defaults, [`Limits::MAX`] the largest values
/// [`Limits::check`] accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line ("POST /predict?w=140&h=140 HTTP/1.1"), bytes; longer → 414.
    pub request_line: usize,
    /// Most header lines; more → 431.
    pub headers: usize,
    /// Most bytes in all header lines together; more → 431.
    pub header_bytes: usize,
    /// Largest body, bytes; a bigger Content-Length → 413.
    pub body: usize,
    /// Time from accepting a connection to having its whole request; later → 408 and the
    /// connection closes. The answer must then be taken within the same time again.
    pub deadline: Duration,
    /// Worker threads running the network: requests answered at once.
    pub workers: usize,
    /// Parsed requests waiting for a worker; more → 503.
    pub queue: usize,
    /// Connections open at once, and reader threads at most; more connections → 503.
    pub connections: usize,
    /// Connections open at once from one client address (IPv6: one /64); more → 503.
    pub per_address: usize,
}

impl Default for Limits {
    /// 8 KiB request line, 64 headers in 16 KiB, 256 KiB body (a 512 × 512 picture), 10 s
    /// deadline, 4 workers, 64 queued, 256 connections, 16 from one address.
    fn default() -> Self {
        Limits {
            request_line: 8 * 1024,
            headers: 64,
            header_bytes: 16 * 1024,
            body: 256 * 1024,
            deadline: Duration::from_secs(10),
            workers: 4,
            queue: 64,
            connections: 256,
            per_address: 16,
        }
    }
}

impl Limits {
    /// The largest value of each limit: 64 KiB request line, 1,024 headers in 1 MiB, 16 MiB
    /// body (the largest picture `/predict` takes, 4096 × 4096), 10 min deadline, 256
    /// workers, 4,096 queued, 4,096 connections (from one address or all).
    pub const MAX: Limits = Limits {
        request_line: 64 * 1024,
        headers: 1024,
        header_bytes: 1 << 20,
        body: MAX_SIDE * MAX_SIDE,
        deadline: Duration::from_secs(600),
        workers: 256,
        queue: 4096,
        connections: 4096,
        per_address: 4096,
    };

    /// Checks that every limit is at least 1 (the deadline at least 1 ms) and at most its
    /// value in [`Limits::MAX`].
    ///
    /// # Errors
    /// [`Error::TooLarge`] or [`Error::Invalid`] naming the first limit out of range.
    pub fn check(&self) -> crate::Result<()> {
        let max = Limits::MAX;
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let limits = [
            ("bytes of request line", self.request_line, max.request_line),
            ("header lines", self.headers, max.headers),
            ("bytes of headers", self.header_bytes, max.header_bytes),
            ("bytes of body", self.body, max.body),
            ("worker threads", self.workers, max.workers),
            ("queued requests", self.queue, max.queue),
            ("open connections", self.connections, max.connections),
            ("connections per address", self.per_address, max.per_address),
        ]
        .map(|(what, got, limit)| (what, got as u64, limit as u64));
        let deadline = (
            "milliseconds of deadline",
            millis(self.deadline),
            millis(max.deadline),
        );
        for (what, got, limit) in limits.into_iter().chain([deadline]) {
            if got == 0 {
                return Err(Error::Invalid(format!(
                    "the server needs at least 1 of {what}"
                )));
            }
            if got > limit {
                return Err(Error::TooLarge {
                    what: what.into(),
                    got,
                    limit,
                });
            }
        }
        Ok(())
    }
}

/// The largest width or height `/predict` takes, pixels.
const MAX_SIDE: usize = 4096;

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

    /// The status line and headers on the wire, up to and including the blank line (always
    /// `Connection: close`); all a `HEAD` request gets.
    pub fn head(&self) -> Vec<u8> {
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
        head.into_bytes()
    }

    /// The whole response on the wire: [`Response::head`], then the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.head();
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

/// True for a header name that is an RFC 9110 token: letters, digits and ``!#$%&'*+-.^_`|~``.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A Content-Length value: decimal digits only (RFC 9110 §8.6), so `+4`, `-1`, `4 4` and
/// `4,4` are 400; more digits than a `usize` holds are 413.
fn parse_content_length(value: &str) -> Result<usize, u16> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(400);
    }
    value.parse().map_err(|_| 413)
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
    let mut content_length = None;
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
        if !is_token(name) {
            return Err(400);
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            // Twice, even with the same value, is refused: two parsers could disagree on it.
            if content_length.is_some() {
                return Err(400);
            }
            content_length = Some(parse_content_length(value)?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(411); // chunked bodies are left out: send Content-Length
        }
    }
    let length = content_length.unwrap_or(0);
    if length > limits.body {
        return Err(413);
    }
    // Read as it arrives, so a client that only claims a big body gets no big buffer.
    let mut body = Vec::with_capacity(length.min(64 * 1024));
    reader
        .take(length as u64)
        .read_to_end(&mut body)
        .map_err(io_status)?;
    if body.len() < length {
        return Err(400); // the connection ended before the body did
    }
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
    /// Hidden layers' activations a², a³, …: one Vec per hidden layer; for a convolutional
    /// model every layer's but the last, a layer of maps as its (maps · rows · cols) values.
    pub hidden: Vec<Vec<f32>>,
    /// For a convolutional model, what each entry of `hidden` is: its layer's token in the
    /// layer list (`conv5x5x20`, `pool2`, `100`) and the shape of its maps (n neurons are
    /// (n, 1, 1)). Empty for a fully connected model, whose answer stays as it was.
    pub layers: Vec<(String, MapShape)>,
    /// The index of the largest output.
    pub digit: usize,
}

/// [`read_digit`] for a fully connected model; for a convolutional one, the outputs and
/// every layer's activations from [`crate::convnet::forward_one`], with their shapes.
pub fn read_model(model: &Model, x: &Vector<f32>) -> Reading {
    let net = match model {
        Model::Dense(net) => return read_digit(net, x),
        Model::Conv(net) => net,
    };
    let mut hidden = crate::convnet::forward_one(net, x.as_slice()).a;
    let outputs = hidden.pop().unwrap_or_default();
    hidden.remove(0); // the image itself
    let layers = net.layers().iter().enumerate();
    let layers = layers.take(hidden.len());
    Reading {
        digit: crate::linalg::argmax(&outputs),
        outputs,
        hidden,
        layers: layers
            .map(|(l, layer)| (layer.token(), net.shape(l + 1)))
            .collect(),
    }
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
        layers: Vec::new(),
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

/// The JSON body for a reading of a prepared picture; `names` are the outputs' names. A
/// convolutional model's reading adds `"layers"`, the name and map shape of each entry of
/// `"hidden"`.
pub fn reading_json(reading: &Reading, prepared: &Prepared, classes: &Classes) -> String {
    let hidden: Vec<String> = reading.hidden.iter().map(|h| json_floats(h)).collect();
    let input: Vec<String> = prepared.pixels.iter().map(|p| p.to_string()).collect();
    let names: Vec<String> = (0..reading.outputs.len())
        .map(|k| format!("\"{}\"", json_escape(&classes.name(k))))
        .collect();
    format!(
        "{{\"digit\":{},\"names\":[{}],\"outputs\":{},\"hidden\":[{}],{}\"input\":[{}],\
         \"inverted\":{}}}",
        reading.digit,
        names.join(","),
        json_floats(&reading.outputs),
        hidden.join(","),
        layers_json(&reading.layers),
        input.join(","),
        prepared.inverted
    )
}

/// `"layers":[{"name":"conv5x5x20","maps":20,"rows":24,"cols":24},…],` for a convolutional
/// model's layers; nothing for a fully connected model's (none).
fn layers_json(layers: &[(String, MapShape)]) -> String {
    if layers.is_empty() {
        return String::new();
    }
    let items: Vec<String> = layers
        .iter()
        .map(|(name, MapShape { maps, rows, cols })| {
            let name = json_escape(name);
            format!("{{\"name\":\"{name}\",\"maps\":{maps},\"rows\":{rows},\"cols\":{cols}}}")
        })
        .collect();
    format!("\"layers\":[{}],", items.join(","))
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
fn predict(served: &Served, request: &Request) -> Response {
    let dim = |key| {
        query_value(&request.query, key)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| (1..=MAX_SIDE).contains(&n))
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
            let reading = read_model(&served.net, &prepared.input());
            let json = reading_json(&reading, &prepared, &served.classes);
            Response::new(200, "application/json", json)
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
/// HEAD is answered as GET; the body is left out when the answer is written.
pub fn route(served: &Served, request: &Request) -> Response {
    let (allowed, allow) = match request.path.as_str() {
        "/" | "/index.html" => ("GET", "GET, HEAD"),
        "/predict" => ("POST", "POST"),
        _ => {
            return Response::error(
                404,
                &format!("no page at {}; try / or POST /predict", request.path),
            )
        }
    };
    let method = match request.method.as_str() {
        "HEAD" => "GET",
        other => other,
    };
    if method != allowed {
        let mut response = Response::error(405, &format!("{} takes {allow}", request.path));
        response.headers.push(("Allow", allow.to_string()));
        return response;
    }
    match allowed {
        "GET" => Response::new(200, "text/html; charset=utf-8", page(&served.classes)),
        _ => predict(served, request),
    }
}

/// A socket whose every read and write must end by `deadline`: before each call the socket's
/// timeout is set to the time left, so the deadline holds however the client paces its bytes.
struct BeforeDeadline<'s> {
    stream: &'s TcpStream,
    deadline: Instant,
}

impl BeforeDeadline<'_> {
    /// The time left, or a `TimedOut` error once there is none.
    fn time_left(&self) -> io::Result<Duration> {
        match self.deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(io::ErrorKind::TimedOut.into()),
        }
    }
}

impl Read for BeforeDeadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.time_left()?))?;
        (&mut &*self.stream).read(buf)
    }
}

impl Write for BeforeDeadline<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.time_left()?))?;
        (&mut &*self.stream).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&mut &*self.stream).flush()
    }
}

/// A parsed request on its way to a worker, and where the worker sends the answer.
struct Job {
    request: Request,
    answer: mpsc::Sender<Response>,
}

/// The reader stage, for one connection: reads the request within the deadline (counted from
/// the accept), hands it to the workers through `jobs`, and writes their answer within the
/// deadline again. Runs on a reader thread, so a slow client holds only that thread, never a
/// worker.
fn converse(connection: &Connection, jobs: &SyncSender<Job>, limits: &Limits) {
    let stream = &connection.stream;
    // From the accept, not from now: time spent waiting for a reader counts too.
    let deadline = connection.accepted + limits.deadline;
    let mut reader = BufReader::new(BeforeDeadline { stream, deadline });
    let (response, head_only) = match read_request(&mut reader, limits) {
        Ok(request) => {
            let head_only = request.method == "HEAD";
            (ask_workers(request, jobs), head_only)
        }
        Err(status) => (
            Response::error(status, "the request could not be read"),
            false,
        ),
    };
    let bytes = if head_only {
        response.head()
    } else {
        response.to_bytes()
    };
    let mut writer = BeforeDeadline {
        stream,
        deadline: Instant::now() + limits.deadline,
    };
    let _ = writer.write_all(&bytes);
    // Closing with unread input would make the OS send RST and the client might lose the
    // response; shutting down the write side first lets the response arrive.
    let _ = stream.shutdown(Shutdown::Write);
}

/// Queues `request` for the workers and waits for their answer: 503 if the queue is full or
/// the server is stopping, 500 if answering it panicked.
fn ask_workers(request: Request, jobs: &SyncSender<Job>) -> Response {
    let (answer, answered) = mpsc::channel();
    match jobs.try_send(Job { request, answer }) {
        Ok(()) => answered
            .recv()
            .unwrap_or_else(|_| Response::error(500, "the server failed to answer this request")),
        Err(TrySendError::Full(_)) => Response::error(503, "busy; try again"),
        Err(TrySendError::Disconnected(_)) => Response::error(503, "the server is stopping"),
    }
}

/// One worker: answers queued requests until the queue closes. Never touches a socket. A
/// panic while answering (a bug) is caught so the pool keeps its size.
fn worker(jobs: &Mutex<Receiver<Job>>, served: &Served) {
    loop {
        let next = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        let answer =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| route(served, &job.request)));
        if let Ok(response) = answer {
            let _ = job.answer.send(response); // the reader gives up only if it died
        }
    }
}

/// The address a client's connections are counted under: its IPv4 address, or its IPv6 /64
/// network, since one host usually holds a whole /64 and could otherwise pick a new
/// address per connection.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// Open connections, in all and per client address, against [`Limits::connections`] and
/// [`Limits::per_address`].
struct Connections {
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
    total: usize,
    per_address: usize,
}

/// One open connection, counted until it is dropped.
struct Slot {
    connections: Arc<Connections>,
    client: IpAddr,
}

impl Connections {
    fn new(limits: &Limits) -> Arc<Self> {
        Arc::new(Connections {
            open: Mutex::new((0, HashMap::new())),
            total: limits.connections,
            per_address: limits.per_address,
        })
    }

    /// Counts a new connection from `client`, or says which limit refuses it.
    fn open(self: &Arc<Self>, client: IpAddr) -> std::result::Result<Slot, &'static str> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (total, by_client) = &mut *open;
        if by_client
            .get(&client)
            .is_some_and(|&n| n >= self.per_address)
        {
            return Err("too many connections from your address; try again");
        }
        if *total >= self.total {
            return Err("too many connections; try again");
        }
        // Entered only when admitted, so the map never holds more than `total` addresses.
        *by_client.entry(client).or_insert(0) += 1;
        *total += 1;
        Ok(Slot {
            connections: Arc::clone(self),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (total, by_client) = &mut *open;
        *total -= 1;
        if let Some(n) = by_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                by_client.remove(&self.client); // the map holds only open clients
            }
        }
    }
}

/// Answers 503 with `message` and closes, without ever waiting: the answer is small and a
/// new socket's send buffer is empty, so a non-blocking write takes it whole.
fn refuse(stream: TcpStream, message: &str) {
    let _ = stream.set_nonblocking(true);
    let _ = (&stream).write_all(&Response::error(503, message).to_bytes());
    let _ = stream.shutdown(Shutdown::Write);
}

/// An admitted connection, counted until it is dropped.
struct Connection {
    stream: TcpStream,
    /// When it was accepted: its deadline counts from here.
    accepted: Instant,
    _slot: Slot,
}

/// The reader stage: at most [`Limits::connections`] threads, started as connections need
/// them, each conversing with one connection at a time. Reusing idle threads keeps a new
/// connection from waiting for a new thread to be scheduled, which on a busy machine can
/// take a whole time slice; a thread idle for [`READER_IDLE`] ends.
struct Readers {
    state: Mutex<ReadersState>,
    /// Signalled when a connection is queued or the server stops.
    ready: Condvar,
    jobs: SyncSender<Job>,
    limits: Limits,
}

/// Admitted connections no reader has taken yet, and the readers' count.
struct ReadersState {
    waiting: VecDeque<Connection>,
    /// Reader threads alive, at most [`Limits::connections`].
    threads: usize,
    /// Reader threads waiting for a connection.
    idle: usize,
    stopping: bool,
}

/// How long a reader thread waits for another connection before it ends.
const READER_IDLE: Duration = Duration::from_secs(10);

/// A reader thread's place in [`ReadersState::threads`], given back when dropped: when the
/// thread ends, however it ends, or when it could not be started.
struct ReaderPlace(Arc<Readers>);

impl Drop for ReaderPlace {
    fn drop(&mut self) {
        self.0.lock().threads -= 1;
    }
}

impl Readers {
    fn new(jobs: SyncSender<Job>, limits: Limits) -> Arc<Self> {
        Arc::new(Readers {
            state: Mutex::new(ReadersState {
                waiting: VecDeque::new(),
                threads: 0,
                idle: 0,
                stopping: false,
            }),
            ready: Condvar::new(),
            jobs,
            limits,
        })
    }

    fn lock(&self) -> MutexGuard<'_, ReadersState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a new connection: counts it and queues it for a reader, starting one if none
    /// is idle; or refuses it (503) if its address or the server is at its limit. Never
    /// waits on a client.
    fn admit(self: &Arc<Self>, stream: TcpStream, connections: &Arc<Connections>) {
        let accepted = Instant::now();
        let Ok(peer) = stream.peer_addr() else {
            return; // already gone
        };
        let connection = match connections.open(client_key(peer.ip())) {
            Ok(slot) => Connection {
                stream,
                accepted,
                _slot: slot,
            },
            Err(message) => return refuse(stream, message),
        };
        let mut state = self.lock();
        state.waiting.push_back(connection);
        if state.idle >= state.waiting.len() {
            self.ready.notify_one();
        } else if state.threads < self.limits.connections {
            state.threads += 1;
            drop(state);
            let place = ReaderPlace(Arc::clone(self));
            let started = thread::Builder::new()
                .name("serve-reader".into())
                .stack_size(READER_STACK)
                .spawn(move || place.0.read());
            if started.is_err() {
                // No thread for it (the unstarted closure gave its place back when dropped):
                // refuse the newest waiting connection, ours unless a reader took it, rather
                // than let it wait for a reader that may never come.
                let newest = self.lock().waiting.pop_back();
                if let Some(Connection { stream, .. }) = newest {
                    refuse(stream, "no thread to read your request; try again");
                }
            }
        }
    }

    /// One reader thread: converses with queued connections one at a time, until none comes
    /// for [`READER_IDLE`] or the server stops.
    fn read(&self) {
        let mut state = self.lock();
        loop {
            if let Some(connection) = state.waiting.pop_front() {
                drop(state);
                // A bug while conversing is caught, as in the workers, so the reader lives
                // on; the connection then closes without an answer.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    converse(&connection, &self.jobs, &self.limits)
                }));
                drop(connection); // closes it and frees its place before taking another
                state = self.lock();
                continue;
            }
            if state.stopping {
                break;
            }
            state.idle += 1;
            let (woken, wait) = self
                .ready
                .wait_timeout(state, READER_IDLE)
                .unwrap_or_else(|e| e.into_inner());
            state = woken;
            state.idle -= 1;
            if wait.timed_out() && state.waiting.is_empty() {
                break;
            }
        }
    }

    /// Tells idle readers to end; busy ones end once their connection is answered.
    fn stop(&self) {
        self.lock().stopping = true;
        self.ready.notify_all();
    }
}

/// A running server: its address, and how to stop it.
pub struct ServerHandle {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<crate::Result<()>>>,
}

impl ServerHandle {
    /// Asks the server to stop, wakes its accept loop, and waits for the open connections to
    /// be answered (at most twice [`Limits::deadline`]).
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts `workers` threads running the network on the jobs that arrive through `jobs`.
fn start_workers(
    jobs: Receiver<Job>,
    served: &Arc<Served>,
    workers: usize,
) -> crate::Result<Vec<thread::JoinHandle<()>>> {
    let jobs = Arc::new(Mutex::new(jobs));
    (0..workers)
        .map(|_| {
            let (jobs, served) = (Arc::clone(&jobs), Arc::clone(served));
            thread::Builder::new()
                .name("serve-worker".into())
                .spawn(move || worker(&jobs, &served))
                .map_err(|e| Error::Invalid(format!("cannot start {workers} worker threads: {e}")))
        })
        .collect()
}

/// Serves `served` on `listener` until `stop` is set (checked after every accepted connection)
/// or, with `max_requests`, after that many connections. Blocks; returns once every open
/// connection has been answered and the workers have finished.
///
/// # Errors
/// [`Limits::check`]'s, or [`Error::Invalid`] if the worker threads cannot be started.
pub fn serve(
    listener: TcpListener,
    served: Arc<Served>,
    limits: Limits,
    stop: Arc<AtomicBool>,
    max_requests: Option<usize>,
) -> crate::Result<()> {
    limits.check()?;
    let (jobs, queue) = mpsc::sync_channel::<Job>(limits.queue);
    let workers = start_workers(queue, &served, limits.workers)?;
    let connections = Connections::new(&limits);
    let readers = Readers::new(jobs, limits);
    let accepted = AtomicUsize::new(0);
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match stream {
            Ok(stream) => readers.admit(stream, &connections),
            // Out of file descriptors or similar: back off instead of spinning.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
        if max_requests.is_some_and(|n| accepted.fetch_add(1, Ordering::SeqCst) + 1 >= n) {
            break;
        }
    }
    // The job queue closes when the last reader, holding the last sender, has answered its
    // connection and ended; then the workers return.
    readers.stop();
    drop(readers);
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

/// Starts [`serve`] on a background thread, for tests and embedding.
///
/// # Errors
/// [`Limits::check`]'s, or an I/O error if the listener has no address.
pub fn spawn(
    listener: TcpListener,
    served: impl Into<Served>,
    limits: Limits,
) -> crate::Result<ServerHandle> {
    limits.check()?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Invalid(format!("the listener has no address: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let served = Arc::new(served.into());
    let thread = thread::spawn(move || serve(listener, served, limits, flag, None));
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
    use proptest::strategy::Strategy;

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
    fn named_classes_name_the_page_and_the_answers() {
        let classes = Classes::parse(b"cat\ndog\n", "classes.txt").unwrap();
        let served = Served {
            net: Model::Dense(Network::new(&[784, 3, 2], &mut Rng::new(1))),
            classes,
        };
        let get = Request {
            method: "GET".into(),
            path: "/".into(),
            query: String::new(),
            body: vec![],
        };
        let html = String::from_utf8(route(&served, &get).body).unwrap();
        assert!(
            html.contains("Draw a class:") && !html.contains("digit:"),
            "{html}"
        );
        assert!(!html.contains("{{noun}}"));
        let mut body = vec![0u8; 28 * 28];
        for row in 8..20 {
            body[row * 28 + 14] = 255;
        }
        let post = Request {
            method: "POST".into(),
            path: "/predict".into(),
            query: "w=28&h=28".into(),
            body,
        };
        let json = String::from_utf8(route(&served, &post).body).unwrap();
        assert!(json.contains("\"names\":[\"cat\",\"dog\"]"), "{json}");
        let digits = String::from_utf8(route(&Served::from(served.net), &get).body).unwrap();
        assert!(digits.contains("Draw a digit:"));
    }

    /// POST /predict of a 10 × 10 white picture with one black pixel.
    fn one_dot() -> Request {
        let mut body = vec![255u8; 100];
        body[44] = 0;
        Request {
            method: "POST".into(),
            path: "/predict".into(),
            query: "w=10&h=10".into(),
            body,
        }
    }

    #[test]
    fn routes_answer_404_405_and_json() {
        let net = Served::from(Network::new(&[784, 5, 3, 10], &mut Rng::new(1)));
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
        let post = one_dot();
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

    #[test]
    fn content_length_is_plain_digits_and_given_once() {
        let with = |headers: &str| {
            parse(format!("POST /predict HTTP/1.1\r\n{headers}\r\nabcd").as_bytes()).map(|r| r.body)
        };
        assert_eq!(with("Content-Length: 4\r\n"), Ok(b"abcd".to_vec()));
        assert_eq!(with("content-length:4 \r\n"), Ok(b"abcd".to_vec()));
        for bad in ["+4", "-1", "4 4", "4,4", "", "0x4", "４"] {
            assert_eq!(
                with(&format!("Content-Length: {bad}\r\n")),
                Err(400),
                "{bad:?}"
            );
        }
        assert_eq!(with("Content-Length: 4\r\nContent-Length: 4\r\n"), Err(400));
        assert_eq!(with("Content-Length: 4\r\ncontent-length: 5\r\n"), Err(400));
        assert_eq!(
            with("Content-Length: 99999999999999999999999\r\n"),
            Err(413)
        );
        assert_eq!(with("Content Length: 4\r\n"), Err(400));
        assert_eq!(with("Content-Length : 4\r\n"), Err(400));
    }

    #[test]
    fn head_is_get_without_the_body() {
        let net = Served::from(Network::new(&[784, 3, 10], &mut Rng::new(1)));
        let request = |method: &str, path: &str| Request {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            body: vec![],
        };
        let get = route(&net, &request("GET", "/"));
        assert_eq!(route(&net, &request("HEAD", "/")), get);
        let head = String::from_utf8(get.head()).unwrap();
        assert!(
            head.ends_with("\r\n\r\n") && !head.contains("<canvas"),
            "{head}"
        );
        assert!(head.contains(&format!(
            "Content-Length: {}\r\n",
            page(&Classes::digits()).len()
        )));
        assert_eq!(
            get.to_bytes(),
            [get.head(), page(&Classes::digits()).into_bytes()].concat()
        );
        let wrong = route(&net, &request("HEAD", "/predict"));
        assert_eq!(wrong.status, 405);
        assert_eq!(wrong.headers, vec![("Allow", "POST".to_string())]);
        let post = route(&net, &request("POST", "/"));
        assert_eq!(post.headers, vec![("Allow", "GET, HEAD".to_string())]);
    }

    #[test]
    fn limits_are_checked() {
        assert!(Limits::default().check().is_ok());
        assert!(Limits::MAX.check().is_ok());
        let too_many = Limits {
            workers: 100_000,
            ..Limits::default()
        };
        assert!(matches!(
            too_many.check(),
            Err(Error::TooLarge {
                got: 100_000,
                limit: 256,
                ..
            })
        ));
        let none = Limits {
            per_address: 0,
            ..Limits::default()
        };
        assert!(matches!(none.check(), Err(Error::Invalid(_))));
        let no_time = Limits {
            deadline: Duration::ZERO,
            ..Limits::default()
        };
        assert!(matches!(no_time.check(), Err(Error::Invalid(_))));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:127.0.0.2"), key("127.0.0.2"));
        assert_ne!(key("127.0.0.1"), key("127.0.0.2"));
    }

    #[test]
    fn connections_are_counted_per_address_and_in_all() {
        let connections = Connections::new(&Limits {
            connections: 3,
            per_address: 2,
            ..Limits::default()
        });
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let first = connections.open(ip("10.0.0.1")).unwrap();
        let second = connections.open(ip("10.0.0.1")).unwrap();
        assert!(connections
            .open(ip("10.0.0.1"))
            .is_err_and(|e| e.contains("your address")));
        let third = connections.open(ip("10.0.0.2")).unwrap();
        assert!(connections
            .open(ip("10.0.0.3"))
            .is_err_and(|e| e.starts_with("too many connections;")));
        assert_eq!(
            connections.open.lock().unwrap().1.len(),
            2,
            "a refused address is not kept"
        );
        drop((first, second, third));
        assert_eq!(*connections.open.lock().unwrap(), (0, HashMap::new()));
        assert!(connections.open(ip("10.0.0.3")).is_ok());
    }

    #[test]
    fn a_reader_thread_gives_its_place_back_even_when_it_panics() {
        let (jobs, _queue) = mpsc::sync_channel(1);
        let readers = Readers::new(jobs, Limits::default());
        readers.lock().threads = 1;
        let place = ReaderPlace(Arc::clone(&readers));
        let ended = thread::spawn(move || {
            let _place = place;
            panic!("a bug while conversing (this panic is expected)");
        })
        .join();
        assert!(ended.is_err());
        assert_eq!(readers.lock().threads, 0);
    }

    /// A valid request built from parts: method, target, version, headers in the given
    /// order (Content-Length matching the body where asked for), body.
    fn valid_request(method: &str, target: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
        let mut raw = format!("{method} {target} HTTP/1.1\r\n");
        for header in headers {
            match *header {
                "Content-Length" => raw += &format!("Content-Length: {}\r\n", body.len()),
                other => raw += &format!("{other}\r\n"),
            }
        }
        raw += "\r\n";
        [raw.into_bytes(), body.to_vec()].concat()
    }

    /// One mutation of a request's bytes, at `at` (taken modulo the length).
    #[derive(Clone, Debug)]
    enum Mutation {
        Flip {
            at: usize,
            bits: u8,
        },
        Insert {
            at: usize,
            byte: u8,
        },
        Delete {
            at: usize,
        },
        Truncate {
            at: usize,
        },
        /// Copies `len` bytes from `from` to `at`: repeats a header, splices two lines.
        Splice {
            from: usize,
            len: usize,
            at: usize,
        },
    }

    impl Mutation {
        fn apply(&self, raw: &mut Vec<u8>) {
            let n = raw.len().max(1);
            match *self {
                Mutation::Flip { at, bits } if !raw.is_empty() => raw[at % n] ^= bits.max(1),
                Mutation::Insert { at, byte } => raw.insert(at % (raw.len() + 1), byte),
                Mutation::Delete { at } if !raw.is_empty() => {
                    raw.remove(at % n);
                }
                Mutation::Truncate { at } => raw.truncate(at % (raw.len() + 1)),
                Mutation::Splice { from, len, at } if !raw.is_empty() => {
                    let from = from % n;
                    let piece = raw[from..(from + len).min(raw.len())].to_vec();
                    let at = at % (raw.len() + 1);
                    raw.splice(at..at, piece);
                }
                _ => {}
            }
        }
    }

    fn mutation() -> impl proptest::strategy::Strategy<Value = Mutation> {
        use proptest::prelude::*;
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(at, bits)| Mutation::Flip { at, bits }),
            (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
            any::<usize>().prop_map(|at| Mutation::Delete { at }),
            any::<usize>().prop_map(|at| Mutation::Truncate { at }),
            (any::<usize>(), 1..40usize, any::<usize>())
                .prop_map(|(from, len, at)| Mutation::Splice { from, len, at }),
        ]
    }

    /// Headers a request may carry, in any order. "Content-Length" gets the body's length;
    /// it is listed twice so that some requests carry it twice (and must get 400).
    const HEADERS: [&str; 7] = [
        "Host: localhost:8080",
        "Content-Length",
        "Content-Type: application/octet-stream",
        "Accept: */*",
        "Content-Length",
        "User-Agent: proptest",
        "X-Empty:",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]

        /// 10,000 requests built from valid ones and mutated (bytes flipped, inserted,
        /// deleted, lines repeated and spliced, the end cut off), read through buffers as
        /// small as one byte, with the default limits or tight ones: every one gets a status
        /// this server knows, never a panic, and no body over the limit.
        #[test]
        fn mutated_requests_get_a_status_never_a_panic(
            method in proptest::sample::select(vec!["GET", "POST", "HEAD", "PUT"]),
            target in proptest::sample::select(vec![
                "/", "/index.html", "/predict?w=3&h=2", "/predict?w=2&h=2", "/predict",
                "/nowhere", "/predict?w=0&h=99999999999",
            ]),
            headers in proptest::sample::subsequence(HEADERS.to_vec(), 0..=HEADERS.len())
                .prop_shuffle(),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8),
            mutations in proptest::collection::vec(mutation(), 1..4),
            buffer in 1usize..64,
            tight in proptest::prelude::any::<bool>(),
        ) {
            let mut raw = valid_request(method, target, &headers, &body);
            for m in &mutations {
                m.apply(&mut raw);
            }
            // Tight limits, half the time, so that the caps (414, 431, 413) are reached too.
            let limits = if tight {
                Limits {
                    request_line: 24,
                    headers: 3,
                    header_bytes: 60,
                    body: 5,
                    ..Limits::default()
                }
            } else {
                Limits::default()
            };
            let mut reader = BufReader::with_capacity(buffer, &raw[..]);
            let status = match read_request(&mut reader, &limits) {
                Ok(request) => {
                    proptest::prop_assert!(request.body.len() <= limits.body);
                    route(tiny_network(), &request).status
                }
                Err(status) => status,
            };
            proptest::prop_assert!(reason(status) != "Unknown", "status {}", status);
        }
    }

    /// One small network for all the property test's cases.
    fn tiny_network() -> &'static Served {
        static NET: std::sync::OnceLock<Served> = std::sync::OnceLock::new();
        NET.get_or_init(|| Served::from(Network::new(&[784, 3, 10], &mut Rng::new(2))))
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

    /// 28 × 28 → conv 3 × 3 × 2 (26 × 26) → pool 2 (13 × 13) → 4 neurons → 10 outputs.
    fn small_convnet() -> crate::convnet::ConvNet<f32> {
        use crate::convnet::{ConvNet, ConvNetConfig, Feature};
        let features = [Feature::Conv { k: 3, maps: 2 }, Feature::Pool { k: 2 }];
        let sizes = crate::network::NetworkConfig {
            sizes: vec![784, 4, 10],
            ..Default::default()
        };
        let config = ConvNetConfig::from_layer_list(&features, &sizes).unwrap();
        ConvNet::build(&config, &mut Rng::new(3)).unwrap()
    }

    #[test]
    fn a_convolutional_reading_names_its_layers_and_their_maps() {
        let net = small_convnet();
        let x = Vector::from_fn(784, |i| (i % 29) as f32 / 28.0);
        let reading = read_model(&Model::Conv(net.clone()), &x);
        assert_eq!(reading.outputs, net.feedforward(x.as_slice()));
        let names: Vec<&str> = reading.layers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["conv3x3x2", "pool2", "4"]);
        let shapes: Vec<MapShape> = reading.layers.iter().map(|&(_, s)| s).collect();
        let expected = [(2, 26, 26), (2, 13, 13), (4, 1, 1)];
        assert_eq!(shapes, expected.map(|(m, r, c)| MapShape::new(m, r, c)));
        let lengths: Vec<usize> = reading.hidden.iter().map(Vec::len).collect();
        assert_eq!(lengths, [2 * 26 * 26, 2 * 13 * 13, 4]);
    }

    #[test]
    fn predict_answers_a_convolutional_model_with_its_maps_and_a_dense_one_as_before() {
        let post = one_dot();
        let conv = Served::from(Model::Conv(small_convnet()));
        let json = String::from_utf8(route(&conv, &post).body).unwrap();
        let layers = "\"layers\":[{\"name\":\"conv3x3x2\",\"maps\":2,\"rows\":26,\"cols\":26},\
                      {\"name\":\"pool2\",\"maps\":2,\"rows\":13,\"cols\":13},\
                      {\"name\":\"4\",\"maps\":4,\"rows\":1,\"cols\":1}],\"input\":[";
        assert!(json.contains(layers), "{json}");
        let dense = Served::from(Network::new(&[784, 5, 10], &mut Rng::new(1)));
        let json = String::from_utf8(route(&dense, &post).body).unwrap();
        assert!(!json.contains("\"layers\""), "{json}");
        assert!(json.contains("]],\"input\":["), "{json}");
    }
}
