//! Public-API summary of a generated crate (`api.json`), the diff between two summaries and the
//! semver decision it implies.
//!
//! The summary lists, per entity and action, the Rust method, the parameters (wire name → Rust
//! type, and whether it is a constructor argument), the output type and the fields of the record
//! type. Two summaries are compared to report what a regeneration changes for users of the crate.
//!
//! Versioning: the crate version is the crate's own semver, independent of the spec's
//! `info.version` (recorded in the Cargo.toml header and `meta::SPEC_VERSION`). A crate without a
//! previous summary starts at the spec version when that is semver (else `0.1.0`); afterwards each
//! regeneration bumps it from the checked-in version by the API diff: breaking → major (minor
//! below 1.0), additive → minor (patch below 1.0), same API but a different spec or generator
//! output → patch, identical → unchanged.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value, json};

use crate::ir::types::{RustType, TypeKind};
use crate::ir::{Connector, OutputIr};

/// Rust type of an IR type, as text.
fn ty_str(ir: &Connector, t: &RustType) -> String {
    match t {
        RustType::String => "String".into(),
        RustType::I64 => "i64".into(),
        RustType::F64 => "f64".into(),
        RustType::Bool => "bool".into(),
        RustType::Value => "Value".into(),
        RustType::Object => "Map<String, Value>".into(),
        RustType::Map(i) => format!("BTreeMap<String, {}>", ty_str(ir, i)),
        RustType::Vec(i) => format!("Vec<{}>", ty_str(ir, i)),
        RustType::Named(id) => ir
            .types
            .types
            .get(*id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| "?".into()),
        RustType::Boxed(id) => format!(
            "Box<{}>",
            ir.types
                .types
                .get(*id)
                .map(|t| t.name.as_str())
                .unwrap_or("?")
        ),
    }
}

fn record_fields(ir: &Connector, t: &RustType) -> Map<String, Value> {
    let mut out = BTreeMap::new();
    let id = match t {
        RustType::Named(id) | RustType::Boxed(id) => Some(*id),
        _ => None,
    };
    if let Some(TypeKind::Struct(fields)) = id.and_then(|i| ir.types.types.get(i)).map(|t| &t.kind)
    {
        for f in fields {
            out.insert(f.wire.clone(), Value::String(ty_str(ir, &f.ty)));
        }
    }
    out.into_iter().collect()
}

/// The public-API summary of the crate generated from `ir` (`version` is the crate version).
pub fn summary(ir: &Connector, version: &str) -> Value {
    let mut entities = BTreeMap::new();
    for e in &ir.entities {
        let mut actions = BTreeMap::new();
        for o in &e.operations {
            let mut params = BTreeMap::new();
            for p in &o.params {
                let ty = if p.name == "*" {
                    "body_field".to_string()
                } else {
                    ty_str(ir, &p.ty)
                };
                params.insert(
                    p.name.clone(),
                    json!({ "rust": p.rust_name, "type": ty, "argument": p.is_arg }),
                );
            }
            let (output, record) = match &o.output {
                OutputIr::Bytes => ("ByteStream".to_string(), None),
                OutputIr::Record(t) => (ty_str(ir, t), Some(t)),
                OutputIr::Page(t, m) => (
                    format!(
                        "Page<{}, {}>",
                        ty_str(ir, t),
                        ty_str(ir, &RustType::Named(*m))
                    ),
                    Some(t),
                ),
            };
            let fields = record.map(|t| record_fields(ir, t)).unwrap_or_default();
            actions.insert(
                o.action.clone(),
                json!({
                    "method": o.rust_name,
                    "params": params.into_iter().collect::<Map<_, _>>(),
                    "output": output,
                    "record_fields": fields,
                }),
            );
        }
        entities.insert(
            e.name.clone(),
            json!({
                "method": e.rust_name,
                "feature": e.feature,
                "actions": actions.into_iter().collect::<Map<_, _>>(),
            }),
        );
    }
    json!({
        "connector": ir.name,
        "crate_version": version,
        "spec_version": ir.version,
        "spec_sha256": ir.spec_sha256,
        "entities": entities.into_iter().collect::<Map<_, _>>(),
        "items": items(ir),
    })
}

/// How every request builder is sent (`Output`: the action's output type).
const BUILDER_SURFACE: [(&str, &str); 2] = [
    ("send", "(self) -> Call<Output>"),
    (
        "into_future",
        "IntoFuture<Output = Result<Output>, IntoFuture = Call<Output>>",
    ),
];

/// The builder surface of generators that did not record it: `send` was an `async fn` and the
/// `IntoFuture` a boxed future. A summary without `request.*` items is compared as if it had
/// these.
const BUILDER_SURFACE_BEFORE: [(&str, &str); 2] = [
    ("send", "async (self) -> Result<Output>"),
    (
        "into_future",
        "IntoFuture<Output = Result<Output>, IntoFuture = Pin<Box<dyn Future + Send>>>",
    ),
];

/// Public items outside the entities: connector methods (name → signature), auth and
/// replication types and their fields (`required`/`optional`, with the type for settings).
fn items(ir: &Connector) -> Map<String, Value> {
    let mut out = BTreeMap::new();
    let vars: String = ir
        .server_variables
        .iter()
        .filter(|v| v.required)
        .map(|v| format!(", {}: impl Into<String>", v.rust_name))
        .collect();
    let auth = format!("auth: impl Into<{}>{vars}", ir.auth_type);
    let repl = ir
        .replication
        .as_ref()
        .map(|r| format!(", replication: {}", r.type_name))
        .unwrap_or_default();
    for (name, sig) in [
        ("new", format!("({auth}) -> Result<Self>")),
        (
            "builder",
            format!("({auth}) -> {}ConnectorBuilder", ir.pascal),
        ),
        (
            "hosted",
            "(config: AirbyteAuthConfig) -> Result<Self>".to_string(),
        ),
        (
            "create_hosted",
            format!(
                "async (workspace: &Workspace, auth: impl Into<{}>{repl}, options: CreateOptions) -> Result<Self>",
                ir.auth_type
            ),
        ),
        ("from_client", "(client: Client) -> Result<Self>".into()),
        ("client", "(&self) -> &Client".into()),
        ("check", "async (&self) -> CheckReport".into()),
        ("descriptor", "() -> &'static ConnectorDescriptor".into()),
        (
            "operations",
            "() -> impl Iterator<Item = (&str, &str)>".into(),
        ),
        (
            "execute",
            "async (&self, entity: &str, action: &str, params: Value) -> Result<ExecuteResult>"
                .into(),
        ),
    ] {
        out.insert(format!("connector.{name}"), Value::String(sig));
    }
    // Every request builder has the same sending surface (`Output`: the action's output type).
    for (name, sig) in BUILDER_SURFACE {
        out.insert(format!("request.{name}"), Value::String(sig.to_string()));
    }
    let mut struct_fields = |kind: &str, type_name: &str, fields: Vec<(&str, String)>| {
        out.insert(format!("{kind}.{type_name}"), "struct".into());
        for (field, shape) in fields {
            out.insert(format!("{kind}.{type_name}.{field}"), shape.into());
        }
    };
    let req = |required: bool| if required { "required" } else { "optional" };
    for a in &ir.auth {
        let fields = a
            .fields
            .iter()
            .map(|f| (f.rust_name.as_str(), req(f.required).to_string()))
            .collect();
        struct_fields("auth", &a.type_name, fields);
    }
    if let Some(r) = &ir.replication {
        let fields = r
            .fields
            .iter()
            .map(|f| {
                (
                    f.rust_name.as_str(),
                    format!("{} {:?}", req(f.required), f.ty),
                )
            })
            .collect();
        struct_fields("replication", &r.type_name, fields);
    }
    out.into_iter().collect()
}

/// How much a change matters to users of the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Level {
    /// Nothing visible changed.
    None,
    /// Same API, different spec or generated code (patch).
    Patch,
    /// Additions only.
    Additive,
    /// Removals, retypes, new required arguments.
    Breaking,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::None => "unchanged",
            Level::Patch => "patch",
            Level::Additive => "additive",
            Level::Breaking => "breaking",
        })
    }
}

/// One API change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Breaking or additive.
    pub level: Level,
    /// Human-readable description (`entity customers removed`).
    pub what: String,
}

/// Differences between two summaries.
#[derive(Debug, Clone, Default)]
pub struct ApiDiff {
    /// Every change, breaking ones first.
    pub changes: Vec<Change>,
    /// Spec hash differs (a patch at least).
    pub spec_changed: bool,
}

impl ApiDiff {
    /// The overall level.
    pub fn level(&self) -> Level {
        let max = self.changes.iter().map(|c| c.level).max();
        match max {
            Some(l) => l,
            None if self.spec_changed => Level::Patch,
            None => Level::None,
        }
    }

    /// Count of changes at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.changes.iter().filter(|c| c.level == level).count()
    }
}

fn obj(v: &Value, key: &str) -> Map<String, Value> {
    v.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Compare the checked-in summary `old` with the new one.
pub fn diff(old: &Value, new: &Value) -> ApiDiff {
    let mut changes = Vec::new();
    let mut push = |level, what: String| changes.push(Change { level, what });
    let (oe, ne) = (obj(old, "entities"), obj(new, "entities"));
    for (name, o) in &oe {
        let Some(n) = ne.get(name) else {
            push(Level::Breaking, format!("entity `{name}` removed"));
            continue;
        };
        if s(o, "method") != s(n, "method") {
            push(
                Level::Breaking,
                format!(
                    "entity `{name}`: method `{}` renamed to `{}`",
                    s(o, "method"),
                    s(n, "method")
                ),
            );
        }
        let (oa, na) = (obj(o, "actions"), obj(n, "actions"));
        for (action, o) in &oa {
            let at = format!("{name}.{action}");
            let Some(n) = na.get(action) else {
                push(Level::Breaking, format!("action `{at}` removed"));
                continue;
            };
            if s(o, "method") != s(n, "method") {
                push(Level::Breaking, format!("`{at}`: method renamed"));
            }
            if s(o, "output") != s(n, "output") {
                push(
                    Level::Breaking,
                    format!("`{at}`: output `{}` → `{}`", s(o, "output"), s(n, "output")),
                );
            }
            let (op, np) = (obj(o, "params"), obj(n, "params"));
            for (p, ov) in &op {
                match np.get(p) {
                    None => push(Level::Breaking, format!("`{at}`: param `{p}` removed")),
                    Some(nv) => {
                        if s(ov, "type") != s(nv, "type") {
                            push(
                                Level::Breaking,
                                format!(
                                    "`{at}`: param `{p}` retyped `{}` → `{}`",
                                    s(ov, "type"),
                                    s(nv, "type")
                                ),
                            );
                        }
                        let (oa, na) = (ov.get("argument"), nv.get("argument"));
                        if oa != na {
                            let what = if na == Some(&Value::Bool(true)) {
                                "became a required argument"
                            } else {
                                "became an optional setter"
                            };
                            push(Level::Breaking, format!("`{at}`: param `{p}` {what}"));
                        }
                        if s(ov, "rust") != s(nv, "rust") {
                            push(Level::Breaking, format!("`{at}`: param `{p}` renamed"));
                        }
                    }
                }
            }
            for (p, nv) in &np {
                if !op.contains_key(p) {
                    if nv.get("argument") == Some(&Value::Bool(true)) {
                        push(
                            Level::Breaking,
                            format!("`{at}`: new required argument `{p}`"),
                        );
                    } else {
                        push(Level::Additive, format!("`{at}`: param `{p}` added"));
                    }
                }
            }
            let (of, nf) = (obj(o, "record_fields"), obj(n, "record_fields"));
            for (f, ot) in &of {
                match nf.get(f) {
                    None => push(
                        Level::Breaking,
                        format!("`{at}`: record field `{f}` removed"),
                    ),
                    Some(nt) if nt != ot => push(
                        Level::Breaking,
                        format!(
                            "`{at}`: record field `{f}` retyped `{}` → `{}`",
                            ot.as_str().unwrap_or(""),
                            nt.as_str().unwrap_or("")
                        ),
                    ),
                    _ => {}
                }
            }
            for f in nf.keys().filter(|f| !of.contains_key(*f)) {
                push(Level::Additive, format!("`{at}`: record field `{f}` added"));
            }
        }
        for action in na.keys().filter(|a| !oa.contains_key(*a)) {
            push(Level::Additive, format!("action `{name}.{action}` added"));
        }
    }
    for name in ne.keys().filter(|e| !oe.contains_key(*e)) {
        push(Level::Additive, format!("entity `{name}` added"));
    }
    // Items: a summary written before items were recorded counts every item as added.
    let (mut oi, ni) = (obj(old, "items"), obj(new, "items"));
    if !oi.is_empty() && !oi.keys().any(|k| k.starts_with("request.")) {
        for (name, sig) in BUILDER_SURFACE_BEFORE {
            oi.insert(format!("request.{name}"), Value::String(sig.to_string()));
        }
    }
    for (name, o) in &oi {
        match ni.get(name) {
            None => push(Level::Breaking, format!("`{name}` removed")),
            Some(n) if n != o => push(
                Level::Breaking,
                format!(
                    "`{name}` changed `{}` → `{}`",
                    o.as_str().unwrap_or(""),
                    n.as_str().unwrap_or("")
                ),
            ),
            _ => {}
        }
    }
    for (name, n) in ni.iter().filter(|(k, _)| !oi.contains_key(*k)) {
        // A new required field of a type that already existed breaks its constructor.
        let parent_existed = name
            .rsplit_once('.')
            .is_some_and(|(parent, _)| oi.contains_key(parent));
        if parent_existed && n.as_str().is_some_and(|v| v.starts_with("required")) {
            push(
                Level::Breaking,
                format!("`{name}` added as a required field"),
            );
        } else {
            push(Level::Additive, format!("`{name}` added"));
        }
    }
    changes.sort_by_key(|c| std::cmp::Reverse(c.level));
    ApiDiff {
        changes,
        spec_changed: s(old, "spec_sha256") != s(new, "spec_sha256"),
    }
}

/// `version` bumped by `level` (semver; below 1.0 a breaking change bumps the minor and an
/// additive one the patch). A version that is not `MAJOR.MINOR.PATCH` restarts at `0.1.0`.
pub fn bump(version: &str, level: Level) -> String {
    let core = version.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<u64> = core.split('.').filter_map(|p| p.parse().ok()).collect();
    let [major, minor, patch] = parts[..] else {
        return "0.1.0".into();
    };
    match (level, major) {
        (Level::None, _) => format!("{major}.{minor}.{patch}"),
        (Level::Breaking, 0) => format!("0.{}.0", minor + 1),
        (Level::Breaking, _) => format!("{}.0.0", major + 1),
        (Level::Additive, 0) | (Level::Patch, _) => format!("{major}.{minor}.{}", patch + 1),
        (Level::Additive, _) => format!("{major}.{}.0", minor + 1),
    }
}

/// A readable report of a diff (one line per change).
pub fn report(name: &str, old_version: &str, new_version: &str, d: &ApiDiff) -> String {
    let mut out = format!(
        "{name}: {} ({} breaking, {} additive) {old_version} → {new_version}\n",
        d.level(),
        d.count(Level::Breaking),
        d.count(Level::Additive)
    );
    for c in &d.changes {
        out.push_str(&format!("  [{}] {}\n", c.level, c.what));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps() {
        assert_eq!(bump("0.1.13", Level::Breaking), "0.2.0");
        assert_eq!(bump("0.1.13", Level::Additive), "0.1.14");
        assert_eq!(bump("0.1.13", Level::Patch), "0.1.14");
        assert_eq!(bump("1.2.3", Level::Breaking), "2.0.0");
        assert_eq!(bump("1.2.3", Level::Additive), "1.3.0");
        assert_eq!(bump("1.2.3", Level::None), "1.2.3");
        assert_eq!(bump("v1", Level::Patch), "0.1.0");
    }

    #[test]
    fn diff_classifies() {
        let old = json!({"spec_sha256": "a", "entities": {
            "a": {"method": "a", "actions": {"list": {"method": "list", "output": "X",
                "params": {"limit": {"rust": "limit", "type": "i64", "argument": false}},
                "record_fields": {"id": "String"}}}},
            "gone": {"method": "gone", "actions": {}}}});
        let new = json!({"spec_sha256": "b", "entities": {
            "a": {"method": "a", "actions": {"list": {"method": "list", "output": "X",
                "params": {"limit": {"rust": "limit", "type": "String", "argument": false},
                           "q": {"rust": "q", "type": "String", "argument": false}},
                "record_fields": {"id": "String", "name": "String"}}}},
            "new": {"method": "new", "actions": {}}}});
        let d = diff(&old, &new);
        assert_eq!(d.level(), Level::Breaking);
        assert_eq!(d.count(Level::Breaking), 2, "{d:?}");
        assert_eq!(d.count(Level::Additive), 3, "{d:?}");
        assert_eq!(diff(&new, &new).level(), Level::None);
    }

    #[test]
    fn items_classify() {
        let old = json!({"spec_sha256": "a", "items": {
            "connector.new": "(auth) -> Result<Self>",
            "request.send": "(self) -> Call<Output>",
            "auth.A": "struct", "auth.A.key": "required",
            "replication.R": "struct", "replication.R.start": "optional String"}});
        let new = json!({"spec_sha256": "a", "items": {
            "connector.new": "(auth) -> Result<Self>",
            "request.send": "(self) -> Call<Output>",
            "connector.check": "async (&self) -> CheckReport",
            "auth.A": "struct", "auth.A.key": "required", "auth.A.extra": "required",
            "auth.B": "struct", "auth.B.token": "required",
            "replication.R": "struct", "replication.R.start": "required String"}});
        let d = diff(&old, &new);
        // Breaking: A.extra (new required field of an existing type), R.start became required.
        assert_eq!(d.count(Level::Breaking), 2, "{d:?}");
        // Additive: check, auth.B and its field.
        assert_eq!(d.count(Level::Additive), 3, "{d:?}");
        // A summary without items (older generator) sees only additions.
        let before = json!({"spec_sha256": "a"});
        assert_eq!(diff(&before, &new).level(), Level::Additive);
    }

    #[test]
    fn builder_surface_of_older_summaries() {
        let items: Map<String, Value> = BUILDER_SURFACE
            .iter()
            .map(|(k, v)| (format!("request.{k}"), Value::String(v.to_string())))
            .chain([("connector.new".to_string(), json!("(auth) -> Result<Self>"))])
            .collect();
        let new = json!({"spec_sha256": "a", "items": items});
        // A summary from before the builder surface was recorded had `async fn send`.
        let old = json!({"spec_sha256": "a", "items": {"connector.new": "(auth) -> Result<Self>"}});
        let d = diff(&old, &new);
        assert_eq!(d.count(Level::Breaking), 2, "{d:?}");
        assert!(
            d.changes[0].what.contains("async (self) -> Result<Output>"),
            "{d:?}"
        );
        // The same surface on both sides: nothing changed.
        assert_eq!(diff(&new, &new).level(), Level::None);
    }
}
