//! Workflows and automations (`/api/v1/internal/workflows...`): state per organization and
//! workspace id, 404 for unknown ids, 422 for a missing or foreign `workspace_id`, timestamps,
//! generated trigger-webhook URLs, and a count of requests in flight (with optional latency) so
//! tests can check client-side concurrency limits.

// Handlers short-circuit with ready responses; their size does not matter in a test double.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use serde_json::{Map, Value, json};

use super::handlers::common::{Resp, errors, json_body, query_pairs, respond};
use super::{AirbyteDouble, Recorded, Shared, State};

/// Fields a client may PATCH on an automation.
const AUTOMATION_FIELDS: &[&str] = &[
    "enabled",
    "trigger_type",
    "cron_expression",
    "timezone",
    "completion_webhook_url",
];
const TRIGGER_TYPES: &[&str] = &["schedule", "webhook"];

#[derive(Default)]
pub(crate) struct WorkflowState {
    /// (organization, workflow JSON), in creation order.
    workflows: Vec<(String, Map<String, Value>)>,
    /// (organization, automation JSON), in creation order.
    automations: Vec<(String, Map<String, Value>)>,
    latency: Duration,
    bare_lists: bool,
    in_flight: usize,
    max_in_flight: usize,
}

impl AirbyteDouble {
    /// Delay every workflow/automation response by `latency` (makes concurrency observable).
    pub fn set_workflow_latency(&self, latency: Duration) {
        self.shared.lock().workflows.latency = latency;
    }

    /// Answer workflow and automation lists as a bare JSON array instead of `{"data": [...]}`.
    pub fn set_workflow_lists_bare(&self, bare: bool) {
        self.shared.lock().workflows.bare_lists = bare;
    }

    /// The most workflow/automation requests that were being served at the same time.
    pub fn max_workflow_requests_in_flight(&self) -> usize {
        self.shared.lock().workflows.max_in_flight
    }

    /// Reset the in-flight maximum.
    pub fn reset_workflow_in_flight(&self) {
        self.shared.lock().workflows.max_in_flight = 0;
    }

    /// Workflows currently stored for `organization_id` (as served).
    pub fn stored_workflows(&self, organization_id: &str) -> Vec<Value> {
        stored(&self.shared.lock().workflows.workflows, organization_id)
    }

    /// Automations currently stored for `organization_id` (as served).
    pub fn stored_automations(&self, organization_id: &str) -> Vec<Value> {
        stored(&self.shared.lock().workflows.automations, organization_id)
    }
}

fn stored(items: &[(String, Map<String, Value>)], org: &str) -> Vec<Value> {
    items
        .iter()
        .filter(|(o, _)| o == org)
        .map(|(_, v)| Value::Object(v.clone()))
        .collect()
}

/// Serve `rest`, the path segments after `/api/v1/internal/workflows`, for organization `org`.
pub(super) async fn route(shared: &Arc<Shared>, rec: &Recorded, org: &str, rest: &[&str]) -> Resp {
    let latency = {
        let mut st = shared.lock();
        let w = &mut st.workflows;
        w.in_flight += 1;
        w.max_in_flight = w.max_in_flight.max(w.in_flight);
        w.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut st = shared.lock();
    let r = dispatch(&mut st, &shared.origin, rec, org, rest);
    st.workflows.in_flight -= 1;
    r
}

fn dispatch(st: &mut State, origin: &str, rec: &Recorded, org: &str, rest: &[&str]) -> Resp {
    let body = match rec.method.as_str() {
        "POST" | "PATCH" => match json_body(rec) {
            Ok(b) => Some(b),
            Err(r) => return r,
        },
        _ => None,
    };
    let ws = match workspace_id(st, rec, body.as_ref(), org) {
        Ok(ws) => ws,
        Err(r) => return r,
    };
    let body = body.unwrap_or_default();
    let key = Key { org, ws: &ws };
    match (rec.method.as_str(), rest) {
        ("GET", []) => {
            let items = key
                .workflows(st)
                .map(|w| Value::Object(w.clone()))
                .collect();
            list(st, items)
        }
        ("POST", []) => create_workflow(st, key, body),
        ("GET", [wf]) => match key.workflow(st, wf) {
            Some(w) => respond(200, &Value::Object(w.clone())),
            None => workflow_missing(wf),
        },
        ("PATCH", [wf]) => {
            if let Some(n) = body.get("name")
                && n.as_str().is_none_or(|n| n.trim().is_empty())
            {
                return errors(422, "name must be a non-empty string");
            }
            let Some(w) = key.workflow_mut(st, wf) else {
                return workflow_missing(wf);
            };
            if let Some(n) = body.get("name") {
                w.insert("name".into(), n.clone());
            }
            w.insert("updated_at".into(), now().into());
            respond(200, &Value::Object(w.clone()))
        }
        ("DELETE", [wf]) => {
            if key.workflow(st, wf).is_none() {
                return workflow_missing(wf);
            }
            let w = &mut st.workflows;
            w.workflows.retain(|(o, v)| !(o == org && v["id"] == *wf));
            w.automations
                .retain(|(o, v)| !(o == org && v["workflow_id"] == *wf));
            no_content()
        }
        (m, [wf, "automations", tail @ ..]) => {
            if key.workflow(st, wf).is_none() {
                return workflow_missing(wf);
            }
            automation(st, origin, key, wf, m, tail, body)
        }
        (_, [] | [_]) => respond(405, &json!({"detail": "Method Not Allowed"})),
        _ => respond(404, &json!({"detail": "Not Found"})),
    }
}

#[derive(Clone, Copy)]
struct Key<'a> {
    org: &'a str,
    ws: &'a str,
}

impl Key<'_> {
    fn owns(&self, o: &str, v: &Map<String, Value>) -> bool {
        o == self.org && v.get("workspace_id").and_then(Value::as_str) == Some(self.ws)
    }
    fn workflows<'s>(&self, st: &'s State) -> impl Iterator<Item = &'s Map<String, Value>> {
        let k = *self;
        st.workflows
            .workflows
            .iter()
            .filter(move |(o, v)| k.owns(o, v))
            .map(|(_, v)| v)
    }
    fn workflow<'s>(&self, st: &'s State, id: &str) -> Option<&'s Map<String, Value>> {
        self.workflows(st).find(|v| v["id"] == id)
    }
    fn workflow_mut<'s>(&self, st: &'s mut State, id: &str) -> Option<&'s mut Map<String, Value>> {
        st.workflows
            .workflows
            .iter_mut()
            .find(|(o, v)| self.owns(o, v) && v["id"] == id)
            .map(|(_, v)| v)
    }
    fn automation_mut<'s>(
        &self,
        st: &'s mut State,
        wf: &str,
        id: &str,
    ) -> Option<&'s mut Map<String, Value>> {
        st.workflows
            .automations
            .iter_mut()
            .find(|(o, v)| self.owns(o, v) && v["workflow_id"] == wf && v["id"] == id)
            .map(|(_, v)| v)
    }
}

/// `workspace_id` from the query, else from the body; it must be a workspace of `org`.
fn workspace_id(
    st: &State,
    rec: &Recorded,
    body: Option<&Map<String, Value>>,
    org: &str,
) -> Result<String, Resp> {
    let from_query = query_pairs(&rec.query)
        .into_iter()
        .find(|(k, _)| k == "workspace_id")
        .map(|(_, v)| v);
    let from_body = body
        .and_then(|b| b.get("workspace_id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let ws = match (from_query, from_body) {
        (Some(q), Some(b)) if q != b => {
            return Err(errors(422, "workspace_id differs between query and body"));
        }
        (Some(w), _) | (None, Some(w)) => w,
        (None, None) => {
            return Err(respond(
                422,
                &json!({"detail": [{"loc": ["query", "workspace_id"], "msg": "field required"}]}),
            ));
        }
    };
    let mine = st
        .workspaces
        .get(org)
        .is_some_and(|w| w.iter().any(|(id, _)| *id == ws));
    if !mine {
        return Err(respond(
            404,
            &json!({"detail": format!("Workspace {ws} not found")}),
        ));
    }
    Ok(ws)
}

fn create_workflow(st: &mut State, key: Key<'_>, body: Map<String, Value>) -> Resp {
    let Some(name) = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
    else {
        return errors(422, "name is required");
    };
    let tasks = match body.get("tasks") {
        None | Some(Value::Null) => json!([]),
        Some(t @ Value::Array(_)) => t.clone(),
        Some(_) => return errors(422, "tasks must be an array"),
    };
    let id = st.id("wf-");
    let t = now();
    let mut v = Map::new();
    v.insert("id".into(), id.into());
    v.insert("workspace_id".into(), key.ws.into());
    v.insert("name".into(), name.into());
    v.insert("tasks".into(), tasks);
    v.insert("created_at".into(), t.clone().into());
    v.insert("updated_at".into(), t.into());
    // A field clients do not know yet: they must tolerate it.
    v.insert("revision".into(), json!({"number": 1}));
    st.workflows
        .workflows
        .push((key.org.to_string(), v.clone()));
    respond(201, &Value::Object(v))
}

fn automation(
    st: &mut State,
    origin: &str,
    key: Key<'_>,
    wf: &str,
    method: &str,
    tail: &[&str],
    body: Map<String, Value>,
) -> Resp {
    match (method, tail) {
        ("GET", []) => {
            let items = st
                .workflows
                .automations
                .iter()
                .filter(|(o, v)| key.owns(o, v) && v["workflow_id"] == wf)
                .map(|(_, v)| Value::Object(v.clone()))
                .collect();
            list(st, items)
        }
        ("POST", []) => {
            if let Err(r) = check_automation_fields(&body) {
                return r;
            }
            let id = st.id("auto-");
            let t = now();
            let mut v = Map::new();
            v.insert("id".into(), id.clone().into());
            v.insert("workflow_id".into(), wf.into());
            v.insert("workspace_id".into(), key.ws.into());
            let field = |k: &str, d: Value| body.get(k).cloned().unwrap_or(d);
            v.insert("enabled".into(), field("enabled", json!(true)));
            v.insert(
                "trigger_type".into(),
                field("trigger_type", json!("schedule")),
            );
            v.insert(
                "cron_expression".into(),
                field("cron_expression", Value::Null),
            );
            v.insert("timezone".into(), field("timezone", json!("UTC")));
            v.insert(
                "completion_webhook_url".into(),
                field("completion_webhook_url", Value::Null),
            );
            v.insert(
                "trigger_webhook_url".into(),
                format!("{origin}/hooks/workflows/{wf}/automations/{id}").into(),
            );
            v.insert("created_at".into(), t.clone().into());
            v.insert("updated_at".into(), t.into());
            st.workflows
                .automations
                .push((key.org.to_string(), v.clone()));
            respond(201, &Value::Object(v))
        }
        ("GET", [id]) => match key.automation_mut(st, wf, id) {
            Some(v) => respond(200, &Value::Object(v.clone())),
            None => automation_missing(id),
        },
        ("PATCH", [id]) => {
            if let Err(r) = check_automation_fields(&body) {
                return r;
            }
            let Some(v) = key.automation_mut(st, wf, id) else {
                return automation_missing(id);
            };
            for (k, val) in body {
                if AUTOMATION_FIELDS.contains(&k.as_str()) {
                    v.insert(k, val);
                }
            }
            v.insert("updated_at".into(), now().into());
            respond(200, &Value::Object(v.clone()))
        }
        ("DELETE", [id]) => {
            if key.automation_mut(st, wf, id).is_none() {
                return automation_missing(id);
            }
            st.workflows
                .automations
                .retain(|(o, v)| !(key.owns(o, v) && v["workflow_id"] == wf && v["id"] == *id));
            no_content()
        }
        (_, [] | [_]) => respond(405, &json!({"detail": "Method Not Allowed"})),
        _ => respond(404, &json!({"detail": "Not Found"})),
    }
}

/// Types of the automation fields present in a POST/PATCH body.
fn check_automation_fields(body: &Map<String, Value>) -> Result<(), Resp> {
    let bad = |msg: &str| Err(errors(422, msg));
    if body.get("enabled").is_some_and(|v| !v.is_boolean()) {
        return bad("enabled must be a boolean");
    }
    if let Some(t) = body.get("trigger_type")
        && !t.as_str().is_some_and(|t| TRIGGER_TYPES.contains(&t))
    {
        return bad("trigger_type must be one of schedule, webhook");
    }
    if let Some(c) = body.get("cron_expression")
        && !c.is_null()
        && c.as_str().is_none_or(|c| c.split_whitespace().count() != 5)
    {
        return bad("cron_expression must have five fields");
    }
    for k in ["timezone", "completion_webhook_url"] {
        if body.get(k).is_some_and(|v| !(v.is_string() || v.is_null())) {
            return bad(&format!("{k} must be a string"));
        }
    }
    Ok(())
}

fn list(st: &State, items: Vec<Value>) -> Resp {
    if st.workflows.bare_lists {
        respond(200, &Value::Array(items))
    } else {
        respond(200, &json!({ "data": items }))
    }
}

fn workflow_missing(id: &str) -> Resp {
    respond(404, &json!({"detail": format!("Workflow {id} not found")}))
}

fn automation_missing(id: &str) -> Resp {
    respond(
        404,
        &json!({"detail": format!("Automation {id} not found")}),
    )
}

fn no_content() -> Resp {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = hyper::StatusCode::NO_CONTENT;
    r
}

/// The current time as RFC 3339 (UTC, milliseconds).
fn now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_look_like_rfc3339() {
        let t = super::now();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
        assert_eq!(&t[4..5], "-");
        assert_eq!(&t[10..11], "T");
    }
}
