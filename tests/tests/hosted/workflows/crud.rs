//! Workflow and automation CRUD over the wire: request bodies, workspace ids, unknown fields
//! kept, partial updates, server-side validation, cascade on delete.

use airbyte_agent_runtime::Error;
use airbyte_agent_runtime::hosted::{
    AirbyteAuthConfig, AutomationOptions, AutomationUpdate, Platform,
};
use airbyte_agent_tests::airbyte_double::Recorded;
use serde_json::{Value, json};

use super::{ORG, SECRET, body, env, query, workflow_calls, workspace};

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
