//! `list_all_automations`: every automation in workflow order, with at most
//! `AUTOMATION_FANOUT` listings in flight.

use std::time::Duration;

use airbyte_agent_runtime::hosted::{AUTOMATION_FANOUT, AutomationOptions};

use super::{env, workflow_calls, workspace};

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
