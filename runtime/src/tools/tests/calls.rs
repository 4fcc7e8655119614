//! The dispatcher against a loopback provider: calls, error wording, field selection and
//! the checks made before sending.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

#[tokio::test]
async fn dispatcher_runs_calls_and_explains_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/customers"))
        .and(query_param("limit", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "cus_1"}, {"id": "cus_2"}],
            "has_more": true
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/customers/missing"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"message": "No such customer"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/customers"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "bad key"}})),
        )
        .mount(&server)
        .await;
    let tools = Dispatcher::with_options(
        client(&server.uri()),
        ToolOptions::new().combined(true).max_output_chars(40),
    );

    let out = tools.call("customers_list", json!({"limit": 2})).await;
    assert!(!out.is_error, "{}", out.text);
    assert!(out.truncated);
    // A page over the limit is cut at a record boundary and stays valid JSON with its meta.
    let shown = out.value.as_ref().expect("the cut page");
    assert_eq!(shown["data"], json!([]), "no record fits in 40 characters");
    assert_eq!(shown["meta"]["has_more"], true);
    assert!(
        out.text
            .contains("[output truncated: showing 0 of 2 records"),
        "{}",
        out.text
    );
    let roomier = Dispatcher::with_options(
        client(&server.uri()),
        ToolOptions::new().max_output_chars(60),
    );
    let out = roomier.call("customers_list", json!({"limit": 2})).await;
    assert!(out.truncated, "{}", out.text);
    assert_eq!(
        out.value.as_ref().expect("cut page")["data"],
        json!([{"id": "cus_1"}])
    );
    assert!(out.text.contains("showing 1 of 2 records"), "{}", out.text);

    let unlimited = Dispatcher::new(client(&server.uri()));
    let out = unlimited
        .call_json(&json!({"name": "customers_list", "arguments": "{\"limit\": 2}"}))
        .await;
    assert!(!out.is_error && !out.truncated, "{}", out.text);
    let v: Value = serde_json::from_str(&out.text).expect("json result");
    assert_eq!(v["meta"]["has_more"], true);
    assert_eq!(v["data"][1]["id"], "cus_2");
    assert_eq!(
        out.value.as_ref(),
        Some(&v),
        "the value is what the text serialises"
    );

    let out = tools
        .call("customers_list", json!({"status": "pending"}))
        .await;
    assert_eq!(out.error_kind, Some(ToolErrorKind::InvalidArguments));
    assert!(out.text.contains("\"open\", \"closed\""), "{}", out.text);

    let out = tools.call("customers_list", json!({"limt": 2})).await;
    assert_eq!(out.error_kind, Some(ToolErrorKind::InvalidArguments));
    assert!(
        out.text.contains("limt") && out.text.contains("limit"),
        "{}",
        out.text
    );

    let out = tools.call("customers_get", json!({})).await;
    assert_eq!(out.error_kind, Some(ToolErrorKind::InvalidArguments));
    assert!(out.text.contains("get(id: string)"), "{}", out.text);

    let out = tools.call("customers_get", json!({"id": "missing"})).await;
    assert_eq!(out.error_kind, Some(ToolErrorKind::NotFound));
    assert!(out.text.contains("No such customer"), "{}", out.text);

    let out = tools
        .call(
            "customers_create",
            json!({"email": "a@b.c", "account": "acct_1"}),
        )
        .await;
    assert_eq!(out.error_kind, Some(ToolErrorKind::Auth));
    assert!(!out.text.contains("sk_secret_value"));

    let out = tools.call("customers_lst", json!({})).await;
    assert_eq!(out.error_kind, Some(ToolErrorKind::InvalidArguments));
    assert!(out.text.contains("customers_list"), "{}", out.text);

    let out = tools.call("customers_list", json!([1])).await;
    assert!(out.text.contains("must be a JSON object"), "{}", out.text);

    // Combined tool.
    let out = tools
        .call(
            "demo-shop_execute",
            json!({"entity": "customers", "action": "get", "params": {"id": "missing"}}),
        )
        .await;
    assert_eq!(out.error_kind, Some(ToolErrorKind::NotFound));
    let out = tools
        .call(
            "demo-shop_execute",
            json!({"entity": "custmers", "action": "list"}),
        )
        .await;
    assert!(out.text.contains("customers, invoices"), "{}", out.text);
    let out = tools
        .call(
            "demo-shop_execute",
            json!({"entity": "invoices", "action": "list"}),
        )
        .await;
    assert!(out.text.contains("search"), "{}", out.text);
    let out = tools
        .call("demo-shop_execute", json!({"entity": "invoices"}))
        .await;
    assert!(
        out.text
            .contains("`action` is required. Actions of `invoices`: search"),
        "{}",
        out.text
    );
    let out = tools
        .call(
            "demo-shop_execute",
            json!({"entity": "customers", "action": "list", "parameters": {}}),
        )
        .await;
    assert!(out.text.contains("unexpected `parameters`"), "{}", out.text);
}

#[tokio::test]
async fn the_combined_tool_selects_record_fields() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "cus_1", "email": "a@x", "address": {"city": "SF", "zip": "1"}}],
            "has_more": false
        })))
        .mount(&server)
        .await;
    let tools = Dispatcher::with_options(client(&server.uri()), ToolOptions::new().combined(true));
    let combined = tools
        .tools()
        .tools()
        .iter()
        .find(|t| matches!(t.target, ToolTarget::Combined))
        .expect("combined tool");
    let props = &combined.input_schema["properties"];
    assert_eq!(props["select_fields"]["items"]["type"], "string");
    assert_eq!(props["exclude_fields"]["type"], "array");
    let name = combined.name.clone();

    let out = tools
        .call(
            &name,
            json!({"entity": "customers", "action": "list",
                   "select_fields": ["id", "address.city"], "exclude_fields": ["id"]}),
        )
        .await;
    assert!(!out.is_error, "{}", out.text);
    let v: Value = serde_json::from_str(&out.text).expect("json result");
    assert_eq!(v["data"], json!([{"address": {"city": "SF"}}]));
    assert_eq!(v["meta"]["has_more"], false);

    for bad in [json!("id"), json!([1])] {
        let out = tools
            .call(
                &name,
                json!({"entity": "customers", "action": "list", "select_fields": bad}),
            )
            .await;
        assert_eq!(
            out.error_kind,
            Some(ToolErrorKind::InvalidArguments),
            "{}",
            out.text
        );
        assert!(out.text.contains("select_fields"), "{}", out.text);
    }
    let out = tools
        .call(
            &name,
            json!({"entity": "customers", "action": "list", "fields": ["id"]}),
        )
        .await;
    assert_eq!(out.error_kind, Some(ToolErrorKind::InvalidArguments));
    assert!(out.text.contains("select_fields"), "{}", out.text);
}

#[tokio::test]
async fn declared_constraints_are_checked_before_sending() {
    let server = MockServer::start().await;
    let tools = Dispatcher::with_options(client(&server.uri()), ToolOptions::new().combined(true));
    for bad in [0, 500, 1000] {
        let out = tools.call("customers_list", json!({ "limit": bad })).await;
        assert_eq!(
            out.error_kind,
            Some(ToolErrorKind::InvalidArguments),
            "{}",
            out.text
        );
        assert!(out.text.starts_with("`limit` must be at"), "{}", out.text);
        // The combined tool checks the same constraints.
        let out = tools
            .call(
                "demo-shop_execute",
                json!({"entity": "customers", "action": "list", "params": {"limit": bad}}),
            )
            .await;
        assert_eq!(
            out.error_kind,
            Some(ToolErrorKind::InvalidArguments),
            "{}",
            out.text
        );
    }
    let out = tools.call("customers_list", json!({"limit": null})).await;
    assert_eq!(out.error_kind, Some(ToolErrorKind::InvalidArguments));
    assert!(out.text.contains("must not be null"), "{}", out.text);
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing was sent"
    );
    // A nullable parameter takes null.
    let out = tools.call("customers_list", json!({"status": null})).await;
    assert_ne!(
        out.error_kind,
        Some(ToolErrorKind::InvalidArguments),
        "{}",
        out.text
    );
}
