//! Round trips: record, save, load and replay a list, a create with a body, and a binary two-step
//! download (offline, the upstream gone).

use airbyte_agent_runtime::cassette::{Cassette, QueryValue, REDACTED, Replay, RequestRole};
use airbyte_agent_runtime::*;
use serde_json::json;

use crate::{CONN, ENV_VAR, SECRET, binary_payload, env, no_retries, record, temp_file, upstream};

#[tokio::test]
async fn record_save_load_replay_list() {
    let up = upstream().await;
    let params = json!({"limit": 2});
    let (live, cassette) = record(&up, "customers", "list", params, SECRET).await;
    let live = live.unwrap();
    let cassette = cassette.unwrap();

    let req = &cassette.captured_request;
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, "/v1/customers");
    assert_eq!(req.query_params.get("limit"), Some(&QueryValue::from("2")));
    assert!(
        !req.headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization")),
        "{:?}",
        req.headers
    );
    assert_eq!(cassette.auth_config["api_key"], format!("${{{ENV_VAR}}}"));
    assert_eq!(cassette.auth_scheme.as_deref(), Some("bearerAuth"));
    let resp = &cassette.captured_response;
    assert_eq!(resp.status_code, 200);
    assert_eq!(resp.headers["set-cookie"], REDACTED);
    assert_eq!(resp.headers["x-request-id"], "req_42");
    assert_eq!(resp.body["debug"]["seen_key"], REDACTED);
    assert_eq!(
        resp.body["debug"]["note"],
        format!("called with {REDACTED}")
    );
    assert_eq!(resp.body["data"][1]["id"], "cus_2");

    let file = temp_file("list");
    cassette.save(&file).unwrap();
    let yaml = std::fs::read_to_string(&file).unwrap();
    assert!(!yaml.contains(SECRET), "secret in saved cassette:\n{yaml}");
    assert!(
        !yaml.contains("FAKEcassette"),
        "secret fragment in cassette"
    );
    let loaded = Cassette::load(&file).unwrap();
    std::fs::remove_file(&file).ok();
    assert_eq!(loaded, cassette, "save/load round trip");

    let report = Replay::run(&loaded, &CONN, env).await.unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
    assert_eq!(report.requests, 1);
    let replayed = report.result.unwrap();
    assert_eq!(replayed.kind, live.kind);
    assert_eq!(replayed.data, live.data);
    assert_eq!(replayed.data[0]["email"], "a@example.com");
}

#[tokio::test]
async fn create_body_recorded_and_compared() {
    let up = upstream().await;
    let params = json!({"name": "Ada", "email": "ada@example.com"});
    let (live, cassette) = record(&up, "customers", "create", params, SECRET).await;
    let live = live.unwrap();
    let cassette = cassette.unwrap();
    assert_eq!(cassette.captured_request.method, "POST");
    assert_eq!(
        cassette.captured_request.body,
        json!({"name": "Ada", "email": "ada@example.com"})
    );
    assert_eq!(cassette.captured_response.body["access_token"], REDACTED);

    let loaded = Cassette::from_yaml(&cassette.to_yaml().unwrap()).unwrap();
    let report = Replay::run(&loaded, &CONN, env).await.unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
    let replayed = report.result.unwrap();
    assert_eq!(replayed.data["id"], live.data["id"]);
    assert_eq!(replayed.data["access_token"], REDACTED);

    let mut changed = loaded.clone();
    changed.inputs.params = json!({"name": "Bob", "email": "ada@example.com"});
    let report = Replay::run_with(&changed, &CONN, env, no_retries)
        .await
        .unwrap();
    assert_eq!(report.mismatches.len(), 1, "{:#?}", report.mismatches);
    let m = &report.mismatches[0];
    assert_eq!(m.role, RequestRole::Request);
    assert_eq!(m.field, "body.name");
    assert_eq!(m.expected, "\"Ada\"");
    assert_eq!(m.actual, "\"Bob\"");
}

#[tokio::test]
async fn binary_two_step_download_round_trips() {
    let up = upstream().await;
    let (live, cassette) = record(&up, "files", "download", json!({"id": "f1"}), SECRET).await;
    let live = live.unwrap();
    let cassette = cassette.unwrap();
    assert_eq!(cassette.captured_request.path, "/v1/files/f1");
    let file_req = cassette.captured_file_request.as_ref().unwrap();
    assert_eq!(file_req.path, "/blobs/f1.bin");
    assert_eq!(
        file_req.url.as_deref(),
        Some(format!("{}/blobs/f1.bin", up.uri()).as_str())
    );
    let file_resp = cassette.captured_file_response.as_ref().unwrap();
    assert_eq!(file_resp.body["_binary"], true);
    // The metadata response keeps the upstream's own URL.
    assert_eq!(
        cassette.captured_response.body["download_url"],
        format!("{}/blobs/f1.bin", up.uri())
    );

    let file = temp_file("download");
    cassette.save(&file).unwrap();
    let yaml = std::fs::read_to_string(&file).unwrap();
    assert!(yaml.contains("_base64"), "{yaml}");
    let loaded = Cassette::load(&file).unwrap();
    std::fs::remove_file(&file).ok();
    assert_eq!(loaded, cassette);

    // The upstream is gone: replay is offline.
    drop(up);
    let report = Replay::run(&loaded, &CONN, env).await.unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
    assert_eq!(report.requests, 2);
    let replayed = report.result.unwrap();
    assert_eq!(replayed.kind, ResultKind::Download);
    assert_eq!(replayed.data, live.data);
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(replayed.data["content_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, binary_payload());
}
