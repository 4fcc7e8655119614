//! A minimal Stripe-shaped mock server: `GET /v1/customers?limit=N` answers a list page of
//! realistic customer objects (about 30 fields each, pretty-printed as Stripe does). It runs on
//! its own thread with its own current-thread tokio runtime so it never shares the client's
//! runtime.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::pages::{customer, page_body};

/// Largest page the mock serves (Stripe's own cap).
pub const MAX_LIMIT: usize = 100;

/// Pre-rendered pages, one per `limit`, built on first use; plus a second full page (customers
/// 100..199), served after the first one's last id so that a page stream makes progress forever
/// (the two alternate).
struct Pages {
    customers: Vec<Value>,
    bodies: Vec<OnceLock<Bytes>>,
    second: OnceLock<Bytes>,
}

impl Pages {
    fn new() -> Self {
        Pages {
            customers: (0..2 * MAX_LIMIT).map(customer).collect(),
            bodies: (0..=MAX_LIMIT).map(|_| OnceLock::new()).collect(),
            second: OnceLock::new(),
        }
    }

    fn page_after(&self, limit: usize, starting_after: Option<&str>) -> Bytes {
        let last_of_first = format!("cus_Bench{:010}", MAX_LIMIT - 1);
        if limit == MAX_LIMIT && starting_after == Some(last_of_first.as_str()) {
            return self
                .second
                .get_or_init(|| Bytes::from(page_body(&self.customers[MAX_LIMIT..])))
                .clone();
        }
        self.page(limit)
    }

    fn page(&self, limit: usize) -> Bytes {
        let limit = limit.clamp(1, MAX_LIMIT);
        self.bodies[limit]
            .get_or_init(|| Bytes::from(page_body(&self.customers[..limit])))
            .clone()
    }
}

fn param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

fn limit_of(query: Option<&str>) -> usize {
    param(query, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

async fn handle(
    pages: Arc<Pages>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let resp = if req.uri().path() == "/v1/customers" {
        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("request-id", "req_bench")
            .body(Full::new(pages.page_after(
                limit_of(req.uri().query()),
                param(req.uri().query(), "starting_after"),
            )))
    } else {
        Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(
                br#"{"error":{"type":"invalid_request_error","message":"Unrecognized request URL"}}"#,
            )))
    };
    Ok(resp.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

/// A running mock server.
pub struct MockServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
}

/// Start the mock on a dedicated thread (own current-thread runtime) bound to 127.0.0.1.
pub fn start() -> std::io::Result<MockServer> {
    let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let pages = Arc::new(Pages::new());
    // Render every page once up front so the server's first requests aren't slower.
    for limit in 1..=MAX_LIMIT {
        pages.page(limit);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("mock-server".into())
        .spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let pages = pages.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| handle(pages.clone(), req));
                        let _ = http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            });
        })?;
    Ok(MockServer {
        base_url: format!("http://{addr}"),
    })
}
