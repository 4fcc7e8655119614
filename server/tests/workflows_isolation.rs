//! Workflows and automations over raw HTTP against the real server on 127.0.0.1: another
//! organization's and (for a workspace-scoped token) another workspace's workflows look absent
//! (404, nothing changed), and bad input gets a clear 4xx in the protocol's error shape with
//! nothing stored. SQLite always; PostgreSQL when `AIRBYTE_SERVER_TEST_PG` is set.

mod common;

use airbyte_agent_server::config::ServerConfig;
use common::*;
use serde_json::{Value, json};

const BASE: &str = "/api/v1/internal/workflows";

/// The message of an error body (empty when the body is not the protocol's error shape).
fn message(b: &Value) -> &str {
    b["errors"][0]["userPresentableMessage"]
        .as_str()
        .unwrap_or("")
}

/// The id of workspace `name` as `token` sees it.
async fn workspace_id(srv: &TestServer, token: &str, name: &str) -> String {
    let (s, b) = srv
        .send(
            "GET",
            &format!("/api/v1/workspaces?name_contains={name}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b["data"]
        .as_array()
        .and_then(|d| d.iter().find(|w| w["name"] == name))
        .and_then(|w| w["id"].as_str())
        .expect("workspace")
        .to_string()
}

/// A workflow with one automation in workspace `ws` → (workflow id, automation id).
async fn workflow_with_automation(srv: &TestServer, token: &str, ws: &str) -> (String, String) {
    let (s, wf) = srv
        .send(
            "POST",
            BASE,
            Some(token),
            Some(json!({"workspace_id": ws, "name": "nightly"}).to_string()),
        )
        .await;
    assert_eq!(s, 201, "{wf}");
    let wf = wf["id"].as_str().expect("id").to_string();
    let (s, a) = srv
        .send(
            "POST",
            &format!("{BASE}/{wf}/automations?workspace_id={ws}"),
            Some(token),
            Some(json!({"workspace_id": ws, "cron_expression": "0 2 * * *"}).to_string()),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    (wf, a["id"].as_str().expect("id").to_string())
}

/// Every read and write of workflow `wf` / automation `a` in workspace `ws` with `token`
/// answers 404; so do listing and creating in `ws` when it is not the caller's (`foreign`).
async fn all_absent(
    srv: &TestServer,
    token: &str,
    (ws, foreign): (&str, bool),
    wf: &str,
    a: &str,
    why: &str,
) {
    let q = format!("?workspace_id={ws}");
    let patch = Some(json!({"name": "stolen"}).to_string());
    let auto_patch = Some(json!({"enabled": false}).to_string());
    let mut cases = vec![
        ("GET", format!("{BASE}/{wf}{q}"), None),
        ("PATCH", format!("{BASE}/{wf}{q}"), patch),
        ("GET", format!("{BASE}/{wf}/automations{q}"), None),
        (
            "POST",
            format!("{BASE}/{wf}/automations{q}"),
            Some("{}".to_string()),
        ),
        ("GET", format!("{BASE}/{wf}/automations/{a}{q}"), None),
        (
            "PATCH",
            format!("{BASE}/{wf}/automations/{a}{q}"),
            auto_patch,
        ),
        ("DELETE", format!("{BASE}/{wf}/automations/{a}{q}"), None),
        ("DELETE", format!("{BASE}/{wf}{q}"), None),
    ];
    if foreign {
        cases.push(("GET", format!("{BASE}{q}"), None));
        cases.push((
            "POST",
            BASE.to_string(),
            Some(json!({"workspace_id": ws, "name": "x"}).to_string()),
        ));
    }
    for (method, path, body) in cases {
        let (s, b) = srv.send(method, &path, Some(token), body).await;
        assert_eq!(s, 404, "{why}: {method} {path} -> {b}");
        assert!(!message(&b).is_empty(), "{why}: {b}");
        assert!(!b.to_string().contains("nightly"), "{why}: leaks {b}");
    }
}

/// The workflow and its automation are still there, unchanged, for their owner.
async fn intact(srv: &TestServer, token: &str, ws: &str, wf: &str, a: &str) {
    let (s, b) = srv
        .send(
            "GET",
            &format!("{BASE}/{wf}?workspace_id={ws}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!((s, b["name"].as_str()), (200, Some("nightly")), "{b}");
    let (s, b) = srv
        .send(
            "GET",
            &format!("{BASE}/{wf}/automations/{a}?workspace_id={ws}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!((s, &b["enabled"]), (200, &json!(true)), "{b}");
}

#[tokio::test]
async fn organizations_never_see_each_others_workflows() {
    for db in databases().await {
        let srv = TestServer::start(&db, ServerConfig::new()).await;
        let a_token = srv.token(&srv.app).await;
        let a_ws = workspace_id(&srv, &a_token, "default").await;
        let (wf, auto) = workflow_with_automation(&srv, &a_token, &a_ws).await;

        let b = srv.second_organization().await;
        let b_token = srv.token(&b).await;
        let b_ws = workspace_id(&srv, &b_token, "default").await;
        // With A's workspace id: the workspace itself looks absent.
        all_absent(
            &srv,
            &b_token,
            (&a_ws, true),
            &wf,
            &auto,
            "B with A's workspace",
        )
        .await;
        // With B's own workspace id: A's ids look absent.
        all_absent(
            &srv,
            &b_token,
            (&b_ws, false),
            &wf,
            &auto,
            "B with its workspace",
        )
        .await;
        let (s, b_list) = srv
            .send(
                "GET",
                &format!("{BASE}?workspace_id={b_ws}"),
                Some(&b_token),
                None,
            )
            .await;
        assert_eq!((s, b_list["data"].clone()), (200, json!([])), "{b_list}");
        // Nothing was created in A's workspace.
        let (_, a_list) = srv
            .send(
                "GET",
                &format!("{BASE}?workspace_id={a_ws}"),
                Some(&a_token),
                None,
            )
            .await;
        assert_eq!(a_list["data"].as_array().map(Vec::len), Some(1), "{a_list}");
        intact(&srv, &a_token, &a_ws, &wf, &auto).await;
    }
}

#[tokio::test]
async fn scoped_token_sees_only_its_workspace() {
    for db in databases().await {
        let srv = TestServer::start(&db, ServerConfig::new()).await;
        let app = srv.token(&srv.app).await;
        let (s, b) = srv
            .send(
                "POST",
                "/api/v1/workspaces",
                Some(&app),
                Some(json!({"name": "other"}).to_string()),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let own = workspace_id(&srv, &app, "default").await;
        let other = workspace_id(&srv, &app, "other").await;
        let (wf, auto) = workflow_with_automation(&srv, &app, &other).await;
        let (s, t) = srv
            .send(
                "POST",
                "/api/v1/embedded/scoped-token",
                Some(&app),
                Some(json!({"workspace_name": "default"}).to_string()),
            )
            .await;
        assert_eq!(s, 200, "{t}");
        let scoped = t["token"].as_str().expect("token").to_string();

        // Its own workspace works end to end.
        let (mine, mine_auto) = workflow_with_automation(&srv, &scoped, &own).await;
        intact(&srv, &scoped, &own, &mine, &mine_auto).await;
        let (s, list) = srv
            .send(
                "GET",
                &format!("{BASE}?workspace_id={own}"),
                Some(&scoped),
                None,
            )
            .await;
        assert_eq!((s, list["data"].as_array().map(Vec::len)), (200, Some(1)));
        // The other workspace, and its ids under the token's own workspace, look absent.
        all_absent(
            &srv,
            &scoped,
            (&other, true),
            &wf,
            &auto,
            "scoped, other workspace",
        )
        .await;
        all_absent(
            &srv,
            &scoped,
            (&own, false),
            &wf,
            &auto,
            "scoped, other ids",
        )
        .await;
        let (_, list) = srv
            .send(
                "GET",
                &format!("{BASE}?workspace_id={other}"),
                Some(&app),
                None,
            )
            .await;
        assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
        intact(&srv, &app, &other, &wf, &auto).await;
        // The application token sees both workspaces.
        intact(&srv, &app, &own, &mine, &mine_auto).await;
    }
}

#[tokio::test]
async fn bad_input_gets_clear_4xx_and_stores_nothing() {
    for db in databases().await {
        let srv = TestServer::start(&db, ServerConfig::new()).await;
        let token = srv.token(&srv.app).await;
        let ws = workspace_id(&srv, &token, "default").await;
        let (wf, auto) = workflow_with_automation(&srv, &token, &ws).await;
        let q = format!("?workspace_id={ws}");
        let body = |v: Value| Some(v.to_string());
        let cases: Vec<(&str, String, Option<String>, u16, &str)> = vec![
            (
                "POST",
                BASE.into(),
                Some("{\"name\": ".into()),
                400,
                "not valid JSON",
            ),
            ("POST", BASE.into(), Some("[1]".into()), 400, "JSON object"),
            ("GET", BASE.into(), None, 422, "workspace_id is required"),
            (
                "POST",
                BASE.into(),
                body(json!({"name": "n"})),
                422,
                "workspace_id is required",
            ),
            (
                "POST",
                format!("{BASE}?workspace_id=elsewhere"),
                body(json!({"workspace_id": ws, "name": "n"})),
                422,
                "differs",
            ),
            (
                "GET",
                format!("{BASE}?workspace_id=ws-unknown"),
                None,
                404,
                "Workspace ws-unknown not found",
            ),
            (
                "POST",
                format!("{BASE}{q}"),
                body(json!({"workspace_id": ws})),
                422,
                "name",
            ),
            (
                "POST",
                format!("{BASE}{q}"),
                body(json!({"name": "  "})),
                422,
                "name must not be empty",
            ),
            (
                "POST",
                format!("{BASE}{q}"),
                body(json!({"name": "n", "tasks": "x"})),
                422,
                "tasks must be an array",
            ),
            (
                "POST",
                format!("{BASE}{q}"),
                body(json!({"name": "n", "colour": 1})),
                422,
                "colour",
            ),
            (
                "GET",
                format!("{BASE}/wf-nope{q}"),
                None,
                404,
                "Workflow wf-nope not found",
            ),
            (
                "PATCH",
                format!("{BASE}/{wf}{q}"),
                body(json!({"name": 5})),
                422,
                "name",
            ),
            (
                "PATCH",
                format!("{BASE}/{wf}{q}"),
                Some("nope".into()),
                400,
                "not valid JSON",
            ),
            (
                "PUT",
                format!("{BASE}/{wf}{q}"),
                body(json!({})),
                405,
                "Method Not Allowed",
            ),
            ("GET", format!("{BASE}{q}&cursor=%%%"), None, 400, ""),
            (
                "GET",
                format!("{BASE}{q}&cursor=bm90LWEtY3Vyc29y"),
                None,
                400,
                "invalid cursor",
            ),
            ("GET", format!("{BASE}{q}&limit=many"), None, 400, "limit"),
            (
                "POST",
                format!("{BASE}/wf-nope/automations{q}"),
                body(json!({})),
                404,
                "Workflow wf-nope not found",
            ),
            (
                "POST",
                format!("{BASE}/{wf}/automations{q}"),
                body(json!({"enabled": "yes"})),
                422,
                "enabled must be a boolean",
            ),
            (
                "POST",
                format!("{BASE}/{wf}/automations{q}"),
                body(json!({"workspace_id": "elsewhere"})),
                422,
                "differs",
            ),
            (
                "POST",
                format!("{BASE}/{wf}/automations{q}"),
                body(json!({"cron_expression": "* * 32 * *"})),
                422,
                "day of month",
            ),
            (
                "POST",
                format!("{BASE}/{wf}/automations{q}"),
                body(json!({"timezone": "Europe/Pa ris"})),
                422,
                "timezone",
            ),
            (
                "POST",
                format!("{BASE}/{wf}/automations{q}"),
                body(json!({"trigger": "schedule"})),
                422,
                "unknown field `trigger`",
            ),
            (
                "POST",
                format!("{BASE}/{wf}/automations"),
                body(json!({})),
                422,
                "workspace_id is required",
            ),
            (
                "PATCH",
                format!("{BASE}/{wf}/automations/{auto}{q}"),
                body(json!({"enabled": null})),
                422,
                "enabled must be a boolean",
            ),
            (
                "GET",
                format!("{BASE}/{wf}/automations/auto-nope{q}"),
                None,
                404,
                "Automation auto-nope not found",
            ),
            (
                "DELETE",
                format!("{BASE}/{wf}/automations/{auto}"),
                None,
                422,
                "workspace_id is required",
            ),
        ];
        for (method, path, b, want, says) in cases {
            let (s, answer) = srv.send(method, &path, Some(&token), b).await;
            assert_eq!(s, want, "{method} {path} -> {answer}");
            let m = message(&answer);
            assert!(
                !m.is_empty(),
                "{method} {path}: not the error shape: {answer}"
            );
            assert!(m.contains(says), "{method} {path}: {m}");
        }
        // Without a token nothing is answered but 401.
        let (s, b) = srv.send("GET", &format!("{BASE}{q}"), None, None).await;
        assert_eq!(s, 401, "{b}");
        // Nothing was stored or changed by the refused requests.
        let (_, list) = srv
            .send("GET", &format!("{BASE}{q}"), Some(&token), None)
            .await;
        assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
        let (_, autos) = srv
            .send(
                "GET",
                &format!("{BASE}/{wf}/automations{q}"),
                Some(&token),
                None,
            )
            .await;
        let autos = autos["data"].as_array().cloned().unwrap_or_default();
        assert_eq!(autos.len(), 1);
        assert_eq!(autos[0]["enabled"], json!(true));
        assert_eq!(autos[0]["cron_expression"], json!("0 2 * * *"));
        assert_eq!(autos[0]["timezone"], json!("UTC"));
    }
}
