//! Just enough HTTP/1.1 to play the OCD API on loopback: read one request,
//! write one response. Shared by the test server (`tests/common`) and the
//! stand-in API (`examples/mock_api.rs`) so both speak the protocol the same way.

use std::io::{self, BufRead, Write};

/// A request as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the whole request had been read.
    pub received: std::time::Instant,
}

impl Request {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Answers a TLS hello the way Node's HTTP server (and so a Next.js app)
/// answers bytes it cannot parse, `400 Bad Request`, and says whether it did:
/// what an `https://` URL pointed at a plain-http port gets back. Looks only
/// at the first byte (22, a TLS handshake record), so a hello without a
/// newline in it cannot leave `read_request` waiting for one.
pub fn refuse_tls_hello<S: io::Read + Write>(reader: &mut io::BufReader<S>) -> bool {
    const TLS_HANDSHAKE: u8 = 22;
    if reader.fill_buf().ok().and_then(|b| b.first().copied()) != Some(TLS_HANDSHAKE) {
        return false;
    }
    let out = reader.get_mut();
    let _ = out.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    let _ = out.flush();
    true
}

/// Reads one request: request line, headers, and a `Content-Length` body.
pub fn read_request(reader: &mut impl BufRead) -> io::Result<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Request {
        method,
        path,
        headers,
        body,
        received: std::time::Instant::now(),
    })
}

/// Writes a complete response and asks the client to close.
pub fn write_response(
    writer: &mut impl Write,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> io::Result<()> {
    write_head(writer, status, headers, body.len())?;
    writer.write_all(body)?;
    writer.flush()
}

/// Writes the status line and headers, announcing `length` body bytes.
pub fn write_head(
    writer: &mut impl Write,
    status: u16,
    headers: &[(String, String)],
    length: usize,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {length}\r\nconnection: close\r\n\r\n"
    ));
    writer.write_all(head.as_bytes())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
