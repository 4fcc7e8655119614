//! The scripted loopback server: reads HTTP/1.1 requests by hand and answers each as the test's
//! script says (reply, reset, stall), so faults a real HTTP server would not produce are possible.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One parsed request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Read one HTTP/1.1 request (headers + Content-Length body); `None` on EOF or garbage.
async fn read_request(s: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

pub fn response(status: &str, extra: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// What the scripted server does with the n-th request (0-based).
pub type Script = Arc<dyn Fn(usize, &Seen) -> Action + Send + Sync>;

pub enum Action {
    /// Write these bytes and keep the connection.
    Reply(Vec<u8>),
    /// Write these bytes, then reset the connection (RST).
    ReplyThenReset(Vec<u8>),
    /// Write these bytes, then stall for this long before closing.
    ReplyThenStall(Vec<u8>, Duration),
    /// Say nothing for this long, then close.
    Stall(Duration),
}

pub struct Server {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
    pub fn count(&self, method: &str) -> usize {
        self.seen().iter().filter(|s| s.method == method).count()
    }
}

pub async fn serve(
    host: &str,
    script: impl Fn(usize, &Seen) -> Action + Send + Sync + 'static,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script: Script = Arc::new(script);
    let n = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let (script, seen, n) = (script.clone(), seen2.clone(), n.clone());
            tokio::spawn(async move {
                while let Some(req) = read_request(&mut s).await {
                    let i = n.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut g) = seen.lock() {
                        g.push(req.clone());
                    }
                    match script(i, &req) {
                        Action::Reply(b) => {
                            if s.write_all(&b).await.is_err() {
                                return;
                            }
                        }
                        Action::ReplyThenReset(b) => {
                            let _ = s.write_all(&b).await;
                            let _ = s.flush().await;
                            let _ = s.set_zero_linger();
                            return;
                        }
                        Action::ReplyThenStall(b, d) => {
                            let _ = s.write_all(&b).await;
                            tokio::time::sleep(d).await;
                            return;
                        }
                        Action::Stall(d) => {
                            tokio::time::sleep(d).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    Server {
        url: format!("http://{host}:{port}"),
        seen,
    }
}
