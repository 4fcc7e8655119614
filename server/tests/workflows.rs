//! Workflows and automations through the runtime's platform client (`Workspace`) against the
//! real server on 127.0.0.1: the cases of `tests/tests/hosted/workflows/` (CRUD, partial
//! updates, validation, cascade on delete, the fan-out listing of every automation, typed
//! errors for unknown ids and workspaces) plus cursor pages. SQLite always; PostgreSQL when
//! `AIRBYTE_SERVER_TEST_PG` is set. Isolation and bad input: `workflows_isolation.rs`.

mod common;

use airbyte_agent_runtime::Error;
use airbyte_agent_runtime::hosted::{
    AutomationOptions, AutomationUpdate, HostedError, Platform, Workspace,
};
use airbyte_agent_server::config::ServerConfig;
use common::*;
use serde_json::{Value, json};

/// Rows of `table` in the test database (what the server stored, not what it answers).
async fn rows(db: &Database, table: &str) -> i64 {
    use sqlx::Connection as _;
    use sqlx::Row as _;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&db.url)
        .await
        .expect("connect");
    let r = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .expect("count");
    let n: i64 = r.try_get(0).expect("count value");
    let _ = conn.close().await;
    n
}

fn platform(srv: &TestServer) -> Platform {
    Platform::new(srv.auth(&srv.app)).expect("platform")
}

/// A server with workspaces `acme` and `acme-staging` besides `default`; the `acme` handle.
async fn acme(db: &Database) -> (TestServer, Workspace) {
    let srv = TestServer::start(db, ServerConfig::new()).await;
    let p = platform(&srv);
    for name in ["acme-staging", "acme"] {
        p.create_workspace(name).await.expect("workspace");
    }
    (srv, p.workspace("acme"))
}

#[tokio::test]
async fn workflow_crud_through_the_runtime() {
    for db in databases().await {
        let (srv, ws) = acme(&db).await;
        let id = ws.workspace_id().await.expect("workspace id");
        let staging = platform(&srv)
            .find_workspace("acme-staging")
            .await
            .expect("list")
            .expect("staging");
        assert_ne!(id, staging.id, "exact name match, not `acme-staging`");

        let tasks = json!([{"type": "prompt", "prompt": "summarize yesterday's tickets"}]);
        let a = ws
            .create_workflow("Daily digest", Some(tasks.clone()))
            .await
            .expect("create a");
        assert_eq!(a.name, "Daily digest");
        assert_eq!(a.tasks.as_ref(), Some(&tasks));
        assert_eq!(a.workspace_id.as_deref(), Some(id.as_str()));
        let created = a.created_at.as_ref().and_then(Value::as_str).expect("time");
        assert!(
            created.starts_with("20") && created.ends_with('Z'),
            "{created}"
        );
        let b = ws.create_workflow("Weekly", None).await.expect("create b");
        assert_eq!(b.tasks, Some(json!([])));

        let listed = ws.list_workflows().await.expect("list");
        assert_eq!(
            listed.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
            [a.id.as_str(), b.id.as_str()],
            "creation order"
        );
        // The same workspace name in another organization is another workspace: empty.
        let other_app = srv.second_organization().await;
        let other_platform = Platform::new(srv.auth(&other_app)).expect("platform");
        other_platform
            .create_workspace("acme")
            .await
            .expect("theirs");
        let other = other_platform.workspace("acme");
        assert!(other.list_workflows().await.expect("other list").is_empty());
        assert_ne!(other.workspace_id().await.expect("other id"), id);
        // And another workspace of the same organization too.
        let staging_ws = platform(&srv).workspace("acme-staging");
        assert!(
            staging_ws
                .list_workflows()
                .await
                .expect("staging")
                .is_empty()
        );

        assert_eq!(ws.get_workflow(&b.id).await.expect("get"), b);
        let renamed = ws
            .rename_workflow(&b.id, "Weekly v2")
            .await
            .expect("rename");
        assert_eq!(renamed.name, "Weekly v2");
        assert_eq!(renamed.tasks, b.tasks, "tasks unchanged");
        assert_eq!(renamed.created_at, b.created_at);
        let mut fields = serde_json::Map::new();
        fields.insert("tasks".into(), json!([{"type": "prompt", "prompt": "x"}]));
        let retasked = ws.update_workflow(&b.id, fields).await.expect("tasks");
        assert_eq!(retasked.name, "Weekly v2", "name unchanged");
        assert_eq!(
            retasked.tasks,
            Some(json!([{"type": "prompt", "prompt": "x"}]))
        );
        let mut fields = serde_json::Map::new();
        fields.insert("name".into(), json!(""));
        let e = ws.update_workflow(&b.id, fields).await.expect_err("empty");
        assert!(matches!(e, Error::Validation(_)), "{e:?}");

        ws.delete_workflow(&a.id).await.expect("delete");
        let e = ws.get_workflow(&a.id).await.expect_err("deleted");
        assert!(matches!(e, Error::NotFound(_)), "{e:?}");
        assert!(e.to_string().contains(&a.id), "{e}");
        assert_eq!(rows(&db, "workflows").await, 1);
        let e = ws.delete_workflow(&a.id).await.expect_err("twice");
        assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    }
}

#[tokio::test]
async fn automation_crud_through_the_runtime() {
    for db in databases().await {
        let (_srv, ws) = acme(&db).await;
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
        assert_eq!(plain.workspace_id.as_deref(), Some(id.as_str()));
        // The server stores automations; it does not fire them, so it offers no trigger URL.
        assert_eq!(plain.trigger_webhook_url, None);

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
        let hook = ws
            .create_automation(&wf.id, AutomationOptions::new().trigger_type("webhook"))
            .await
            .expect("webhook trigger");
        assert_eq!(hook.trigger_type, "webhook");

        let listed = ws.list_automations(&wf.id).await.expect("list");
        assert_eq!(listed, vec![plain.clone(), nightly.clone(), hook.clone()]);
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
        assert_eq!(cleared.cron_expression.as_deref(), Some("30 6 * * 1-5"));

        // Validation errors come back typed, with the reason; nothing is stored.
        for (options, reason) in [
            (AutomationOptions::schedule("every day"), "five fields"),
            (AutomationOptions::schedule("61 * * * *"), "minute"),
            (
                AutomationOptions::new().trigger_type("cron"),
                "trigger_type",
            ),
            (AutomationOptions::new().timezone("Not a zone"), "timezone"),
            (
                AutomationOptions::new().completion_webhook_url("ftp://x"),
                "completion_webhook_url",
            ),
        ] {
            let e = ws
                .create_automation(&wf.id, options)
                .await
                .expect_err(reason);
            assert!(matches!(e, Error::Validation(_)), "{e:?}");
            assert!(e.to_string().contains(reason), "{e}");
        }
        let e = ws
            .update_automation(
                &wf.id,
                &nightly.id,
                AutomationUpdate::new().cron_expression("* * *"),
            )
            .await
            .expect_err("bad cron on update");
        assert!(matches!(e, Error::Validation(_)), "{e:?}");
        assert_eq!(
            ws.get_automation(&wf.id, &nightly.id).await.expect("get"),
            cleared,
            "a refused update changes nothing"
        );
        assert_eq!(rows(&db, "automations").await, 3);

        ws.delete_automation(&wf.id, &plain.id)
            .await
            .expect("delete");
        let e = ws
            .get_automation(&wf.id, &plain.id)
            .await
            .expect_err("gone");
        assert!(matches!(e, Error::NotFound(_)), "{e:?}");
        assert_eq!(ws.list_automations(&wf.id).await.expect("list").len(), 2);

        // Deleting the workflow deletes its automations (in the database, not just the view).
        let keep = ws.create_workflow("Keep", None).await.expect("keep");
        ws.create_automation(&keep.id, AutomationOptions::new())
            .await
            .expect("kept automation");
        ws.delete_workflow(&wf.id).await.expect("delete workflow");
        assert_eq!(rows(&db, "automations").await, 1);
        let e = ws
            .list_automations(&wf.id)
            .await
            .expect_err("workflow gone");
        assert!(matches!(e, Error::NotFound(_)), "{e:?}");
        assert_eq!(ws.list_automations(&keep.id).await.expect("kept").len(), 1);
    }
}

#[tokio::test]
async fn list_all_automations_fans_out_in_workflow_order() {
    for db in databases().await {
        let (_srv, ws) = acme(&db).await;
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
        let all = ws.list_all_automations().await.expect("fan-out");
        let got: Vec<(String, String)> = all
            .iter()
            .map(|a| (a.workflow_id.clone().unwrap_or_default(), a.id.clone()))
            .collect();
        assert_eq!(got, expected, "every automation, in workflow order");
    }
}

/// More workflows than one page (100): the runtime follows the server's cursors.
#[tokio::test]
async fn listings_follow_cursor_pages() {
    for db in databases().await {
        let (srv, ws) = acme(&db).await;
        let mut ids = Vec::new();
        for i in 0..105 {
            let wf = ws
                .create_workflow(&format!("w{i:03}"), None)
                .await
                .expect("workflow");
            ids.push(wf.id);
        }
        let listed = ws.list_workflows().await.expect("list");
        assert_eq!(
            listed.into_iter().map(|w| w.id).collect::<Vec<_>>(),
            ids,
            "all pages, creation order"
        );

        // The pages themselves, with a small limit.
        let token = srv.token(&srv.app).await;
        let wsid = ws.workspace_id().await.expect("id");
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let q = format!(
                "/api/v1/internal/workflows?workspace_id={wsid}&limit=40{}",
                if cursor.is_empty() {
                    String::new()
                } else {
                    format!("&cursor={cursor}")
                }
            );
            let (s, b) = srv.send("GET", &q, Some(&token), None).await;
            assert_eq!(s, 200, "{b}");
            let data = b["data"].as_array().expect("data");
            seen.extend(
                data.iter()
                    .map(|w| w["id"].as_str().unwrap_or("").to_string()),
            );
            if b["has_more"] == json!(false) {
                assert_eq!(b["next_cursor"], Value::Null);
                break;
            }
            assert_eq!(data.len(), 40);
            cursor = b["next_cursor"].as_str().expect("cursor").to_string();
        }
        assert_eq!(seen, ids);
    }
}

#[tokio::test]
async fn unknown_ids_and_workspaces_are_typed() {
    for db in databases().await {
        let (srv, _) = acme(&db).await;
        let p = platform(&srv);
        let e = p
            .workspace("nowhere")
            .list_workflows()
            .await
            .expect_err("unknown workspace");
        match &e {
            Error::Hosted(HostedError::WorkspaceNotFound { workspace_name }) => {
                assert_eq!(workspace_name, "nowhere")
            }
            other => panic!("{other:?}"),
        }
        // `acme` exists, but only as a longer name here: no exact match.
        let e = p
            .workspace("acme-")
            .create_workflow("x", None)
            .await
            .expect_err("prefix only");
        assert!(
            matches!(e, Error::Hosted(HostedError::WorkspaceNotFound { .. })),
            "{e:?}"
        );

        let ws = p.workspace("default");
        let wf = ws.create_workflow("W", None).await.expect("workflow");
        for e in [
            ws.get_workflow("wf-missing").await.map(|_| ()),
            ws.rename_workflow("wf-missing", "n").await.map(|_| ()),
            ws.delete_workflow("wf-missing").await,
            ws.list_automations("wf-missing").await.map(|_| ()),
            ws.create_automation("wf-missing", AutomationOptions::new())
                .await
                .map(|_| ()),
            ws.get_automation("wf-missing", "auto-missing")
                .await
                .map(|_| ()),
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
        assert!(e.to_string().contains("a/../b?c"), "{e}");
        assert_eq!(rows(&db, "automations").await, 0, "nothing stored");
    }
}

/// Automations created while their workflow is being deleted: each creation is a 201 or a
/// 404, never a failure, and no automation outlives its workflow.
#[tokio::test]
async fn no_automation_outlives_its_workflow() {
    for db in databases().await {
        let (_srv, ws) = acme(&db).await;
        for round in 0..5 {
            let wf = ws
                .create_workflow(&format!("round {round}"), None)
                .await
                .expect("workflow");
            let creates = (0..8).map(|_| ws.create_automation(&wf.id, AutomationOptions::new()));
            let (results, deleted) = tokio::join!(
                futures_util::future::join_all(creates),
                ws.delete_workflow(&wf.id)
            );
            deleted.expect("deleted");
            for r in results {
                match r {
                    Ok(_) | Err(Error::NotFound(_)) => {}
                    Err(e) => panic!("{e:?}"),
                }
            }
        }
        assert_eq!(rows(&db, "automations").await, 0);
        assert_eq!(rows(&db, "workflows").await, 0);
    }
}
