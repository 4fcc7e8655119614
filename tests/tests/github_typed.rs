//! The generated GitHub crate end to end through its typed API over loopback: GraphQL bodies
//! (variables keep their JSON types, dotted `fields` become nested selections) and relay
//! pagination driven by `endCursor` / `hasNextPage`, and records typed from the default selection.

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
    // The record type holds the default selection's fields; `name` and `owner.login` are in it.
    assert_eq!(repo.name, Some(json!("hello")));
    assert_eq!(
        repo.owner.and_then(|o| o.login),
        Some(json!("octo")),
        "a sub-selection is a nested record"
    );

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
                .filter_map(|i| i.number.as_ref().and_then(Value::as_i64)),
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

#[tokio::test]
async fn issue_records_are_typed_from_the_default_selection() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"repository": {
                "issues": {
                    "pageInfo": {"hasNextPage": false, "endCursor": null},
                    "nodes": [{
                        "id": "I_1", "number": 7, "title": "Crash on start", "state": "OPEN",
                        "author": {"login": "octo", "avatarUrl": "https://a.invalid/o.png"},
                        "assignees": {"nodes": [{"login": "hubot"}, null]},
                        "labels": {"nodes": [{"name": "bug", "color": "d73a4a"}]},
                        "milestone": null,
                        "comments": {"totalCount": 3},
                        "fieldNotInTheSelection": true
                    }, null]
                }
            }}})),
        )
        .mount(&server)
        .await;

    let page = github(&server)
        .await
        .issues()
        .list("octo", "hello")
        .await
        .expect("typed page decodes");
    assert_eq!(page.data.len(), 1, "a null node is no record");
    let issue = &page.data[0];
    assert_eq!(issue.number, Some(json!(7)));
    assert_eq!(issue.title, Some(json!("Crash on start")));
    let author = issue.author.as_ref().expect("author");
    assert_eq!(author.avatar_url, Some(json!("https://a.invalid/o.png")));
    let assignees = issue.assignees.as_ref().and_then(|a| a.nodes.as_ref());
    let logins: Vec<_> = assignees
        .into_iter()
        .flatten()
        .filter_map(|u| u.login.clone())
        .collect();
    assert_eq!(
        logins,
        [json!("hubot")],
        "connection nodes are a list; nulls dropped"
    );
    let labels = issue.labels.as_ref().and_then(|l| l.nodes.as_ref());
    assert_eq!(
        labels.and_then(|l| l[0].color.clone()),
        Some(json!("d73a4a"))
    );
    assert!(issue.milestone.is_none());
    assert_eq!(
        issue.comments.as_ref().and_then(|c| c.total_count.clone()),
        Some(json!(3))
    );

    // The same records through `execute` keep every field, including unselected ones.
    let raw = github(&server)
        .await
        .execute("issues", "list", json!({"owner": "octo", "repo": "hello"}))
        .await
        .expect("execute succeeds");
    assert_eq!(raw.data[0]["fieldNotInTheSelection"], json!(true));
}
