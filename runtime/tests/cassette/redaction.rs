//! Redaction: a secret no rule recognises is refused, a query auth param is redacted and still
//! replays, secret-shaped values are redacted anywhere (look-alikes are kept).

use airbyte_agent_runtime::cassette::{
    CassetteError, QueryValue, REDACTED, RecordedCall, Recorder, Replay,
};
use airbyte_agent_runtime::*;
use serde_json::json;
use wiremock::matchers::{method, path as wpath, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;
use crate::{LIST_PARAMS, SECRET, record};

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
