//! Health checks: [`Client::check`] and [`Client::check_entity`], in direct and hosted mode.
//!
//! The checked operation is chosen as the reference runtime does: the operation marked
//! `x-airbyte-preferred-for-check`, else the first `list` that needs nothing the caller would
//! have to supply (no path parameters, no required query parameter without a default or a
//! config-injected value). It is called with `limit=1` when the operation has a `limit`
//! parameter. Failures are classified, never raised: the result says what went wrong.
//!
//! ```no_run
//! # async fn demo(client: airbyte_agent_runtime::Client) {
//! let report = client.check().await;
//! if report.is_ok() {
//!     println!("healthy ({:?} in {:?})", report.entity, report.elapsed);
//! } else {
//!     eprintln!("unhealthy: {}", report.status);
//! }
//! # }
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::descriptor::{
    ActionKind, ConnectorDescriptor, OperationDescriptor, ParamDescriptor, ParamLocation,
};
use crate::error::Error;
use crate::{Client, ExecuteResult};

/// Outcome of a health check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckStatus {
    /// The call succeeded.
    Ok,
    /// Credentials were rejected (HTTP 401/403, failed token refresh or token fetch).
    AuthFailed(String),
    /// The service could not be reached (connection refused, DNS, TLS, timeout).
    Unreachable(String),
    /// Nothing could be checked (no suitable operation, or a parameter that cannot be resolved).
    Skipped(String),
    /// Any other failure (rejected request, server error, unexpected response, ...).
    Other(String),
}

impl CheckStatus {
    /// Short machine-friendly label: `ok`, `auth_failed`, `unreachable`, `skipped`, `error`.
    pub fn label(&self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::AuthFailed(_) => "auth_failed",
            CheckStatus::Unreachable(_) => "unreachable",
            CheckStatus::Skipped(_) => "skipped",
            CheckStatus::Other(_) => "error",
        }
    }

    /// The failure message (`None` for [`CheckStatus::Ok`]).
    pub fn message(&self) -> Option<&str> {
        match self {
            CheckStatus::Ok => None,
            CheckStatus::AuthFailed(m)
            | CheckStatus::Unreachable(m)
            | CheckStatus::Skipped(m)
            | CheckStatus::Other(m) => Some(m),
        }
    }

    /// Classify a runtime error.
    pub fn from_error(e: &Error) -> Self {
        match e {
            Error::Auth(_) => CheckStatus::AuthFailed(e.to_string()),
            Error::Network { .. } | Error::Timeout { .. } => {
                CheckStatus::Unreachable(e.to_string())
            }
            Error::MissingParam { .. } => CheckStatus::Skipped(e.to_string()),
            _ => CheckStatus::Other(e.to_string()),
        }
    }
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            None => f.write_str("ok"),
            Some(m) => write!(f, "{}: {m}", self.label()),
        }
    }
}

/// Result of [`Client::check`] / [`Client::check_entity`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CheckReport {
    /// Outcome.
    pub status: CheckStatus,
    /// Entity of the checked operation (`None` when no operation was called).
    pub entity: Option<String>,
    /// Action of the checked operation.
    pub action: Option<String>,
    /// HTTP status of the failure, when there was a response.
    pub http_status: Option<u16>,
    /// Records returned by a successful list/search (1 for a single record).
    pub records: Option<usize>,
    /// Wall-clock time of the check.
    pub elapsed: Duration,
}

impl CheckReport {
    /// Whether the check succeeded.
    pub fn is_ok(&self) -> bool {
        self.status == CheckStatus::Ok
    }

    fn new(op: Option<&OperationDescriptor>, started: Instant) -> Self {
        CheckReport {
            status: CheckStatus::Ok,
            entity: op.map(|o| o.entity.to_string()),
            action: op.map(|o| o.action.to_string()),
            http_status: None,
            records: None,
            elapsed: started.elapsed(),
        }
    }

    fn from_result(
        op: &OperationDescriptor,
        started: Instant,
        r: crate::Result<ExecuteResult>,
    ) -> Self {
        let mut report = CheckReport::new(Some(op), started);
        match r {
            Ok(res) => report.records = Some(count_records(&res.data)),
            Err(e) => {
                report.http_status = e.status();
                report.status = CheckStatus::from_error(&e);
            }
        }
        report
    }
}

fn count_records(data: &Value) -> usize {
    match data {
        Value::Array(a) => a.len(),
        Value::Null => 0,
        Value::Object(m) => match m.get("data") {
            Some(Value::Array(a)) => a.len(),
            _ => 1,
        },
        _ => 1,
    }
}

/// The operation [`Client::check`] calls for `descriptor`, if any.
pub fn check_operation(descriptor: &ConnectorDescriptor) -> Option<&'static OperationDescriptor> {
    let ops = || descriptor.entities.iter().flat_map(|e| e.operations.iter());
    ops()
        .find(|o| o.preferred_for_check)
        .or_else(|| ops().find(|o| o.kind == ActionKind::List && needs_no_input(o)))
}

/// Operations to check with when `skip` (the check operation) lacks a required parameter: the
/// `list`s, then the `get`s, whose parameters are all optional, defaulted, injected from config
/// or scoped (GitHub's `viewer_repositories.list` when its preferred check needs a username).
fn fallback_operations<'d>(
    descriptor: &'d ConnectorDescriptor,
    skip: &'d OperationDescriptor,
) -> impl Iterator<Item = &'static OperationDescriptor> + 'd {
    let free = |o: &OperationDescriptor| {
        !std::ptr::eq(o, skip)
            && o.params
                .iter()
                .all(|p| can_be_omitted(p) || descriptor.scoping.iter().any(|s| s.param == p.name))
    };
    let ops = move |kind: ActionKind| {
        descriptor
            .entities
            .iter()
            .flat_map(|e| e.operations.iter())
            .filter(move |o| o.kind == kind && free(o))
    };
    ops(ActionKind::List).chain(ops(ActionKind::Get))
}

/// Whether the caller may leave `p` out: optional, defaulted, or injected from config.
fn can_be_omitted(p: &ParamDescriptor) -> bool {
    !p.required || p.default.is_some() || p.config_inject.is_some()
}

fn needs_no_input(op: &OperationDescriptor) -> bool {
    op.params.iter().all(|p| match p.location {
        ParamLocation::Path => false,
        ParamLocation::Query => can_be_omitted(p),
        _ => true,
    })
}

fn probe_params(op: &OperationDescriptor) -> Map<String, Value> {
    let mut params = Map::new();
    if op.params.iter().any(|p| p.name == "limit") {
        params.insert("limit".into(), Value::from(1));
    }
    params
}

impl Client {
    /// Health check: call the check operation (see [`check_operation`]) with `limit=1`.
    ///
    /// Hosted mode runs the same operation through the execute endpoint; when the connector
    /// has no suitable operation, hosted mode verifies that an application token can be
    /// obtained and direct mode reports [`CheckStatus::Skipped`]. Never fails: the outcome is
    /// in the report.
    pub async fn check(&self) -> CheckReport {
        self.check_with(Map::new()).await
    }

    /// [`Client::check`] with extra parameters for the checked operation (e.g. GitHub's
    /// `username`, which its preferred check operation requires). Parameters the operation
    /// does not declare are ignored. When the check operation still lacks a required
    /// parameter, the first `list` (else `get`) that needs no input is checked instead (GitHub:
    /// `viewer.get`); without one the report is [`CheckStatus::Skipped`] naming the parameter
    /// (no request is sent).
    pub async fn check_with(&self, extra: Map<String, Value>) -> CheckReport {
        let started = Instant::now();
        match check_operation(self.descriptor()) {
            Some(op) => {
                let mut params = probe_params(op);
                for (k, v) in extra {
                    if op.params.iter().any(|p| p.name == k) {
                        params.insert(k, v);
                    }
                }
                let mut r = self.call(op, params).await;
                let mut op = op;
                if matches!(r, Err(Error::MissingParam { .. })) {
                    // A missing parameter is found before anything is sent: trying is free.
                    for alt in fallback_operations(self.descriptor(), op) {
                        let alt_r = self.call(alt, probe_params(alt)).await;
                        if !matches!(alt_r, Err(Error::MissingParam { .. })) {
                            (op, r) = (alt, alt_r);
                            break;
                        }
                    }
                }
                let mut report = CheckReport::from_result(op, started, r);
                if let CheckStatus::Skipped(m) = &mut report.status
                    && let Some(s) = self
                        .descriptor()
                        .scoping
                        .iter()
                        .find(|s| m.ends_with(&format!("`{}`", s.param)))
                {
                    m.push_str(&format!(
                        " (pass it to the check, e.g. `{}=...`; it is scoped by config value `{}`)",
                        s.param, s.config_key
                    ));
                }
                report
            }
            None => {
                let mut report = CheckReport::new(None, started);
                match self.probe() {
                    Some(probe) => {
                        if let Err(e) = probe.await {
                            report.http_status = e.status();
                            report.status = CheckStatus::from_error(&e);
                        }
                    }
                    None => {
                        report.status = CheckStatus::Skipped(format!(
                            "connector `{}` has no operation suitable for a health check",
                            self.descriptor().name
                        ))
                    }
                }
                report.elapsed = started.elapsed();
                report
            }
        }
    }

    /// Check one entity: its `list` (with `limit=1`), else its `get`.
    ///
    /// Path parameters are resolved through `x-airbyte-scoping` and config values (server
    /// variables in direct mode, the stored connector in hosted mode); a path parameter that is
    /// still missing is taken from the first record of the parent collection (the `list` at
    /// the path before the placeholder, e.g. `/issues/{id}/messages` ← `GET /issues`). When a
    /// required parameter remains missing the entity is reported [`CheckStatus::Skipped`] with
    /// the parameter named. An unknown entity is reported as [`CheckStatus::Other`].
    pub async fn check_entity(&self, entity: &str) -> CheckReport {
        let started = Instant::now();
        let d = self.descriptor();
        let Some(e) = d.entities.iter().find(|e| e.name == entity) else {
            let mut r = CheckReport::new(None, started);
            r.entity = Some(entity.to_string());
            r.status = CheckStatus::Other(format!(
                "unknown entity `{entity}`; available entities: {}",
                d.entities
                    .iter()
                    .map(|e| e.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return r;
        };
        let find = |k: ActionKind| e.operations.iter().find(|o| o.kind == k);
        let Some(op) = find(ActionKind::List)
            .or_else(|| find(ActionKind::Search))
            .or_else(|| find(ActionKind::Get))
        else {
            let mut r = CheckReport::new(None, started);
            r.entity = Some(entity.to_string());
            r.status = CheckStatus::Skipped(format!(
                "entity `{entity}` has no list, search or get operation"
            ));
            return r;
        };
        let mut params = probe_params(op);
        let mut r = self.call(op, params.clone()).await;
        // Missing path parameters: take them from the first record of the parent collection
        // (the list at the path before the placeholder), at most three times.
        for _ in 0..3 {
            let param = match &r {
                Err(Error::MissingParam { param, .. }) => param.clone(),
                _ => break,
            };
            let Some(value) = self.parent_id(op, &param).await else {
                break;
            };
            params.insert(param, value);
            r = self.call(op, params.clone()).await;
        }
        CheckReport::from_result(op, started, r)
    }

    /// The id of the first record of the collection whose list path precedes `{param}` in
    /// `op`'s path (`/issues/{id}/messages` → first record of `GET /issues`).
    async fn parent_id(&self, op: &OperationDescriptor, param: &str) -> Option<Value> {
        let at = op.path.find(&format!("{{{param}}}"))?;
        let prefix = op.path[..at].trim_end_matches('/');
        let parent = self
            .descriptor()
            .entities
            .iter()
            .flat_map(|e| e.operations.iter())
            .find(|o| o.kind == ActionKind::List && o.path == prefix && needs_no_input(o))?;
        let res = self.call(parent, probe_params(parent)).await.ok()?;
        let records = match &res.data {
            Value::Array(a) => a,
            Value::Object(m) => m.get("data")?.as_array()?,
            _ => return None,
        };
        records
            .first()?
            .get("id")
            .filter(|v| v.is_string() || v.is_number())
            .cloned()
    }

    /// Check every entity concurrently (at most four at a time), in descriptor order.
    pub async fn check_entities(&self) -> Vec<CheckReport> {
        use futures_util::StreamExt;
        futures_util::stream::iter(self.descriptor().entities.iter())
            .map(|e| self.check_entity(e.name))
            .buffered(4)
            .collect()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(count_records(&serde_json::json!([1, 2])), 2);
        assert_eq!(count_records(&serde_json::json!({"data": [1]})), 1);
        assert_eq!(count_records(&serde_json::json!({"id": 1})), 1);
        assert_eq!(count_records(&Value::Null), 0);
    }

    #[test]
    fn labels() {
        assert_eq!(CheckStatus::Ok.to_string(), "ok");
        assert_eq!(
            CheckStatus::AuthFailed("x".into()).to_string(),
            "auth_failed: x"
        );
    }
}
