//! Fault injection against hand-rolled loopback servers: every scenario ends in a correct
//! recovery or a typed error, never a panic, never a hang past the configured timeouts, never a
//! duplicated write.
//!
//! One test binary, one module per kind of fault; the scripted server is in `server`, the
//! descriptors and client settings the modules share are here.

#[path = "../common/mod.rs"]
mod common;

mod bodies;
mod network;
mod oauth;
mod redirects;
mod retries;
mod server;

use std::time::Duration;

use airbyte_agent_runtime::*;
use common::*;
use serde::Deserialize;
use server::response;

/// Every scenario must finish well within this.
const LIMIT: Duration = Duration::from_secs(20);

const LIST_OP: OperationDescriptor = OperationDescriptor {
    response: ResponseDescriptor {
        record_extractor: Some("$.data"),
        meta_extractor: &[("has_more", "$.has_more")],
        ..RESPONSE
    },
    ..op("items", "list", ActionKind::List, Method::Get, "/items")
};
const CREATE_OP: OperationDescriptor = OperationDescriptor {
    params: &[body("name", ValueKind::String)],
    body: BodyDescriptor::Json,
    ..op(
        "items",
        "create",
        ActionKind::Create,
        Method::Post,
        "/items",
    )
};
static OPS: &[OperationDescriptor] = &[LIST_OP, CREATE_OP];
static LIST: &OperationDescriptor = &OPS[0];
static ENTITIES: &[EntityDescriptor] = &[EntityDescriptor {
    name: "items",
    description: "",
    operations: OPS,
}];
static CONN: ConnectorDescriptor = connector(std::slice::from_ref(&BEARER), ENTITIES);

static API_KEY: AuthSchemeDescriptor = AuthSchemeDescriptor {
    fields: &[field("key", true)],
    mapping: &[("api_key", "${key}")],
    ..scheme(
        "apikey",
        AuthKind::ApiKeyHeader {
            header: "X-Api-Key",
        },
    )
};
static API_KEY_CONN: ConnectorDescriptor = connector(std::slice::from_ref(&API_KEY), ENTITIES);

static OAUTH: AuthSchemeDescriptor = AuthSchemeDescriptor {
    fields: &[
        field("client_id", false),
        field("client_secret", false),
        field("refresh_token", true),
        field("access_token", false),
    ],
    ..scheme(
        "oauth",
        AuthKind::OAuth2(oauth2("https://auth.example.invalid/token")),
    )
};
static OAUTH_CONN: ConnectorDescriptor = connector(std::slice::from_ref(&OAUTH), ENTITIES);

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Item {
    id: String,
    created: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
#[allow(dead_code)]
struct ListMeta {
    has_more: Option<bool>,
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_secs(3))
}

fn client_for(d: &'static ConnectorDescriptor, creds: Credentials, url: &str) -> Client {
    Client::builder(d, creds)
        .base_url(url)
        .retry_policy(fast_retries())
        .timeout(Duration::from_millis(400))
        .connect_timeout(Duration::from_millis(400))
        .build()
        .expect("client builds")
}

fn ok_page() -> Vec<u8> {
    response(
        "200 OK",
        &[],
        br#"{"data":[{"id":"a","created":1},{"id":"b","created":2}],"has_more":false}"#,
    )
}

async fn list(c: &Client) -> Result<Page<Item, ListMeta>> {
    c.call_list::<Item, ListMeta>(LIST, Params::new()).await
}

/// Run a scenario under the global time limit.
async fn bounded<F: std::future::Future<Output = T>, T>(f: F) -> T {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("scenario exceeded its time limit")
}
