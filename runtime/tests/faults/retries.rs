//! Retries: `Retry-After` in seconds and as an HTTP date, exhausted rate limits, bursts of 5xx,
//! and writes that are never repeated.

use std::time::{Duration, Instant};

use airbyte_agent_runtime::Error;
use serde_json::json;

use crate::common::bearer_creds;
use crate::server::{Action, response, serve};
use crate::{CONN, bounded, client_for, list, ok_page};

#[tokio::test]
async fn rate_limit_with_retry_after_seconds_then_success() {
    bounded(async {
        let s = serve("127.0.0.1", |i, _| {
            if i == 0 {
                Action::Reply(response(
                    "429 Too Many Requests",
                    &[("retry-after", "1".into())],
                    br#"{"message":"slow down"}"#,
                ))
            } else {
                Action::Reply(ok_page())
            }
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let t = Instant::now();
        let page = list(&c).await.expect("recovers after Retry-After");
        assert_eq!(page.data.len(), 2);
        assert!(
            t.elapsed() >= Duration::from_millis(950),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(s.count("GET"), 2);
    })
    .await
}

#[tokio::test]
async fn rate_limit_with_retry_after_http_date_then_success() {
    bounded(async {
        let s = serve("127.0.0.1", |i, _| {
            if i == 0 {
                let when = std::time::SystemTime::now() + Duration::from_secs(2);
                Action::Reply(response(
                    "429 Too Many Requests",
                    &[("retry-after", httpdate::fmt_http_date(when))],
                    br#"{"message":"slow down"}"#,
                ))
            } else {
                Action::Reply(ok_page())
            }
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let t = Instant::now();
        let page = list(&c).await.expect("recovers after the HTTP-date");
        assert_eq!(page.data.len(), 2);
        // HTTP-dates have one-second resolution: at least ~1 s of the 2 s remain.
        assert!(
            t.elapsed() >= Duration::from_millis(900),
            "{:?}",
            t.elapsed()
        );
    })
    .await
}

#[tokio::test]
async fn rate_limit_exhausted_is_typed_with_retry_after() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| {
            Action::Reply(response(
                "429 Too Many Requests",
                &[("retry-after", "0".into())],
                br#"{"message":"slow down"}"#,
            ))
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = list(&c).await.expect_err("always 429");
        match err {
            Error::RateLimited { retry_after, .. } => assert_eq!(retry_after, Some(Duration::ZERO)),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.count("GET"), 3);
    })
    .await
}

#[tokio::test]
async fn burst_of_5xx_then_success() {
    bounded(async {
        let s = serve("127.0.0.1", |i, _| match i {
            0 => Action::Reply(response("503 Service Unavailable", &[], b"{}")),
            1 => Action::Reply(response(
                "502 Bad Gateway",
                &[],
                b"<html>bad gateway</html>",
            )),
            _ => Action::Reply(ok_page()),
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let page = list(&c).await.expect("third attempt succeeds");
        assert_eq!(page.data.len(), 2);
        assert_eq!(s.count("GET"), 3);
    })
    .await
}

#[tokio::test]
async fn writes_are_never_repeated() {
    bounded(async {
        // A 503 on a POST is not retried.
        let s = serve("127.0.0.1", |_, _| {
            Action::Reply(response(
                "503 Service Unavailable",
                &[],
                br#"{"message":"busy"}"#,
            ))
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = c
            .execute("items", "create", json!({"name": "x"}))
            .await
            .expect_err("503");
        assert!(matches!(err, Error::Service(_)), "{err:?}");
        assert_eq!(s.count("POST"), 1);

        // A connection dropped after the server read the POST is not retried either.
        let s = serve("127.0.0.1", |_, _| Action::ReplyThenReset(Vec::new())).await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = c
            .execute("items", "create", json!({"name": "x"}))
            .await
            .expect_err("reset");
        assert!(matches!(err, Error::Network { .. }), "{err:?}");
        assert_eq!(s.count("POST"), 1);

        // A POST whose response never comes times out once.
        let s = serve("127.0.0.1", |_, _| Action::Stall(Duration::from_secs(10))).await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = c
            .execute("items", "create", json!({"name": "x"}))
            .await
            .expect_err("stall");
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        assert_eq!(s.count("POST"), 1);
    })
    .await
}
