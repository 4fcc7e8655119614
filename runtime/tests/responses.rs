//! Response handling: extraction rules, meta, filters, transforms, error mapping, content types.

mod common;

use airbyte_agent_runtime::*;
use common::*;
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const fn list_op(extractor: Option<&'static str>) -> OperationDescriptor {
    OperationDescriptor {
        response: ResponseDescriptor {
            record_extractor: extractor,
            ..RESPONSE
        },
        ..op("items", "list", ActionKind::List, Method::Get, "/items")
    }
}

const fn get_op(extractor: Option<&'static str>) -> OperationDescriptor {
    OperationDescriptor {
        response: ResponseDescriptor {
            record_extractor: extractor,
            ..RESPONSE
        },
        ..op("items", "get", ActionKind::Get, Method::Get, "/items")
    }
}

static CONN: ConnectorDescriptor = connector(std::slice::from_ref(&BEARER), &[]);

async fn serve(body: Value) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&s)
        .await;
    s
}

async fn run(op: &'static OperationDescriptor, body: Value) -> Result<ExecuteResult> {
    let s = serve(body).await;
    client(&CONN, bearer_creds(), &s.uri())
        .call(op, Params::new())
        .await
}

#[tokio::test]
async fn record_extraction_rules() {
    static ROOT: OperationDescriptor = list_op(Some("$"));
    static DATA: OperationDescriptor = list_op(Some("$.data"));
    static WILD: OperationDescriptor = list_op(Some("$.results[*].item"));
    static NESTED: OperationDescriptor = list_op(Some("$[*][*]"));
    static FIRST: OperationDescriptor = list_op(Some("$.data[0]"));
    static MISSING: OperationDescriptor = list_op(Some("$.nope"));
    static GET_DATA: OperationDescriptor = get_op(Some("$.data.item"));
    static GET_MISSING: OperationDescriptor = get_op(Some("$.nope"));
    static NONE: OperationDescriptor = list_op(None);

    let r = run(
        &DATA,
        json!({"data": [{"id": 1}, {"id": 2}], "has_more": true}),
    )
    .await
    .unwrap();
    assert_eq!(r.data, json!([{"id": 1}, {"id": 2}]));
    assert_eq!(r.kind, ResultKind::Envelope);
    assert_eq!(r.meta, None);
    // Root of an array stays the array; primitives are wrapped.
    let r = run(&ROOT, json!(["a", {"id": 1}])).await.unwrap();
    assert_eq!(r.data, json!([{"value": "a"}, {"id": 1}]));
    // A single wildcard match is wrapped in a list.
    let r = run(&WILD, json!({"results": [{"item": {"id": 1}}]}))
        .await
        .unwrap();
    assert_eq!(r.data, json!([{"id": 1}]));
    let r = run(
        &WILD,
        json!({"results": [{"item": 5}, {"item": {"id": 2}}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.data, json!([{"value": 5}, {"id": 2}]));
    let r = run(&NESTED, json!([[{"a": 1}, {"a": 2}], [{"a": 3}]]))
        .await
        .unwrap();
    assert_eq!(r.data, json!([{"a": 1}, {"a": 2}, {"a": 3}]));
    // A non-wildcard single match that is an object is returned as-is.
    let r = run(&FIRST, json!({"data": [{"id": 9}]})).await.unwrap();
    assert_eq!(r.data, json!({"id": 9}));
    let r = run(&MISSING, json!({"data": []})).await.unwrap();
    assert_eq!(r.data, json!([]));
    let r = run(&GET_DATA, json!({"data": {"item": {"id": 3}}}))
        .await
        .unwrap();
    assert_eq!((r.data, r.kind), (json!({"id": 3}), ResultKind::Raw));
    let r = run(&GET_MISSING, json!({"x": 1})).await.unwrap();
    assert_eq!(r.data, Value::Null);
    let r = run(&NONE, json!({"whole": "body"})).await.unwrap();
    assert_eq!(r.data, json!({"whole": "body"}));
}

#[tokio::test]
async fn meta_from_jsonpath_link_and_header() {
    static OP: OperationDescriptor = OperationDescriptor {
        response: ResponseDescriptor {
            record_extractor: Some("$.items"),
            meta_extractor: &[
                ("next", "@link.next"),
                ("total", "$.paging.total"),
                ("remaining", "@header.X-RateLimit-Remaining"),
                ("absent", "$.nothing"),
            ],
            ..RESPONSE
        },
        ..op("items", "get", ActionKind::Get, Method::Get, "/items")
    };
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", "<https://x.test/items?page=2>; rel=\"next\", <https://x.test/items?page=5>; rel=\"last\"")
                .insert_header("x-ratelimit-remaining", "42")
                .set_body_json(json!({"items": [{"id": 1}], "paging": {"total": 10}})),
        )
        .mount(&s)
        .await;
    let r = client(&CONN, bearer_creds(), &s.uri())
        .call(&OP, Params::new())
        .await
        .unwrap();
    // A get with a meta extractor is an envelope.
    assert_eq!(r.kind, ResultKind::Envelope);
    assert_eq!(
        Value::Object(r.meta.clone().unwrap()),
        json!({"next": "https://x.test/items?page=2", "total": 10, "remaining": "42", "absent": null})
    );
    assert_eq!(r.into_value()["data"], json!([{"id": 1}]));
}

#[tokio::test]
async fn filter_fails_closed_and_transform() {
    static FILTERED: OperationDescriptor = OperationDescriptor {
        response: ResponseDescriptor {
            record_extractor: Some("$.calls"),
            record_filter: Some("{{ not record.metaData.isPrivate }}"),
            ..RESPONSE
        },
        ..op("calls", "list", ActionKind::List, Method::Get, "/calls")
    };
    static TRANSFORMED: OperationDescriptor = OperationDescriptor {
        response: ResponseDescriptor {
            record_extractor: Some("$.resourceNames"),
            record_transform: &[
                (
                    "customer_id",
                    "{{ record.value | replace('customers/', '') }}",
                ),
                ("urn", "urn:li:x:{{ record.value }}"),
            ],
            ..RESPONSE
        },
        ..op("customers", "list", ActionKind::List, Method::Get, "/c")
    };
    let r = run(
        &FILTERED,
        json!({"calls": [{"id": 1, "metaData": {"isPrivate": true}}, {"id": 2, "metaData": {"isPrivate": false}}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.data, json!([{"id": 2, "metaData": {"isPrivate": false}}]));
    // A record without the field makes the filter fail: the call errors instead of leaking it.
    let e = run(&FILTERED, json!({"calls": [{"id": 3}]}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Records { .. }), "{e}");
    let r = run(
        &TRANSFORMED,
        json!({"resourceNames": ["customers/1", "customers/2"]}),
    )
    .await
    .unwrap();
    assert_eq!(
        r.data,
        json!([
            {"customer_id": "1", "urn": "urn:li:x:customers/1"},
            {"customer_id": "2", "urn": "urn:li:x:customers/2"}
        ])
    );
    // Object records keep their fields and gain the transformed ones.
    static MERGED: OperationDescriptor = OperationDescriptor {
        response: ResponseDescriptor {
            record_extractor: Some("$.elements"),
            record_transform: &[("account_urn", "urn:li:sponsoredAccount:{{ record.id }}")],
            ..RESPONSE
        },
        ..op("accounts", "list", ActionKind::List, Method::Get, "/a")
    };
    let r = run(&MERGED, json!({"elements": [{"id": 5, "name": "n"}]}))
        .await
        .unwrap();
    assert_eq!(
        r.data,
        json!([{"id": 5, "name": "n", "account_urn": "urn:li:sponsoredAccount:5"}])
    );
}

async fn status_error(status: u16, body: Value, headers: &[(&str, &str)]) -> Error {
    static OP: OperationDescriptor = op("items", "get", ActionKind::Get, Method::Get, "/items");
    let s = MockServer::start().await;
    let mut t = ResponseTemplate::new(status).set_body_json(body);
    for (k, v) in headers {
        t = t.insert_header(*k, *v);
    }
    Mock::given(method("GET")).respond_with(t).mount(&s).await;
    Client::builder(&CONN, bearer_creds())
        .base_url(s.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .call(&OP, Params::new())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn error_mapping_and_messages() {
    let e = status_error(
        404,
        json!({"error": "not_found", "message": "mock: resource not found"}),
        &[("x-request-id", "req_1")],
    )
    .await;
    assert!(matches!(e, Error::NotFound(_)));
    assert_eq!(e.message(), "mock: resource not found");
    assert_eq!(e.details().unwrap().request_id.as_deref(), Some("req_1"));
    assert!(e.to_string().contains("mock: resource not found"));
    let e = status_error(
        401,
        json!({"errors": [{"message": "a"}, {"userPresentableMessage": "b"}]}),
        &[],
    )
    .await;
    assert!(matches!(e, Error::Auth(_)));
    assert_eq!(e.message(), "a, b");
    let e = status_error(403, json!({"message": "forbidden"}), &[]).await;
    assert_eq!((e.status(), e.is_retryable()), (Some(403), false));
    let e = status_error(
        422,
        json!({"error": {"message": "bad field", "code": "invalid"}}),
        &[],
    )
    .await;
    assert!(matches!(e, Error::Validation(_)));
    assert_eq!(e.message(), "bad field");
    let e = status_error(
        429,
        json!({"message": "slow down"}),
        &[("retry-after", "7")],
    )
    .await;
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(7)));
    let e = status_error(
        502,
        json!({"code": "upstream", "message": "bad gateway"}),
        &[],
    )
    .await;
    assert!(matches!(e, Error::Service(ref d) if d.code.as_deref() == Some("upstream")));
    assert!(e.to_string().contains("HTTP 502") && e.to_string().contains("bad gateway"));
    let e = status_error(409, json!("plain"), &[]).await;
    assert_eq!(e.message(), "plain");
}

#[tokio::test]
async fn content_types_and_empty_bodies() {
    static OP: OperationDescriptor = op("items", "get", ActionKind::Get, Method::Get, "/items");
    let s = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html></html>", "text/html"))
        .mount(&s)
        .await;
    let c = client(&CONN, bearer_creds(), &s.uri());
    let e = c.call(&OP, Params::new()).await.unwrap_err();
    assert!(matches!(e, Error::Response { .. }), "{e}");

    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s)
        .await;
    let r = client(&CONN, bearer_creds(), &s.uri())
        .call(&OP, Params::new())
        .await
        .unwrap();
    assert_eq!(r.data, json!({}));

    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"a":1}"#, "application/vnd.api+json"),
        )
        .mount(&s)
        .await;
    let r = client(&CONN, bearer_creds(), &s.uri())
        .call(&OP, Params::new())
        .await
        .unwrap();
    assert_eq!(r.data, json!({"a": 1}));

    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{not json", "application/json"))
        .mount(&s)
        .await;
    let e = client(&CONN, bearer_creds(), &s.uri())
        .call(&OP, Params::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Response { .. }));
}

#[tokio::test]
async fn http_200_error_check() {
    static SLACK: ConnectorDescriptor = ConnectorDescriptor {
        response_error_check: Some(ResponseErrorCheck {
            field: "ok",
            on_value: "false",
            message_field: Some("error"),
        }),
        ..connector(std::slice::from_ref(&BEARER), &[])
    };
    static OP: OperationDescriptor = list_op(Some("$.members"));
    let s = serve(json!({"ok": false, "error": "mock_error_code"})).await;
    let e = client(&SLACK, bearer_creds(), &s.uri())
        .call(&OP, Params::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Api(_)));
    assert_eq!(e.to_string(), "API error: mock_error_code");
    let s = serve(json!({"ok": true, "members": [{"id": "U1"}]})).await;
    let r = client(&SLACK, bearer_creds(), &s.uri())
        .call(&OP, Params::new())
        .await
        .unwrap();
    assert_eq!(r.data, json!([{"id": "U1"}]));
}

#[derive(Debug, Deserialize, PartialEq)]
struct Item {
    id: i64,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Default)]
struct Meta {
    has_more: Option<bool>,
}

#[tokio::test]
async fn typed_decoding_with_paths() {
    static OP: OperationDescriptor = OperationDescriptor {
        response: ResponseDescriptor {
            record_extractor: Some("$.data"),
            meta_extractor: &[("has_more", "$.has_more")],
            ..RESPONSE
        },
        ..op("items", "list", ActionKind::List, Method::Get, "/items")
    };
    static GET: OperationDescriptor = get_op(None);
    let s = serve(
        json!({"data": [{"id": 1, "extra": true}, {"id": 2, "name": "b"}], "has_more": false}),
    )
    .await;
    let c = client(&CONN, bearer_creds(), &s.uri());
    let page: Page<Item, Meta> = c.call_list(&OP, Params::new()).await.unwrap();
    assert_eq!(
        page.data,
        vec![
            Item { id: 1, name: None },
            Item {
                id: 2,
                name: Some("b".into())
            }
        ]
    );
    assert_eq!(
        page.meta,
        Meta {
            has_more: Some(false)
        }
    );
    let page: Page<Item, ()> = c.call_list(&OP, Params::new()).await.unwrap();
    assert_eq!(page.data.len(), 2);

    let s = serve(json!({"data": [{"id": 1}, {"id": "two"}]})).await;
    let c = client(&CONN, bearer_creds(), &s.uri());
    let e = c
        .call_list::<Item, Meta>(&OP, Params::new())
        .await
        .unwrap_err();
    match &e {
        Error::Decode { path, entity, .. } => {
            assert_eq!(path, "data[1].id");
            assert_eq!(entity, "items");
        }
        other => panic!("unexpected {other:?}"),
    }
    let e = c
        .call_record::<Item>(&GET, Params::new())
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Decode { ref path, .. } if path == "data"),
        "{e}"
    );
    assert!(e.to_string().contains("missing field `id`"), "{e}");
    let s = serve(json!({"id": "x"})).await;
    let c = client(&CONN, bearer_creds(), &s.uri());
    let e = c
        .call_record::<Item>(&GET, Params::new())
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Decode { ref path, .. } if path == "data.id"),
        "{e}"
    );
}

string_enum! {
    /// Status of a thing.
    pub enum Status {
        /// Active.
        Active => "active",
        Past_due => "past_due",
    }
}

#[test]
fn string_enum_round_trip() {
    let s: Status = serde_json::from_value(json!("past_due")).unwrap();
    assert_eq!(s, Status::Past_due);
    let u: Status = serde_json::from_value(json!("paused")).unwrap();
    assert_eq!(u, Status::Unknown("paused".into()));
    assert_eq!(u.as_str(), "paused");
    assert_eq!(Status::Active.to_string(), "active");
    assert_eq!(
        serde_json::to_value(Status::Active).unwrap(),
        json!("active")
    );
    assert_eq!(Status::VALUES, &["active", "past_due"]);
}
