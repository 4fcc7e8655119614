//! Typed-API replay of the oracle: a generated crate's `tests/oracle.rs` holds one match arm per
//! operation that builds the call through the typed builders from the case's params ([`Args`]);
//! this module holds everything else: it serves the recorded mock response, checks that every
//! param was used, compares the requests with the recording and the typed result, serialised
//! back to JSON, with the recorded result on the fields the record types know
//! ([`assert_matches_oracle`]).

use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;

use airbyte_agent_runtime::{Client, ConnectorDescriptor, Error, Page};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::allowlist::AllowList;
use super::compare::compare_requests;
use super::model::OracleFile;
use super::replay::{build_client, script};
use super::server::MockServer;

/// The future of a typed call, resolving to the typed result as JSON: `{"record": ..}` for a
/// single record, `{"data": [..], "meta": ..}` for a page.
pub type TypedFuture = Pin<Box<dyn Future<Output = Result<Value, Error>> + Send>>;

/// What a generated test returns for one case: `Ok(None)` when the typed API has no such call
/// (or the output is a byte stream), `Err` when the case's params do not fit the typed setters.
pub type Outcome = Result<Option<TypedFuture>, String>;

/// A generated test's dispatch: the connector, `(entity, action)` and the case's params.
pub type TypedCall<C> = fn(&C, (&str, &str), &mut Args<'_>) -> Outcome;

/// The params of one case, read by name through typed setters. Every name read is remembered:
/// a param no setter read makes the case fail as "unknown param" ([`Args::unknown`]).
#[derive(Debug)]
pub struct Args<'a> {
    params: &'a Map<String, Value>,
    read: Vec<&'a str>,
}

impl<'a> Args<'a> {
    /// The params of a case (an object; anything else has no params).
    pub fn new(params: &'a Map<String, Value>) -> Self {
        Args {
            params,
            read: Vec::new(),
        }
    }

    /// A required argument under the first of `names` present (the wire name, then its
    /// snake_case form, which the reference also accepts).
    pub fn arg<T: DeserializeOwned>(&mut self, names: &[&'a str]) -> Result<T, String> {
        self.opt(names)?
            .ok_or_else(|| format!("missing `{}`", names.first().unwrap_or(&"?")))
    }

    /// An optional param under the first of `names` present; `null` counts as absent.
    pub fn opt<T: DeserializeOwned>(&mut self, names: &[&'a str]) -> Result<Option<T>, String> {
        self.read.extend_from_slice(names);
        match names.iter().find_map(|n| self.params.get(*n)) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| format!("`{}`: {e}", names.first().unwrap_or(&"?"))),
        }
    }

    /// `request` with the setter `set` applied to the optional param under `names`, when present.
    pub fn set<R, T: DeserializeOwned>(
        &mut self,
        request: R,
        names: &[&'a str],
        set: impl FnOnce(R, T) -> R,
    ) -> Result<R, String> {
        Ok(match self.opt(names)? {
            Some(v) => set(request, v),
            None => request,
        })
    }

    /// Every param not read so far (for operations with an open body), now counted as read.
    pub fn rest(&mut self) -> Vec<(String, Value)> {
        let rest: Vec<(String, Value)> = self
            .params
            .iter()
            .filter(|(k, _)| !self.read.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.read.extend(
            self.params
                .keys()
                .map(String::as_str)
                .filter(|k| rest.iter().any(|(r, _)| r == k)),
        );
        rest
    }

    /// The first param no setter read.
    pub fn unknown(&self) -> Option<&'a str> {
        self.params
            .keys()
            .map(String::as_str)
            .find(|k| !self.read.contains(k))
    }
}

/// JSON of a typed value (serialising generated types cannot fail).
fn to_json<T: Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A request returning one record, as `{"record": ..}`.
pub fn record<T, F>(request: F) -> TypedFuture
where
    T: Serialize,
    F: IntoFuture<Output = Result<T, Error>>,
    F::IntoFuture: Send + 'static,
{
    let call = request.into_future();
    Box::pin(async move { Ok(serde_json::json!({ "record": to_json(call.await?) })) })
}

/// A request returning a page, as `{"data": [..], "meta": ..}`.
pub fn page<T, M, F>(request: F) -> TypedFuture
where
    T: Serialize,
    M: Serialize,
    F: IntoFuture<Output = Result<Page<T, M>, Error>>,
    F::IntoFuture: Send + 'static,
{
    let call = request.into_future();
    Box::pin(async move {
        let page = call.await?;
        Ok(serde_json::json!({ "data": to_json(page.data), "meta": to_json(page.meta) }))
    })
}

/// Outcome of a typed replay of one connector.
#[derive(Debug, Default)]
pub struct TypedReport {
    /// Cases whose request and result matched.
    pub passed: Vec<String>,
    /// Cases with differences (id, details).
    pub failed: Vec<(String, Vec<String>)>,
    /// Cases with differences that the oracle allow-list accepts (deliberate differences).
    pub allow_listed: Vec<String>,
    /// Cases where the typed API is stricter than the dynamic one, by design (id, why): the case
    /// omits a parameter the typed API requires as a constructor argument, a param value does
    /// not fit the typed setter, or the mock response does not decode into the record type.
    pub stricter: Vec<(String, String)>,
    /// Cases not replayed (id, why): error cases, downloads, other auth options.
    pub skipped: Vec<(String, String)>,
}

impl TypedReport {
    /// One-line summary.
    pub fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} allow-listed, {} typed-stricter, {} skipped",
            self.passed.len(),
            self.failed.len(),
            self.allow_listed.len(),
            self.stricter.len(),
            self.skipped.len()
        )
    }
}

/// `../shared/reference/oracle/<name>.json` beside the checkout.
pub fn oracle_path(connector: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/oracle")
        .join(format!("{connector}.json"))
}

/// Numbers compare by value (`7` == `7.0`).
fn same_number(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(1.0),
        _ => false,
    }
}

/// Every value of `typed` (a typed result serialised, `None` fields omitted) equals the recorded
/// one; recorded fields the record type does not know are ignored.
pub fn subset(path: &str, typed: &Value, recorded: &Value, out: &mut Vec<String>) {
    match (typed, recorded) {
        (Value::Object(t), Value::Object(r)) => {
            for (k, v) in t {
                match r.get(k) {
                    Some(rv) => subset(&format!("{path}.{k}"), v, rv, out),
                    None if v.is_null() => {}
                    None => out.push(format!("{path}.{k}: typed has {v}, recording has nothing")),
                }
            }
        }
        (Value::Array(t), Value::Array(r)) => {
            // Typed lists drop `null` items (see the generated `vec_skip_nulls`).
            let r: Vec<&Value> = if t.len() < r.len() {
                r.iter().filter(|v| !v.is_null()).collect()
            } else {
                r.iter().collect()
            };
            if t.len() != r.len() {
                out.push(format!(
                    "{path}: {} typed items, {} recorded",
                    t.len(),
                    r.len()
                ));
            }
            for (i, (a, b)) in t.iter().zip(r).enumerate() {
                let b: &Value = b;
                subset(&format!("{path}[{i}]"), a, b, out);
            }
        }
        (a, b) if a == b || same_number(a, b) => {}
        // An all-`None` typed object (e.g. page meta) stands for a missing recorded one.
        (Value::Object(t), Value::Null) if t.values().all(Value::is_null) => {}
        // A typed string-keyed map or `Value` of an object serialises the same; anything else differs.
        (a, b) => out.push(format!("{path}: typed {a}, recorded {b}")),
    }
}

/// Replay every successful case of `connector`'s oracle through `call`, on the connector type
/// `connect` wraps each case's client in.
pub async fn run_typed<C>(
    connector: &str,
    descriptor: &'static ConnectorDescriptor,
    connect: fn(Client) -> Result<C, Error>,
    call: TypedCall<C>,
) -> Result<TypedReport, String> {
    let path = oracle_path(connector);
    let file = OracleFile::load(&path).map_err(|e| e.to_string())?;
    let server = MockServer::start()
        .await
        .map_err(|e| format!("loopback listener: {e}"))?;
    let allow = AllowList::load(&super::default_allowlist()).map_err(|e| e.to_string())?;
    let mut report = TypedReport::default();
    for case in &file.cases {
        if !case.result.success {
            report.skipped.push((case.id.clone(), "error case".into()));
            continue;
        }
        if case.auth_scheme != file.auth_scheme {
            report
                .skipped
                .push((case.id.clone(), "other auth option".into()));
            continue;
        }
        let host = server.host();
        server.set_script(script(&file, case, &host));
        let client = match build_client(descriptor, &file, case, &server) {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                report
                    .failed
                    .push((case.id.clone(), vec![format!("client: {e}")]));
                continue;
            }
            Err(e) => {
                report
                    .failed
                    .push((case.id.clone(), vec![format!("setup: {e}")]));
                continue;
            }
        };
        let empty = Map::new();
        let params = case.params.as_object().unwrap_or(&empty);
        let mut args = Args::new(params);
        let called = connect(client)
            .map_err(|e| e.to_string())
            .and_then(|c| call(&c, (&case.entity, &case.action), &mut args))
            .and_then(|f| match args.unknown() {
                Some(k) if f.is_some() => Err(format!("unknown param `{k}`")),
                _ => Ok(f),
            });
        let fut = match called {
            Ok(None) => {
                report
                    .skipped
                    .push((case.id.clone(), "no typed call".into()));
                continue;
            }
            Err(e) => {
                report
                    .stricter
                    .push((case.id.clone(), format!("params: {e}")));
                let _ = server.take_requests();
                continue;
            }
            Ok(Some(f)) => f,
        };
        let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), fut).await;
        let requests = server.take_requests();
        let mut problems = Vec::new();
        let mut mismatches = Vec::new();
        compare_requests(&case.requests, &requests, &mut mismatches);
        problems.extend(mismatches.iter().map(|m| format!("{m:?}")));
        match outcome {
            Err(_) => problems.push("timed out".into()),
            Ok(Err(e @ Error::Decode { .. })) => {
                report.stricter.push((case.id.clone(), e.to_string()));
                continue;
            }
            Ok(Err(e)) => problems.push(format!("typed call failed: {e}")),
            Ok(Ok(typed)) => {
                // Single records come as `{"record": ..}`, pages as `{"data": [..], "meta": ..}`.
                match typed.get("record") {
                    Some(record) => subset("$", record, &case.result.data, &mut problems),
                    None => {
                        // A page holds the recorded data as its records (a lone object is one).
                        let data = match &case.result.data {
                            Value::Array(_) | Value::Null => case.result.data.clone(),
                            one => Value::Array(vec![one.clone()]),
                        };
                        let recorded =
                            serde_json::json!({ "data": data, "meta": case.result.meta });
                        subset("$", &typed, &recorded, &mut problems);
                    }
                }
            }
        }
        if problems.is_empty() {
            report.passed.push(case.id.clone());
        } else if allow.is_listed(connector, &case.id) {
            report.allow_listed.push(case.id.clone());
        } else {
            report.failed.push((case.id.clone(), problems));
        }
    }
    Ok(report)
}

/// The generated test's body: replay the oracle, print the report, and fail on any difference
/// (or when no case replayed at all).
pub async fn assert_matches_oracle<C>(
    connector: &str,
    descriptor: &'static ConnectorDescriptor,
    connect: fn(Client) -> Result<C, Error>,
    call: TypedCall<C>,
) {
    let report = match run_typed(connector, descriptor, connect, call).await {
        Ok(r) => r,
        Err(e) => panic!("oracle replay setup: {e}"),
    };
    eprintln!("{connector}: {}", report.summary());
    for (id, why) in &report.stricter {
        eprintln!("  stricter {id}: {why}");
    }
    for (id, problems) in &report.failed {
        eprintln!("  {id}: {problems:?}");
    }
    assert!(
        report.failed.is_empty(),
        "{} typed case(s) differ from the oracle",
        report.failed.len()
    );
    assert!(!report.passed.is_empty(), "no case replayed");
}

#[cfg(test)]
mod tests {
    use super::subset;
    use serde_json::json;

    #[test]
    fn subset_ignores_unknown_recorded_fields_only() {
        let mut out = Vec::new();
        subset(
            "$",
            &json!({"a": 1.0, "b": [1]}),
            &json!({"a": 1, "b": [1], "c": 3}),
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        subset("$", &json!({"a": "x"}), &json!({"a": "y"}), &mut out);
        assert_eq!(out.len(), 1);
    }
}
