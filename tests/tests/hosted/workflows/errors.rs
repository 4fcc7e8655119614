//! Typed errors of the workspace handle: unknown or ambiguous workspaces, unknown ids, server
//! failures (retried on reads, never on writes), and no secret in any of them.

use airbyte_agent_runtime::Error;
use airbyte_agent_runtime::hosted::{AutomationUpdate, HostedError};

use super::{SECRET, env, workflow_calls, workspace};

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
