use serde_json::json;

use super::*;
use crate::descriptor::*;
use crate::{Client, Credentials, RetryPolicy};

const fn param(name: &'static str, location: ParamLocation, kind: ValueKind) -> ParamDescriptor {
    ParamDescriptor {
        name,
        location,
        kind,
        schema: "{}",
        ..ParamDescriptor::DEFAULT
    }
}

const RESPONSE: ResponseDescriptor = ResponseDescriptor::DEFAULT;

const fn op(
    entity: &'static str,
    action: &'static str,
    kind: ActionKind,
    method: Method,
    path: &'static str,
    params: &'static [ParamDescriptor],
) -> OperationDescriptor {
    OperationDescriptor {
        entity,
        action,
        kind,
        method,
        path,
        params,
        ..OperationDescriptor::DEFAULT
    }
}

static LIST_PARAMS: [ParamDescriptor; 4] = [
    ParamDescriptor {
        description: "Page size.",
        default: Some("10"),
        schema: "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"x-vendor\":true}",
        ..param("limit", ParamLocation::Query, ValueKind::Integer)
    },
    param("starting_after", ParamLocation::Query, ValueKind::String),
    ParamDescriptor {
        enum_values: &["\"open\"", "\"closed\""],
        schema: "{\"type\":\"string\",\"nullable\":true}",
        nullable: true,
        ..param("status", ParamLocation::Query, ValueKind::String)
    },
    ParamDescriptor {
        required: true,
        default: Some("\"2024-01-01\""),
        ..param("Api-Version", ParamLocation::Header, ValueKind::String)
    },
];

static GET_PARAMS: [ParamDescriptor; 1] = [ParamDescriptor {
    required: true,
    description: "Customer id.",
    ..param("id", ParamLocation::Path, ValueKind::String)
}];

static CREATE_PARAMS: [ParamDescriptor; 3] = [
    ParamDescriptor {
        required: true,
        ..param("email", ParamLocation::Body, ValueKind::String)
    },
    ParamDescriptor {
        item_kind: Some(ValueKind::String),
        enum_values: &["\"a\"", "\"b\""],
        ..param("tags", ParamLocation::Body, ValueKind::Array)
    },
    ParamDescriptor {
        required: true,
        config_inject: Some(ConfigInject {
            source: "account",
            map: &[],
        }),
        ..param("account", ParamLocation::Body, ValueKind::String)
    },
];

static CUSTOMER_OPS: [OperationDescriptor; 4] = [
    OperationDescriptor {
        summary: "List customers",
        description: "Returns customers, newest first.",
        response: ResponseDescriptor {
            record_extractor: Some("$.data"),
            meta_extractor: &[("has_more", "$.has_more")],
            ..RESPONSE
        },
        pagination: Pagination::LastRecord {
            field: "id",
            param: "starting_after",
            has_more: Some("has_more"),
        },
        ..op(
            "customers",
            "list",
            ActionKind::List,
            Method::Get,
            "/customers",
            &LIST_PARAMS,
        )
    },
    OperationDescriptor {
        summary: "Get a customer",
        ..op(
            "customers",
            "get",
            ActionKind::Get,
            Method::Get,
            "/customers/{id}",
            &GET_PARAMS,
        )
    },
    OperationDescriptor {
        body: BodyDescriptor::Json,
        ..op(
            "customers",
            "create",
            ActionKind::Create,
            Method::Post,
            "/customers",
            &CREATE_PARAMS,
        )
    },
    op(
        "customers",
        "delete",
        ActionKind::Delete,
        Method::Delete,
        "/customers/{id}",
        &GET_PARAMS,
    ),
];

static SEARCH_OPS: [OperationDescriptor; 1] = [OperationDescriptor {
    body: BodyDescriptor::Json,
    ..op(
        "invoices",
        "search",
        ActionKind::Search,
        Method::Post,
        "/invoices/search",
        &[],
    )
}];

static ENTITIES: [EntityDescriptor; 2] = [
    EntityDescriptor {
        name: "customers",
        description: "People who pay. More text here.",
        operations: &CUSTOMER_OPS,
    },
    EntityDescriptor {
        name: "invoices",
        description: "",
        operations: &SEARCH_OPS,
    },
];

static AUTH: [AuthSchemeDescriptor; 1] = [AuthSchemeDescriptor {
    key: "bearerAuth",
    title: "",
    description: "",
    kind: AuthKind::Bearer,
    fields: &[AuthField {
        name: "api_key",
        title: "",
        description: "",
        required: true,
    }],
    mapping: &[("token", "${api_key}")],
    additional_headers: &[],
}];

static CONNECTOR: ConnectorDescriptor = ConnectorDescriptor {
    name: "demo-shop",
    title: "Demo Shop",
    version: "1.0.0",
    definition_id: "00000000-0000-0000-0000-000000000000",
    base_url: "https://api.example.invalid",
    server_variables: &[],
    auth_schemes: &AUTH,
    entities: &ENTITIES,
    scoping: &[],
    response_error_check: None,
    record_schemas: "",
};

fn client(uri: &str) -> Client {
    Client::builder(
        &CONNECTOR,
        Credentials::new("bearerAuth").set("api_key", "sk_secret_value".to_string()),
    )
    .base_url(uri)
    .retry_policy(
        RetryPolicy::default()
            .max_attempts(1)
            .base_delay(std::time::Duration::from_millis(1)),
    )
    .build()
    .expect("client builds")
}

#[test]
fn action_schema_merges_params() {
    let s = action_schema(&CONNECTOR, &CUSTOMER_OPS[0]);
    assert_eq!(s["$schema"], SCHEMA_DIALECT);
    assert_eq!(s["type"], "object");
    assert_eq!(s["additionalProperties"], false);
    // Defaults make required header params optional.
    assert!(s.get("required").is_none(), "{s}");
    let limit = &s["properties"]["limit"];
    assert_eq!(limit["type"], "integer");
    assert_eq!(limit["default"], 10);
    assert_eq!(limit["maximum"], 100);
    assert_eq!(limit["description"], "Page size.");
    assert!(limit.get("x-vendor").is_none());
    let status = &s["properties"]["status"];
    assert_eq!(status["type"], json!(["string", "null"]));
    assert_eq!(status["enum"], json!(["open", "closed", null]));
    assert!(status.get("nullable").is_none());
    assert_eq!(s["properties"]["Api-Version"]["default"], "2024-01-01");

    let g = action_schema(&CONNECTOR, &CUSTOMER_OPS[1]);
    assert_eq!(g["required"], json!(["id"]));

    let c = action_schema(&CONNECTOR, &CUSTOMER_OPS[2]);
    // Config-injected params are optional.
    assert_eq!(c["required"], json!(["email"]));
    assert_eq!(
        c["properties"]["tags"]["items"],
        json!({"type": "string", "enum": ["a", "b"]})
    );
}

#[test]
fn combined_schema_lists_entities_and_actions() {
    let s = combined_schema(&CONNECTOR);
    assert_eq!(
        s["properties"]["entity"]["enum"],
        json!(["customers", "invoices"])
    );
    assert_eq!(
        s["properties"]["action"]["enum"],
        json!(["list", "get", "create", "delete", "search"])
    );
    assert_eq!(s["required"], json!(["entity", "action"]));
    assert_eq!(s["additionalProperties"], false);
    assert_eq!(
        s["allOf"][1]["then"]["properties"]["action"]["enum"],
        json!(["search"])
    );
}

#[test]
fn tools_have_names_annotations_and_descriptions() {
    let tools = ConnectorTools::with_options(&CONNECTOR, ToolOptions::new().combined(true));
    let names: Vec<&str> = tools.tools().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "customers_list",
            "customers_get",
            "customers_create",
            "customers_delete",
            "invoices_search",
            "demo-shop_execute"
        ]
    );
    let list = tools.tool("customers_list").expect("list tool");
    assert!(list.annotations.read_only && list.annotations.idempotent);
    assert!(!list.annotations.destructive);
    assert!(list.description.contains("starting_after"));
    assert!(
        list.description.contains("meta.has_more"),
        "{}",
        list.description
    );
    let del = tools.tool("customers_delete").expect("delete tool");
    assert!(del.annotations.destructive && !del.annotations.read_only);
    let create = tools.tool("customers_create").expect("create tool");
    assert!(!create.annotations.read_only && !create.annotations.idempotent);
    assert!(!create.annotations.destructive);
    // POST search is still read-only.
    assert!(
        tools
            .tool("invoices_search")
            .expect("search")
            .annotations
            .read_only
    );
    let combined = tools.tool("demo-shop_execute").expect("combined");
    assert!(combined.annotations.destructive && !combined.annotations.read_only);

    let prefixed = ConnectorTools::with_options(&CONNECTOR, ToolOptions::new().prefix("shop"));
    assert_eq!(prefixed.tools()[0].name, "shop_customers_list");
    assert_eq!(sanitize_name("a b.c/d"), "a_b_c_d");
}

#[test]
fn connector_description_is_dense() {
    let d = connector_description(&CONNECTOR);
    assert!(!d.contains("\n\n"), "no blank lines:\n{d}");
    assert!(d.contains("customers: People who pay."), "{d}");
    assert!(d.contains(
        "list(limit?: integer, starting_after?: string, status?: \"open\"|\"closed\", Api-Version?: string) - List customers"
    ), "{d}");
    assert!(d.contains("get(id: string) - Get a customer"), "{d}");
    // Config-injected params are hidden.
    assert!(
        d.contains("create(email: string, tags?: array<\"a\"|\"b\">)"),
        "{d}"
    );
}

#[test]
fn output_guard_truncates_on_char_boundaries() {
    let mut s = "é".repeat(50);
    assert!(dispatch::guard_output(&mut s, 10));
    assert!(s.starts_with(&"é".repeat(10)));
    assert!(s.contains("showing 10 of 50 characters"));
    let mut short = "abc".to_string();
    assert!(!dispatch::guard_output(&mut short, 3));
    assert_eq!(short, "abc");
}

mod calls;
