//! A small HTTP/1.1 server on 127.0.0.1 shared by replay and record.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use super::CassetteError;

/// A request as received.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub method: String,
    /// Path as on the wire (percent-encoded).
    pub path: String,
    /// Raw query string (without `?`), if any.
    pub raw_query: Option<String>,
    /// Lower-cased names, in order received.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Decoded query pairs in wire order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.raw_query
            .as_deref()
            .map(parse_query)
            .unwrap_or_default()
    }
}

/// Decode `a=1&b=x%20y` into pairs (`+` is a space).
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub(crate) fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// A response to send.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

type BoxFuture = Pin<Box<dyn Future<Output = Outgoing> + Send>>;
pub(crate) type Handler = Arc<dyn Fn(Incoming) -> BoxFuture + Send + Sync>;

/// The running server; stops (with every open connection) when dropped.
#[derive(Debug)]
pub(crate) struct Loopback {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Headers that belong to one connection, never copied between hops.
pub(crate) fn is_hop_header(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

impl Loopback {
    /// Bind 127.0.0.1:0 and serve every request with `handler`.
    pub async fn start(handler: Handler) -> Result<Loopback, CassetteError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| CassetteError::Server(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| CassetteError::Server(e.to_string()))?;
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection task.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                while connections.try_join_next().is_some() {}
                let handler = handler.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let handler = handler.clone();
                        async move {
                            let resp = match read_request(req).await {
                                Some(incoming) => handler(incoming).await,
                                None => Outgoing {
                                    status: 400,
                                    headers: Vec::new(),
                                    body: Bytes::from_static(b"unreadable request"),
                                },
                            };
                            Ok::<_, std::convert::Infallible>(to_response(resp))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Loopback { addr, task })
    }

    /// `http://127.0.0.1:<port>`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn read_request(req: hyper::Request<hyper::body::Incoming>) -> Option<Incoming> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.ok()?.to_bytes();
    let headers = header_list(&parts.headers);
    Some(Incoming {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        raw_query: parts.uri.query().map(str::to_string),
        headers,
        body,
    })
}

/// Header pairs with lower-cased names in order; repeated names joined with `, `.
pub(crate) fn header_list(map: &hyper::HeaderMap) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in map {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.iter_mut().find(|(k, _)| k == name.as_str()) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(&value);
            }
            None => headers.push((name.as_str().to_string(), value)),
        }
    }
    headers
}

fn to_response(out: Outgoing) -> hyper::Response<Full<Bytes>> {
    let mut resp = hyper::Response::new(Full::new(out.body));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(out.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    let headers = resp.headers_mut();
    for (k, v) in out.headers {
        if is_hop_header(&k) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            headers.append(name, value);
        }
    }
    resp
}
