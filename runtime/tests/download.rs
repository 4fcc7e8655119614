//! Streamed downloads: 200 MB through the client without buffering, back-pressure, Range,
//! two-step downloads and writing to a file.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use airbyte_agent_runtime::*;
use common::*;
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{header, method, path as wpath};
use wiremock::{Mock, MockServer, ResponseTemplate};

static DOWNLOAD: OperationDescriptor = OperationDescriptor {
    params: &[common::path("id")],
    ..op(
        "files",
        "download",
        ActionKind::Download,
        Method::Get,
        "/files/{id}/content",
    )
};
static CONN: ConnectorDescriptor = ConnectorDescriptor {
    entities: &[EntityDescriptor {
        name: "files",
        description: "",
        operations: &[OperationDescriptor {
            params: &[common::path("id")],
            ..op(
                "files",
                "download",
                ActionKind::Download,
                Method::Get,
                "/files/{id}/content",
            )
        }],
    }],
    ..connector(std::slice::from_ref(&BEARER), &[])
};

const TOTAL: u64 = 200 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

fn pattern(offset: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = ((offset + i as u64) % 251) as u8;
    }
}

/// A raw HTTP/1.1 server streaming TOTAL bytes; counts the bytes it managed to write.
async fn big_server(sent: Arc<AtomicU64>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            req.extend_from_slice(&buf[..n]);
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {TOTAL}\r\n\r\n"
        );
        sock.write_all(head.as_bytes()).await.unwrap();
        let mut chunk = vec![0u8; CHUNK];
        let mut off = 0u64;
        while off < TOTAL {
            let n = CHUNK.min((TOTAL - off) as usize);
            pattern(off, &mut chunk[..n]);
            if sock.write_all(&chunk[..n]).await.is_err() {
                return;
            }
            off += n as u64;
            sent.store(off, Ordering::SeqCst);
        }
    });
    format!("http://{addr}")
}

fn matches_pattern(offset: u64, chunk: &[u8]) -> bool {
    chunk
        .iter()
        .enumerate()
        .all(|(i, b)| *b == ((offset + i as u64) % 251) as u8)
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_200_mb_with_back_pressure() {
    let sent = Arc::new(AtomicU64::new(0));
    let uri = big_server(sent.clone()).await;
    let c = client(&CONN, bearer_creds(), &uri);
    let mut stream = c
        .download(&DOWNLOAD, params(json!({"id": "big"})))
        .await
        .unwrap();
    assert_eq!(stream.content_length(), Some(TOTAL));

    let mut received = 0u64;
    let mut max_chunk = 0usize;
    // Read 8 MB, then stop reading: the server must stall (back-pressure), not race ahead.
    while received < 8 * 1024 * 1024 {
        let chunk = stream.next().await.unwrap().unwrap();
        assert!(matches_pattern(received, &chunk), "content at {received}");
        max_chunk = max_chunk.max(chunk.len());
        received += chunk.len() as u64;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ahead = sent.load(Ordering::SeqCst) - received;
    assert!(
        ahead < 32 * 1024 * 1024,
        "server wrote {ahead} bytes beyond what was consumed: the client is buffering"
    );

    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert!(matches_pattern(received, &chunk), "content at {received}");
        max_chunk = max_chunk.max(chunk.len());
        received += chunk.len() as u64;
    }
    assert_eq!(received, TOTAL);
    assert!(max_chunk <= 1024 * 1024, "max chunk {max_chunk}");
    if let Some(hwm) = vm_hwm_kib() {
        // The whole body is 200 MiB; peak RSS stays far below it.
        assert!(hwm < 120 * 1024, "peak RSS {hwm} KiB");
        eprintln!(
            "streamed {received} bytes; max chunk {max_chunk} B; ahead when paused {ahead} B; peak RSS {hwm} KiB"
        );
    }
}

#[tokio::test]
async fn range_header_accept_and_file_output() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wpath("/files/a%20b/content"))
        .and(header("range", "bytes=0-3"))
        .and(header("accept", "*/*"))
        .respond_with(ResponseTemplate::new(206).set_body_bytes(b"%PDF".to_vec()))
        .mount(&s)
        .await;
    let c = client(&CONN, bearer_creds(), &s.uri());
    // Through `execute` (buffered, base64) with the python-style special param.
    let r = c
        .execute(
            "files",
            "download",
            json!({"id": "a b", "range_header": "bytes=0-3"}),
        )
        .await
        .unwrap();
    assert_eq!(r.kind, ResultKind::Download);
    assert_eq!(r.data, json!({"size": 4, "content_base64": "JVBERg=="}));
    // Streamed to a file.
    let dir = std::env::temp_dir().join(format!("abrt-dl-{}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    let stream = c
        .download(
            &DOWNLOAD,
            params(json!({"id": "a b", "range_header": "bytes=0-3"})),
        )
        .await
        .unwrap();
    assert_eq!(stream.write_to_file(&dir, false).await.unwrap(), 4);
    assert_eq!(std::fs::read(&dir).unwrap(), b"%PDF");
    // Refuses to overwrite unless asked.
    let stream = c
        .download(
            &DOWNLOAD,
            params(json!({"id": "a b", "range_header": "bytes=0-3"})),
        )
        .await
        .unwrap();
    assert!(matches!(
        stream.write_to_file(&dir, false).await,
        Err(Error::Io(_))
    ));
    let _ = std::fs::remove_file(&dir);
    // Error statuses are mapped before any byte is returned.
    let e = c
        .download(&DOWNLOAD, params(json!({"id": "missing"})))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)));
}

#[tokio::test]
async fn two_step_download_with_indexed_path() {
    static TWO: OperationDescriptor = OperationDescriptor {
        params: &[
            common::path("id"),
            query("attachment_index", ValueKind::Integer),
        ],
        response: ResponseDescriptor {
            file_url: Some("attachments[{attachment_index}].url"),
            ..RESPONSE
        },
        ..op(
            "candidates",
            "download",
            ActionKind::Download,
            Method::Get,
            "/candidates/{id}",
        )
    };
    let s = MockServer::start().await;
    let base = s.uri();
    Mock::given(method("GET"))
        .and(wpath("/candidates/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "attachments": [{"url": "/__files/a"}, {"url": format!("{base}/__files/b")}]
        })))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(wpath("/__files/b"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"second".to_vec()))
        .mount(&s)
        .await;
    let c = client(&CONN, bearer_creds(), &s.uri());
    let bytes = c
        .download(&TWO, params(json!({"id": "7", "attachment_index": 1})))
        .await
        .unwrap()
        .collect_bytes()
        .await
        .unwrap();
    assert_eq!(bytes, b"second");
    // Same origin as the API → the file request is authenticated.
    let reqs = s.received_requests().await.unwrap();
    assert!(reqs[1].headers.get("authorization").is_some());
    let e = c
        .download(&TWO, params(json!({"id": "7", "attachment_index": 5})))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Records { .. }), "{e}");
}
