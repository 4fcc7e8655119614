//! End to end over loopback: the golden petstore crate (generated code) talks to a local HTTP
//! server through the runtime. Checks typed params on the wire, typed records (renamed fields,
//! open enums, nested types), pagination through `pages()`, downloads and errors.

use airbyte_agent_petstore::{
    OrdersListCreated, PetType, PetsCreateCollar, PetstoreAccessTokenAuthConfig, PetstoreConnector,
};
use futures_util::StreamExt;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn connector(server: &MockServer) -> PetstoreConnector {
    PetstoreConnector::builder(PetstoreAccessTokenAuthConfig::new("tok-123"), "my-shop")
        .base_url(server.uri())
        .build()
        .expect("connector builds")
}

#[tokio::test]
async fn list_get_and_paginate() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/pets"))
        .and(header("authorization", "Bearer tok-123"))
        .and(query_param("limit", "2"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [
                {"id": "p1", "type": "dog", "+1": 5, "16x16": "http://x/i.png", "event.type": "born",
                 "owner": {"name": "Ann", "best_friend": {"name": "Bob"}}, "unknown_field": true},
                {"id": "p2", "type": "hamster", "owner": null, "attributes": {"a": "b"}}
            ],
            "next_cursor": "c2"
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pets"))
        .and(query_param("cursor", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "p3", "type": "self"}],
            "next_cursor": null
        })))
        .expect(1)
        .mount(&server)
        .await;

    let c = connector(&server).await;
    let page = c.pets().list().limit(2).await.expect("first page");
    assert_eq!(page.data.len(), 2);
    let p1 = &page.data[0];
    assert_eq!(p1.id.as_deref(), Some("p1"));
    assert_eq!(p1.type_, Some(PetType::Dog));
    assert_eq!(p1.plus_1, Some(5));
    assert_eq!(p1._16x16.as_deref(), Some("http://x/i.png"));
    assert_eq!(p1.event_type.as_deref(), Some("born"));
    let owner = p1.owner.as_ref().expect("owner");
    assert_eq!(
        owner.best_friend.as_ref().and_then(|b| b.name.as_deref()),
        Some("Bob")
    );
    assert_eq!(page.data[1].type_, Some(PetType::Unknown("hamster".into())));
    assert_eq!(
        page.data[1]
            .attributes
            .as_ref()
            .and_then(|a| a.get("a"))
            .map(String::as_str),
        Some("b")
    );
    assert_eq!(page.meta.next_cursor.as_deref(), Some("c2"));

    // The same through the lazy page stream (follows `next_cursor` → `cursor`).
    let ids: Vec<String> = c
        .pets()
        .list()
        .limit(2)
        .pages()
        .records()
        .map(|r| r.expect("record").id.unwrap_or_default())
        .collect()
        .await;
    assert_eq!(ids, ["p1", "p2", "p3"]);
}

#[tokio::test]
async fn required_args_path_and_json_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/pets/a%2Fb"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "a/b", "weight": 4.5})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pets"))
        .and(body_json(
            json!({"name": "Rex", "collar": {"color": "red"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "new", "type": "cat"})))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let pet = c.pets().get("a/b").await.expect("get");
    assert_eq!(pet.weight, Some(4.5));
    let created = c
        .pets()
        .create("Rex")
        .collar(PetsCreateCollar {
            color: Some("red".into()),
        })
        .send()
        .await
        .expect("create");
    assert_eq!(created.type_, Some(PetType::Cat));
}

#[tokio::test]
async fn deep_object_query_and_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/orders"))
        .and(query_param("created[gte]", "10"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"orders": [{"id": 1}], "has_more": false})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pets/missing"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "no such pet"})))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let orders = c
        .orders()
        .list()
        .created(OrdersListCreated {
            gte: Some(10),
            lte: None,
        })
        .await
        .expect("orders");
    assert_eq!(orders.data[0].id, Some(1));
    assert_eq!(orders.meta.has_more, Some(false));
    let err = c.pets().get("missing").await.expect_err("404 is an error");
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn download_and_dynamic_execute() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/pets/p1/photo"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"\x89PNG-bytes".to_vec()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pets/p9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "p9"})))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let bytes = c
        .pets()
        .download("p1")
        .await
        .expect("download")
        .collect_bytes()
        .await
        .expect("bytes");
    assert_eq!(bytes, b"\x89PNG-bytes");
    let r = c
        .execute("pets", "get", json!({"pet_id": "p9"}))
        .await
        .expect("execute");
    assert_eq!(r.data["id"], "p9");
    let e = c
        .execute("pets", "fly", json!({}))
        .await
        .expect_err("unknown action");
    assert!(e.to_string().contains("fly"), "{e}");
    assert!(PetstoreConnector::operations().any(|(e, a)| e == "pet_search" && a == "search"));
}

#[tokio::test]
async fn open_and_array_bodies() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pets/p1/notes"))
        .and(body_json(json!({"text": "hello", "mood": 3})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/pets/p1/labels"))
        .and(body_json(json!([{"label": "good", "weight": 2}])))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let note = c
        .notes()
        .create("p1")
        .body_field("text", "hello")
        .body_field("mood", 3)
        .await
        .expect("note");
    assert_eq!(note["ok"], true);
    c.labels()
        .update("p1")
        .label("good")
        .weight(2)
        .await
        .expect("labels");
}
