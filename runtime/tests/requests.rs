//! Request building: path, query, deepObject, headers, JSON/form/multipart/GraphQL bodies,
//! config values, and pre-flight validation.

mod common;

use airbyte_agent_runtime::*;
use common::*;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

static LIST: OperationDescriptor = OperationDescriptor {
    params: &[
        query("limit", ValueKind::Integer),
        query("expand", ValueKind::Array),
        query("active", ValueKind::Boolean),
        ParamDescriptor {
            style: ParamStyle::DeepObject,
            ..query("created", ValueKind::Object)
        },
        query("since", ValueKind::String),
        ParamDescriptor {
            enum_values: &["\"asc\"", "\"desc\""],
            ..query("order", ValueKind::String)
        },
        query("page[size]", ValueKind::Integer),
        query("maxResults", ValueKind::Integer),
        ParamDescriptor {
            config_inject: Some(ConfigInject {
                source: "region",
                map: &[("US", "ATVPDKIKX0DER"), ("UK", "A1F83G8C2ARO7P")],
            }),
            ..query("marketplaceIds", ValueKind::String)
        },
        ParamDescriptor {
            default: Some("\"2024-01-01\""),
            ..param("Api-Version", ParamLocation::Header, ValueKind::String)
        },
    ],
    ..op("items", "list", ActionKind::List, Method::Get, "/v1/items")
};

static GET: OperationDescriptor = OperationDescriptor {
    params: &[path("account_id"), path("id")],
    ..op(
        "items",
        "get",
        ActionKind::Get,
        Method::Get,
        "/v1/accounts/{account_id}/items/{id}",
    )
};

static CREATE_FORM: OperationDescriptor = OperationDescriptor {
    params: &[
        body("email", ValueKind::String),
        body("metadata", ValueKind::Object),
        body("items", ValueKind::Array),
        body("address", ValueKind::Object),
    ],
    body: BodyDescriptor::Form,
    ..op(
        "items",
        "create",
        ActionKind::Create,
        Method::Post,
        "/v1/items",
    )
};

static UPDATE_JSON: OperationDescriptor = OperationDescriptor {
    params: &[
        path("id"),
        ParamDescriptor {
            required: true,
            ..body("title", ValueKind::String)
        },
        ParamDescriptor {
            default: Some("\"open\""),
            ..body("state", ValueKind::String)
        },
        body("labels", ValueKind::Array),
        body("note", ValueKind::String),
    ],
    body: BodyDescriptor::Json,
    ..op(
        "items",
        "update",
        ActionKind::Update,
        Method::Patch,
        "/v1/items/{id}",
    )
};

static UPLOAD: OperationDescriptor = OperationDescriptor {
    params: &[
        query("uploadType", ValueKind::String),
        body("name", ValueKind::String),
        body("parents", ValueKind::Array),
        ParamDescriptor {
            required: true,
            ..body("file_content", ValueKind::String)
        },
    ],
    body: BodyDescriptor::MultipartRelated {
        file_param: "file_content",
    },
    ..op(
        "files",
        "create",
        ActionKind::Create,
        Method::Post,
        "/upload/files",
    )
};

static GQL_GET: OperationDescriptor = OperationDescriptor {
    params: &[
        ParamDescriptor {
            required: true,
            ..query("owner", ValueKind::String)
        },
        ParamDescriptor {
            required: true,
            ..query("repo", ValueKind::String)
        },
        ParamDescriptor {
            default: Some("20"),
            ..query("per_page", ValueKind::Integer)
        },
        query("after", ValueKind::String),
        query("labels", ValueKind::Array),
        query("fields", ValueKind::Array),
        body("assigneeId", ValueKind::String),
        body("projectId", ValueKind::String),
    ],
    body: BodyDescriptor::GraphQl(GraphQlBody {
        query: "query Q($owner: String!) {\n  repository(owner: $owner) {\n    {{ fields }}\n  }\n}",
        variables: Some(
            r#"{"owner": "{{ owner }}", "name": "{{ repo }}", "first": "{{ per_page }}", "after": "{{ after }}", "labels": "{{ labels }}", "full": "{{ owner }}/{{ repo }}", "input": {"assigneeId": "{{ assigneeId }}", "projectId": "{{ projectId }}"}, "assigneeId": "{{ assigneeId }}", "projectId": "{{ projectId }}"}"#,
        ),
        default_fields: Some(r#""id name owner { login }""#),
        operation_name: Some("Q"),
        nullable_variables: &["assigneeId"],
    }),
    ..op(
        "repositories",
        "get",
        ActionKind::Get,
        Method::Post,
        "/graphql",
    )
};

static ENTITIES: &[EntityDescriptor] = &[EntityDescriptor {
    name: "items",
    description: "",
    operations: &[],
}];

static CONN: ConnectorDescriptor = ConnectorDescriptor {
    entities: &[EntityDescriptor {
        name: "items",
        description: "",
        operations: &[],
    }],
    scoping: &[Scoping {
        param: "account_id",
        config_key: "account",
    }],
    ..connector(std::slice::from_ref(&BEARER), ENTITIES)
};

async fn server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&s)
        .await;
    s
}

async fn last(server: &MockServer) -> wiremock::Request {
    server.received_requests().await.unwrap().pop().unwrap()
}

fn conn_client(uri: &str) -> Client {
    Client::builder(&CONN, bearer_creds())
        .base_url(uri)
        .server_variable("account", "acct/1")
        .server_variable("region", "us")
        .build()
        .unwrap()
}

#[tokio::test]
async fn query_encoding_matches_reference() {
    let s = server().await;
    let c = conn_client(&s.uri());
    c.call(
        &LIST,
        params(json!({
            "limit": 7,
            "expand": ["a", "b c"],
            "active": true,
            "created": {"gte": 1, "lte": "2024-01-01T00:00:00Z", "skip": null},
            "since": "processed_at ASC",
            "order": "asc",
            "page_size": 5,
            "max_results": 3,
        })),
    )
    .await
    .unwrap();
    let r = last(&s).await;
    assert_eq!(r.url.path(), "/v1/items");
    assert_eq!(
        r.url.query().unwrap(),
        "limit=7&expand=a&expand=b+c&active=true&created%5Bgte%5D=1&created%5Blte%5D=2024-01-01T00%3A00%3A00Z&since=processed_at+ASC&order=asc&page%5Bsize%5D=5&maxResults=3&marketplaceIds=ATVPDKIKX0DER"
    );
    assert_eq!(r.headers.get("api-version").unwrap(), "2024-01-01");
    assert_eq!(
        r.headers.get("authorization").unwrap(),
        "Bearer sk_test_secret_value"
    );
    assert!(r.headers.get("content-type").is_none());
}

#[tokio::test]
async fn path_params_are_fully_encoded_and_scoped() {
    let s = server().await;
    let c = conn_client(&s.uri());
    c.call(&GET, params(json!({"id": "a/b c?d"})))
        .await
        .unwrap();
    let r = last(&s).await;
    // account_id comes from the `account` config key via x-airbyte-scoping.
    assert_eq!(r.url.path(), "/v1/accounts/acct%2F1/items/a%2Fb%20c%3Fd");

    let err = c.call(&GET, params(json!({"id": "  "}))).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidParam { ref param, .. } if param == "id"),
        "{err}"
    );
    let err = c.call(&GET, params(json!({}))).await.unwrap_err();
    assert!(
        matches!(err, Error::MissingParam { ref param, .. } if param == "id"),
        "{err}"
    );
}

#[tokio::test]
async fn form_body_bracket_flattening() {
    let s = server().await;
    let c = conn_client(&s.uri());
    c.call(
        &CREATE_FORM,
        params(json!({
            "email": "x@y.z",
            "metadata": {"k": "v"},
            "items": [{"price": "p_1", "quantity": 2}],
            "address": {"line1": "1 Main St"},
        })),
    )
    .await
    .unwrap();
    let r = last(&s).await;
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        "email=x%40y.z&metadata%5Bk%5D=v&items%5B0%5D%5Bprice%5D=p_1&items%5B0%5D%5Bquantity%5D=2&address%5Bline1%5D=1+Main+St"
    );
    // No body fields → no body and no content type.
    c.call(&CREATE_FORM, Params::new()).await.unwrap();
    let r = last(&s).await;
    assert!(r.body.is_empty());
    assert!(r.headers.get("content-type").is_none());
}

#[tokio::test]
async fn json_body_defaults_overlaid_and_required() {
    let s = server().await;
    let c = conn_client(&s.uri());
    c.call(
        &UPDATE_JSON,
        params(json!({"id": "7", "title": "T", "labels": ["x"], "note": null})),
    )
    .await
    .unwrap();
    let r = last(&s).await;
    assert_eq!(r.method.as_str(), "PATCH");
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"title": "T", "state": "open", "labels": ["x"]})
    );
    let err = c
        .call(&UPDATE_JSON, params(json!({"id": "7"})))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MissingParam { ref param, .. } if param == "title"));
}

#[tokio::test]
async fn multipart_related_upload() {
    let s = server().await;
    let c = conn_client(&s.uri());
    c.call(
        &UPLOAD,
        params(json!({
            "upload_type": "multipart",
            "name": "report.txt",
            "parents": ["p1"],
            "file_content": "aGVsbG8gb3JhY2xl",
        })),
    )
    .await
    .unwrap();
    let r = last(&s).await;
    assert_eq!(r.url.query(), Some("uploadType=multipart"));
    let ct = r
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let boundary = ct.strip_prefix("multipart/related; boundary=").unwrap();
    let body = String::from_utf8(r.body).unwrap().replace(boundary, "{b}");
    assert_eq!(
        body,
        "--{b}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\": \"report.txt\", \"parents\": [\"p1\"]}\r\n--{b}\r\nContent-Type: application/octet-stream\r\n\r\nhello oracle\r\n--{b}--\r\n"
    );
    let err = c
        .call(&UPLOAD, params(json!({"file_content": "%%%"})))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidParam { .. }), "{err}");
}

#[tokio::test]
async fn graphql_variables_and_fields() {
    let s = server().await;
    let c = conn_client(&s.uri());
    c.call(
        &GQL_GET,
        params(json!({
            "owner": "octo",
            "repo": "hello",
            "labels": ["bug", "p1"],
            "fields": ["id", "owner.login", "owner.url"],
            "assigneeId": null,
            "projectId": null,
        })),
    )
    .await
    .unwrap();
    let r = last(&s).await;
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body["query"],
        "query Q($owner: String!) {\n  repository(owner: $owner) {\n    id owner { login url }\n  }\n}"
    );
    assert_eq!(body["operationName"], "Q");
    // Exact placeholders keep types, partial ones are strings, unresolved fall back to the
    // query default (per_page) or are dropped (after); explicit top-level nulls are dropped
    // unless nullable (assigneeId kept, projectId dropped).
    assert_eq!(
        body["variables"],
        json!({
            "owner": "octo",
            "name": "hello",
            "first": 20,
            "labels": ["bug", "p1"],
            "full": "octo/hello",
            "input": {"assigneeId": null, "projectId": null},
            "assigneeId": null,
        })
    );
    // Default fields when none given.
    c.call(
        &GQL_GET,
        params(json!({"owner": "o", "repo": "r", "per_page": 5})),
    )
    .await
    .unwrap();
    let body: Value = serde_json::from_slice(&last(&s).await.body).unwrap();
    assert!(
        body["query"]
            .as_str()
            .unwrap()
            .contains("    id name owner { login }\n")
    );
    assert_eq!(body["variables"]["first"], 5);
}

static DYN_CONN: ConnectorDescriptor = ConnectorDescriptor {
    entities: &[
        EntityDescriptor {
            name: "items",
            description: "",
            operations: &[OperationDescriptor {
                params: &[
                    query("limit", ValueKind::Integer),
                    ParamDescriptor {
                        enum_values: &["\"asc\"", "\"desc\""],
                        ..query("order", ValueKind::String)
                    },
                    query("ids", ValueKind::Array),
                ],
                ..op("items", "list", ActionKind::List, Method::Get, "/v1/items")
            }],
        },
        EntityDescriptor {
            name: "users",
            description: "",
            operations: &[op("users", "get", ActionKind::Get, Method::Get, "/me")],
        },
    ],
    ..connector(std::slice::from_ref(&BEARER), &[])
};

#[tokio::test]
async fn dynamic_validation_names_valid_choices() {
    let s = server().await;
    let c = client(&DYN_CONN, bearer_creds(), &s.uri());
    let e = c.execute("nope", "list", json!({})).await.unwrap_err();
    assert!(matches!(e, Error::UnknownEntity { .. }));
    assert!(e.to_string().contains("items, users"), "{e}");
    let e = c.execute("items", "delete", json!({})).await.unwrap_err();
    assert!(e.to_string().contains("available actions: list"), "{e}");
    let e = c
        .execute("items", "list", json!({"limt": 1}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::UnknownParam { ref param, .. } if param == "limt"));
    assert!(e.to_string().contains("limit, order, ids"), "{e}");
    let e = c
        .execute("items", "list", json!({"limit": "ten"}))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("expected an integer, got a string"),
        "{e}"
    );
    let e = c
        .execute("items", "list", json!({"order": "up"}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("\"asc\", \"desc\""), "{e}");
    let e = c.execute("items", "list", json!([1])).await.unwrap_err();
    assert!(matches!(e, Error::InvalidParam { .. }));
    let e = c
        .execute("items", "context_store_search", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)));
    assert!(e.is_validation() || matches!(e, Error::Unsupported(_)));
    // No request reached the server.
    assert!(s.received_requests().await.unwrap().is_empty());
    // A scalar where an array is expected is sent as a one-element list.
    c.execute("items", "list", json!({"ids": "a"}))
        .await
        .unwrap();
    assert_eq!(last(&s).await.url.query(), Some("ids=a"));
}

#[tokio::test]
async fn server_variables_render_the_base_url() {
    static VARS: ConnectorDescriptor = ConnectorDescriptor {
        base_url: "http://{host}:{port}/api/{version}",
        server_variables: &[
            ServerVariable {
                name: "host",
                default: Some("127.0.0.1"),
                enum_values: &[],
                description: "",
            },
            ServerVariable {
                name: "port",
                default: None,
                enum_values: &[],
                description: "",
            },
            ServerVariable {
                name: "version",
                default: Some("v1"),
                enum_values: &[],
                description: "",
            },
        ],
        entities: &[EntityDescriptor {
            name: "users",
            description: "",
            operations: &[op("users", "get", ActionKind::Get, Method::Get, "/me")],
        }],
        ..connector(std::slice::from_ref(&BEARER), &[])
    };
    let s = server().await;
    let port = s.address().port().to_string();
    let c = Client::builder(&VARS, bearer_creds())
        .server_variable("port", port)
        .server_variable("version", "v2")
        .build()
        .unwrap();
    c.execute("users", "get", json!({})).await.unwrap();
    assert_eq!(last(&s).await.url.path(), "/api/v2/me");
    // Missing variable without default → an error naming the variable.
    let c = Client::builder(&VARS, bearer_creds()).build().unwrap();
    let e = c.execute("users", "get", json!({})).await.unwrap_err();
    assert!(
        matches!(&e, Error::MissingServerVariable { name } if name == "port")
            && e.to_string().contains("port"),
        "{e}"
    );
}

#[tokio::test]
async fn json_array_and_open_bodies() {
    static ARRAY: OperationDescriptor = OperationDescriptor {
        params: &[
            path("id"),
            body("associationCategory", ValueKind::String),
            body("associationTypeId", ValueKind::Integer),
        ],
        body: BodyDescriptor::JsonArray,
        ..op(
            "associations",
            "create",
            ActionKind::Create,
            Method::Put,
            "/assoc/{id}",
        )
    };
    static OPEN: OperationDescriptor = OperationDescriptor {
        params: &[path("id"), body("*", ValueKind::Any)],
        body: BodyDescriptor::Json,
        ..op(
            "sobjects",
            "update",
            ActionKind::Update,
            Method::Patch,
            "/sobjects/{id}",
        )
    };
    let s = server().await;
    let c = conn_client(&s.uri());
    c.call(
        &ARRAY,
        params(
            json!({"id": "1", "association_category": "HUBSPOT_DEFINED", "association_type_id": 3}),
        ),
    )
    .await
    .unwrap();
    let body: Value = serde_json::from_slice(&last(&s).await.body).unwrap();
    assert_eq!(
        body,
        json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}])
    );
    // Undeclared params become fields of an open body; path params stay in the path.
    c.call(
        &OPEN,
        params(json!({"id": "a1", "Name": "Acme", "Amount__c": 5})),
    )
    .await
    .unwrap();
    let r = last(&s).await;
    assert_eq!(r.url.path(), "/sobjects/a1");
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body, json!({"Name": "Acme", "Amount__c": 5}));
}

#[test]
fn an_unusable_base_url_fails_at_build_naming_the_setting() {
    for bad in ["not a url", "ftp://files.example", "file:///tmp/x"] {
        let e = Client::builder(&CONN, bearer_creds())
            .base_url(bad)
            .build()
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidUrl { setting, .. } if setting.contains("base URL")),
            "{bad}: {e:?}"
        );
    }
    // Placeholders that cannot be filled yet are left to the first call.
    assert!(
        Client::builder(&CONN, bearer_creds())
            .base_url("http://127.0.0.1:{port}")
            .build()
            .is_ok()
    );
}
