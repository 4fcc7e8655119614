//! Every tool schema of the compiled-in connectors is a valid draft 2020-12 schema, and a sample
//! call built from each schema passes both the schema and the runtime's own validation.

use airbyte_agent_runtime::serde_json::{Map, Value, json};
use airbyte_agent_runtime::tools::{
    ConnectorTools, Dispatcher, ToolErrorKind, ToolOptions, ToolTarget,
};
use airbyte_agent_runtime::{AuthKind, Client, ConnectorDescriptor, Credentials, RetryPolicy};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

// The CLI's list of compiled-in connectors (the shared registry): the default build tests the
// four starter connectors, `--features all-connectors` (run by CI) tests every one.
fn connectors() -> Vec<&'static ConnectorDescriptor> {
    let all = airbyte_agent_registry::connectors();
    assert!(!all.is_empty(), "no connector compiled in");
    all
}

/// A value satisfying `schema` (best effort for the keywords generated schemas use).
fn sample(schema: &Value, full: bool) -> Value {
    let Some(s) = schema.as_object() else {
        return Value::Null;
    };
    if let Some(d) = s.get("default") {
        return d.clone();
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(Value::Array(e)) = s.get("enum")
        && let Some(first) = e.iter().find(|v| !v.is_null()).or(e.first())
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(opts)) = s.get(key)
            && let Some(first) = opts.first()
        {
            return sample(first, full);
        }
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.contains_key("properties") => "object",
        _ => "string",
    };
    match ty {
        "string" => match s.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2024-01-02T03:04:05Z"),
            Some("date") => json!("2024-01-02"),
            Some("email") => json!("someone@example.com"),
            Some("byte") => json!("c2FtcGxl"),
            Some("uri") | Some("url") => json!("https://example.com/x"),
            _ => {
                let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(1) as usize;
                json!("x".repeat(min.max(6)).replacen("xxxxxx", "sample", 1))
            }
        },
        "integer" => {
            let min = s.get("minimum").and_then(Value::as_i64).unwrap_or(1);
            json!(
                min.max(1)
                    .min(s.get("maximum").and_then(Value::as_i64).unwrap_or(i64::MAX))
            )
        }
        "number" => json!(s.get("minimum").and_then(Value::as_f64).unwrap_or(1.5)),
        "boolean" => json!(true),
        "null" => Value::Null,
        "array" => {
            let n = s
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1);
            let item = s.get("items").cloned().unwrap_or(json!({}));
            Value::Array((0..n).map(|_| sample(&item, full)).collect())
        }
        _ => {
            let mut m = Map::new();
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(Value::Object(props)) = s.get("properties") {
                for (k, v) in props {
                    if full || required.contains(&k.as_str()) {
                        m.insert(k.clone(), sample(v, full));
                    }
                }
            }
            Value::Object(m)
        }
    }
}

fn credentials(d: &ConnectorDescriptor) -> Credentials {
    // Prefer options that never call a token endpoint.
    let scheme = d
        .auth_schemes
        .iter()
        .find(|s| s.kind.oauth2().is_none())
        .or(d.auth_schemes.first())
        .expect("connector has an auth option");
    let mut c = Credentials::for_scheme(scheme.key);
    for f in scheme.fields {
        c.insert(f.name, "test-credential".to_string());
    }
    if matches!(scheme.kind, AuthKind::Basic) {
        assert!(!scheme.fields.is_empty());
    }
    c
}

#[test]
fn every_schema_is_valid_draft_2020_12() {
    let mut checked = 0;
    for d in connectors() {
        let tools = ConnectorTools::with_options(d, ToolOptions::new().combined(true));
        assert!(
            tools.tools().len() > d.entities.len(),
            "{}: one tool per action plus the combined one",
            d.name
        );
        for t in tools.tools() {
            assert!(
                t.name.len() <= 128
                    && t.name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "bad tool name {}",
                t.name
            );
            assert!(!t.description.is_empty() && !t.description.contains("\n\n"));
            let s = &t.input_schema;
            assert_eq!(s["type"], "object", "{}", t.name);
            assert!(s["additionalProperties"].is_boolean(), "{}", t.name);
            if let Err(e) = jsonschema::draft202012::meta::validate(s) {
                panic!(
                    "{}.{}: not a draft 2020-12 schema: {e}\n{s}",
                    d.name, t.name
                );
            }
            if let Err(e) = jsonschema::draft202012::new(s) {
                panic!("{}.{}: schema does not compile: {e}", d.name, t.name);
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "checked only {checked} schemas");
    println!(
        "{checked} tool schemas of {} connectors",
        connectors().len()
    );
}

#[test]
fn samples_pass_the_schema() {
    for d in connectors() {
        let tools = ConnectorTools::with_options(d, ToolOptions::new().combined(true));
        for t in tools.tools() {
            let v = jsonschema::draft202012::new(&t.input_schema).expect("schema compiles");
            let samples = match t.target {
                ToolTarget::Action(_) => {
                    vec![
                        sample(&t.input_schema, false),
                        sample(&t.input_schema, true),
                    ]
                }
                _ => {
                    let e = d.entities[0].name;
                    let a = d.entities[0].operations[0].action;
                    vec![json!({"entity": e, "action": a, "params": {}})]
                }
            };
            for s in samples {
                let errors: Vec<String> = v.iter_errors(&s).map(|e| e.to_string()).collect();
                assert!(
                    errors.is_empty(),
                    "{}.{}: sample {s} fails its schema: {errors:?}",
                    d.name,
                    t.name
                );
            }
        }
        // The combined schema rejects actions an entity does not have.
        let combined = tools
            .tools()
            .iter()
            .find(|t| matches!(t.target, ToolTarget::Combined))
            .expect("combined tool");
        let v = jsonschema::draft202012::new(&combined.input_schema).expect("compiles");
        let e = d.entities.iter().find(|e| {
            d.entities
                .iter()
                .flat_map(|x| x.operations.iter())
                .any(|o| !e.operations.iter().any(|eo| eo.action == o.action))
        });
        if let Some(e) = e {
            let missing = d
                .entities
                .iter()
                .flat_map(|x| x.operations.iter())
                .find(|o| !e.operations.iter().any(|eo| eo.action == o.action))
                .map(|o| o.action)
                .unwrap_or("list");
            assert!(
                !v.is_valid(&json!({"entity": e.name, "action": missing})),
                "{}: {}.{missing} should be rejected",
                d.name,
                e.name
            );
        }
        assert!(!v.is_valid(&json!({"entity": "no_such_entity", "action": "list"})));
    }
}

#[tokio::test]
async fn samples_pass_runtime_validation() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let mut calls = 0;
    for d in connectors() {
        let client = Client::builder(d, credentials(d))
            .base_url(server.uri())
            .refresh_url(format!("{}/oauth/token", server.uri()))
            .retry_policy(RetryPolicy::none())
            .build()
            .expect("client builds");
        let dispatcher = Dispatcher::new(client);
        for t in dispatcher.tools().tools() {
            let ToolTarget::Action(op) = t.target else {
                continue;
            };
            for full in [false, true] {
                let mut args = sample(&t.input_schema, full);
                // Path params filled from configuration are supplied explicitly here.
                if let Value::Object(m) = &mut args {
                    for p in op.params {
                        if p.location == airbyte_agent_runtime::ParamLocation::Path
                            && !m.contains_key(p.name)
                        {
                            m.insert(p.name.to_string(), json!("sample"));
                        }
                    }
                }
                let before = server.received_requests().await.map_or(0, |r| r.len());
                let out = dispatcher.call(&t.name, args.clone()).await;
                assert_ne!(
                    out.error_kind,
                    Some(ToolErrorKind::InvalidArguments),
                    "{}.{} rejected its own sample {args}: {}",
                    d.name,
                    t.name,
                    out.text
                );
                let after = server.received_requests().await.map_or(0, |r| r.len());
                assert!(
                    after > before,
                    "{}.{}: no request sent for {args}: {}",
                    d.name,
                    t.name,
                    out.text
                );
                calls += 1;
            }
        }
    }
    assert!(calls > 200, "only {calls} sample calls");
    println!("{calls} sample calls of {} connectors", connectors().len());
}

#[test]
fn every_output_schema_is_valid_draft_2020_12() {
    let mut checked = 0;
    for d in connectors() {
        let tools = ConnectorTools::with_options(d, ToolOptions::new().combined(true));
        for t in tools.tools() {
            let s = &t.output_schema;
            assert_eq!(s["type"], "object", "{}.{}: {s}", d.name, t.name);
            if let Err(e) = jsonschema::draft202012::meta::validate(s) {
                panic!(
                    "{}.{}: not a draft 2020-12 schema: {e}\n{s}",
                    d.name, t.name
                );
            }
            if let Err(e) = jsonschema::draft202012::new(s) {
                panic!("{}.{}: output schema does not compile: {e}", d.name, t.name);
            }
            checked += 1;
        }
    }
    println!(
        "{checked} output schemas of {} connectors",
        connectors().len()
    );
}

/// The provider answers recorded for the reference runtime (`../shared/reference/oracle`,
/// beside the checkout), shaped by our runtime, fit the output schema of their tool as
/// structured content: the schemas accept what the providers answer.
#[test]
fn recorded_results_fit_the_output_schemas() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/oracle");
    let (mut checked, mut typed, mut failures) = (0, 0, Vec::new());
    for d in connectors() {
        let Ok(text) = std::fs::read_to_string(dir.join(format!("{}.json", d.name))) else {
            continue;
        };
        let oracle: Value = serde_json::from_str(&text).expect("oracle JSON");
        let tools = ConnectorTools::new(d);
        for case in oracle["cases"].as_array().into_iter().flatten() {
            let result = &case["result"];
            if result["success"] != true {
                continue;
            }
            let (entity, action) = (case["entity"].as_str(), case["action"].as_str());
            let Some(tool) = tools.tools().iter().find(|t| {
                matches!(t.target, ToolTarget::Action(op)
                    if Some(op.entity) == entity && Some(op.action) == action)
            }) else {
                continue;
            };
            // The recorded provider answer, interpreted by our runtime with our descriptor (the
            // reference read it with the upstream spec, whose extractors may differ).
            let ToolTarget::Action(op) = tool.target else {
                continue;
            };
            let body = case["mock_response"]["body"].clone();
            if body.is_null() {
                continue;
            }
            let headers = airbyte_agent_core::headers::Headers(vec![(
                "content-type".into(),
                "application/json".into(),
            )]);
            let Ok(shaped) =
                airbyte_agent_core::response::shape(d, op, &headers, body, &Default::default())
            else {
                continue;
            };
            let value = shaped.into_value();
            let structured = airbyte_agent_runtime::tools::structured_content(value);
            let v = jsonschema::draft202012::new(&tool.output_schema).expect("compiles");
            let errors: Vec<String> = v.iter_errors(&structured).map(|e| e.to_string()).collect();
            if !errors.is_empty() {
                failures.push(format!("{}.{}: {errors:?}", d.name, case["id"]));
            }
            checked += 1;
            typed += usize::from(tool.output_schema.get("$defs").is_some());
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 50, "only {checked} recorded results checked");
    println!("{checked} recorded results fit their output schema ({typed} with record types)");
}
