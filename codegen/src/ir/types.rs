//! Schema → Rust type graph.
//!
//! Component schemas and inline objects become named structs, string enums become open enums,
//! nullable type arrays / `oneOf`-with-null collapse to the underlying type (every field is an
//! `Option` anyway), scalar unions become `serde_json::Value`, `additionalProperties` schemas become
//! maps, open objects become `serde_json::Map`. Only types reachable from operations are built.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::naming::{Namer, pascal_base, safe_snake, snake_base};
use crate::spec::{Node, SpecError, Warning};

mod resolve;

/// Index of a named type in [`TypeGraph::types`].
pub type TypeId = usize;

/// A Rust type used by generated code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RustType {
    /// `String`
    String,
    /// `i64`
    I64,
    /// `f64`
    F64,
    /// `bool`
    Bool,
    /// `serde_json::Value`
    Value,
    /// `serde_json::Map<String, serde_json::Value>` (open object)
    Object,
    /// `BTreeMap<String, T>`
    Map(Box<RustType>),
    /// `Vec<T>`
    Vec(Box<RustType>),
    /// A generated type.
    Named(TypeId),
    /// A generated type behind a `Box` (breaks a cycle).
    Boxed(TypeId),
}

impl RustType {
    /// Named types this type mentions.
    pub fn named(&self, out: &mut Vec<TypeId>) {
        match self {
            RustType::Named(id) | RustType::Boxed(id) => out.push(*id),
            RustType::Map(t) | RustType::Vec(t) => t.named(out),
            _ => {}
        }
    }
}

/// A struct field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Rust identifier (keywords suffixed with `_`).
    pub name: String,
    /// Wire name.
    pub wire: String,
    /// Type (the field itself is always `Option<ty>`).
    pub ty: RustType,
    /// Description.
    pub doc: String,
}

/// What a named type is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TypeKind {
    /// A struct with optional fields.
    Struct(Vec<Field>),
    /// An open string enum: (variant identifier, wire value).
    Enum(Vec<(String, String)>),
}

/// A named generated type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// Rust name (unique in the crate).
    pub name: String,
    /// Description.
    pub doc: String,
    /// Struct or enum.
    pub kind: TypeKind,
    /// Entities whose operations reach this type.
    pub users: BTreeSet<String>,
}

/// All generated types of a connector.
#[derive(Debug, Clone, Default)]
pub struct TypeGraph {
    /// Types by id.
    pub types: Vec<TypeDef>,
}

/// Builds the type graph from component and inline schemas.
pub(crate) struct TypeBuilder<'a> {
    schemas: HashMap<String, Node<'a>>,
    pub(crate) graph: TypeGraph,
    components: HashMap<String, RustType>,
    in_progress: Vec<String>,
    pub(crate) namer: Namer,
    pub(crate) warnings: Vec<Warning>,
    warned: BTreeSet<String>,
    /// Structural dedupe: canonical schema JSON → type already built for it.
    shapes: HashMap<String, RustType>,
}

/// Canonical text of a schema for structural dedupe (prose and extensions ignored).
fn shape_key(v: &Value) -> String {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| {
                        !k.starts_with("x-")
                            && !matches!(
                                k.as_str(),
                                "description" | "title" | "example" | "examples"
                            )
                    })
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            v => v.clone(),
        }
    }
    serde_json::to_string(&strip(v)).unwrap_or_default()
}

const REF_PREFIX: &str = "#/components/schemas/";

/// Names generated code relies on: never used for generated types.
pub const RESERVED_TYPE_NAMES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "String",
    "Vec",
    "Box",
    "Result",
    "Ok",
    "Err",
    "Default",
    "Clone",
    "Debug",
    "Send",
    "Sync",
    "Sized",
    "Copy",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "IntoIterator",
    "IntoFuture",
    "Future",
    "Pin",
    "Into",
    "From",
    "ToString",
    "Drop",
    "Eq",
    "PartialEq",
    "Ord",
    "PartialOrd",
    "Hash",
    "Self",
    "Client",
    "Params",
    "Page",
    "PageStream",
    "ByteStream",
    "Error",
    "Value",
    "Map",
    "BTreeMap",
    "Credentials",
    "SecretString",
    "ExecuteResult",
    "Serialize",
    "Deserialize",
    "Duration",
    "CONNECTOR",
    "Unknown",
];

impl<'a> TypeBuilder<'a> {
    pub(crate) fn new(schemas: &[(String, Node<'a>)], namer: Namer) -> Self {
        TypeBuilder {
            schemas: schemas
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            graph: TypeGraph::default(),
            components: HashMap::new(),
            in_progress: Vec::new(),
            namer,
            warnings: Vec::new(),
            warned: BTreeSet::new(),
            shapes: HashMap::new(),
        }
    }

    fn warn_once(&mut self, node: &Node<'_>, msg: String) {
        if self.warned.insert(node.path.clone()) {
            self.warnings.push(node.warn(msg));
        }
    }

    /// The struct type of a shape that has no schema node (keyed by `shape`, so the same shape
    /// gives one type), with the fields `make` builds.
    pub(crate) fn shaped_struct(
        &mut self,
        shape: String,
        base: &str,
        doc: String,
        make: impl FnOnce(&mut Self) -> Vec<Field>,
    ) -> RustType {
        if let Some(t) = self.shapes.get(&shape) {
            return t.clone();
        }
        let fields = make(self);
        let id = self.new_type(base, doc);
        self.graph.types[id].kind = TypeKind::Struct(fields);
        self.shapes.insert(shape, RustType::Named(id));
        RustType::Named(id)
    }

    fn new_type(&mut self, base: &str, doc: String) -> TypeId {
        let name = self.namer.unique(&pascal_base(base));
        self.graph.types.push(TypeDef {
            name,
            doc,
            kind: TypeKind::Struct(Vec::new()),
            users: BTreeSet::new(),
        });
        self.graph.types.len() - 1
    }

    /// Rust type of a schema. `hint` names inline types; `direct` is false below Vec/Map.
    pub(crate) fn ty(
        &mut self,
        node: &Node<'a>,
        hint: &str,
        direct: bool,
    ) -> Result<RustType, SpecError> {
        if let Some(r) = node.get("$ref") {
            let target = r.as_str()?;
            let name = target
                .strip_prefix(REF_PREFIX)
                .ok_or_else(|| {
                    r.err(format!(
                        "unsupported $ref `{target}` (only `{REF_PREFIX}<Name>`)"
                    ))
                })?
                .to_string();
            return self.component(&r, &name, direct);
        }
        if let Some(members) = self.non_null_members(node)? {
            return match members.len() {
                0 => Ok(RustType::Value),
                1 => self.ty(&members[0], hint, direct),
                _ => Ok(RustType::Value),
            };
        }
        if node.value.get("nullable").is_some() {
            self.warn_once(
                node,
                "OpenAPI 3.0 `nullable` tolerated (treated as an optional value)".into(),
            );
        }
        let types = Self::types_of(node);
        let kind = match types.len() {
            0 if node.get("properties").is_some() => "object".to_string(),
            0 if node.get("items").is_some() => "array".to_string(),
            0 if node.get("additionalProperties").is_some() => "object".to_string(),
            0 => return Ok(RustType::Value),
            1 => types[0].clone(),
            _ => return Ok(RustType::Value),
        };
        match kind.as_str() {
            "string" => {
                if let Some(e) = node.get("enum") {
                    let vals: Vec<&Value> = e
                        .value
                        .as_array()
                        .map(|a| a.iter().collect())
                        .unwrap_or_default();
                    let strings: Vec<&str> = vals.iter().filter_map(|v| v.as_str()).collect();
                    let all_strings = vals.iter().all(|v| v.is_string() || v.is_null());
                    if all_strings && !strings.is_empty() {
                        let key = format!("enum:{}", shape_key(e.value));
                        if let Some(t) = self.shapes.get(&key) {
                            return Ok(t.clone());
                        }
                        let t = RustType::Named(self.enum_type(hint, node, &strings)?);
                        self.shapes.insert(key, t.clone());
                        return Ok(t);
                    }
                }
                Ok(RustType::String)
            }
            "integer" => Ok(RustType::I64),
            "number" => Ok(RustType::F64),
            "boolean" => Ok(RustType::Bool),
            "array" => match node.get("items") {
                Some(items) if items.value.is_object() => {
                    let item_hint = format!("{hint}Item");
                    Ok(RustType::Vec(Box::new(self.ty(&items, &item_hint, false)?)))
                }
                _ => Ok(RustType::Vec(Box::new(RustType::Value))),
            },
            "object" => self.object(node, hint),
            "null" => Ok(RustType::Value),
            other => {
                self.warn_once(
                    node,
                    format!("unknown schema type `{other}` treated as any JSON value"),
                );
                Ok(RustType::Value)
            }
        }
    }

    /// The type of a component schema by name.
    pub(crate) fn component_named(
        &mut self,
        at: &Node<'a>,
        name: &str,
    ) -> Result<RustType, SpecError> {
        self.component(at, name, true)
    }

    fn component(
        &mut self,
        at: &Node<'a>,
        name: &str,
        direct: bool,
    ) -> Result<RustType, SpecError> {
        if let Some(t) = self.components.get(name) {
            if let RustType::Named(id) = t
                && direct
                && self.in_progress.iter().any(|n| n == name)
            {
                return Ok(RustType::Boxed(*id));
            }
            return Ok(t.clone());
        }
        if self.in_progress.iter().any(|n| n == name) {
            // A non-struct component refers to itself: give up typing it.
            return Ok(RustType::Value);
        }
        let node = self.schemas.get(name).cloned().ok_or_else(|| {
            at.err(format!(
                "$ref `{REF_PREFIX}{name}` points at no schema in components.schemas"
            ))
        })?;
        self.in_progress.push(name.to_string());
        let result = self.component_body(&node, name);
        self.in_progress.pop();
        let t = result?;
        self.components.insert(name.to_string(), t.clone());
        Ok(t)
    }

    fn component_body(&mut self, node: &Node<'a>, name: &str) -> Result<RustType, SpecError> {
        let has_props = node
            .get("properties")
            .map(|p| p.value.as_object().is_some_and(|o| !o.is_empty()));
        if has_props == Some(true) && node.get("$ref").is_none() {
            let doc = node.text_of("description")?.unwrap_or_default();
            let id = self.new_type(name, doc);
            self.components
                .insert(name.to_string(), RustType::Named(id));
            self.shapes
                .entry(shape_key(node.value))
                .or_insert(RustType::Named(id));
            let fields = self.fields(node, id)?;
            self.graph.types[id].kind = TypeKind::Struct(fields);
            return Ok(RustType::Named(id));
        }
        let hint = pascal_base(name);
        self.ty(node, &hint, true)
    }

    fn object(&mut self, node: &Node<'a>, hint: &str) -> Result<RustType, SpecError> {
        let has_props = node
            .get("properties")
            .map(|p| p.value.as_object().is_some_and(|o| !o.is_empty()));
        if has_props == Some(true) {
            let key = shape_key(node.value);
            if let Some(t) = self.shapes.get(&key) {
                return Ok(t.clone());
            }
            let doc = node.text_of("description")?.unwrap_or_default();
            let id = self.new_type(hint, doc);
            self.shapes.insert(key, RustType::Named(id));
            let fields = self.fields(node, id)?;
            self.graph.types[id].kind = TypeKind::Struct(fields);
            return Ok(RustType::Named(id));
        }
        match node.get("additionalProperties") {
            Some(ap)
                if ap.value.is_object() && ap.value.as_object().is_some_and(|o| !o.is_empty()) =>
            {
                let inner = self.ty(&ap, &format!("{hint}Value"), false)?;
                if inner == RustType::Value {
                    Ok(RustType::Object)
                } else {
                    Ok(RustType::Map(Box::new(inner)))
                }
            }
            _ => Ok(RustType::Object),
        }
    }

    fn fields(&mut self, node: &Node<'a>, owner: TypeId) -> Result<Vec<Field>, SpecError> {
        let Some(props) = node.get("properties") else {
            return Ok(Vec::new());
        };
        let owner_name = self.graph.types[owner].name.clone();
        let mut namer = Namer::default();
        let mut out = Vec::new();
        for (wire, prop) in props.entries()? {
            if !prop.value.is_object() {
                self.warn_once(
                    &prop,
                    format!("property `{wire}` is not a schema; typed as any JSON value"),
                );
                out.push(Field {
                    name: namer.unique(&safe_snake(&snake_base(wire))),
                    wire: wire.to_string(),
                    ty: RustType::Value,
                    doc: String::new(),
                });
                continue;
            }
            let misplaced: Vec<&String> = prop
                .value
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(k, v)| !is_schema_keyword(k) && v.is_object())
                        .map(|(k, _)| k)
                        .collect()
                })
                .unwrap_or_default();
            if !misplaced.is_empty() {
                self.warn_once(
                    &prop,
                    format!(
                        "property `{wire}` holds {} unknown key(s) that look like misplaced properties \
                         (malformed schema, e.g. `{}`); ignored",
                        misplaced.len(),
                        misplaced[0]
                    ),
                );
            }
            let hint = format!("{owner_name}{}", pascal_base(wire));
            let ty = self.ty(&prop, &hint, true)?;
            let doc = prop
                .text_of("description")?
                .or_else(|| {
                    self.deref(&prop)
                        .ok()
                        .and_then(|d| d.text_of("description").ok().flatten())
                })
                .unwrap_or_default();
            out.push(Field {
                name: namer.unique(&safe_snake(&snake_base(wire))),
                wire: wire.to_string(),
                ty,
                doc,
            });
        }
        Ok(out)
    }

    fn enum_type(
        &mut self,
        hint: &str,
        node: &Node<'a>,
        values: &[&str],
    ) -> Result<TypeId, SpecError> {
        let doc = node.text_of("description")?.unwrap_or_default();
        let id = self.new_type(hint, doc);
        let mut namer = Namer::with_reserved(&["Unknown"]);
        let mut seen = BTreeSet::new();
        let mut variants = Vec::new();
        for v in values {
            if !seen.insert(*v) {
                continue;
            }
            variants.push((namer.unique(&pascal_base(v)), v.to_string()));
        }
        self.graph.types[id].kind = TypeKind::Enum(variants);
        Ok(id)
    }

    /// Record every type reachable from `roots` as used by `entity`.
    pub(crate) fn mark_users(&mut self, entity: &str, roots: &[RustType]) {
        let mut stack = Vec::new();
        for r in roots {
            r.named(&mut stack);
        }
        while let Some(id) = stack.pop() {
            if !self.graph.types[id].users.insert(entity.to_string()) {
                continue;
            }
            if let TypeKind::Struct(fields) = &self.graph.types[id].kind {
                for f in fields {
                    f.ty.named(&mut stack);
                }
            }
        }
    }
}

fn is_schema_keyword(k: &str) -> bool {
    matches!(
        k,
        "type"
            | "properties"
            | "items"
            | "$ref"
            | "oneOf"
            | "anyOf"
            | "allOf"
            | "not"
            | "required"
            | "additionalProperties"
            | "description"
            | "title"
            | "format"
            | "default"
            | "example"
            | "examples"
            | "enum"
            | "const"
            | "minimum"
            | "maximum"
            | "pattern"
            | "minLength"
            | "maxLength"
            | "minItems"
            | "maxItems"
            | "uniqueItems"
            | "readOnly"
            | "writeOnly"
            | "deprecated"
            | "nullable"
            | "discriminator"
    ) || k.starts_with("x-")
}
