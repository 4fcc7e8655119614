//! Auth injection and OAuth2 refresh against a local server.
//!
//! One test binary, one module per topic; the `me` endpoint, the bearer connector and the
//! header readers the modules share are here.

#[path = "../common/mod.rs"]
mod common;

mod oauth_refresh;
mod schemes;
mod secrets;

use airbyte_agent_runtime::*;
use base64::Engine as _;
use common::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

static GET_ME: OperationDescriptor = op("me", "get", ActionKind::Get, Method::Get, "/me");
static ENTITIES: &[EntityDescriptor] = &[EntityDescriptor {
    name: "me",
    description: "",
    operations: std::slice::from_ref(&GET_ME),
}];

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"})))
        .mount(&server)
        .await;
    server
}

async fn auth_header(server: &MockServer, name: &str) -> Option<String> {
    let reqs = server.received_requests().await.unwrap_or_default();
    reqs.last()
        .and_then(|r| r.headers.get(name))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

static BEARER_CONN: ConnectorDescriptor = connector(std::slice::from_ref(&BEARER), ENTITIES);
