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
use serde_json::{Value, json};

/// Largest page the mock serves (Stripe's own cap).
pub const MAX_LIMIT: usize = 100;

/// Pre-rendered pages, one per `limit`, built on first use.
struct Pages {
    customers: Vec<Value>,
    bodies: Vec<OnceLock<Bytes>>,
}

impl Pages {
    fn new() -> Self {
        Pages {
            customers: (0..MAX_LIMIT).map(customer).collect(),
            bodies: (0..=MAX_LIMIT).map(|_| OnceLock::new()).collect(),
        }
    }

    fn page(&self, limit: usize) -> Bytes {
        let limit = limit.clamp(1, MAX_LIMIT);
        self.bodies[limit]
            .get_or_init(|| {
                let page = json!({
                    "object": "list",
                    "data": &self.customers[..limit],
                    "has_more": true,
                    "url": "/v1/customers",
                });
                Bytes::from(serde_json::to_vec_pretty(&page).unwrap_or_default())
            })
            .clone()
    }
}

/// One customer object shaped like Stripe's (field names and value types of the real API).
pub fn customer(i: usize) -> Value {
    let created = 1_700_000_000 + i as i64 * 3_600;
    json!({
        "id": format!("cus_Bench{i:010}"),
        "object": "customer",
        "address": {
            "city": "San Francisco",
            "country": "US",
            "line1": format!("{} Market Street", 100 + i),
            "line2": null,
            "postal_code": "94103",
            "state": "CA"
        },
        "balance": -(i as i64) * 125,
        "business_name": null,
        "cash_balance": null,
        "created": created,
        "currency": "usd",
        "customer_account": null,
        "default_currency": "usd",
        "default_source": null,
        "delinquent": i.is_multiple_of(7),
        "description": format!("Benchmark customer number {i}"),
        "discount": null,
        "email": format!("customer{i}@example.com"),
        "individual_name": null,
        "invoice_credit_balance": {},
        "invoice_prefix": format!("B{i:07X}"),
        "invoice_settings": {
            "custom_fields": null,
            "default_payment_method": null,
            "footer": null,
            "rendering_options": null
        },
        "livemode": false,
        "metadata": { "plan": "pro", "seat_count": format!("{}", i % 50 + 1) },
        "name": format!("Customer {i}"),
        "next_invoice_sequence": i as i64 % 13 + 1,
        "phone": format!("+1415555{:04}", i % 10_000),
        "preferred_locales": ["en-US"],
        "shipping": {
            "address": {
                "city": "San Francisco",
                "country": "US",
                "line1": format!("{} Mission Street", 200 + i),
                "line2": "Suite 400",
                "postal_code": "94105",
                "state": "CA"
            },
            "name": format!("Customer {i}"),
            "phone": null
        },
        "tax_exempt": "none",
        "test_clock": null
    })
}

fn limit_of(query: Option<&str>) -> usize {
    query
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("limit="))
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
            .body(Full::new(pages.page(limit_of(req.uri().query()))))
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
