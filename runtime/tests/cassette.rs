//! Cassettes: record real calls through the loopback proxy against a wiremock upstream, save,
//! load, and replay them through a real client against the loopback replay server.
#![cfg(feature = "cassette")]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use airbyte_agent_runtime::cassette::{
    Cassette, CassetteError, QueryValue, REDACTED, RecordedCall, Recorder, Replay, RequestRole,
};
use airbyte_agent_runtime::*;
use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path as wpath, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A fake secret shaped like a Stripe test key (so value-shape redaction applies too).
const SECRET: &str = "sk_test_FAKEcassette0123456789abcdef";
const ENV_VAR: &str = "CASSETTE_TEST_API_KEY";

static LIST_PARAMS: &[ParamDescriptor] = &[
    query("limit", ValueKind::Integer),
    query("email", ValueKind::String),
];
static CREATE_PARAMS: &[ParamDescriptor] = &[
    body("name", ValueKind::String),
    body("email", ValueKind::String),
];

static CONN: ConnectorDescriptor = ConnectorDescriptor {
    base_url: "https://api.example.invalid/v1",
    entities: &[
        EntityDescriptor {
            name: "customers",
            description: "",
            operations: &[
                OperationDescriptor {
                    params: LIST_PARAMS,
                    response: ResponseDescriptor {
                        record_extractor: Some("$.data"),
                        ..RESPONSE
                    },
                    ..op(
                        "customers",
                        "list",
                        ActionKind::List,
                        Method::Get,
                        "/customers",
                    )
                },
                OperationDescriptor {
                    params: CREATE_PARAMS,
                    body: BodyDescriptor::Json,
                    ..op(
                        "customers",
                        "create",
                        ActionKind::Create,
                        Method::Post,
                        "/customers",
                    )
                },
            ],
        },
        EntityDescriptor {
            name: "files",
            description: "",
            operations: &[OperationDescriptor {
                params: &[common::path("id")],
                response: ResponseDescriptor {
                    file_url: Some("download_url"),
                    ..RESPONSE
                },
                ..op(
                    "files",
                    "download",
                    ActionKind::Download,
                    Method::Get,
                    "/files/{id}",
                )
            }],
        },
    ],
    ..connector(std::slice::from_ref(&BEARER), &[])
};

fn creds(secret: &str) -> Credentials {
    Credentials::new("bearerAuth").set("api_key", secret.to_string())
}

fn env(var: &str) -> Option<String> {
    (var == ENV_VAR).then(|| SECRET.to_string())
}

fn no_retries(b: ClientBuilder) -> ClientBuilder {
    b.retry_policy(RetryPolicy::none())
}

fn temp_file(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "airbyte-cassette-{}-{}-{name}.yaml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// The upstream: answers only requests carrying the bearer secret.
async fn upstream() -> MockServer {
    let s = MockServer::start().await;
    let auth = format!("Bearer {SECRET}");
    Mock::given(method("GET"))
        .and(wpath("/v1/customers"))
        .and(query_param("limit", "2"))
        .and(header("authorization", auth.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("set-cookie", "session=abc123; HttpOnly")
                .insert_header("x-request-id", "req_42")
                .set_body_json(json!({
                    "data": [
                        {"id": "cus_1", "email": "a@example.com"},
                        {"id": "cus_2", "email": "b@example.com"}
                    ],
                    "has_more": false,
                    // An upstream that echoes the caller's key back.
                    "debug": {"seen_key": SECRET, "note": format!("called with {SECRET}")}
                })),
        )
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(wpath("/v1/customers"))
        .and(header("authorization", auth.as_str()))
        .and(body_json(
            json!({"name": "Ada", "email": "ada@example.com"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "cus_3", "name": "Ada", "email": "ada@example.com",
            "access_token": "tok_live_issued_for_ada"
        })))
        .mount(&s)
        .await;
    let base = s.uri();
    Mock::given(method("GET"))
        .and(wpath("/v1/files/f1"))
        .and(header("authorization", auth.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "f1", "download_url": format!("{base}/blobs/f1.bin")})),
        )
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(wpath("/blobs/f1.bin"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/octet-stream")
                .set_body_bytes(binary_payload()),
        )
        .mount(&s)
        .await;
    s
}

fn binary_payload() -> Vec<u8> {
    (0u16..600).map(|i| (i * 7 % 256) as u8).collect()
}

/// Record `entity.action(params)` through a proxy in front of `upstream`.
async fn record(
    upstream: &MockServer,
    entity: &str,
    action: &str,
    params: Value,
    secret: &str,
) -> (Result<ExecuteResult>, Result<Cassette, CassetteError>) {
    let recorder = Recorder::start(upstream.uri()).await.unwrap();
    let client =
        no_retries(Client::builder(&CONN, creds(secret)).base_url(recorder.client_base_url(&CONN)))
            .build()
            .unwrap();
    let result = client.execute(entity, action, params.clone()).await;
    let call = RecordedCall::new(format!("{entity}_{action}"), entity, action, params)
        .auth_env("api_key", ENV_VAR);
    (result, recorder.cassette(&call, &creds(secret)))
}

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
async fn changed_param_is_reported_precisely() {
    let up = upstream().await;
    let (_, cassette) = record(&up, "customers", "list", json!({"limit": 2}), SECRET).await;
    let mut cassette = cassette.unwrap();
    cassette.inputs.params = json!({"limit": 3, "email": "x@example.com"});
    let report = Replay::run_with(&cassette, &CONN, env, no_retries)
        .await
        .unwrap();
    let mut got: Vec<String> = report.mismatches.iter().map(|m| m.to_string()).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "request #0 vs captured_request.query_params.email: expected (absent), got `x@example.com`",
            "request #0 vs captured_request.query_params.limit: expected `2`, got `3`",
        ],
        "{:#?}",
        report.mismatches
    );
    // The captured response is still served.
    assert_eq!(report.result.unwrap().data[0]["id"], "cus_1");
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
async fn replay_checks_method_path_and_captured_headers() {
    let up = upstream().await;
    let (_, cassette) = record(&up, "customers", "list", json!({"limit": 2}), SECRET).await;
    let mut c = cassette.unwrap();
    c.captured_request.path = "/v1/clients".into();
    c.captured_request
        .headers
        .insert("X-Api-Version".into(), "2024-10-15".into());
    // Ignored headers are never compared.
    c.captured_request
        .headers
        .insert("User-Agent".into(), "python-httpx/0.27".into());
    let report = Replay::run_with(&c, &CONN, env, no_retries).await.unwrap();
    let fields: Vec<&str> = report.mismatches.iter().map(|m| m.field.as_str()).collect();
    assert_eq!(
        fields,
        ["path", "headers.x-api-version"],
        "{:#?}",
        report.mismatches
    );
    assert_eq!(report.mismatches[0].actual, "`/v1/customers`");
    assert_eq!(report.mismatches[1].actual, "(absent)");
}

#[tokio::test]
async fn secret_not_matching_any_shape_is_refused() {
    // A plain secret the redaction rules cannot recognise, echoed by the upstream.
    let plain = "plainvalue-not-shaped-9731";
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wpath("/v1/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [], "message": format!("hello {plain}")
        })))
        .mount(&s)
        .await;
    let (live, cassette) = record(&s, "customers", "list", json!({"limit": 2}), plain).await;
    live.unwrap();
    let err = cassette.unwrap_err();
    match &err {
        CassetteError::SecretLeak { field, location } => {
            assert_eq!(field, "api_key");
            assert_eq!(location, "captured_response.body");
        }
        other => panic!("expected SecretLeak, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(!msg.contains(plain), "{msg}");
    assert!(
        msg.contains("api_key") && msg.contains("captured_response.body"),
        "{msg}"
    );
}

#[tokio::test]
async fn secret_in_a_query_auth_param_is_redacted_and_replays() {
    static QUERY_KEY: AuthSchemeDescriptor = AuthSchemeDescriptor {
        fields: &[field("api_key", true)],
        mapping: &[("api_key", "${api_key}")],
        ..scheme("apiKeyQuery", AuthKind::ApiKeyQuery { name: "api_key" })
    };
    static QCONN: ConnectorDescriptor = ConnectorDescriptor {
        base_url: "https://api.example.invalid/v1",
        entities: &[EntityDescriptor {
            name: "customers",
            description: "",
            operations: &[OperationDescriptor {
                params: LIST_PARAMS,
                ..op(
                    "customers",
                    "list",
                    ActionKind::List,
                    Method::Get,
                    "/customers",
                )
            }],
        }],
        ..connector(std::slice::from_ref(&QUERY_KEY), &[])
    };
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wpath("/v1/customers"))
        .and(query_param("api_key", "k-123-plain-query-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&s)
        .await;
    let creds =
        Credentials::new("apiKeyQuery").set("api_key", "k-123-plain-query-secret".to_string());
    let recorder = Recorder::start(s.uri()).await.unwrap();
    let client = Client::builder(&QCONN, creds.clone())
        .base_url(recorder.client_base_url(&QCONN))
        .build()
        .unwrap();
    client
        .execute("customers", "list", json!({"limit": 2}))
        .await
        .unwrap();
    let call = RecordedCall::new("q", "customers", "list", json!({"limit": 2}));
    let cassette = recorder.cassette(&call, &creds).unwrap();
    assert_eq!(
        cassette.captured_request.query_params.get("api_key"),
        Some(&QueryValue::from(REDACTED))
    );
    // Fields without an explicit variable get their upper-cased name.
    assert_eq!(cassette.auth_config["api_key"], "${API_KEY}");
    let yaml = cassette.to_yaml().unwrap();
    assert!(!yaml.contains("k-123-plain-query-secret"), "{yaml}");
    // On replay a redacted value matches whatever the client sends.
    let report = Replay::run(&cassette, &QCONN, |v| {
        (v == "API_KEY").then(|| "another-key-on-replay".to_string())
    })
    .await
    .unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
}

const REFERENCE_LAYOUT: &str = r#"
test_name: customers_list_basic
description: Lists two customers
entity: customers
action: list
auth_config:
  api_key: ${CASSETTE_TEST_API_KEY}
auth_scheme: bearerAuth
inputs:
  params:
    limit: 2
captured_request:
  method: GET
  path: /v1/customers
  query_params:
    limit: "2"
  headers:
    User-Agent: python-httpx/0.27.0
  body: null
  validation:
    query_params_strict: true
    headers_strict: false
    body_strict: true
    ignore_headers:
      - User-Agent
      - Accept-Encoding
      - Date
captured_response:
  status_code: 200
  headers:
    Content-Type: application/json
    X-Ratelimit-Remaining: 99
  body:
    data:
      - id: cus_9
        email: nine@example.com
    has_more: false
recorded_with: airbyte-agent-sdk 0.1.380
"#;

#[tokio::test]
async fn reference_layout_loads_and_replays() {
    let c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    assert_eq!(c.test_name, "customers_list_basic");
    assert_eq!(c.captured_response.headers["X-Ratelimit-Remaining"], "99");
    assert!(c.captured_request.validation.query_params_strict);
    let report = Replay::run(&c, &CONN, env).await.unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
    assert_eq!(
        report.result.unwrap().data,
        json!([{"id": "cus_9", "email": "nine@example.com"}])
    );

    // Minimal layout: validation defaults, no headers, no description.
    let minimal = "test_name: t\nentity: customers\naction: list\ninputs: {params: {limit: 5}}\n\
        auth_config: {api_key: \"${CASSETTE_TEST_API_KEY}\"}\n\
        captured_request: {method: GET, path: /v1/customers, query_params: {limit: 5}}\n\
        captured_response: {status_code: 200, body: {data: []}}\n";
    let c = Cassette::from_yaml(minimal).unwrap();
    assert!(c.captured_request.validation.body_strict);
    assert_eq!(c.captured_request.validation.ignore_headers.len(), 3);
    let report = Replay::run(&c, &CONN, env).await.unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
    assert_eq!(report.result.unwrap().data, json!([]));
}

#[tokio::test]
async fn literal_secret_and_missing_env_are_clear_errors() {
    let literal =
        REFERENCE_LAYOUT.replace("${CASSETTE_TEST_API_KEY}", "sk_live_pasted_by_mistake_123");
    let err = Cassette::from_yaml(&literal).unwrap_err();
    assert!(matches!(err, CassetteError::LiteralSecret { ref field, .. } if field == "api_key"));
    let msg = err.to_string();
    assert!(
        msg.contains("auth_config.api_key") && msg.contains("${"),
        "{msg}"
    );
    assert!(!msg.contains("sk_live_pasted"), "{msg}");

    // Built in code, the literal is refused on replay too, before anything is sent.
    let mut c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    c.auth_config
        .insert("api_key".into(), "plain-literal-key".into());
    let err = Replay::run(&c, &CONN, env).await.unwrap_err();
    assert!(
        matches!(err, CassetteError::LiteralSecret { .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("plain-literal-key"));

    let c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    let err = Replay::run(&c, &CONN, |_| None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable `CASSETTE_TEST_API_KEY` (auth_config.api_key) is not set"
    );
}

#[tokio::test]
async fn load_errors_name_the_file_and_the_problem() {
    let file = temp_file("bad");
    std::fs::write(&file, "test_name: t\nentity: customers\naction: list\n").unwrap();
    let err = Cassette::load(&file).unwrap_err().to_string();
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("captured_request"), "{err}");

    std::fs::write(
        &file,
        REFERENCE_LAYOUT.replace("status_code: 200", "status_code: 2000"),
    )
    .unwrap();
    let err = Cassette::load(&file).unwrap_err().to_string();
    assert!(err.contains("captured_response.status_code"), "{err}");
    std::fs::remove_file(&file).ok();

    let err = Cassette::load(temp_file("missing")).unwrap_err();
    assert!(matches!(err, CassetteError::Io { .. }), "{err:?}");
    let err = Cassette::from_yaml("captured_request: [unclosed").unwrap_err();
    assert!(matches!(err, CassetteError::Invalid { .. }), "{err:?}");
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

#[tokio::test]
async fn replay_runs_the_clients_retry_loop() {
    let mut c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    c.captured_response.status_code = 503;
    c.captured_response.body = json!({"error": {"message": "try later"}});
    let report = Replay::run_with(&c, &CONN, env, |b| {
        b.retry_policy(
            RetryPolicy::new()
                .max_attempts(3)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
    })
    .await
    .unwrap();
    assert_eq!(report.requests, 3, "the client retried against the server");
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
    let err = report.result.unwrap_err();
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn request_never_sent_is_a_mismatch() {
    let c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    let mut bad = c.clone();
    bad.inputs.params = json!({"limit": "not a number"});
    let report = Replay::run(&bad, &CONN, env).await.unwrap();
    assert!(report.result.unwrap_err().is_validation());
    assert_eq!(report.requests, 0);
    assert_eq!(report.mismatches.len(), 1);
    assert_eq!(report.mismatches[0].field, "request");
    assert_eq!(report.mismatches[0].actual, "(not received)");
}

#[tokio::test]
async fn secret_shapes_are_redacted_anywhere() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ";
    let shaped = [
        "rk_live_0123456789abcdefXYZ",
        "whsec_0123456789abcdefXYZ",
        "ghp_0123456789abcdefghijABCDEFGHIJ",
        "gho_0123456789abcdefghijABCDEFGHIJ",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        "xoxb-1234567890-abcdefghij",
        "AIzaSyA-0123456789abcdefghijklmnopqrstu",
        "AKIAIOSFODNN7EXAMPLE",
        jwt,
    ];
    // Look-alikes that are not secrets stay.
    let plain = [
        "sk_1",
        "task_list_items",
        "ask_me_anything",
        "AKIA",
        "eyJ.short",
    ];
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wpath("/v1/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [],
            "shaped": shaped,
            "sentence": format!("token={} and more", shaped[5]),
            "plain": plain,
        })))
        .mount(&s)
        .await;
    let (_, cassette) = record(&s, "customers", "list", json!({"limit": 2}), SECRET).await;
    let c = cassette.unwrap();
    let body = &c.captured_response.body;
    for (i, token) in shaped.iter().enumerate() {
        assert_eq!(body["shaped"][i], REDACTED, "{token} not redacted");
    }
    assert_eq!(body["sentence"], format!("token={REDACTED} and more"));
    assert_eq!(body["plain"], json!(plain));
    let yaml = c.to_yaml().unwrap();
    for token in shaped {
        assert!(!yaml.contains(token), "{token} in\n{yaml}");
    }
}

#[tokio::test]
async fn relaxed_validation_flags_and_masked_mismatches() {
    let up = upstream().await;
    let params = json!({"name": "Ada", "email": "ada@example.com"});
    let (_, cassette) = record(&up, "customers", "create", params, SECRET).await;
    let mut c = cassette.unwrap();
    // Subset comparisons: extra body keys and query params are accepted.
    c.captured_request.body = json!({"name": "Ada"});
    c.captured_request.validation.body_strict = false;
    c.captured_request.validation.query_params_strict = false;
    c.inputs.params = json!({"name": "Ada", "email": "other@example.com"});
    let report = Replay::run_with(&c, &CONN, env, no_retries).await.unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);

    // Strict again: the extra key is reported.
    c.captured_request.validation.body_strict = true;
    let report = Replay::run_with(&c, &CONN, env, no_retries).await.unwrap();
    let fields: Vec<&str> = report.mismatches.iter().map(|m| m.field.as_str()).collect();
    assert_eq!(fields, ["body.email"], "{:#?}", report.mismatches);
    assert_eq!(report.mismatches[0].expected, "(absent)");

    // A captured auth header that differs: the mismatch never shows either value.
    c.captured_request.validation.body_strict = false;
    c.captured_request
        .headers
        .insert("Authorization".into(), "Bearer sk_test_other".into());
    let report = Replay::run_with(&c, &CONN, env, no_retries).await.unwrap();
    assert_eq!(report.mismatches.len(), 1, "{:#?}", report.mismatches);
    let m = &report.mismatches[0];
    assert_eq!(
        (m.field.as_str(), m.expected.as_str(), m.actual.as_str()),
        ("headers.authorization", "***", "***")
    );
    assert!(!m.to_string().contains(SECRET));
}
