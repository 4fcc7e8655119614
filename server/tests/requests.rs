//! Around every request: `x-request-id` (the caller's short token kept, anything else replaced
//! by a fresh id, echoed on every answer, errors included) and the request time limit (504 in
//! the protocol's error shape, counted by `/metrics`). SQLite always; PostgreSQL when
//! `AIRBYTE_SERVER_TEST_PG` is set.

mod common;

use std::time::{Duration, Instant};

use airbyte_agent_server::crypto::MasterKey;
use common::*;
use secrecy::ExposeSecret as _;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// A `GET` with an optional `x-request-id` → (status, the `x-request-id` answered, body).
async fn with_id(url: &str, path: &str, id: Option<&str>) -> (u16, Option<String>, String) {
    let headers: Vec<(&str, &str)> = id.map(|id| ("x-request-id", id)).into_iter().collect();
    let (status, head, body) = send_raw_head(url, "GET", path, None, &headers, None).await;
    let rid = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("x-request-id")
            .then(|| v.trim().to_string())
    });
    (status, rid, body)
}

#[tokio::test]
async fn request_ids_are_kept_or_made_and_always_echoed() {
    for db in databases().await {
        let srv = TestServer::start(&db, Default::default()).await;
        let (s, id, _) = with_id(&srv.url, "/healthz", Some("req-42.a_b")).await;
        assert_eq!((s, id.as_deref()), (200, Some("req-42.a_b")));

        let (s, id, _) = with_id(&srv.url, "/nowhere", None).await;
        assert_eq!(s, 404);
        let made = id.expect("an id on an error answer too");
        assert_eq!(made.len(), 32, "{made}");
        assert!(made.bytes().all(|c| c.is_ascii_hexdigit()), "{made}");
        let (_, again, _) = with_id(&srv.url, "/nowhere", None).await;
        assert_ne!(
            again.as_deref(),
            Some(made.as_str()),
            "a fresh id per request"
        );

        for bad in ["has space", "semi;colon", &"x".repeat(65)] {
            let (_, id, _) = with_id(&srv.url, "/healthz", Some(bad)).await;
            let id = id.expect("an id");
            assert_ne!(id, bad);
            assert_eq!(id.len(), 32, "{bad:?} → {id}");
        }
    }
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_answered_504() {
    for db in databases().await {
        let provider = stripe_provider().await;
        Mock::given(method("GET"))
            .and(path("/v1/customers/cus_slow"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": "cus_slow"}))
                    .set_delay(Duration::from_secs(10)),
            )
            .mount(&provider)
            .await;
        // Token and connector on an instance with the default limit; the short limit on a
        // second instance of the same database (token checks there are digests: fast).
        let key = MasterKey::generate();
        let key_text = key.to_base64();
        let first = TestServer::start_with_key(&db, config_for(&provider), key).await;
        let app = first.token(&first.app).await;
        let id = first.create_stripe(&app).await;
        let again = MasterKey::from_base64(key_text.expose_secret()).expect("key");
        let config = config_for(&provider).request_timeout(Duration::from_millis(500));
        let srv = first.another_instance(&db, config, again).await;
        let exec = format!("/api/v1/integrations/connectors/{id}/execute");

        let slow = json!({"entity": "customers", "action": "get", "params": {"id": "cus_slow"}});
        let started = Instant::now();
        let (s, body) = srv
            .send("POST", &exec, Some(&app), Some(slow.to_string()))
            .await;
        let took = started.elapsed();
        assert_eq!(s, 504, "{body}");
        assert!(took < Duration::from_secs(5), "answered after {took:?}");
        let message = body["errors"][0]["userPresentableMessage"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains("limit"), "{body}");

        // A quick call right after is served as usual.
        let list = json!({"entity": "customers", "action": "list"});
        let (s, body) = srv
            .send("POST", &exec, Some(&app), Some(list.to_string()))
            .await;
        assert_eq!(s, 200, "{body}");

        let (_, metrics) = srv.send_text("GET", "/metrics", None, &[], None).await;
        let timed_out = metrics
            .lines()
            .any(|l| l.contains("{id}/execute") && l.contains("5xx") && !l.starts_with('#'));
        assert!(timed_out, "the 504 is counted:\n{metrics}");
    }
}

/// The binary's access log: one JSON line per request with the id and the route template,
/// never the query string.
#[tokio::test]
async fn the_access_log_is_one_json_line_per_request_without_query_strings() {
    use std::io::Read as _;
    let db = Database::sqlite();
    let dir = db.sqlite_dir();
    process::init(&dir, &db.url);
    let extra = ["--access-log".to_string(), "json".to_string()];
    let (mut child, url) =
        process::spawn_serve(&dir, &db.url, &extra, std::process::Stdio::piped()).await;

    let (s, id, _) = with_id(
        &url,
        "/api/v1/workspaces?cursor=secret-cursor-value",
        Some("log-1"),
    )
    .await;
    assert_eq!((s, id.as_deref()), (401, Some("log-1")));
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err);
    let line = err
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["request_id"] == "log-1")
        .unwrap_or_else(|| panic!("no access-log line for log-1 in:\n{err}"));
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/api/v1/workspaces");
    assert_eq!(line["status"], 401);
    assert!(
        line["duration_ms"].is_number() && line["ts"].is_string(),
        "{line}"
    );
    assert!(!err.contains("secret-cursor-value"), "{err}");
}
