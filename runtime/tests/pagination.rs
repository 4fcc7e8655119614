//! Every pagination style, lazily, with page caps.

mod common;

use airbyte_agent_runtime::*;
use common::*;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

static CONN: ConnectorDescriptor = connector(std::slice::from_ref(&BEARER), &[]);

#[derive(Debug, Deserialize, PartialEq)]
struct Rec {
    id: i64,
}

fn q(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Serve `total` records, `per` per page; `f` renders (records, page index) into a response.
async fn serve(
    f: impl Fn(&Request, Vec<Value>, usize, bool) -> ResponseTemplate + Send + Sync + 'static,
    page_of: impl Fn(&Request) -> usize + Send + Sync + 'static,
) -> MockServer {
    let s = MockServer::start().await;
    let total = 7usize;
    let per = 3usize;
    Mock::given(wiremock::matchers::any())
        .respond_with(move |req: &Request| {
            let page = page_of(req);
            let start = page * per;
            let recs: Vec<Value> = (start..(start + per).min(total))
                .map(|i| json!({"id": i as i64 + 1}))
                .collect();
            let more = start + per < total;
            f(req, recs, page, more)
        })
        .mount(&s)
        .await;
    s
}

async fn all_ids(
    op: &'static OperationDescriptor,
    s: &MockServer,
    start: Value,
) -> (Vec<i64>, usize) {
    let c = client(&CONN, bearer_creds(), &s.uri());
    let recs: Vec<Result<Rec>> = c
        .pages::<Rec, Value>(op, params(start))
        .records()
        .collect()
        .await;
    let ids = recs.into_iter().map(|r| r.unwrap().id).collect();
    (ids, s.received_requests().await.unwrap().len())
}

const fn paged(
    p: Pagination,
    extractor: &'static str,
    meta: &'static [(&'static str, &'static str)],
    params: &'static [ParamDescriptor],
) -> OperationDescriptor {
    OperationDescriptor {
        params,
        pagination: p,
        response: ResponseDescriptor {
            record_extractor: Some(extractor),
            meta_extractor: meta,
            ..RESPONSE
        },
        ..op("items", "list", ActionKind::List, Method::Get, "/items")
    }
}

const ALL: [i64; 7] = [1, 2, 3, 4, 5, 6, 7];

#[tokio::test]
async fn cursor() {
    static OP: OperationDescriptor = paged(
        Pagination::Cursor {
            meta: "next_cursor",
            param: "cursor",
        },
        "$.data",
        &[("next_cursor", "$.next")],
        &[
            query("cursor", ValueKind::String),
            query("limit", ValueKind::Integer),
        ],
    );
    let s = serve(
        |_, recs, page, more| {
            ResponseTemplate::new(200).set_body_json(json!({"data": recs, "next": if more { json!(format!("c{}", page + 1)) } else { Value::Null }}))
        },
        |r| q(r, "cursor").map(|c| c[1..].parse().unwrap()).unwrap_or(0),
    )
    .await;
    let (ids, n) = all_ids(&OP, &s, json!({"limit": 3})).await;
    assert_eq!((ids, n), (ALL.to_vec(), 3));
    // Other params are kept on every page.
    let reqs = s.received_requests().await.unwrap();
    assert_eq!(reqs[2].url.query(), Some("cursor=c2&limit=3"));
}

#[tokio::test]
async fn last_record_with_has_more() {
    static OP: OperationDescriptor = paged(
        Pagination::LastRecord {
            field: "id",
            param: "starting_after",
            has_more: Some("has_more"),
        },
        "$.data",
        &[("has_more", "$.has_more")],
        &[query("starting_after", ValueKind::String)],
    );
    let s = serve(
        |_, recs, _, more| {
            ResponseTemplate::new(200).set_body_json(json!({"data": recs, "has_more": more}))
        },
        |r| {
            q(r, "starting_after")
                .map(|c| c.parse::<usize>().unwrap() / 3)
                .unwrap_or(0)
        },
    )
    .await;
    let (ids, n) = all_ids(&OP, &s, json!({})).await;
    assert_eq!((ids, n), (ALL.to_vec(), 3));
}

#[tokio::test]
async fn cursor_in_link_and_object() {
    static OP: OperationDescriptor = paged(
        Pagination::CursorInLink {
            meta: "next",
            param: "page_token",
        },
        "$.items",
        &[("next", "@link.next")],
        &[query("page_token", ValueKind::String)],
    );
    let s = serve(
        |req, recs, page, more| {
            let mut t = ResponseTemplate::new(200).set_body_json(json!({"items": recs}));
            if more {
                let host = req.url.host_str().unwrap().to_string();
                t = t.insert_header(
                    "Link",
                    format!(
                        "<http://{host}/items?page_token=t{}&x=1>; rel=\"next\"",
                        page + 1
                    )
                    .as_str(),
                );
            }
            t
        },
        |r| {
            q(r, "page_token")
                .map(|c| c[1..].parse().unwrap())
                .unwrap_or(0)
        },
    )
    .await;
    assert_eq!(all_ids(&OP, &s, json!({})).await, (ALL.to_vec(), 3));

    static OBJ: OperationDescriptor = paged(
        Pagination::CursorInLink {
            meta: "next",
            param: "offset",
        },
        "$.items",
        &[("next", "$.paging.next")],
        &[query("offset", ValueKind::String)],
    );
    let s = serve(
        |_, recs, page, more| {
            let next = if more {
                json!({"uri": format!("/items?offset={}", (page + 1) * 3)})
            } else {
                Value::Null
            };
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": recs, "paging": {"next": next}}))
        },
        |r| {
            q(r, "offset")
                .map(|c| c.parse::<usize>().unwrap() / 3)
                .unwrap_or(0)
        },
    )
    .await;
    assert_eq!(all_ids(&OBJ, &s, json!({})).await, (ALL.to_vec(), 3));
}

#[tokio::test]
async fn page_number_and_offset() {
    static PAGE: OperationDescriptor = paged(
        Pagination::PageNumber {
            param: "page",
            next_meta: None,
        },
        "$.data",
        &[],
        &[query("page", ValueKind::Integer)],
    );
    let s = serve(
        |_, recs, _, _| ResponseTemplate::new(200).set_body_json(json!({"data": recs})),
        |r| {
            q(r, "page")
                .map(|c| c.parse::<usize>().unwrap() - 1)
                .unwrap_or(0)
        },
    )
    .await;
    // Pages 1..3 have records, page 4 is empty and ends the stream.
    assert_eq!(all_ids(&PAGE, &s, json!({})).await, (ALL.to_vec(), 4));

    static PAGE_META: OperationDescriptor = paged(
        Pagination::PageNumber {
            param: "page",
            next_meta: Some("next_page"),
        },
        "$.data",
        &[("next_page", "$.next_page")],
        &[query("page", ValueKind::Integer)],
    );
    let s = serve(
        |_, recs, page, more| ResponseTemplate::new(200).set_body_json(json!({"data": recs, "next_page": if more { json!(page + 2) } else { Value::Null }})),
        |r| q(r, "page").map(|c| c.parse::<usize>().unwrap() - 1).unwrap_or(0),
    )
    .await;
    assert_eq!(
        all_ids(&PAGE_META, &s, json!({"page": 1})).await,
        (ALL.to_vec(), 3)
    );

    static OFFSET: OperationDescriptor = paged(
        Pagination::Offset { param: "offset" },
        "$.data",
        &[],
        &[query("offset", ValueKind::Integer)],
    );
    let s = serve(
        |_, recs, _, _| ResponseTemplate::new(200).set_body_json(json!({"data": recs})),
        |r| {
            q(r, "offset")
                .map(|c| c.parse::<usize>().unwrap().div_ceil(3))
                .unwrap_or(0)
        },
    )
    .await;
    assert_eq!(all_ids(&OFFSET, &s, json!({})).await, (ALL.to_vec(), 4));
}

#[tokio::test]
async fn next_url() {
    static OP: OperationDescriptor = paged(
        Pagination::NextUrl { meta: "next" },
        "$.records",
        &[("next", "$.nextRecordsUrl")],
        &[query("q", ValueKind::String)],
    );
    let s = serve(
        |_, recs, page, more| {
            let next = if more {
                json!(format!("/query/next-{}", page + 1))
            } else {
                Value::Null
            };
            ResponseTemplate::new(200)
                .set_body_json(json!({"records": recs, "nextRecordsUrl": next}))
        },
        |r| {
            r.url
                .path()
                .strip_prefix("/query/next-")
                .map(|p| p.parse().unwrap())
                .unwrap_or(0)
        },
    )
    .await;
    assert_eq!(
        all_ids(&OP, &s, json!({"q": "SELECT Id"})).await,
        (ALL.to_vec(), 3)
    );
    let reqs = s.received_requests().await.unwrap();
    assert_eq!(reqs[1].url.path(), "/query/next-1");
    assert!(reqs[1].headers.get("authorization").is_some());
}

#[tokio::test]
async fn relay_graphql() {
    static OP: OperationDescriptor = OperationDescriptor {
        body: BodyDescriptor::GraphQl(GraphQlBody {
            query: "query($after: String) { items(after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }",
            variables: Some(r#"{"after": "{{ after }}"}"#),
            default_fields: None,
            operation_name: None,
            nullable_variables: &[],
        }),
        method: Method::Post,
        ..paged(
            Pagination::Relay {
                cursor_meta: "end_cursor",
                has_next_meta: "has_next_page",
                param: "after",
            },
            "$.data.items.nodes",
            &[
                ("end_cursor", "$.data.items.pageInfo.endCursor"),
                ("has_next_page", "$.data.items.pageInfo.hasNextPage"),
            ],
            &[query("after", ValueKind::String)],
        )
    };
    let s = serve(
        |_, recs, page, more| {
            ResponseTemplate::new(200).set_body_json(json!({"data": {"items": {"nodes": recs, "pageInfo": {"hasNextPage": more, "endCursor": format!("e{}", page + 1)}}}}))
        },
        |r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["variables"]["after"].as_str().map(|c| c[1..].parse().unwrap()).unwrap_or(0)
        },
    )
    .await;
    assert_eq!(all_ids(&OP, &s, json!({})).await, (ALL.to_vec(), 3));
}

#[tokio::test]
async fn page_cap_and_no_progress_and_single_page() {
    // A server that always returns the same cursor: the stream stops instead of looping.
    static OP: OperationDescriptor = paged(
        Pagination::Cursor {
            meta: "next",
            param: "cursor",
        },
        "$.data",
        &[("next", "$.next")],
        &[query("cursor", ValueKind::String)],
    );
    let s = serve(
        |_, recs, _, _| {
            ResponseTemplate::new(200).set_body_json(json!({"data": recs, "next": "same"}))
        },
        |_| 0,
    )
    .await;
    let (ids, n) = all_ids(&OP, &s, json!({})).await;
    assert_eq!((ids.len(), n), (6, 2));

    // Cap: an endless cursor API stops at the cap; laziness: nothing is fetched before polling.
    let s = serve(
        |_, recs, page, _| {
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": recs, "next": format!("c{}", page + 1)}))
        },
        |r| q(r, "cursor").map(|c| c[1..].parse().unwrap()).unwrap_or(0),
    )
    .await;
    let c = client(&CONN, bearer_creds(), &s.uri());
    let stream = c.pages::<Value, Value>(&OP, Params::new()).max_pages(2);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(s.received_requests().await.unwrap().len(), 0);
    let pages: Vec<_> = stream.collect().await;
    assert_eq!(pages.len(), 2);
    let c = Client::builder(&CONN, bearer_creds())
        .base_url(s.uri())
        .max_pages(3)
        .build()
        .unwrap();
    assert_eq!(
        c.pages::<Value, Value>(&OP, Params::new())
            .collect::<Vec<_>>()
            .await
            .len(),
        3
    );

    // Pagination::None: exactly one page.
    static ONE: OperationDescriptor = paged(Pagination::None, "$.data", &[], &[]);
    let s = serve(
        |_, recs, _, _| ResponseTemplate::new(200).set_body_json(json!({"data": recs})),
        |_| 0,
    )
    .await;
    assert_eq!(all_ids(&ONE, &s, json!({})).await, (vec![1, 2, 3], 1));
}

#[tokio::test]
async fn errors_end_the_stream() {
    static OP: OperationDescriptor = paged(
        Pagination::Cursor {
            meta: "next",
            param: "cursor",
        },
        "$.data",
        &[("next", "$.next")],
        &[query("cursor", ValueKind::String)],
    );
    let s = serve(
        |_, recs, page, _| {
            if page == 1 {
                ResponseTemplate::new(404).set_body_json(json!({"message": "gone"}))
            } else {
                ResponseTemplate::new(200).set_body_json(json!({"data": recs, "next": "c1"}))
            }
        },
        |r| q(r, "cursor").map(|c| c[1..].parse().unwrap()).unwrap_or(0),
    )
    .await;
    let c = client(&CONN, bearer_creds(), &s.uri());
    let items: Vec<Result<Rec>> = c
        .pages::<Rec, Value>(&OP, Params::new())
        .records()
        .collect()
        .await;
    assert_eq!(items.len(), 4);
    assert!(matches!(items[3], Err(Error::NotFound(_))));
}
