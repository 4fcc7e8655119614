//! Retries: backoff, Retry-After (seconds and HTTP-date), idempotency rule, timeouts.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use airbyte_agent_runtime::*;
use common::*;
use serde_json::json;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

static GET: OperationDescriptor = op("items", "get", ActionKind::Get, Method::Get, "/items");
static POST: OperationDescriptor = op(
    "items",
    "create",
    ActionKind::Create,
    Method::Post,
    "/items",
);
static CONN: ConnectorDescriptor = connector(std::slice::from_ref(&BEARER), &[]);

/// Responds with `statuses[i]` for the i-th request, then 200.
async fn sequence(statuses: Vec<(u16, Option<String>)>) -> (MockServer, Arc<AtomicUsize>) {
    let s = MockServer::start().await;
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    Mock::given(wiremock::matchers::any())
        .respond_with(move |_: &Request| {
            let i = n2.fetch_add(1, Ordering::SeqCst);
            match statuses.get(i) {
                Some((st, ra)) => {
                    let mut t = ResponseTemplate::new(*st)
                        .set_body_json(json!({"message": format!("status {st}")}));
                    if let Some(ra) = ra {
                        t = t.insert_header("Retry-After", ra.as_str());
                    }
                    t
                }
                None => ResponseTemplate::new(200).set_body_json(json!({"ok": true})),
            }
        })
        .mount(&s)
        .await;
    (s, n)
}

fn fast(uri: &str, policy: RetryPolicy) -> Client {
    Client::builder(&CONN, bearer_creds())
        .base_url(uri)
        .retry_policy(policy)
        .build()
        .unwrap()
}

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_secs(3))
}

#[tokio::test]
async fn get_retries_5xx_then_succeeds() {
    let (s, n) = sequence(vec![(503, None), (502, None)]).await;
    let r = fast(&s.uri(), policy())
        .call(&GET, Params::new())
        .await
        .unwrap();
    assert_eq!(r.data, json!({"ok": true}));
    assert_eq!(n.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let (s, n) = sequence(vec![(500, None); 10]).await;
    let e = fast(&s.uri(), policy().max_attempts(4))
        .call(&GET, Params::new())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert!(e.is_retryable());
    assert_eq!(n.load(Ordering::SeqCst), 4);
    // Not retried: 400/404.
    let (s, n) = sequence(vec![(404, None)]).await;
    fast(&s.uri(), policy())
        .call(&GET, Params::new())
        .await
        .unwrap_err();
    assert_eq!(n.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn retry_after_seconds_is_honoured_and_capped() {
    let (s, n) = sequence(vec![(429, Some("1".into()))]).await;
    let t = Instant::now();
    fast(&s.uri(), policy())
        .call(&GET, Params::new())
        .await
        .unwrap();
    let elapsed = t.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert_eq!(n.load(Ordering::SeqCst), 2);

    // A huge Retry-After is capped by max_delay.
    let (s, _) = sequence(vec![(503, Some("3600".into()))]).await;
    let t = Instant::now();
    fast(&s.uri(), policy().max_delay(Duration::from_millis(100)))
        .call(&GET, Params::new())
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn retry_after_http_date() {
    let when = SystemTime::now() + Duration::from_secs(2);
    let (s, n) = sequence(vec![(429, Some(httpdate::fmt_http_date(when)))]).await;
    let t = Instant::now();
    fast(&s.uri(), policy())
        .call(&GET, Params::new())
        .await
        .unwrap();
    // HTTP dates have one-second resolution: at least ~1 s must have been waited.
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn post_is_not_retried_on_5xx_but_is_on_429() {
    let (s, n) = sequence(vec![(503, None)]).await;
    let e = fast(&s.uri(), policy())
        .call(&POST, Params::new())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(n.load(Ordering::SeqCst), 1);

    let (s, n) = sequence(vec![(429, Some("0".into()))]).await;
    fast(&s.uri(), policy())
        .call(&POST, Params::new())
        .await
        .unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2);

    let (s, n) = sequence(vec![(503, None)]).await;
    fast(&s.uri(), policy().retry_writes(true))
        .call(&POST, Params::new())
        .await
        .unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2);

    // Exhausted 429 → RateLimited with the hint.
    let (s, _) = sequence(vec![(429, Some("0".into())); 5]).await;
    let e = fast(&s.uri(), policy())
        .call(&POST, Params::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }));
    assert_eq!(e.retry_after(), Some(Duration::ZERO));
}

#[tokio::test]
async fn timeouts_and_network_errors() {
    let s = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
        .mount(&s)
        .await;
    let c = Client::builder(&CONN, bearer_creds())
        .base_url(s.uri())
        .timeout(Duration::from_millis(100))
        .retry_policy(policy().max_attempts(2))
        .build()
        .unwrap();
    let e = c.call(&GET, Params::new()).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert_eq!(s.received_requests().await.unwrap().len(), 2);
    // POST timing out is not retried (the server may have processed it).
    let e = c.call(&POST, Params::new()).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }));
    assert_eq!(s.received_requests().await.unwrap().len(), 3);

    // Nothing listens on this port: network error after bounded attempts.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = fast(&format!("http://127.0.0.1:{port}"), policy());
    let t = Instant::now();
    let e = c.call(&GET, Params::new()).await.unwrap_err();
    assert!(matches!(e, Error::Network { .. }), "{e:?}");
    assert!(!e.to_string().contains("sk_test"));
    assert!(t.elapsed() < Duration::from_secs(5));
}
