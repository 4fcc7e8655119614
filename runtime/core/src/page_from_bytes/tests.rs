//! The direct page decoder and the facts skim against the general path.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;
use crate::descriptor::*;

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
struct Rec {
    id: Option<String>,
    n: Option<i64>,
    tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
struct Meta {
    has_more: Option<bool>,
    next: Option<Value>,
}

const fn op(
    extractor: &'static str,
    meta: &'static [(&'static str, &'static str)],
) -> OperationDescriptor {
    OperationDescriptor {
        entity: "items",
        action: "list",
        kind: ActionKind::List,
        path: "/items",
        response: ResponseDescriptor {
            record_extractor: Some(extractor),
            meta_extractor: meta,
            ..ResponseDescriptor::DEFAULT
        },
        ..OperationDescriptor::DEFAULT
    }
}

fn connector(check: Option<ResponseErrorCheck>) -> ConnectorDescriptor {
    ConnectorDescriptor {
        name: "t",
        response_error_check: check,
        ..ConnectorDescriptor::DEFAULT
    }
}

fn general<T: DeserializeOwned, M: DeserializeOwned>(
    d: &ConnectorDescriptor,
    op: &OperationDescriptor,
    headers: &Headers,
    body: &[u8],
) -> crate::Result<Page<T, M>> {
    let v = crate::response::parse_body(200, headers, body)?;
    let r = crate::response::shape(d, op, headers, v, &BTreeMap::new())?;
    Page::decode(op, r)
}

fn json_headers() -> Headers {
    Headers(vec![
        ("content-type".into(), "application/json".into()),
        (
            "link".into(),
            "<https://x/items?page=2>; rel=\"next\"".into(),
        ),
    ])
}

static DATA: OperationDescriptor = op(
    "$.data",
    &[("has_more", "$.has_more"), ("next", "@link.next")],
);
static NESTED: OperationDescriptor = op(
    "$.response.items",
    &[("next", "$.paging.next.cursor"), ("has_more", "$.more")],
);

#[test]
fn same_pages_as_the_general_path() {
    let plain = connector(None);
    let checked = connector(Some(ResponseErrorCheck {
        field: "ok",
        on_value: "false",
        message_field: Some("error"),
    }));
    let bodies: &[&str] = &[
        r#"{"data":[{"id":"a","n":1},{"id":"b","tags":["x"]}],"has_more":true,"url":"/x"}"#,
        r#"{"object":"list","data":[],"has_more":false}"#,
        r#"{"data":[{"id":"a"}],"data":[{"id":"dup"}]}"#,
        r#"{"has_more":true}"#,
        r#"{"data":null}"#,
        r#"{"data":{"id":"single"}}"#,
        r#"{"data":[1,2,3]}"#,
        r#"{"data":["a",{"id":"b"}]}"#,
        r#"{"data":[[1]]}"#,
        r#"{"data":[{"id":"a"},null,{"id":"b"}],"has_more":true}"#,
        r#"{"data":[null]}"#,
        r#"{"data":[{"id":5}]}"#,
        r#"{"data":[{"id":"a"}]} trailing"#,
        r#"{"data":[{"id":"a"}"#,
        r#"[{"id":"a"}]"#,
        r#"{"ok":false,"error":"boom","data":[{"id":"a"}]}"#,
        r#"{"ok":true,"data":[{"id":"a"}]}"#,
        r#"{"response":{"items":[{"id":"n1"}],"more":true},"paging":{"next":{"cursor":"c2"}}}"#,
        r#"{"response":{"items":[{"id":"n1"}]},"paging":"oops"}"#,
        r#"{"response":[],"paging":{}}"#,
        r#"{"data":[{"id":"caf\u00e9 \"q\""}],"has_more":1}"#,
        "  \n",
        "",
    ];
    let headers = json_headers();
    for d in [&plain, &checked] {
        for op in [&DATA, &NESTED] {
            assert!(eligible(d, op));
            for body in bodies {
                let want = general::<Rec, Meta>(d, op, &headers, body.as_bytes());
                let got = page::<Rec, Meta>(d, op, &headers, body.as_bytes());
                match (got, &want) {
                    (None, _) => {}
                    (Some(Ok(p)), Ok(w)) => assert_eq!(&p, w, "body {body}"),
                    (Some(Err(e)), Err(w)) => assert_eq!(e.to_string(), w.to_string()),
                    (Some(g), w) => panic!("body {body}: fast {g:?} vs general {w:?}"),
                }
            }
        }
    }
}

#[test]
fn facts_give_the_general_paths_next_page() {
    use crate::next_page::{next_page, next_page_of};
    let paged = |pagination| OperationDescriptor {
        pagination,
        ..op("$.data", &[("has_more", "$.has_more"), ("next", "$.next")])
    };
    let ops = [
        paged(Pagination::LastRecord {
            field: "id",
            param: "starting_after",
            has_more: Some("has_more"),
        }),
        paged(Pagination::LastRecord {
            field: "id",
            param: "after",
            has_more: None,
        }),
        paged(Pagination::Offset { param: "offset" }),
        paged(Pagination::Cursor {
            meta: "next",
            param: "cursor",
        }),
    ];
    let bodies: &[&str] = &[
        r#"{"data":[{"id":"a"},{"id":"b","x":[1,{"y":"]"}]}],"has_more":true,"next":"c2"}"#,
        r#"{"data":[{"id":"a"},null],"has_more":true}"#,
        r#"{"data":[{"id":7},{"id":1.5e300}],"has_more":true}"#,
        r#"{"data":[{"id":"a"},{"no_id":1}],"has_more":true}"#,
        r#"{"data":[],"has_more":true,"next":""}"#,
        r#"{"data":["a",{"id":"caf\u00e9"}],"has_more":"yes"}"#,
        r#"{"has_more":true,"data":[{"id":"a"}],"data":[{"id":"z"}]}"#,
        r#"{"data":{"id":"one"},"has_more":true}"#,
    ];
    let d = connector(None);
    let headers = json_headers();
    let mut params = crate::Params::new();
    params.insert("offset".into(), Value::from(10));
    let mut compared = 0;
    for op in &ops {
        for body in bodies {
            let general = crate::response::parse_body(200, &headers, body.as_bytes())
                .and_then(|v| crate::response::shape(&d, op, &headers, v, &BTreeMap::new()))
                .expect("general path");
            let Some(f) = facts(&d, op, &headers, body.as_bytes()) else {
                continue;
            };
            compared += 1;
            assert_eq!(
                next_page_of(op, &params, &f.view()),
                next_page(op, &params, &general),
                "body {body}, pagination {:?}",
                op.pagination
            );
        }
    }
    // Only the single-object body is left to the general path.
    assert_eq!(compared, ops.len() * (bodies.len() - 1));
}

#[test]
fn null_records_are_dropped_on_both_paths() {
    let d = connector(None);
    let headers = json_headers();
    let body = br#"{"data":[{"id":"a"},null,{"id":"b"}],"has_more":false}"#;
    let Some(Ok(fast)) = page::<Rec, Meta>(&d, &DATA, &headers, body) else {
        panic!("a list with a null item is the plain shape")
    };
    let ids: Vec<_> = fast.data.iter().map(|r| r.id.as_deref()).collect();
    assert_eq!(ids, [Some("a"), Some("b")]);
    assert_eq!(
        general::<Rec, Meta>(&d, &DATA, &headers, body).ok(),
        Some(fast)
    );
    // A failure after a dropped null still names the item's index in the body.
    let bad = br#"{"data":[null,{"id":5}]}"#;
    let e = general::<Rec, Meta>(&d, &DATA, &headers, bad).unwrap_err();
    assert!(
        matches!(&e, crate::Error::Decode { path, .. } if path == "data[1].id"),
        "{e:?}"
    );
}

#[test]
fn primitive_accepting_records_take_the_general_path() {
    let d = connector(None);
    let body = br#"{"data":["a","b"],"has_more":false}"#;
    assert!(page::<Value, Meta>(&d, &DATA, &json_headers(), body).is_none());
    assert!(page::<String, Meta>(&d, &DATA, &json_headers(), body).is_none());
    let p = page::<Map<String, Value>, Meta>(&d, &DATA, &json_headers(), br#"{"data":[{"a":1}]}"#);
    assert!(matches!(p, Some(Ok(ref p)) if p.data.len() == 1));
}

#[test]
fn html_and_non_plain_extractors_are_not_handled() {
    let d = connector(None);
    let html = Headers(vec![("content-type".into(), "text/html".into())]);
    assert!(page::<Rec, Meta>(&d, &DATA, &html, br#"{"data":[]}"#).is_none());
    static WILD: OperationDescriptor = op("$.data[*]", &[]);
    static ROOT: OperationDescriptor = op("$", &[]);
    static INTO_RECORDS: OperationDescriptor = op("$.data", &[("x", "$.data.x")]);
    assert!(!eligible(&d, &WILD));
    assert!(!eligible(&d, &ROOT));
    assert!(!eligible(&d, &INTO_RECORDS));
}

#[test]
fn the_fast_path_answers_the_plain_shape() {
    let d = connector(None);
    let body = br#"{"data":[{"id":"a","n":1}],"has_more":true}"#;
    let p = page::<Rec, Meta>(&d, &DATA, &json_headers(), body);
    let Some(Ok(p)) = p else {
        panic!("plain body not handled: {p:?}")
    };
    assert_eq!(p.data[0].id.as_deref(), Some("a"));
    assert_eq!(p.meta.has_more, Some(true));
    assert_eq!(
        p.meta.next,
        Some(Value::String("https://x/items?page=2".into()))
    );
}
