//! Output types of operations: the record type (from the response schema, the extractor and the
//! entity-linked component) and the page meta type.

use std::collections::BTreeSet;

use airbyte_agent_core::ActionKind;
use serde_json::Value;

use super::graphql;
use super::model::{OperationIr, OutputIr};
use super::naming::{Namer, pascal_base, safe_snake, snake_base};
use super::types::{self, RustType, TypeBuilder, TypeGraph, TypeId};
use crate::spec::{Node, Operation as SpecOp, Spec, SpecError};

/// The component schema linked to `entity` (`x-airbyte-entity-name`, else the same name).
pub(super) fn linked_schema<'a>(spec: &Spec<'a>, entity: &str) -> Option<Node<'a>> {
    let has_props = |n: &Node<'_>| {
        n.get("properties")
            .is_some_and(|p| p.value.as_object().is_some_and(|o| !o.is_empty()))
    };
    spec.schemas
        .iter()
        .find(|(_, n)| {
            n.value.get("x-airbyte-entity-name").and_then(Value::as_str) == Some(entity)
                && has_props(n)
        })
        .or_else(|| {
            spec.schemas
                .iter()
                .find(|(k, n)| k.eq_ignore_ascii_case(entity) && has_props(n))
        })
        .map(|(_, n)| n.clone())
}

/// What an entity is, in one text: the linked component's `description`, else its
/// `x-airbyte-ai-hints.summary`, else the description of the record type its operations return,
/// else a sentence naming it (never an action's summary: the entity is more than its first
/// action).
pub(super) fn entity_description(
    spec: &Spec<'_>,
    entity: &str,
    operations: &[OperationIr],
    graph: &TypeGraph,
) -> String {
    let linked = linked_schema(spec, entity);
    let text =
        |n: Option<Node<'_>>| n.and_then(|n| n.value.as_str().map(str::trim).map(String::from));
    linked
        .as_ref()
        .and_then(|n| text(n.get("description")))
        .or_else(|| {
            linked
                .as_ref()
                .and_then(|n| text(n.get("x-airbyte-ai-hints")?.get("summary")))
        })
        .or_else(|| {
            operations.iter().find_map(|o| {
                let id = match &o.output {
                    OutputIr::Record(RustType::Named(id))
                    | OutputIr::Page(RustType::Named(id), _) => *id,
                    _ => return None,
                };
                let doc = graph.types.get(id)?.doc.trim();
                (!doc.is_empty()).then(|| doc.to_string())
            })
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("Records of the `{entity}` entity."))
}

/// The record type of an operation returning records.
pub(super) fn record_type<'a>(
    op: &SpecOp<'a>,
    kind: ActionKind,
    hint: &str,
    tb: &mut TypeBuilder<'a>,
    spec: &Spec<'a>,
) -> Result<RustType, SpecError> {
    if !op.record_transform.is_empty() {
        return Ok(RustType::Object);
    }
    let mut target = match &op.response_schema {
        Some(schema) => match &op.record_extractor {
            Some(path) => tb.at_path(schema, path)?,
            None => Some(tb.effective(schema)?),
        },
        None => None,
    };
    // A list's records are the array's items; any other action answering an array (Notion's
    // `blocks.create` returns the appended blocks) yields a `Vec` of them.
    let mut one_list = false;
    if let Some(t) = &target
        && TypeBuilder::types_of(t).iter().any(|t| t == "array")
    {
        one_list = !kind.returns_many();
        target = t.get("items");
    }
    let mut ty = match &target {
        Some(t) => tb.ty(t, hint, true)?,
        None => RustType::Value,
    };
    if matches!(ty, RustType::Value | RustType::Object)
        && let Some(fields) = graphql_selection(op)
    {
        let doc = "Fields of the operation's default GraphQL selection. The spec gives no type \
                   for its leaves, so they are JSON values; with a `fields` argument, read the \
                   records through `execute` instead."
            .to_string();
        ty = selection_type(tb, &fields, hint, doc);
    }
    if matches!(ty, RustType::Value | RustType::Object)
        && let Some(linked) = linked_schema(spec, &op.entity)
    {
        // Prefer the entity-linked component when the response schema is untyped.
        let name = spec
            .schemas
            .iter()
            .find(|(_, n)| n.path == linked.path)
            .map(|(k, _)| k.clone());
        if let Some(name) = name {
            ty = tb.component_named(&linked, &name)?;
        }
    }
    if one_list {
        return Ok(RustType::Vec(Box::new(ty)));
    }
    Ok(match ty {
        RustType::String
        | RustType::I64
        | RustType::F64
        | RustType::Bool
        | RustType::Vec(_)
        | RustType::Map(_) => RustType::Object,
        t => t,
    })
}

/// The record fields a GraphQL operation selects by default (see [`graphql`](super::graphql)).
fn graphql_selection(op: &SpecOp<'_>) -> Option<Vec<graphql::Selected>> {
    let g = op.request_body.as_ref()?.graphql.as_ref()?;
    let defaults = g.default_fields.as_ref()?.as_str()?;
    graphql::record_selection(&g.query, defaults, op.record_extractor.as_deref()?)
}

/// A struct per selection: leaves are JSON values, connections' `nodes`/`edges` lists, other
/// sub-selections nested structs (or JSON values when a plural name leaves the shape open).
fn selection_type(
    tb: &mut TypeBuilder<'_>,
    fields: &[graphql::Selected],
    hint: &str,
    doc: String,
) -> RustType {
    tb.shaped_struct(format!("graphql:{fields:?}"), hint, doc, |tb| {
        let mut namer = Namer::default();
        fields
            .iter()
            .map(|f| {
                let nested = format!("{hint}{}", pascal_base(&f.key));
                let ty = match &f.children {
                    None => RustType::Value,
                    Some(_) if graphql::cardinality_unknown(f) => RustType::Value,
                    Some(c) if graphql::is_list(f) => RustType::Vec(Box::new(selection_type(
                        tb,
                        c,
                        &format!("{nested}Item"),
                        String::new(),
                    ))),
                    Some(c) => selection_type(tb, c, &nested, String::new()),
                };
                types::Field {
                    name: namer.unique(&safe_snake(&snake_base(&f.key))),
                    wire: f.key.clone(),
                    ty,
                    doc: String::new(),
                }
            })
            .collect()
    })
}

/// The meta struct of a list operation: one field per meta extractor.
pub(super) fn meta_type<'a>(
    op: &SpecOp<'a>,
    name: &str,
    tb: &mut TypeBuilder<'a>,
) -> Result<TypeId, SpecError> {
    let doc = format!(
        "Metadata returned by `{}.{}` next to the records.",
        op.entity, op.action
    );
    let id = {
        let n = tb.namer.unique(name);
        tb.graph.types.push(types::TypeDef {
            name: n,
            doc,
            kind: types::TypeKind::Struct(Vec::new()),
            users: BTreeSet::new(),
        });
        tb.graph.types.len() - 1
    };
    let mut fields = Vec::new();
    let mut namer = Namer::default();
    let owner = tb.graph.types[id].name.clone();
    for (meta, expr) in &op.meta_extractor {
        let ty = if expr.starts_with("@link.") || expr.starts_with("@header.") {
            RustType::String
        } else {
            match &op.response_schema {
                Some(schema) => match tb.at_path(schema, expr)? {
                    Some(t) => tb.ty(&t, &format!("{owner}{}", pascal_base(meta)), true)?,
                    None => RustType::Value,
                },
                None => RustType::Value,
            }
        };
        fields.push(types::Field {
            name: namer.unique(&safe_snake(&snake_base(meta))),
            wire: meta.clone(),
            ty,
            doc: format!("`{expr}`"),
        });
    }
    tb.graph.types[id].kind = types::TypeKind::Struct(fields);
    Ok(id)
}
