//! The rig adapter end to end: a rig agent driven by a scripted completion model calls a
//! connector tool, the tool runs through the dispatcher and the client against a loopback mock
//! of the API, and the tool's result (or its error) reaches the model.
#![cfg(feature = "rig")]

mod common;

use std::sync::{Arc, Mutex};

use airbyte_agent_runtime::rig::{RigTools, tools, tools_with};
use airbyte_agent_runtime::tools::{Dispatcher, ToolOptions};
use airbyte_agent_runtime::*;
use common::*;
use rig_agent::AgentBuilder;
use rig_core::completion::{AssistantContent, CompletionRequest, CompletionResponse, Usage};
use rig_core::driver::{Exchange, Model, Opened, Opening, Transport};
use rig_core::error::ProviderError;
use rig_core::message::{Message, Origin, ToolCall, ToolFunction, ToolName, UserContent};
use rig_core::test_utils::{MOCK_API, MOCK_PROVIDER, MockFrame, MockScript};
use rig_core::tool::ToolErrorKind;
use rig_core::wire::Mode;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

static CUSTOMER_OPS: [OperationDescriptor; 2] = [
    OperationDescriptor {
        summary: "List customers",
        params: &[ParamDescriptor {
            schema: "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}",
            ..query("limit", ValueKind::Integer)
        }],
        response: ResponseDescriptor {
            record_extractor: Some("$.data"),
            meta_extractor: &[("has_more", "$.has_more")],
            ..RESPONSE
        },
        ..op(
            "customers",
            "list",
            ActionKind::List,
            Method::Get,
            "/v1/customers",
        )
    },
    OperationDescriptor {
        summary: "Get a customer",
        params: &[path("id")],
        ..op(
            "customers",
            "get",
            ActionKind::Get,
            Method::Get,
            "/v1/customers/{id}",
        )
    },
];
static ENTITIES: [EntityDescriptor; 1] = [EntityDescriptor {
    name: "customers",
    description: "Customers of the account.",
    operations: &CUSTOMER_OPS,
}];
static SCHEMES: [AuthSchemeDescriptor; 1] = [BEARER];
static CONNECTOR: ConnectorDescriptor = connector(&SCHEMES, &ENTITIES);

/// The completion model the agent talks to: rig's scripted wire over a transport of ours that
/// answers like a model would. Without a tool result in the conversation it calls `tool` with
/// `arguments`; once the request carries the tool result it answers with text. Every request
/// it receives is kept for the assertions.
#[derive(Clone)]
struct ScriptedModel {
    tool: &'static str,
    arguments: Value,
    requests: Arc<Mutex<Vec<CompletionRequest>>>,
}

const FINAL_TEXT: &str = "Here is what I found.";

impl ScriptedModel {
    fn new(tool: &'static str, arguments: Value) -> Self {
        ScriptedModel {
            tool,
            arguments,
            requests: Arc::default(),
        }
    }

    fn model(&self) -> Model<MockScript, ScriptedModel> {
        Model::new(MockScript::default(), self.clone())
    }

    fn requests(&self) -> Vec<CompletionRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The model's reply to `request`, as one whole response.
    fn answer(&self, request: &CompletionRequest) -> Opening<MockFrame> {
        let content = if tool_result(request).is_some() {
            AssistantContent::text(FINAL_TEXT)
        } else {
            match ToolName::new(self.tool) {
                Ok(name) => AssistantContent::ToolCall(ToolCall::from_wire(
                    "call_1",
                    ToolFunction::new(name, self.arguments.clone()),
                )),
                Err(e) => return Opening::failed(ProviderError::request(e.to_string())),
            }
        };
        let origin = Origin::new(MOCK_API, MOCK_PROVIDER, "scripted");
        let response =
            CompletionResponse::new(vec![content], Usage::default(), origin, Value::Null);
        Opening::ready(
            Opened::new(futures_util::stream::iter([Ok(MockFrame::Response(
                Box::new(response),
            ))]))
            .with_document(Value::Null),
        )
    }
}

impl Transport<MockScript> for ScriptedModel {
    fn send(&self, request: CompletionRequest, exchange: Exchange) -> Opening<MockFrame> {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request.clone());
        }
        if exchange.mode != Mode::Unary {
            return Opening::failed(ProviderError::request("the scripted model does not stream"));
        }
        self.answer(&request)
    }
}

/// The last tool result in a request's conversation.
fn tool_result(request: &CompletionRequest) -> Option<&rig_core::message::ToolResult> {
    request
        .chat_history
        .iter()
        .filter_map(|m| match m {
            Message::User { content } => Some(content),
            _ => None,
        })
        .flatten()
        .filter_map(|c| match c {
            UserContent::ToolResult(r) => Some(r),
            _ => None,
        })
        .next_back()
}

fn records() -> Value {
    json!([
        {"id": "cus_1", "email": "ada@example.com"},
        {"id": "cus_2", "email": "grace@example.com"}
    ])
}

/// Run one prompt through an agent holding the connector's rig tools; the agent's answer.
async fn run_agent(client: &Client, model: &ScriptedModel) -> String {
    let agent = AgentBuilder::new(model.model())
        .preamble("You look up customers.")
        .dynamic_tools(client.rig_tools())
        .build();
    match agent
        .prompt("Who are our first two customers?")
        .max_turns(3)
        .await
    {
        Ok(response) => response.output().to_string(),
        Err(e) => panic!("the agent run failed: {e:?}"),
    }
}

#[tokio::test]
async fn agent_calls_customers_list_and_the_result_reaches_the_model() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/v1/customers"))
        .and(query_param("limit", "2"))
        .and(header("authorization", "Bearer sk_test_secret_value"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"object": "list", "data": records(), "has_more": false})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&CONNECTOR, bearer_creds(), &server.uri());
    let model = ScriptedModel::new("customers_list", json!({"limit": 2}));

    let answer = run_agent(&client, &model).await;
    assert_eq!(answer, FINAL_TEXT);

    // The one HTTP request the tool sent.
    let received = server.received_requests().await.unwrap_or_default();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].url.path(), "/v1/customers");
    assert_eq!(received[0].url.query(), Some("limit=2"));

    // The model was offered the connector's tools, with the dispatcher's schemas.
    let requests = model.requests();
    assert_eq!(
        requests.len(),
        2,
        "one call for the tool call, one after its result"
    );
    let offered: Vec<&str> = requests[0].tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(offered, ["customers_list", "customers_get"]);
    let dispatcher = Dispatcher::new(client.clone());
    let list_schema = &dispatcher.tools().tools()[0].input_schema;
    assert_eq!(&requests[0].tools[0].parameters, list_schema);
    assert_eq!(list_schema["properties"]["limit"]["maximum"], json!(100));

    // The second model call carries the tool's successful result: the mock's records as JSON.
    let result = tool_result(&requests[1]).unwrap_or_else(|| panic!("no tool result sent"));
    assert_eq!(result.name.as_str(), "customers_list");
    assert!(!result.is_error);
    assert_eq!(result.content.len(), 1);
    let value = result.content[0]
        .as_json()
        .unwrap_or_else(|| panic!("the result is not JSON: {:?}", result.content));
    assert_eq!(value["data"], records());
    assert_eq!(value["meta"], json!({"has_more": false}));
}

#[tokio::test]
async fn an_api_error_reaches_the_model_as_an_error_tool_result() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/v1/customers/cus_missing"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"message": "No such customer"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&CONNECTOR, bearer_creds(), &server.uri());
    let model = ScriptedModel::new("customers_get", json!({"id": "cus_missing"}));

    // The agent run itself succeeds: the failure is a tool result the model answers.
    assert_eq!(run_agent(&client, &model).await, FINAL_TEXT);

    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    let result = tool_result(&requests[1]).unwrap_or_else(|| panic!("no tool result sent"));
    assert!(result.is_error, "{result:?}");
    let text = result.content[0].as_text().unwrap_or_default();
    assert!(text.contains("Check the identifier"), "{text}");
    assert!(!text.contains("sk_test_secret_value"), "{text}");
}

#[tokio::test]
async fn invalid_arguments_are_an_error_result_and_nothing_is_sent() {
    let server = MockServer::start().await;
    let client = client(&CONNECTOR, bearer_creds(), &server.uri());
    let model = ScriptedModel::new("customers_list", json!({"limit": "many"}));

    assert_eq!(run_agent(&client, &model).await, FINAL_TEXT);

    let received = server.received_requests().await.unwrap_or_default();
    assert!(received.is_empty(), "{received:?}");
    let requests = model.requests();
    let result = tool_result(&requests[1]).unwrap_or_else(|| panic!("no tool result sent"));
    assert!(result.is_error, "{result:?}");
    let text = result.content[0].as_text().unwrap_or_default();
    assert!(text.contains("limit"), "{text}");
}

#[tokio::test]
async fn tools_match_the_dispatcher_and_errors_keep_their_class() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/v1/customers/cus_gone"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "gone"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/v1/customers"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"message": "slow down"})))
        .mount(&server)
        .await;
    let client = Client::builder(&CONNECTOR, bearer_creds())
        .base_url(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));

    let plain = tools(&client);
    let dispatcher = Dispatcher::new(client.clone());
    assert_eq!(plain.len(), dispatcher.tools().tools().len());
    for (rig, ours) in plain.iter().zip(dispatcher.tools().tools()) {
        let definition = rig.definition();
        assert_eq!(definition.name.as_str(), ours.name);
        assert_eq!(definition.description, ours.description);
        assert_eq!(definition.parameters, ours.input_schema);
    }

    // Prefixed names and the combined tool come from the same options as the dispatcher's.
    let prefixed = tools_with(&client, ToolOptions::new().prefix("acme").combined(true));
    let names: Vec<String> = prefixed.iter().map(|t| t.name().to_string()).collect();
    assert_eq!(
        names,
        ["acme_customers_list", "acme_customers_get", "acme_execute"]
    );

    let get = &plain[1];
    let missing = get.execute(json!({"id": "cus_gone"})).await;
    let err = missing.err().unwrap_or_else(|| panic!("a 404 is an error"));
    assert_eq!(err.kind(), ToolErrorKind::NotFound);
    assert_eq!(err.retryable(), Some(false));

    let limited = plain[0].execute(json!({})).await;
    let err = limited.err().unwrap_or_else(|| panic!("a 429 is an error"));
    assert_eq!(err.kind(), ToolErrorKind::RateLimited);
    assert_eq!(err.retryable(), Some(true));

    let unknown = get.execute(json!("not an object")).await;
    let err = unknown
        .err()
        .unwrap_or_else(|| panic!("a string is no argument object"));
    assert_eq!(err.kind(), ToolErrorKind::InvalidArgs);
}

/// The README's "Use with rig" example is the module's first doctest, which compiles.
#[test]
fn readme_rig_example_is_the_compiled_doctest() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |p: &str| {
        std::fs::read_to_string(format!("{root}/{p}")).unwrap_or_else(|e| panic!("{p}: {e}"))
    };
    let readme = read("../README.md");
    let section = readme
        .split_once("## Use with rig\n")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("README has no `Use with rig` section"));
    let readme_code = section
        .split_once("```rust\n")
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .map(|(code, _)| code.to_string())
        .unwrap_or_else(|| panic!("no rust block in the `Use with rig` section"));

    let module = read("src/rig.rs");
    let docs: String = module
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    let doctest = docs
        .split_once("```no_run\n")
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .map(|(code, _)| code.to_string())
        .unwrap_or_else(|| panic!("no doctest in the rig module docs"));
    assert_eq!(readme_code, doctest);
}
