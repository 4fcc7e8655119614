//! Hosted workflows and automations end to end: the runtime's `Workspace` against the local
//! double of Airbyte's API over loopback, with the wire bodies, the workspace-id lookup, the
//! fan-out limit of `list_all_automations` and the error mapping checked. The fixtures here are
//! the workflow modules' own: an account in two organizations, workspace handles, request readers.

mod crud;
mod double_rules;
mod errors;
mod fanout;

use airbyte_agent_runtime::RetryPolicy;
use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, Platform, Workspace};
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Recorded};
use serde_json::Value;

use crate::common::{fast_retries, fresh_client_id};

pub const SECRET: &str = "workflow-app-secret";
pub const ORG: &str = "org-wf-1";
pub const OTHER_ORG: &str = "org-wf-2";

pub struct Env {
    pub double: AirbyteDouble,
    pub client_id: String,
}

pub async fn env() -> Env {
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

pub fn platform_with(env: &Env, retry: RetryPolicy) -> Platform {
    Platform::builder(
        AirbyteAuthConfig::new(env.client_id.clone(), SECRET.to_string())
            .base_url(env.double.base_url()),
    )
    .retry_policy(retry)
    .build()
    .expect("platform")
}

pub fn workspace(env: &Env, name: &str) -> Workspace {
    platform_with(env, fast_retries()).workspace(name)
}

pub fn body(r: &Recorded) -> Value {
    serde_json::from_slice(&r.body).expect("JSON body")
}

pub fn query(r: &Recorded) -> Vec<(String, String)> {
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
pub fn workflow_calls(double: &AirbyteDouble) -> Vec<Recorded> {
    double
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/internal/workflows"))
        .collect()
}
