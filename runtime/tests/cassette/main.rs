//! Cassettes: record real calls through the loopback proxy against a wiremock upstream, save,
//! load, and replay them through a real client against the loopback replay server.
//!
//! One test binary, one module per topic; the connector, the upstream, the recording helper and
//! the reference layout the modules share are here.
#![cfg(feature = "cassette")]

#[path = "../common/mod.rs"]
mod common;

mod loading;
mod mismatches;
mod record_replay;
mod redaction;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use airbyte_agent_runtime::cassette::{Cassette, CassetteError, RecordedCall, Recorder};
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
