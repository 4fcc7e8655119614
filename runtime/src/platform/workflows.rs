//! Hosted workflows and their automations (schedules and webhooks), per workspace.
//!
//! Every call names the workspace by id (`workspace_id`); the [`Workspace`] handle resolves its
//! name to an id once (`GET /api/v1/workspaces?name_contains=`, exact match) and caches it.

use futures_util::{StreamExt as _, TryStreamExt as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::{Workspace, WorkspaceInfo, collect_pages, de_id, decode_items, decode_one};
use crate::airbyte_api::{Call, Verb};
use crate::encode::path_segment;
use crate::error::HostedError;
use crate::error::Result;

/// Base path of the workflow endpoints.
const WORKFLOWS: &str = "/api/v1/internal/workflows";
/// Most automation listings in flight at once in [`Workspace::list_all_automations`].
pub const AUTOMATION_FANOUT: usize = 10;

/// A workflow of a workspace.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct WorkflowInfo {
    /// Workflow id.
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Workspace id, when the server says.
    #[serde(default)]
    pub workspace_id: Option<String>,
    /// Task definitions as sent.
    #[serde(default)]
    pub tasks: Option<Value>,
    /// Creation time as sent.
    #[serde(default)]
    pub created_at: Option<Value>,
    /// Update time as sent.
    #[serde(default)]
    pub updated_at: Option<Value>,
    /// Other fields, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An automation: what triggers a workflow (a cron schedule, a webhook).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct AutomationInfo {
    /// Automation id.
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// The workflow it triggers (filled in from the request when the server omits it).
    #[serde(default)]
    pub workflow_id: Option<String>,
    /// Workspace id, when the server says.
    #[serde(default)]
    pub workspace_id: Option<String>,
    /// Whether it fires.
    #[serde(default = "yes", deserialize_with = "or_true")]
    pub enabled: bool,
    /// Trigger type (`schedule`, ...).
    #[serde(default = "schedule", deserialize_with = "or_schedule")]
    pub trigger_type: String,
    /// Cron expression of a schedule.
    #[serde(default)]
    pub cron_expression: Option<String>,
    /// Time zone of the schedule (`UTC` when absent).
    #[serde(default = "utc", deserialize_with = "or_utc")]
    pub timezone: String,
    /// URL called when a run completes.
    #[serde(default)]
    pub completion_webhook_url: Option<String>,
    /// URL that triggers a run.
    #[serde(default)]
    pub trigger_webhook_url: Option<String>,
    /// Creation time as sent.
    #[serde(default)]
    pub created_at: Option<Value>,
    /// Update time as sent.
    #[serde(default)]
    pub updated_at: Option<Value>,
    /// Other fields, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn yes() -> bool {
    true
}
fn schedule() -> String {
    "schedule".into()
}
fn utc() -> String {
    "UTC".into()
}
fn or_true<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}
fn or_schedule<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_else(schedule))
}
fn or_utc<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(utc))
}

/// Settings of a new automation ([`Workspace::create_automation`]): a `schedule` trigger,
/// enabled, unless set otherwise.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AutomationOptions {
    /// Trigger type (default `schedule`).
    pub trigger_type: String,
    /// Whether it fires (default `true`).
    pub enabled: bool,
    /// Cron expression of the schedule.
    pub cron_expression: Option<String>,
    /// Time zone of the schedule (the server defaults to `UTC`).
    pub timezone: Option<String>,
    /// URL called when a run completes.
    pub completion_webhook_url: Option<String>,
}

impl Default for AutomationOptions {
    fn default() -> Self {
        AutomationOptions {
            trigger_type: schedule(),
            enabled: true,
            cron_expression: None,
            timezone: None,
            completion_webhook_url: None,
        }
    }
}

impl AutomationOptions {
    /// An enabled `schedule` automation, nothing else set.
    pub fn new() -> Self {
        Self::default()
    }
    /// An enabled schedule firing on `cron` (five fields, e.g. `0 9 * * 1-5`).
    pub fn schedule(cron: impl Into<String>) -> Self {
        Self::new().cron_expression(cron)
    }
    /// Set the trigger type.
    #[must_use]
    pub fn trigger_type(mut self, t: impl Into<String>) -> Self {
        self.trigger_type = t.into();
        self
    }
    /// Create it enabled (default) or disabled.
    #[must_use]
    pub fn enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }
    /// Set the cron expression.
    #[must_use]
    pub fn cron_expression(mut self, cron: impl Into<String>) -> Self {
        self.cron_expression = Some(cron.into());
        self
    }
    /// Set the time zone (IANA name, e.g. `Europe/Paris`).
    #[must_use]
    pub fn timezone(mut self, tz: impl Into<String>) -> Self {
        self.timezone = Some(tz.into());
        self
    }
    /// Set the completion webhook URL.
    #[must_use]
    pub fn completion_webhook_url(mut self, url: impl Into<String>) -> Self {
        self.completion_webhook_url = Some(url.into());
        self
    }

    fn body(self, workspace_id: &str) -> Value {
        let mut body = Map::new();
        body.insert("workspace_id".into(), workspace_id.into());
        body.insert("trigger_type".into(), self.trigger_type.into());
        body.insert("enabled".into(), self.enabled.into());
        let optional = [
            ("cron_expression", self.cron_expression),
            ("timezone", self.timezone),
            ("completion_webhook_url", self.completion_webhook_url),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                body.insert(k.into(), v.into());
            }
        }
        Value::Object(body)
    }
}

/// Changes to an automation ([`Workspace::update_automation`]): only the fields set here are
/// sent, so everything else stays as it is.
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct AutomationUpdate {
    fields: Map<String, Value>,
}

impl AutomationUpdate {
    /// No changes.
    pub fn new() -> Self {
        Self::default()
    }
    /// Enable or disable.
    pub fn enabled(self, on: bool) -> Self {
        self.set("enabled", on.into())
    }
    /// Change the trigger type.
    pub fn trigger_type(self, t: impl Into<String>) -> Self {
        self.set("trigger_type", Value::String(t.into()))
    }
    /// Change the cron expression.
    pub fn cron_expression(self, cron: impl Into<String>) -> Self {
        self.set("cron_expression", Value::String(cron.into()))
    }
    /// Change the time zone.
    pub fn timezone(self, tz: impl Into<String>) -> Self {
        self.set("timezone", Value::String(tz.into()))
    }
    /// Change the completion webhook URL.
    pub fn completion_webhook_url(self, url: impl Into<String>) -> Self {
        self.set("completion_webhook_url", Value::String(url.into()))
    }
    /// Remove the completion webhook URL (sent as `null`).
    pub fn clear_completion_webhook_url(self) -> Self {
        self.set("completion_webhook_url", Value::Null)
    }
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
    /// The PATCH body.
    pub fn to_json(&self) -> Value {
        Value::Object(self.fields.clone())
    }
    fn set(mut self, key: &str, value: Value) -> Self {
        self.fields.insert(key.into(), value);
        self
    }
}

impl Workspace {
    /// This workspace's id: looked up by name on first use
    /// (`GET /api/v1/workspaces?name_contains=`, exact match, all pages), then cached by this
    /// handle and its clones. No exact match, or several, is a [`HostedError`].
    pub async fn workspace_id(&self) -> Result<String> {
        self.id
            .get_or_try_init(|| async {
                let name = self.name();
                let items = collect_pages(
                    self.transport(),
                    "/api/v1/workspaces",
                    vec![("name_contains", name.to_string())],
                )
                .await?;
                let found: Vec<WorkspaceInfo> = decode_items("GET /api/v1/workspaces", items)?;
                let mut ids: Vec<String> = found
                    .into_iter()
                    .filter(|w| w.name == name)
                    .map(|w| w.id)
                    .collect();
                match ids.len() {
                    1 => Ok(ids.remove(0)),
                    0 => Err(HostedError::WorkspaceNotFound {
                        workspace_name: name.to_string(),
                    }
                    .into()),
                    _ => Err(HostedError::AmbiguousWorkspace {
                        workspace_name: name.to_string(),
                        ids,
                    }
                    .into()),
                }
            })
            .await
            .cloned()
    }

    /// Every workflow of the workspace.
    pub async fn list_workflows(&self) -> Result<Vec<WorkflowInfo>> {
        let ws = self.workspace_id().await?;
        self.list_in(WORKFLOWS, &ws).await
    }

    /// Create a workflow named `name`, with `tasks` when given.
    pub async fn create_workflow(&self, name: &str, tasks: Option<Value>) -> Result<WorkflowInfo> {
        let ws = self.workspace_id().await?;
        let mut body = Map::new();
        body.insert("workspace_id".into(), ws.into());
        body.insert("name".into(), name.into());
        if let Some(t) = tasks {
            body.insert("tasks".into(), t);
        }
        let body = Value::Object(body);
        let call = Call::post(WORKFLOWS, &body);
        let v = self.transport().json(&call).await?;
        decode_one(&call, v)
    }

    /// One workflow (an unknown id is [`Error::NotFound`](crate::Error::NotFound)).
    pub async fn get_workflow(&self, workflow_id: &str) -> Result<WorkflowInfo> {
        let (ws, path) = self.target(workflow_id, None).await?;
        self.send(Verb::Get, &path, &ws, None).await
    }

    /// Rename a workflow.
    pub async fn rename_workflow(&self, workflow_id: &str, name: &str) -> Result<WorkflowInfo> {
        let mut body = Map::new();
        body.insert("name".into(), name.into());
        self.update_workflow(workflow_id, body).await
    }

    /// Change a workflow: `fields` is the PATCH body as is (e.g. `{"name": ...}`).
    pub async fn update_workflow(
        &self,
        workflow_id: &str,
        fields: Map<String, Value>,
    ) -> Result<WorkflowInfo> {
        let (ws, path) = self.target(workflow_id, None).await?;
        let body = Value::Object(fields);
        self.send(Verb::Patch, &path, &ws, Some(&body)).await
    }

    /// Delete a workflow.
    pub async fn delete_workflow(&self, workflow_id: &str) -> Result<()> {
        let (ws, path) = self.target(workflow_id, None).await?;
        self.delete(&path, &ws).await
    }

    /// The automations of one workflow.
    pub async fn list_automations(&self, workflow_id: &str) -> Result<Vec<AutomationInfo>> {
        let ws = self.workspace_id().await?;
        self.automations_of(&ws, workflow_id).await
    }

    /// The automations of every workflow, in workflow order: one listing per workflow, at most
    /// [`AUTOMATION_FANOUT`] in flight. The first failure fails the whole call.
    pub async fn list_all_automations(&self) -> Result<Vec<AutomationInfo>> {
        let ws = self.workspace_id().await?;
        let workflows = self.list_workflows().await?;
        let per_workflow: Vec<Vec<AutomationInfo>> = futures_util::stream::iter(workflows)
            .map(|wf| {
                let ws = &ws;
                async move { self.automations_of(ws, &wf.id).await }
            })
            .buffered(AUTOMATION_FANOUT)
            .try_collect()
            .await?;
        Ok(per_workflow.into_iter().flatten().collect())
    }

    /// Create an automation of a workflow.
    pub async fn create_automation(
        &self,
        workflow_id: &str,
        options: AutomationOptions,
    ) -> Result<AutomationInfo> {
        let ws = self.workspace_id().await?;
        let path = automations_path(workflow_id, None);
        let body = options.body(&ws);
        let call = Call::post(&path, &body).query("workspace_id", ws.clone());
        let v = self.transport().json(&call).await?;
        decode_one(&call, v).map(|a| with_workflow(a, workflow_id))
    }

    /// One automation of a workflow.
    pub async fn get_automation(
        &self,
        workflow_id: &str,
        automation_id: &str,
    ) -> Result<AutomationInfo> {
        let (ws, path) = self.target(workflow_id, Some(automation_id)).await?;
        self.send(Verb::Get, &path, &ws, None)
            .await
            .map(|a| with_workflow(a, workflow_id))
    }

    /// Change an automation; only the fields set in `update` are sent.
    pub async fn update_automation(
        &self,
        workflow_id: &str,
        automation_id: &str,
        update: AutomationUpdate,
    ) -> Result<AutomationInfo> {
        let (ws, path) = self.target(workflow_id, Some(automation_id)).await?;
        let body = update.to_json();
        self.send(Verb::Patch, &path, &ws, Some(&body))
            .await
            .map(|a| with_workflow(a, workflow_id))
    }

    /// Delete an automation.
    pub async fn delete_automation(&self, workflow_id: &str, automation_id: &str) -> Result<()> {
        let (ws, path) = self.target(workflow_id, Some(automation_id)).await?;
        self.delete(&path, &ws).await
    }

    /// The workspace id and the path of a workflow, or of one of its automations.
    async fn target(
        &self,
        workflow_id: &str,
        automation_id: Option<&str>,
    ) -> Result<(String, String)> {
        let ws = self.workspace_id().await?;
        let path = match automation_id {
            None => format!("{WORKFLOWS}/{}", path_segment(workflow_id)),
            Some(a) => automations_path(workflow_id, Some(a)),
        };
        Ok((ws, path))
    }

    async fn automations_of(&self, ws: &str, workflow_id: &str) -> Result<Vec<AutomationInfo>> {
        let list: Vec<AutomationInfo> = self
            .list_in(&automations_path(workflow_id, None), ws)
            .await?;
        Ok(list
            .into_iter()
            .map(|a| with_workflow(a, workflow_id))
            .collect())
    }

    async fn list_in<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        ws: &str,
    ) -> Result<Vec<T>> {
        let items =
            collect_pages(self.transport(), path, vec![("workspace_id", ws.into())]).await?;
        decode_items(&format!("GET {path}"), items)
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        verb: Verb,
        path: &str,
        ws: &str,
        body: Option<&Value>,
    ) -> Result<T> {
        let call = Call {
            verb,
            body,
            idempotent: verb == Verb::Get,
            ..Call::get(path)
        }
        .query("workspace_id", ws);
        let v = self.transport().json(&call).await?;
        decode_one(&call, v)
    }

    async fn delete(&self, path: &str, ws: &str) -> Result<()> {
        let call = Call {
            verb: Verb::Delete,
            ..Call::get(path)
        }
        .query("workspace_id", ws);
        self.transport().json(&call).await.map(|_| ())
    }
}

fn automations_path(workflow_id: &str, automation_id: Option<&str>) -> String {
    let base = format!("{WORKFLOWS}/{}/automations", path_segment(workflow_id));
    match automation_id {
        Some(a) => format!("{base}/{}", path_segment(a)),
        None => base,
    }
}

fn with_workflow(mut a: AutomationInfo, workflow_id: &str) -> AutomationInfo {
    if a.workflow_id.is_none() {
        a.workflow_id = Some(workflow_id.to_string());
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn automation_defaults_and_tolerance() {
        let a: AutomationInfo = serde_json::from_value(json!({
            "id": 7, "timezone": null, "enabled": null, "future_field": {"x": 1}
        }))
        .unwrap();
        assert_eq!(a.id, "7");
        assert_eq!(a.timezone, "UTC");
        assert!(a.enabled);
        assert_eq!(a.trigger_type, "schedule");
        assert_eq!(a.extra["future_field"], json!({"x": 1}));
        assert!(serde_json::from_value::<AutomationInfo>(json!({"id": ""})).is_err());
        assert!(serde_json::from_value::<AutomationInfo>(json!({"enabled": true})).is_err());
    }

    #[test]
    fn bodies() {
        assert_eq!(
            AutomationOptions::new().body("ws-1"),
            json!({"workspace_id": "ws-1", "trigger_type": "schedule", "enabled": true})
        );
        assert_eq!(
            AutomationOptions::schedule("0 9 * * *")
                .timezone("Europe/Paris")
                .enabled(false)
                .body("w"),
            json!({"workspace_id": "w", "trigger_type": "schedule", "enabled": false,
                   "cron_expression": "0 9 * * *", "timezone": "Europe/Paris"})
        );
        let u = AutomationUpdate::new()
            .enabled(false)
            .clear_completion_webhook_url();
        assert_eq!(
            u.to_json(),
            json!({"enabled": false, "completion_webhook_url": null})
        );
        assert!(AutomationUpdate::new().is_empty());
        assert_eq!(
            automations_path("a/b", Some("c d")),
            "/api/v1/internal/workflows/a%2Fb/automations/c%20d"
        );
    }
}
