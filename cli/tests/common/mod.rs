//! Helpers shared by the CLI test binaries.
#![allow(dead_code)]

use airbyte_agent_runtime::serde_json::{self, Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Airbyte's API as hosted mode uses it: one application token (`app_token`, fetched once) and
/// `calls` execute calls on `connector_id` answering `result`.
pub async fn airbyte_api(connector_id: &str, result: Value, calls: u64) -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/account/applications/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "app_token", "expires_in": 900})),
        )
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/v1/integrations/connectors/{connector_id}/execute"
        )))
        .and(header("authorization", "Bearer app_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "result": result })))
        .expect(calls)
        .mount(&api)
        .await;
    api
}

/// The JSON bodies of the execute calls `api` received, in order.
pub async fn execute_bodies(api: &MockServer) -> Vec<Value> {
    api.received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|r| r.url.path().ends_with("/execute"))
        .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
        .collect()
}
