//! Hosted workflows and automations end to end: the runtime's `Workspace` against the local
//! double of Airbyte's API over loopback, with the wire bodies, the workspace-id lookup, the
//! fan-out limit of `list_all_automations` and the error mapping checked.

use std::time::Duration;

use airbyte_agent_runtime::hosted::{
    AUTOMATION_FANOUT, AirbyteAuthConfig, AutomationOptions, AutomationUpdate, HostedError,
    Platform, Workspace,
};
use airbyte_agent_runtime::{Error, RetryPolicy};
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Recorded};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

const SECRET: &str = "workflow-app-secret";
const ORG: &str = "org-wf-1";
const OTHER_ORG: &str = "org-wf-2";

/// A client id unique to each double of this process (the token cache is process-wide).
fn fresh_client_id() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("wf-client-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

struct Env {
    double: AirbyteDouble,
    client_id: String,
}

async fn env() -> Env {
    let client_id = fresh_client_id();
    let double = AirbyteDouble::builder()
        .account(Account::new(client_id.clone(), SECRET, [ORG]))
        .account(Account::new(
            format!("{client_id}-other"),
            SECRET,
            [OTHER_ORG],
        ))
        .workspaces(ORG, ["default", "acme-staging", "acme", "twin", "twin"])
        .workspaces(OTHER_ORG, ["acme"])
        .start()
        .await
        .expect("double starts");
    Env { double, client_id }
}

fn platform_with(env: &Env, retry: RetryPolicy) -> Platform {
    Platform::builder(
        AirbyteAuthConfig::new(env.client_id.clone(), SECRET.to_string())
            .base_url(env.double.base_url()),
    )
    .retry_policy(retry)
    .build()
    .expect("platform")
}

fn workspace(env: &Env, name: &str) -> Workspace {
    platform_with(env, fast_retries()).workspace(name)
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::new()
        .max_attempts(3)
        .base_delay(Duration::from_millis(5))
}

fn body(r: &Recorded) -> Value {
    serde_json::from_slice(&r.body).expect("JSON body")
}

fn query(r: &Recorded) -> Vec<(String, String)> {
    r.query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Requests received by the workflow endpoints.
fn workflow_calls(double: &AirbyteDouble) -> Vec<Recorded> {
    double
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/internal/workflows"))
        .collect()
}

#[tokio::test]
async fn workflow_crud_over_the_wire() {
    let env = env().await;
    let ws = workspace(&env, "acme");
    let id = ws.workspace_id().await.expect("workspace id");
    assert!(id.starts_with("ws-"), "{id}");
    // The lookup filtered by name and took the exact match, not `acme-staging`.
    let lookups: Vec<Recorded> = env
        .double
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/workspaces")
        .collect();
    assert_eq!(lookups.len(), 1);
    assert!(
        query(&lookups[0]).contains(&("name_contains".into(), "acme".into())),
        "{}",
        lookups[0].query
    );

    let tasks = json!([{"type": "prompt", "prompt": "summarize yesterday's tickets"}]);
    let a = ws
        .create_workflow("Daily digest", Some(tasks.clone()))
        .await
        .expect("create a");
    assert_eq!(a.name, "Daily digest");
    assert_eq!(a.tasks.as_ref(), Some(&tasks));
    assert_eq!(a.workspace_id.as_deref(), Some(id.as_str()));
    assert!(a.created_at.as_ref().and_then(Value::as_str).is_some());
    assert!(a.extra.contains_key("revision"), "unknown fields kept");
    let b = ws.create_workflow("Weekly", None).await.expect("create b");
    assert_eq!(b.tasks, Some(json!([])));

    let posts: Vec<Value> = workflow_calls(&env.double)
        .iter()
        .filter(|r| r.method == "POST")
        .map(body)
        .collect();
    assert_eq!(
        posts,
        vec![
            json!({"workspace_id": id, "name": "Daily digest", "tasks": tasks}),
            json!({"workspace_id": id, "name": "Weekly"}),
        ]
    );

    let listed = ws.list_workflows().await.expect("list");
    assert_eq!(
        listed.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        [a.id.as_str(), b.id.as_str()]
    );
    // A second handle on the same workspace name in another organization sees nothing.
    let other = Platform::new(
        AirbyteAuthConfig::new(format!("{}-other", env.client_id), SECRET.to_string())
            .base_url(env.double.base_url()),
    )
    .expect("platform")
    .workspace("acme");
    assert!(other.list_workflows().await.expect("other list").is_empty());
    let other_id = other.workspace_id().await.expect("other id");
    assert_ne!(other_id, id);

    let got = ws.get_workflow(&b.id).await.expect("get");
    assert_eq!(got, b);

    let renamed = ws
        .rename_workflow(&b.id, "Weekly v2")
        .await
        .expect("rename");
    assert_eq!(renamed.name, "Weekly v2");
    assert_eq!(renamed.tasks, b.tasks);
    let patch = workflow_calls(&env.double)
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("PATCH sent");
    assert_eq!(body(&patch), json!({"name": "Weekly v2"}));
    assert_eq!(patch.path, format!("/api/v1/internal/workflows/{}", b.id));

    ws.delete_workflow(&a.id).await.expect("delete");
    let e = ws.get_workflow(&a.id).await.expect_err("deleted");
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    assert!(e.to_string().contains(&a.id), "{e}");
    assert_eq!(env.double.stored_workflows(ORG).len(), 1);

    // Every workflow call named its workspace (the other organization's handle only once);
    // each handle looked its id up once.
    let named = |r: &Recorded, ws: &str| {
        query(r).contains(&("workspace_id".into(), ws.to_string()))
            || (!r.body.is_empty() && body(r)["workspace_id"] == ws)
    };
    let calls = workflow_calls(&env.double);
    assert_eq!(calls.iter().filter(|r| named(r, &other_id)).count(), 1);
    for r in calls.iter().filter(|r| !named(r, &other_id)) {
        assert!(named(r, &id), "{} {} ?{}", r.method, r.path, r.query);
    }
    let lookups = env
        .double
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/workspaces")
        .count();
    assert_eq!(lookups, 2, "each handle caches its workspace id");
}

#[tokio::test]
async fn automation_crud_over_the_wire() {
    let env = env().await;
    let ws = workspace(&env, "acme");
    let id = ws.workspace_id().await.expect("id");
    let wf = ws.create_workflow("Digest", None).await.expect("workflow");

    let plain = ws
        .create_automation(&wf.id, AutomationOptions::new())
        .await
        .expect("defaults");
    assert_eq!(plain.trigger_type, "schedule");
    assert!(plain.enabled);
    assert_eq!(plain.timezone, "UTC");
    assert_eq!(plain.cron_expression, None);
    assert_eq!(plain.workflow_id.as_deref(), Some(wf.id.as_str()));
    let hook = plain.trigger_webhook_url.clone().expect("trigger webhook");
    assert!(hook.contains(&plain.id), "{hook}");

    let nightly = ws
        .create_automation(
            &wf.id,
            AutomationOptions::schedule("0 2 * * *")
                .timezone("Europe/Paris")
                .completion_webhook_url("https://hooks.example/done")
                .enabled(false),
        )
        .await
        .expect("scheduled");
    assert_eq!(nightly.cron_expression.as_deref(), Some("0 2 * * *"));
    assert_eq!(nightly.timezone, "Europe/Paris");
    assert!(!nightly.enabled);

    let posts: Vec<Recorded> = workflow_calls(&env.double)
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/automations"))
        .collect();
    assert_eq!(
        body(&posts[0]),
        json!({"workspace_id": id, "trigger_type": "schedule", "enabled": true})
    );
    assert_eq!(
        body(&posts[1]),
        json!({"workspace_id": id, "trigger_type": "schedule", "enabled": false,
               "cron_expression": "0 2 * * *", "timezone": "Europe/Paris",
               "completion_webhook_url": "https://hooks.example/done"})
    );
    assert!(query(&posts[0]).contains(&("workspace_id".into(), id.clone())));

    let listed = ws.list_automations(&wf.id).await.expect("list");
    assert_eq!(listed, vec![plain.clone(), nightly.clone()]);
    assert_eq!(
        ws.get_automation(&wf.id, &nightly.id).await.expect("get"),
        nightly
    );

    let updated = ws
        .update_automation(
            &wf.id,
            &nightly.id,
            AutomationUpdate::new()
                .enabled(true)
                .cron_expression("30 6 * * 1-5"),
        )
        .await
        .expect("update");
    assert!(updated.enabled);
    assert_eq!(updated.cron_expression.as_deref(), Some("30 6 * * 1-5"));
    assert_eq!(updated.timezone, "Europe/Paris", "unsent fields unchanged");
    assert_eq!(
        updated.completion_webhook_url.as_deref(),
        Some("https://hooks.example/done")
    );
    let cleared = ws
        .update_automation(
            &wf.id,
            &nightly.id,
            AutomationUpdate::new().clear_completion_webhook_url(),
        )
        .await
        .expect("clear");
    assert_eq!(cleared.completion_webhook_url, None);
    assert!(cleared.enabled);
    let patches: Vec<Value> = workflow_calls(&env.double)
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(body)
        .collect();
    assert_eq!(
        patches,
        vec![
            json!({"enabled": true, "cron_expression": "30 6 * * 1-5"}),
            json!({"completion_webhook_url": null}),
        ]
    );

    // The server validates what it is sent; its 422 comes back typed, with its reason.
    let e = ws
        .create_automation(&wf.id, AutomationOptions::schedule("every day"))
        .await
        .expect_err("bad cron");
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    assert!(e.to_string().contains("five fields"), "{e}");

    ws.delete_automation(&wf.id, &plain.id)
        .await
        .expect("delete");
    let e = ws
        .get_automation(&wf.id, &plain.id)
        .await
        .expect_err("gone");
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    assert_eq!(ws.list_automations(&wf.id).await.expect("list").len(), 1);

    // Deleting the workflow removes its automations too.
    ws.delete_workflow(&wf.id).await.expect("delete workflow");
    assert!(env.double.stored_automations(ORG).is_empty());
    let e = ws
        .list_automations(&wf.id)
        .await
        .expect_err("workflow gone");
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn list_all_automations_fans_out_in_order_with_at_most_ten_in_flight() {
    let env = env().await;
    let ws = workspace(&env, "acme");
    let mut expected = Vec::new();
    for i in 0..25 {
        let wf = ws
            .create_workflow(&format!("flow {i:02}"), None)
            .await
            .expect("workflow");
        // 0, 1 or 2 automations per workflow.
        for j in 0..(i % 3) {
            let a = ws
                .create_automation(
                    &wf.id,
                    AutomationOptions::schedule(format!("{j} {} * * *", i % 24)),
                )
                .await
                .expect("automation");
            expected.push((wf.id.clone(), a.id));
        }
    }
    assert_eq!(expected.len(), 24);

    env.double.set_workflow_latency(Duration::from_millis(80));
    env.double.reset_workflow_in_flight();
    let before = workflow_calls(&env.double).len();
    let all = ws.list_all_automations().await.expect("fan-out");
    let got: Vec<(String, String)> = all
        .iter()
        .map(|a| (a.workflow_id.clone().unwrap_or_default(), a.id.clone()))
        .collect();
    assert_eq!(got, expected, "every automation, in workflow order");

    let max = env.double.max_workflow_requests_in_flight();
    assert!(max <= AUTOMATION_FANOUT, "{max} requests in flight");
    // 80 ms per answer leaves room for all ten to start together; half is a safe floor.
    assert!(
        max >= AUTOMATION_FANOUT / 2,
        "listings did not run in parallel ({max} at most)"
    );
    // One workflow listing plus one automation listing per workflow.
    let calls = workflow_calls(&env.double);
    assert_eq!(calls.len() - before, 1 + 25);

    // The same through bare-array list responses.
    env.double.set_workflow_latency(Duration::ZERO);
    env.double.set_workflow_lists_bare(true);
    let bare = ws.list_all_automations().await.expect("bare lists");
    assert_eq!(bare, all);
}

#[tokio::test]
async fn workspace_lookup_errors_are_typed() {
    let env = env().await;
    let e = workspace(&env, "nowhere")
        .list_workflows()
        .await
        .expect_err("unknown workspace");
    match &e {
        Error::Hosted(HostedError::WorkspaceNotFound { workspace_name }) => {
            assert_eq!(workspace_name, "nowhere")
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("`nowhere`"), "{e}");
    // `acme` exists, but only as a substring here: no exact match.
    let e = workspace(&env, "acme-")
        .create_workflow("x", None)
        .await
        .expect_err("prefix only");
    assert!(
        matches!(e, Error::Hosted(HostedError::WorkspaceNotFound { .. })),
        "{e:?}"
    );
    let e = workspace(&env, "twin")
        .list_all_automations()
        .await
        .expect_err("two exact matches");
    match e {
        Error::Hosted(HostedError::AmbiguousWorkspace {
            workspace_name,
            ids,
        }) => {
            assert_eq!(workspace_name, "twin");
            assert_eq!(ids.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    // Nothing reached the workflow endpoints.
    assert!(workflow_calls(&env.double).is_empty());
}

#[tokio::test]
async fn unknown_ids_and_server_failures_are_typed() {
    let env = env().await;
    let ws = workspace(&env, "default");
    let wf = ws.create_workflow("W", None).await.expect("workflow");
    for e in [
        ws.get_workflow("wf-missing").await.map(|_| ()),
        ws.rename_workflow("wf-missing", "n").await.map(|_| ()),
        ws.delete_workflow("wf-missing").await,
        ws.list_automations("wf-missing").await.map(|_| ()),
        ws.get_automation(&wf.id, "auto-missing").await.map(|_| ()),
        ws.update_automation(
            &wf.id,
            "auto-missing",
            AutomationUpdate::new().enabled(false),
        )
        .await
        .map(|_| ()),
        ws.delete_automation(&wf.id, "auto-missing").await,
    ] {
        let e = e.expect_err("unknown id");
        assert!(matches!(e, Error::NotFound(_)), "{e:?}");
        assert!(e.to_string().contains("missing"), "{e}");
    }
    // Ids with reserved characters stay one path segment.
    let e = ws.get_workflow("a/../b?c").await.expect_err("odd id");
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    let last = workflow_calls(&env.double).pop().expect("sent");
    assert_eq!(last.path, "/api/v1/internal/workflows/a%2F..%2Fb%3Fc");

    // A 500 on a GET is retried; a persistent one comes back as a typed service error.
    env.double
        .fail_next("/api/v1/internal/workflows", 500, 1, None);
    assert_eq!(ws.list_workflows().await.expect("retried").len(), 1);
    env.double
        .fail_next("/api/v1/internal/workflows", 500, 10, None);
    let e = ws.list_workflows().await.expect_err("persistent 500");
    match &e {
        Error::Service(d) => assert_eq!(d.status, 500),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("injected failure 500"), "{e}");

    // A 500 on a POST is not retried (it may have been applied).
    let double = &env.double;
    let posts = || {
        workflow_calls(double)
            .iter()
            .filter(|r| r.method == "POST")
            .count()
    };
    let before = posts();
    double.fail_next("/api/v1/internal/workflows", 500, 10, None);
    let e = ws
        .create_workflow("again", None)
        .await
        .expect_err("post 500");
    assert!(matches!(e, Error::Service(_)), "{e:?}");
    assert_eq!(posts() - before, 1);
    // The client secret never shows up in errors.
    assert!(!format!("{e:?}").contains(SECRET));
}

/// Raw HTTP against the double, for the server-side rules a well-behaved client never trips.
async fn raw(
    double: &AirbyteDouble,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = double.base_url().trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

#[tokio::test]
async fn double_enforces_workspace_rules() {
    let env = env().await;
    let platform = platform_with(&env, RetryPolicy::none());
    let token = platform.application_token().await.expect("token");
    let token = token.expose_secret();
    let mine = platform.workspace("acme").workspace_id().await.expect("id");
    let theirs = Platform::new(
        AirbyteAuthConfig::new(format!("{}-other", env.client_id), SECRET.to_string())
            .base_url(env.double.base_url()),
    )
    .expect("platform")
    .workspace("acme")
    .workspace_id()
    .await
    .expect("their id");

    let base = "/api/v1/internal/workflows";
    let (status, created) = raw(
        &env.double,
        token,
        "POST",
        base,
        Some(json!({"workspace_id": mine, "name": "mine"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let wf = created["id"].as_str().expect("id").to_string();
    let cases = [
        ("GET", base.to_string(), None, 422, "no workspace_id"),
        (
            "POST",
            base.to_string(),
            Some(json!({"name": "n"})),
            422,
            "no workspace_id in body",
        ),
        (
            "POST",
            base.to_string(),
            Some(json!({"workspace_id": theirs, "name": "theirs"})),
            404,
            "another organization's workspace",
        ),
        (
            "GET",
            format!("{base}/{wf}?workspace_id={theirs}"),
            None,
            404,
            "another organization's workspace",
        ),
        (
            "GET",
            format!("{base}/{wf}?workspace_id=ws-unknown"),
            None,
            404,
            "unknown workspace",
        ),
        (
            "PUT",
            format!("{base}/{wf}?workspace_id={mine}"),
            Some(json!({})),
            405,
            "method",
        ),
        (
            "POST",
            format!("{base}/{wf}/automations?workspace_id={mine}"),
            Some(json!({"workspace_id": mine, "enabled": "yes"})),
            422,
            "enabled must be a boolean",
        ),
        (
            "POST",
            format!("{base}/{wf}/automations?workspace_id={mine}"),
            Some(json!({"workspace_id": theirs})),
            422,
            "query and body disagree",
        ),
    ];
    for (method, path, body, want, why) in cases {
        let (status, answer) = raw(&env.double, token, method, &path, body).await;
        assert_eq!(status, want, "{why}: {method} {path} -> {answer}");
    }
    let mut fields = Map::new();
    fields.insert("name".into(), json!(""));
    let e = platform
        .workspace("acme")
        .update_workflow(&wf, fields)
        .await
        .expect_err("empty name");
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
}
