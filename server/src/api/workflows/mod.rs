//! Workflows and automations: `GET|POST /api/v1/internal/workflows`,
//! `GET|PATCH|DELETE /api/v1/internal/workflows/{id}`, and the automations of a workflow under
//! `.../{id}/automations[/{automation}]` ([`automations`]). Every call names its workspace by
//! `workspace_id` (query parameter, or body field on creation; both must agree); a workspace of
//! another organization, or outside a scoped token's workspace, is 404 like an unknown id.
//! Lists are cursor pages `{data, has_more, next_cursor}` in creation order (`limit` ≤ 100).
//!
//! These are stored definitions: the server neither runs workflows nor fires automations (no
//! scheduler, no trigger webhook: `trigger_webhook_url` is always `null`).

mod automations;
mod cron;

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Authed, JsonBody};
use super::workspaces::{check_name, decode_cursor, encode_cursor};
use super::{AppState, rfc3339};
use crate::error::{ApiError, Error};
use crate::storage::{After, Page, Scope, WorkflowRecord, Workspace};

/// Base path of the workflow endpoints.
const BASE: &str = "/api/v1/internal/workflows";
/// Items per page unless `limit` says otherwise, and the largest page.
const PAGE: usize = 100;

/// The workflow and automation routes.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(BASE, get(list).post(create).fallback(method_not_allowed))
        .route(
            &format!("{BASE}/{{id}}"),
            get(show)
                .patch(update)
                .delete(delete)
                .fallback(method_not_allowed),
        )
        .route(
            &format!("{BASE}/{{wf}}/automations"),
            get(automations::list)
                .post(automations::create)
                .fallback(method_not_allowed),
        )
        .route(
            &format!("{BASE}/{{wf}}/automations/{{id}}"),
            get(automations::show)
                .patch(automations::update)
                .delete(automations::delete)
                .fallback(method_not_allowed),
        )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// The query of every workflow and automation endpoint.
#[derive(Deserialize)]
pub(crate) struct WsQuery {
    workspace_id: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

impl WsQuery {
    /// The page asked for: where it starts and how many items.
    fn page(&self) -> Result<(Option<After>, usize), ApiError> {
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let text = decode_cursor(c)?;
                let (t, id) = text
                    .split_once(':')
                    .and_then(|(t, id)| Some((t.parse().ok()?, id)))
                    .ok_or_else(|| ApiError::bad_request("invalid cursor"))?;
                Some(After {
                    created_at_us: t,
                    id: id.to_string(),
                })
            }
        };
        Ok((after, self.limit.unwrap_or(PAGE).clamp(1, PAGE)))
    }
}

/// The query, or 400 in the protocol's error shape.
fn query(q: Result<Query<WsQuery>, QueryRejection>) -> Result<WsQuery, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// The path parameters, or 400 in the protocol's error shape.
fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(p)| p)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// The workspace a call names (query `workspace_id`, else the body's), if the caller may see
/// it: 422 when neither names one or they disagree, 404 when it is not the caller's.
async fn workspace(
    st: &AppState,
    auth: &Authed,
    query: &WsQuery,
    body: Option<&str>,
) -> Result<Workspace, ApiError> {
    let id = match (
        query.workspace_id.as_deref().filter(|s| !s.is_empty()),
        body.filter(|s| !s.is_empty()),
    ) {
        (Some(q), Some(b)) if q != b => {
            return Err(ApiError::unprocessable(
                "workspace_id differs between the query and the body",
            ));
        }
        (Some(w), _) | (None, Some(w)) => w,
        (None, None) => {
            return Err(ApiError::unprocessable(
                "workspace_id is required (query parameter)",
            ));
        }
    };
    st.store
        .workspace_by_id(&auth.organization_id, id)
        .await?
        .filter(|w| auth.sees(&w.id))
        .ok_or_else(|| ApiError::not_found(format!("Workspace {id} not found")))
}

/// The storage scope of a workspace.
fn scope(w: &Workspace) -> Scope<'_> {
    Scope {
        organization_id: &w.organization_id,
        workspace_id: &w.id,
    }
}

/// RFC 3339 text of Unix microseconds.
fn time(us: i64) -> String {
    rfc3339(us.div_euclid(1_000_000))
}

/// A page as the protocol's list body; the cursor names the last item.
fn page_json<T>(
    page: &Page<T>,
    key: impl Fn(&T) -> (i64, &str),
    item: impl Fn(&T) -> Result<Value, ApiError>,
) -> Result<Json<Value>, ApiError> {
    let next = match (page.has_more, page.items.last()) {
        (true, Some(last)) => {
            let (t, id) = key(last);
            Value::String(encode_cursor(&format!("{t}:{id}")))
        }
        _ => Value::Null,
    };
    let data = page.items.iter().map(item).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(
        json!({"data": data, "has_more": page.has_more, "next_cursor": next}),
    ))
}

fn workflow_json(w: &WorkflowRecord) -> Result<Value, ApiError> {
    let tasks: Value = serde_json::from_str(&w.tasks)
        .map_err(|_| Error::Corrupt(format!("tasks of workflow {}", w.id)))?;
    Ok(json!({
        "id": w.id,
        "workspace_id": w.workspace_id,
        "name": w.name,
        "tasks": tasks,
        "created_at": time(w.created_at_us),
        "updated_at": time(w.updated_at_us),
    }))
}

fn workflow_missing(id: &str) -> ApiError {
    ApiError::not_found(format!("Workflow {id} not found"))
}

/// `tasks` as stored JSON text: an array (`null` or absent on creation: none).
fn tasks_text(tasks: Option<Value>, create: bool) -> Result<Option<String>, ApiError> {
    match tasks {
        Some(t @ Value::Array(_)) => Ok(Some(t.to_string())),
        None if create => Ok(Some("[]".into())),
        Some(Value::Null) if create => Ok(Some("[]".into())),
        None => Ok(None),
        Some(_) => Err(ApiError::unprocessable("tasks must be an array")),
    }
}

async fn list(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    q: Result<Query<WsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let (after, limit) = q.page()?;
    let w = workspace(&st, &auth, &q, None).await?;
    let page = st
        .store
        .list_workflows(scope(&w), after.as_ref(), limit)
        .await?;
    page_json(&page, |w| (w.created_at_us, w.id.as_str()), workflow_json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateWorkflow {
    workspace_id: Option<String>,
    name: String,
    tasks: Option<Value>,
}

async fn create(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    q: Result<Query<WsQuery>, QueryRejection>,
    JsonBody(req): JsonBody<CreateWorkflow>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let q = query(q)?;
    check_name(&req.name)?;
    let tasks = tasks_text(req.tasks, true)?.unwrap_or_default();
    let w = workspace(&st, &auth, &q, req.workspace_id.as_deref()).await?;
    let wf = st
        .store
        .insert_workflow(scope(&w), &req.name, &tasks)
        .await?;
    Ok((StatusCode::CREATED, Json(workflow_json(&wf)?)))
}

async fn show(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<WsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let (id, q) = (path(id)?, query(q)?);
    let w = workspace(&st, &auth, &q, None).await?;
    let wf = st
        .store
        .workflow(scope(&w), &id)
        .await?
        .ok_or_else(|| workflow_missing(&id))?;
    Ok(Json(workflow_json(&wf)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateWorkflow {
    workspace_id: Option<String>,
    #[serde(default)]
    name: Option<Value>,
    tasks: Option<Value>,
}

async fn update(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<WsQuery>, QueryRejection>,
    JsonBody(req): JsonBody<UpdateWorkflow>,
) -> Result<Json<Value>, ApiError> {
    let (id, q) = (path(id)?, query(q)?);
    let name = match &req.name {
        None => None,
        Some(Value::String(n)) => {
            check_name(n)?;
            Some(n.as_str())
        }
        Some(_) => return Err(ApiError::unprocessable("name must be a non-empty string")),
    };
    let tasks = tasks_text(req.tasks, false)?;
    let w = workspace(&st, &auth, &q, req.workspace_id.as_deref()).await?;
    let wf = st
        .store
        .update_workflow(scope(&w), &id, name, tasks.as_deref())
        .await?
        .ok_or_else(|| workflow_missing(&id))?;
    Ok(Json(workflow_json(&wf)?))
}

async fn delete(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<WsQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let (id, q) = (path(id)?, query(q)?);
    let w = workspace(&st, &auth, &q, None).await?;
    if st.store.delete_workflow(scope(&w), &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(workflow_missing(&id))
    }
}
