//! The automations of a workflow: `GET|POST .../workflows/{wf}/automations`,
//! `GET|PATCH|DELETE .../automations/{id}`. A new automation is an enabled `schedule` in `UTC`
//! unless the body says otherwise; a PATCH changes only the fields it sends (`null` clears
//! `cron_expression` and `completion_webhook_url`, and resets `timezone` to `UTC`).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{WsQuery, cron, page_json, path, query, scope, time, workflow_missing, workspace};
use crate::api::AppState;
use crate::api::extract::{Authed, JsonBody};
use crate::error::ApiError;
use crate::storage::{AutomationChanges, AutomationRecord, Scope, Workspace};

/// Trigger types an automation may have.
const TRIGGER_TYPES: &[&str] = &["schedule", "webhook"];
/// Fields of a POST or PATCH body.
const FIELDS: &[&str] = &[
    "workspace_id",
    "enabled",
    "trigger_type",
    "cron_expression",
    "timezone",
    "completion_webhook_url",
];
/// Longest completion webhook URL.
const MAX_URL: usize = 2048;
/// The default time zone.
const UTC: &str = "UTC";

fn automation_json(a: &AutomationRecord) -> Result<Value, ApiError> {
    Ok(json!({
        "id": a.id,
        "workflow_id": a.workflow_id,
        "workspace_id": a.workspace_id,
        "enabled": a.enabled,
        "trigger_type": a.trigger_type,
        "cron_expression": a.cron_expression,
        "timezone": a.timezone,
        "completion_webhook_url": a.completion_webhook_url,
        // The server does not fire automations, so it offers no trigger webhook.
        "trigger_webhook_url": null,
        "created_at": time(a.created_at_us),
        "updated_at": time(a.updated_at_us),
    }))
}

/// The `workspace_id` and the checked fields of a POST or PATCH body (422 for unknown fields
/// and invalid values).
fn parse(body: &Map<String, Value>) -> Result<(Option<&str>, AutomationChanges), ApiError> {
    let bad = |m: String| Err(ApiError::unprocessable(m));
    if let Some(k) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return bad(format!(
            "unknown field `{k}`, expected one of {}",
            FIELDS.join(", ")
        ));
    }
    let text = |k: &str| -> Result<Option<Option<&str>>, ApiError> {
        match body.get(k) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.as_str()))),
            Some(_) => Err(ApiError::unprocessable(format!("{k} must be a string"))),
        }
    };
    let workspace_id = match text("workspace_id")? {
        Some(Some(w)) => Some(w),
        None => None,
        Some(None) => return bad("workspace_id must be a string".into()),
    };
    let mut c = AutomationChanges::default();
    match body.get("enabled") {
        None => {}
        Some(Value::Bool(b)) => c.enabled = Some(*b),
        Some(_) => return bad("enabled must be a boolean".into()),
    }
    match text("trigger_type")? {
        None => {}
        Some(Some(t)) if TRIGGER_TYPES.contains(&t) => c.trigger_type = Some(t.to_string()),
        Some(_) => {
            return bad(format!(
                "trigger_type must be one of {}",
                TRIGGER_TYPES.join(", ")
            ));
        }
    }
    c.cron_expression = text("cron_expression")?
        .map(|v| v.map(cron::check_cron).transpose())
        .transpose()?;
    c.timezone = text("timezone")?
        .map(|v| match v.filter(|t| !t.is_empty()) {
            None => Ok(UTC.to_string()),
            Some(t) => cron::check_timezone(t).map(|()| t.to_string()),
        })
        .transpose()?;
    c.completion_webhook_url = text("completion_webhook_url")?
        .map(|v| v.map(check_url).transpose())
        .transpose()?;
    Ok((workspace_id, c))
}

/// An absolute `http` or `https` URL of at most [`MAX_URL`] characters.
fn check_url(url: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::unprocessable(format!(
            "completion_webhook_url must be an absolute http or https URL of at most {MAX_URL} \
             characters"
        ))
    };
    if url.len() > MAX_URL {
        return Err(bad());
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad());
    }
    Ok(url.to_string())
}

/// 404 for a missing automation: says whether the workflow or the automation is unknown.
async fn missing(
    st: &AppState,
    scope: Scope<'_>,
    workflow_id: &str,
    id: &str,
) -> Result<ApiError, ApiError> {
    Ok(match st.store.workflow(scope, workflow_id).await? {
        None => workflow_missing(workflow_id),
        Some(_) => ApiError::not_found(format!("Automation {id} not found")),
    })
}

/// The automation found, or the 404 of [`missing`].
async fn answer(
    st: &AppState,
    w: &Workspace,
    (workflow_id, id): (&str, &str),
    found: Option<AutomationRecord>,
) -> Result<Json<Value>, ApiError> {
    match found {
        Some(a) => Ok(Json(automation_json(&a)?)),
        None => Err(missing(st, scope(w), workflow_id, id).await?),
    }
}

pub(super) async fn list(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    wf: Result<Path<String>, PathRejection>,
    q: Result<Query<WsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let (wf, q) = (path(wf)?, query(q)?);
    let (after, limit) = q.page()?;
    let w = workspace(&st, &auth, &q, None).await?;
    let page = st
        .store
        .list_automations(scope(&w), &wf, after.as_ref(), limit)
        .await?
        .ok_or_else(|| workflow_missing(&wf))?;
    page_json(&page, |a| (a.created_at_us, a.id.as_str()), automation_json)
}

pub(super) async fn create(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    wf: Result<Path<String>, PathRejection>,
    q: Result<Query<WsQuery>, QueryRejection>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (wf, q) = (path(wf)?, query(q)?);
    let (body_ws, c) = parse(&body)?;
    let w = workspace(&st, &auth, &q, body_ws).await?;
    let new = AutomationRecord {
        id: String::new(),
        workflow_id: wf.clone(),
        workspace_id: w.id.clone(),
        enabled: c.enabled.unwrap_or(true),
        trigger_type: c.trigger_type.unwrap_or_else(|| "schedule".into()),
        cron_expression: c.cron_expression.flatten(),
        timezone: c.timezone.unwrap_or_else(|| UTC.into()),
        completion_webhook_url: c.completion_webhook_url.flatten(),
        created_at_us: 0,
        updated_at_us: 0,
    };
    let a = st
        .store
        .insert_automation(scope(&w), new)
        .await?
        .ok_or_else(|| workflow_missing(&wf))?;
    Ok((StatusCode::CREATED, Json(automation_json(&a)?)))
}

pub(super) async fn show(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    ids: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<WsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let ((wf, id), q) = (path(ids)?, query(q)?);
    let w = workspace(&st, &auth, &q, None).await?;
    let found = st.store.automation(scope(&w), &wf, &id).await?;
    answer(&st, &w, (&wf, &id), found).await
}

pub(super) async fn update(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    ids: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<WsQuery>, QueryRejection>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let ((wf, id), q) = (path(ids)?, query(q)?);
    let (body_ws, c) = parse(&body)?;
    let w = workspace(&st, &auth, &q, body_ws).await?;
    let found = st.store.update_automation(scope(&w), &wf, &id, &c).await?;
    answer(&st, &w, (&wf, &id), found).await
}

pub(super) async fn delete(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    ids: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<WsQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let ((wf, id), q) = (path(ids)?, query(q)?);
    let w = workspace(&st, &auth, &q, None).await?;
    if st.store.delete_automation(scope(&w), &wf, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(missing(&st, scope(&w), &wf, &id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn fields() {
        let m = body(
            json!({"enabled": false, "cron_expression": null, "timezone": null,
                            "completion_webhook_url": "https://hooks.example/done"}),
        );
        let (ws, c) = parse(&m).unwrap();
        assert_eq!(ws, None);
        assert_eq!(c.enabled, Some(false));
        assert_eq!(c.cron_expression, Some(None));
        assert_eq!(c.timezone.as_deref(), Some("UTC"));
        assert_eq!(
            c.completion_webhook_url,
            Some(Some("https://hooks.example/done".into()))
        );
        assert_eq!(c.trigger_type, None);
        for bad in [
            json!({"enabled": "yes"}),
            json!({"trigger_type": "cron"}),
            json!({"cron_expression": "every day"}),
            json!({"timezone": 5}),
            json!({"timezone": "Not A Zone"}),
            json!({"completion_webhook_url": "ftp://x"}),
            json!({"completion_webhook_url": "/relative"}),
            json!({"workspace_id": null}),
            json!({"colour": "red"}),
        ] {
            let e = parse(&body(bad.clone())).expect_err("refused");
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
    }
}
