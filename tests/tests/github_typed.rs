//! The generated GitHub crate end to end through its typed API over loopback: GraphQL bodies
//! (variables keep their JSON types, dotted `fields` become nested selections) and relay
//! pagination driven by `endCursor` / `hasNextPage`.

use airbyte_agent_github::{
    GithubConnector, GithubPersonalAccessTokenAuthConfig, IssuesListStatesItem,
};
use futures_util::StreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn body(req: &Request) -> Value {
    serde_json::from_slice(&req.body).expect("GraphQL requests carry JSON")
}

async fn github(server: &MockServer) -> GithubConnector {
    GithubConnector::builder(GithubPersonalAccessTokenAuthConfig::new("ghp_test_token"))
        .base_url(server.uri())
        .build()
        .expect("connector builds")
}

#[tokio::test]
async fn repository_get_sends_typed_variables_and_nested_field_selection() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(header("authorization", "Bearer ghp_test_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"repository": {"name": "hello", "owner": {"login": "octo"}}}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let repo = github(&server)
        .await
        .repositories()
        .get("octo", "hello")
        .fields(vec!["name".to_owned(), "owner.login".to_owned()])
        .await
        .expect("get succeeds");
    assert_eq!(repo.get("name"), Some(&json!("hello")));

    let sent = body(&server.received_requests().await.expect("recorded")[0]);
    assert_eq!(sent["variables"], json!({"owner": "octo", "name": "hello"}));
    let query = sent["query"].as_str().expect("query text");
    let compact: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(compact.contains("name owner { login }"), "{query}");
}

#[tokio::test]
async fn issues_pages_follow_the_relay_cursor() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(|req: &Request| {
            let after = body(req)["variables"]["after"].clone();
            let (nodes, has_next, cursor) = if after.is_null() {
                (json!([{"number": 1}, {"number": 2}]), true, json!("c2"))
            } else {
                assert_eq!(after, json!("c2"));
                (json!([{"number": 3}]), false, Value::Null)
            };
            ResponseTemplate::new(200).set_body_json(json!({"data": {"repository": {"issues": {
                "pageInfo": {"hasNextPage": has_next, "endCursor": cursor},
                "nodes": nodes
            }}}}))
        })
        .expect(2)
        .mount(&server)
        .await;

    let mut numbers = Vec::new();
    let mut pages = github(&server)
        .await
        .issues()
        .list("octo", "hello")
        .per_page(2)
        .states(vec![IssuesListStatesItem::Open])
        .pages();
    while let Some(page) = pages.next().await {
        let page = page.expect("page succeeds");
        numbers.extend(
            page.data
                .iter()
                .filter_map(|i| i.get("number").and_then(Value::as_i64)),
        );
    }
    assert_eq!(numbers, [1, 2, 3]);

    let first = body(&server.received_requests().await.expect("recorded")[0]);
    assert_eq!(
        first["variables"]["first"],
        json!(2),
        "per_page keeps its integer type"
    );
    assert_eq!(first["variables"]["states"], json!(["OPEN"]));
}
