//! Transport failures: nothing listening, a connection reset mid-body, headers or body that
//! never arrive.

use std::time::{Duration, Instant};

use airbyte_agent_runtime::Error;

use crate::common::bearer_creds;
use crate::server::{Action, serve};
use crate::{CONN, bounded, client_for, list};

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    bounded(async {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", l.local_addr().expect("addr"));
        drop(l);
        let c = client_for(&CONN, bearer_creds(), &url);
        let t = Instant::now();
        let err = list(&c).await.expect_err("nothing listens there");
        assert!(matches!(err, Error::Network { .. }), "{err:?}");
        assert!(err.is_retryable());
        assert!(t.elapsed() < Duration::from_secs(5));
        // The transport's error chain stays reachable, down to the refused connection.
        let mut chain = std::error::Error::source(&err);
        let mut refused = false;
        while let Some(e) = chain {
            refused |= e
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
            chain = e.source();
        }
        assert!(
            refused,
            "no ConnectionRefused in the source chain of {err:?}"
        );
    })
    .await
}

#[tokio::test]
async fn reset_mid_body_is_a_network_error() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| {
            let mut head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n".to_vec();
            head.extend_from_slice(br#"{"data":[{"id":"a"},"#);
            Action::ReplyThenReset(head)
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = list(&c).await.expect_err("body was cut");
        assert!(
            matches!(err, Error::Network { .. } | Error::Timeout { .. }),
            "{err:?}"
        );
    })
    .await
}

#[tokio::test]
async fn slow_headers_time_out_after_the_retries() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| Action::Stall(Duration::from_secs(10))).await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let t = Instant::now();
        let err = list(&c).await.expect_err("server never answers");
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        // 3 attempts × 400 ms read timeout plus small backoffs.
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
        assert_eq!(s.count("GET"), 3, "idempotent GETs are retried on timeouts");
    })
    .await
}

#[tokio::test]
async fn slow_body_times_out() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| {
            let mut b =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n"
                    .to_vec();
            b.extend_from_slice(b"{\"data\":[");
            Action::ReplyThenStall(b, Duration::from_secs(10))
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let t = Instant::now();
        let err = list(&c).await.expect_err("body stalls");
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    })
    .await
}
