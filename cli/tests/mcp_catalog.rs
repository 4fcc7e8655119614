//! The MCP server's own tools surface, as rmcp's client sees it over stdio: `connector_info`
//! (an entity's actions, parameters and record fields, without a request to the API) and
//! `tools/list` pages with cursors.
#![cfg(feature = "stripe")]

mod common;

use airbyte_agent_runtime::serde_json::{Value, json};
use common::{
    McpClient as Client, legacy_client, mcp_stripe_double, run_cli, stateless_client, stripe_env,
};
use rmcp::model::{CallToolRequestParams, CallToolResult, ErrorCode, PaginatedRequestParams};
use rmcp::service::ServiceError;

async fn info(client: &Client, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object");
    };
    client
        .call_tool(CallToolRequestParams::new("connector_info").with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("tools/call connector_info failed: {e}"))
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn structured(r: &CallToolResult) -> Value {
    assert_ne!(r.is_error, Some(true), "{r:?}");
    r.structured_content
        .clone()
        .unwrap_or_else(|| panic!("no structuredContent: {r:?}"))
}

/// The entry of `action` in an entity description.
fn action<'a>(entity: &'a Value, action: &str) -> &'a Value {
    entity["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["action"] == action))
        .unwrap_or_else(|| panic!("no action {action} in {entity}"))
}

#[tokio::test]
async fn connector_info_describes_entities_actions_parameters_and_fields() {
    let server = mcp_stripe_double().await;
    let client = legacy_client(&["mcp", "--connector", "stripe"], &stripe_env(&server)).await;

    let tools = client.list_all_tools().await.expect("tools/list");
    let info_tool = tools
        .iter()
        .find(|t| t.name == "connector_info")
        .expect("connector_info is listed");
    assert_eq!(
        info_tool
            .annotations
            .as_ref()
            .and_then(|a| a.read_only_hint),
        Some(true)
    );
    assert_eq!(
        info_tool.input_schema["properties"]["connector"]["enum"],
        json!(["stripe"])
    );
    let customers_list = tools
        .iter()
        .find(|t| t.name == "customers_list")
        .expect("customers_list");

    // The overview: every entity with its actions.
    let overview = structured(&info(&client, json!({})).await);
    assert_eq!(overview["connectors"][0]["name"], "stripe");
    let entities = overview["connectors"][0]["entities"]
        .as_array()
        .expect("entities");
    let customers = entities
        .iter()
        .find(|e| e["name"] == "customers")
        .expect("customers entity");
    let actions = customers["actions"].as_array().expect("actions");
    assert!(
        actions.contains(&json!("list")) && actions.contains(&json!("get")),
        "{customers}"
    );

    // One entity: the tool of each action, its parameters (the schema the tool validates
    // against) and the record fields.
    let r = info(
        &client,
        json!({"connector": "stripe", "entity": "customers"}),
    )
    .await;
    let entity = structured(&r);
    assert_eq!(entity["entity"], "customers");
    let list = action(&entity, "list");
    assert_eq!(list["call"]["tool"], "customers_list");
    assert_eq!(list["read_only"], true);
    assert_eq!(
        Value::Object((*customers_list.input_schema).clone()),
        list["parameters"],
        "connector_info shows the schema tools/list declares"
    );
    assert!(list["parameters"]["properties"]["limit"].is_object());
    let delete = action(&entity, "delete");
    assert_eq!(delete["destructive"], true, "{delete}");
    let fields = entity["fields"].as_object().expect("record fields");
    for field in ["id", "email", "created"] {
        assert!(fields.contains_key(field), "{field} missing: {fields:?}");
    }
    let summary = text(&r);
    assert!(
        summary.contains("list (customers_list)") && summary.contains("email"),
        "{summary}"
    );

    // Mistakes are tool errors that name the valid choices.
    let r = info(&client, json!({"entity": "customer"})).await;
    assert_eq!(r.is_error, Some(true), "{r:?}");
    assert!(text(&r).contains("customers"), "{}", text(&r));
    let r = info(&client, json!({"connector": "github"})).await;
    assert_eq!(r.is_error, Some(true), "{r:?}");
    assert!(
        text(&r).contains("Served connectors: stripe"),
        "{}",
        text(&r)
    );
    let r = info(&client, json!({"entity": 3})).await;
    assert_eq!(r.is_error, Some(true), "{r:?}");

    // Describing sends nothing to the API.
    let received = server.received_requests().await.unwrap_or_default();
    assert!(received.is_empty(), "{received:?}");
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn connector_info_names_the_combined_tool_when_that_is_what_runs_an_action() {
    let server = mcp_stripe_double().await;
    let client = stateless_client(
        &["mcp", "--connector", "stripe", "--tools", "combined"],
        &stripe_env(&server),
    )
    .await;
    let entity = structured(&info(&client, json!({"entity": "customers"})).await);
    let call = &action(&entity, "list")["call"];
    assert_eq!(call["tool"], "stripe_execute", "{call}");
    assert_eq!(call["arguments"]["entity"], "customers");
    assert_eq!(call["arguments"]["action"], "list");
    // ... and that call works as described.
    let mut arguments = call["arguments"].as_object().cloned().unwrap_or_default();
    arguments.insert("params".into(), json!({"limit": 2}));
    let r = client
        .call_tool(CallToolRequestParams::new("stripe_execute").with_arguments(arguments))
        .await
        .expect("tools/call");
    assert_eq!(structured(&r)["data"][0]["id"], "cus_A");
    client.cancel().await.expect("close");
}

/// Every page of `tools/list`, following `nextCursor` by hand.
async fn pages(client: &Client) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = cursor
            .take()
            .map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
        let page = client.list_tools(params).await.expect("tools/list page");
        out.push(page.tools.iter().map(|t| t.name.to_string()).collect());
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return out,
        }
        assert!(out.len() < 100, "tools/list does not end");
    }
}

#[tokio::test]
async fn tools_list_is_paged_with_cursors_and_refuses_foreign_ones() {
    let server = mcp_stripe_double().await;
    let args = ["mcp", "--connector", "stripe", "--tools", "both"];

    // Default page size: one connector is one page.
    let whole = legacy_client(&args, &stripe_env(&server)).await;
    let one = pages(&whole).await;
    assert_eq!(one.len(), 1, "one page by default");
    let all = one.concat();
    assert!(all.len() > 40 && all[0] == "connector_info", "{all:?}");
    whole.cancel().await.expect("close");

    // Pages of 10: every tool exactly once, in the same order, the last page short.
    let mut env = stripe_env(&server);
    env.push(("AIRBYTE_AGENT_MCP_PAGE_SIZE", "10".to_string()));
    for client in [
        legacy_client(&args, &env).await,
        stateless_client(&args, &env).await,
    ] {
        let paged = pages(&client).await;
        assert_eq!(paged.len(), all.len().div_ceil(10));
        assert!(paged.iter().all(|p| p.len() <= 10 && !p.is_empty()));
        assert_eq!(paged.concat(), all);
        // rmcp's own cursor-following helper agrees.
        let merged = client.list_all_tools().await.expect("list_all_tools");
        let merged: Vec<String> = merged.iter().map(|t| t.name.to_string()).collect();
        assert_eq!(merged, all);

        // A cursor this server did not issue is invalid params.
        for bad in ["garbage", "10.0000000000000000", "5"] {
            let params = PaginatedRequestParams::default().with_cursor(Some(bad.to_string()));
            let e = client.list_tools(Some(params)).await.expect_err(bad);
            match e {
                ServiceError::McpError(d) => {
                    assert_eq!(d.code, ErrorCode::INVALID_PARAMS, "{bad}: {}", d.message)
                }
                other => panic!("{bad}: expected a JSON-RPC error, got {other}"),
            }
        }
        client.cancel().await.expect("close");
    }
}

#[tokio::test]
async fn an_unusable_page_size_is_a_configuration_error() {
    let out = run_cli(
        &["mcp", "--connector", "stripe"],
        &[("AIRBYTE_AGENT_MCP_PAGE_SIZE", "0")],
    )
    .await;
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(
        out.stderr.contains("AIRBYTE_AGENT_MCP_PAGE_SIZE"),
        "{}",
        out.stderr
    );
}
