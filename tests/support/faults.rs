//! A fault-injecting HTTP proxy between the tool (and Terraform) and the emulator: a
//! STAND-IN for a flaky network and a struggling service, which cannot exist here otherwise.
//!
//! Every request is forwarded to the emulator, except a seeded share of them, which get one of:
//! a 503, a throttling error in the request's protocol, a connection dropped before any answer,
//! or the request served by the emulator and its response dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    ServiceUnavailable,
    Throttled,
    DroppedConnection,
    DroppedResponse,
}

const FAULTS: [Fault; 4] = [
    Fault::ServiceUnavailable,
    Fault::Throttled,
    Fault::DroppedConnection,
    Fault::DroppedResponse,
];

pub struct FaultProxy {
    pub endpoint: String,
    injected: Arc<AtomicU64>,
    served: Arc<AtomicU64>,
}

impl FaultProxy {
    /// Listens on a free loopback port; `rate` of the requests (0.0 to 1.0) get a fault, the
    /// choices drawn from `seed`.
    pub fn start(upstream: &str, rate: f64, seed: u64) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(seed)));
        let injected = Arc::new(AtomicU64::new(0));
        let served = Arc::new(AtomicU64::new(0));
        let (inj, srv) = (injected.clone(), served.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, rng, inj, srv) =
                    (upstream.clone(), rng.clone(), inj.clone(), srv.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, &upstream, rate, &rng, &inj, &srv);
                });
            }
        });
        FaultProxy {
            endpoint,
            injected,
            served,
        }
    }

    /// How many requests got a fault, and how many were forwarded.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.injected.load(Ordering::Relaxed),
            self.served.load(Ordering::Relaxed),
        )
    }
}

/// One HTTP/1.1 message: the start line and headers as read, and the body.
struct Message {
    head: Vec<u8>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn bytes(&self) -> Vec<u8> {
        let mut b = self.head.clone();
        b.extend_from_slice(&self.body);
        b
    }
}

/// Reads one message; `None` at a clean end of the stream. A response without a length is read
/// to the end (`until_close`).
fn read_message(r: &mut impl BufRead, until_close: bool) -> std::io::Result<Option<Message>> {
    let mut head = Vec::new();
    let mut headers = Vec::new();
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if text.is_empty() {
            if headers.is_empty() && head.len() <= 2 {
                head.clear();
                continue;
            }
            break;
        }
        if let Some((k, v)) = text.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut m = Message {
        head,
        headers,
        body: Vec::new(),
    };
    if let Some(len) = m
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        m.body = vec![0; len];
        r.read_exact(&mut m.body)?;
    } else if m
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size_line = Vec::new();
            r.read_until(b'\n', &mut size_line)?;
            m.body.extend_from_slice(&size_line);
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&size_line)
                    .trim()
                    .split(';')
                    .next()
                    .unwrap_or("0"),
                16,
            )
            .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            m.body.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    } else if until_close {
        r.read_to_end(&mut m.body)?;
    }
    Ok(Some(m))
}

fn serve(
    client: TcpStream,
    upstream: &str,
    rate: f64,
    rng: &Mutex<fastrand::Rng>,
    injected: &AtomicU64,
    served: &AtomicU64,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut writer = client;
    let mut up: Option<(BufReader<TcpStream>, TcpStream)> = None;
    while let Some(req) = read_message(&mut reader, false)? {
        let fault = {
            let mut rng = rng.lock().unwrap();
            (rng.f64() < rate).then(|| FAULTS[rng.usize(..FAULTS.len())])
        };
        if let Some(f) = fault {
            injected.fetch_add(1, Ordering::Relaxed);
            match f {
                Fault::ServiceUnavailable => writer.write_all(&error_response(&req, 503))?,
                Fault::Throttled => writer.write_all(&error_response(&req, 400))?,
                Fault::DroppedConnection => {
                    let _ = writer.shutdown(Shutdown::Both);
                    return Ok(());
                }
                Fault::DroppedResponse => {
                    let _ = forward(&mut up, upstream, &req)?;
                    let _ = writer.shutdown(Shutdown::Both);
                    return Ok(());
                }
            }
            continue;
        }
        served.fetch_add(1, Ordering::Relaxed);
        let resp = forward(&mut up, upstream, &req)?;
        writer.write_all(&resp.bytes())?;
        if resp
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
        {
            return Ok(());
        }
    }
    Ok(())
}

/// Sends `req` to the emulator on this client's upstream connection; returns the response.
fn forward(
    up: &mut Option<(BufReader<TcpStream>, TcpStream)>,
    upstream: &str,
    req: &Message,
) -> std::io::Result<Message> {
    if up.is_none() {
        let s = TcpStream::connect(upstream)?;
        *up = Some((BufReader::new(s.try_clone()?), s));
    }
    let (r, w) = up.as_mut().unwrap();
    w.write_all(&req.bytes())?;
    let resp = read_message(r, true)?.ok_or_else(|| std::io::Error::other("upstream closed"))?;
    if resp
        .header("connection")
        .is_some_and(|c| c.eq_ignore_ascii_case("close"))
    {
        *up = None;
    }
    Ok(resp)
}

/// A 503, or a throttling error (`status` 400) in the protocol of `req`: AWS JSON (an
/// `X-Amz-Target` header), the query protocol (a form body: IAM, STS), or REST-JSON (Lambda).
fn error_response(req: &Message, status: u16) -> Vec<u8> {
    let json = req.header("x-amz-target").is_some();
    let form = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let (status, reason, content_type, body, extra) = match (status, json, form) {
        (503, true, _) => (
            503,
            "Service Unavailable",
            "application/x-amz-json-1.1",
            r#"{"__type":"ServiceUnavailableException","message":"injected"}"#.to_string(),
            "",
        ),
        (503, _, _) => (
            503,
            "Service Unavailable",
            "text/xml",
            "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>\
             <Message>injected</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
                .to_string(),
            "",
        ),
        (_, true, _) => (
            400,
            "Bad Request",
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded (injected)"}"#.to_string(),
            "",
        ),
        (_, false, true) => (
            400,
            "Bad Request",
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
             <Message>Rate exceeded (injected)</Message></Error><RequestId>fault</RequestId>\
             </ErrorResponse>"
                .to_string(),
            "",
        ),
        _ => (
            429,
            "Too Many Requests",
            "application/json",
            r#"{"message":"Rate exceeded (injected)"}"#.to_string(),
            "x-amzn-ErrorType: TooManyRequestsException\r\n",
        ),
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         x-amzn-RequestId: fault\r\n{extra}\r\n{body}",
        body.len()
    )
    .into_bytes()
}
