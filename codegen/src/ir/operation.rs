//! One operation of the spec → [`OperationIr`]: names, the flat parameter namespace (declared
//! parameters, body fields, GraphQL variables), typed parameters, body encoding and output type.
//! [`build_operation`] runs these steps in order.

use std::collections::BTreeSet;

use airbyte_agent_core::{ActionKind, Method, ParamLocation, ParamStyle, ValueKind};
use serde_json::Value;

use super::json_schema::{inline_schema, json_text, value_kind};
use super::model::{BodyIr, OperationIr, OutputIr, ParamIr};
use super::naming::{Namer, pascal_base, safe_snake, snake_base};
use super::pagination;
use super::records::{meta_type, record_type};
use super::types::{RustType, TypeBuilder};
use crate::spec::{Node, Operation as SpecOp, Parameter, Spec, SpecError, Warning};

/// Methods every request builder has; parameters must not shadow them.
const REQUEST_METHODS: &[&str] = &[
    "send",
    "body_field",
    "pages",
    "into_future",
    "new",
    "client",
    "params",
    "set",
    "clone",
    "fmt",
];

/// A parameter before typing: where it goes and the schema it is typed from.
struct RawParam<'a> {
    name: String,
    location: ParamLocation,
    required: bool,
    schema: Option<Node<'a>>,
    description: String,
    style: ParamStyle,
    config_inject: Option<(String, Vec<(String, String)>)>,
}

/// Build one operation of entity type `entity_type`.
pub(super) fn build_operation<'a>(
    op: &SpecOp<'a>,
    entity_type: &str,
    action_namer: &mut Namer,
    tb: &mut TypeBuilder<'a>,
    spec: &Spec<'a>,
    warnings: &mut Vec<Warning>,
) -> Result<OperationIr, SpecError> {
    let kind = action_kind(&op.action).unwrap_or_else(|| {
        warnings.push(
            op.node
                .warn(format!("unknown action `{}` treated like `get`", op.action)),
        );
        ActionKind::Other
    });
    let action_pascal = pascal_base(&op.action);
    let rust_name = action_namer.unique(&safe_snake(&snake_base(&op.action)));
    let request_type = tb
        .namer
        .unique(&format!("{entity_type}{action_pascal}Request"));

    // The flat namespace: declared params, then body fields, then undeclared GraphQL variables.
    let mut raw = declared_params(op, warnings);
    let body = match &op.request_body {
        Some(rb) => {
            let mut body = body_encoding(op, rb, warnings);
            if let Some((_, Some(schema))) = rb.content.first() {
                body_fields(schema, &mut body, tb, &mut raw, warnings)?;
            }
            graphql_variables(&body, &mut raw);
            body
        }
        None => BodyIr::None,
    };

    let mut pnamer = Namer::with_reserved(REQUEST_METHODS);
    let mut params = Vec::new();
    for r in raw {
        let hint = format!("{entity_type}{action_pascal}{}", pascal_base(&r.name));
        params.push(typed_param(r, &hint, &body, tb, &mut pnamer)?);
    }

    let output = output_of(op, kind, entity_type, &action_pascal, tb, spec)?;
    let pagination = pagination::classify(op, kind, &params, tb);
    Ok(OperationIr {
        entity: op.entity.clone(),
        action: op.action.clone(),
        kind,
        method: method_of(&op.method),
        path: op
            .path_override
            .clone()
            .unwrap_or_else(|| op.path_key.clone()),
        summary: op.summary.clone(),
        description: op.description.clone(),
        params,
        body,
        record_extractor: op.record_extractor.clone(),
        meta_extractor: op.meta_extractor.clone(),
        record_filter: op.record_filter.clone(),
        record_transform: op.record_transform.clone(),
        file_url: op.file_url.clone(),
        no_content: op.no_content,
        pagination,
        preferred_for_check: op.preferred_for_check,
        rust_name,
        request_type,
        output,
    })
}

/// The path, query and header parameters (other locations are warned about and dropped).
fn declared_params<'a>(op: &SpecOp<'a>, warnings: &mut Vec<Warning>) -> Vec<RawParam<'a>> {
    let mut raw = Vec::new();
    for p in &op.parameters {
        let location = match p.location.as_str() {
            "path" => ParamLocation::Path,
            "query" => ParamLocation::Query,
            "header" => ParamLocation::Header,
            other => {
                warnings.push(Warning {
                    path: p.path.clone(),
                    message: format!("parameter in `{other}` ignored"),
                });
                continue;
            }
        };
        push_raw(&mut raw, p_raw(p, location), warnings, &p.path);
    }
    raw
}

/// How the request body is encoded: GraphQL, else by the first content type.
fn body_encoding(
    op: &SpecOp<'_>,
    rb: &crate::spec::RequestBody<'_>,
    warnings: &mut Vec<Warning>,
) -> BodyIr {
    if let Some(g) = &rb.graphql {
        return BodyIr::GraphQl {
            query: g.query.clone(),
            variables: g.variables.as_ref().map(json_text),
            default_fields: g.default_fields.as_ref().map(json_text),
            operation_name: g.operation_name.clone(),
            nullable_variables: g.nullable_variables.clone(),
        };
    }
    match rb.content.first().map(|(ct, _)| ct.to_ascii_lowercase()) {
        None => BodyIr::Json,
        Some(ct) if ct.contains("json") => BodyIr::Json,
        Some(ct) if ct.contains("x-www-form-urlencoded") => BodyIr::Form,
        Some(ct) if ct.contains("multipart/related") => BodyIr::MultipartRelated(
            op.upload_file_param
                .clone()
                .unwrap_or_else(|| "file_content".to_string()),
        ),
        Some(ct) if ct.contains("multipart/form-data") => BodyIr::MultipartForm,
        Some(ct) => {
            warnings.push(
                op.node
                    .warn(format!("request content type `{ct}` sent as JSON")),
            );
            BodyIr::Json
        }
    }
}

/// The body schema's top-level properties as `Body` params; an array of objects makes the body a
/// [`BodyIr::JsonArray`], an open object schema adds the `*` param.
fn body_fields<'a>(
    schema: &Node<'a>,
    body: &mut BodyIr,
    tb: &TypeBuilder<'a>,
    raw: &mut Vec<RawParam<'a>>,
    warnings: &mut Vec<Warning>,
) -> Result<(), SpecError> {
    let mut eff = tb.effective(schema)?;
    let array_items = if matches!(body, BodyIr::Json)
        && TypeBuilder::types_of(&eff).iter().any(|t| t == "array")
    {
        eff.get("items")
    } else {
        None
    };
    if let Some(items) = array_items {
        let items = tb.effective(&items)?;
        if items.get("properties").is_some() {
            // One-element array of the item object (e.g. association labels).
            *body = BodyIr::JsonArray;
            eff = items;
        }
    }
    let required: BTreeSet<String> = eff
        .get("required")
        .map(|r| r.str_list())
        .transpose()?
        .unwrap_or_default()
        .into_iter()
        .collect();
    match eff.get("properties") {
        Some(props) => {
            for (name, prop) in props.entries()? {
                let rp = RawParam {
                    name: name.to_string(),
                    location: ParamLocation::Body,
                    // Array-item fields are neither required nor enum-checked by the
                    // reference runtime (it omits the body when none is given).
                    required: required.contains(name) && !matches!(body, BodyIr::JsonArray),
                    description: prop
                        .text_of("description")
                        .ok()
                        .flatten()
                        .unwrap_or_default(),
                    schema: Some(prop.clone()),
                    style: ParamStyle::Form,
                    config_inject: None,
                };
                push_raw(raw, rp, warnings, &prop.path);
            }
        }
        None => {
            let open = matches!(body, BodyIr::Json | BodyIr::Form)
                && !TypeBuilder::types_of(&eff).iter().any(|t| t != "object")
                && eff.value.get("additionalProperties") != Some(&Value::Bool(false));
            if open {
                // Open schema: the runtime accepts undeclared params as body fields.
                raw.push(RawParam {
                    name: "*".into(),
                    location: ParamLocation::Body,
                    required: false,
                    schema: None,
                    description: "Any field: the body schema is open (additionalProperties)."
                        .into(),
                    style: ParamStyle::Form,
                    config_inject: None,
                });
            } else {
                warnings.push(eff.warn(body_shape_warning(&eff)));
            }
        }
    }
    Ok(())
}

/// GraphQL variables the query or variables template names but no parameter declares.
fn graphql_variables(body: &BodyIr, raw: &mut Vec<RawParam<'_>>) {
    let BodyIr::GraphQl {
        query, variables, ..
    } = body
    else {
        return;
    };
    let mut names = Vec::new();
    if let Some(v) = variables {
        placeholders(v, &mut names);
    }
    if query.contains("{{") {
        placeholders(query, &mut names);
    }
    for n in names {
        if !raw.iter().any(|r| r.name == n) {
            raw.push(RawParam {
                name: n,
                location: ParamLocation::Body,
                required: false,
                schema: None,
                description: "GraphQL variable (not declared by the spec).".into(),
                style: ParamStyle::Form,
                config_inject: None,
            });
        }
    }
}

/// What the descriptor records about a parameter's schema, plus its Rust type.
struct ParamSchema {
    kind: ValueKind,
    nullable: bool,
    item_kind: Option<ValueKind>,
    enum_values: Vec<String>,
    default: Option<String>,
    schema: String,
    ty: RustType,
}

impl ParamSchema {
    /// A parameter without schema (GraphQL variables, the open-body `*`): anything.
    fn untyped() -> Self {
        ParamSchema {
            kind: ValueKind::Any,
            nullable: true,
            item_kind: None,
            enum_values: Vec::new(),
            default: None,
            schema: "{}".to_string(),
            ty: RustType::Value,
        }
    }

    fn of<'a>(s: &Node<'a>, hint: &str, tb: &mut TypeBuilder<'a>) -> Result<Self, SpecError> {
        let (kind, nullable) = value_kind(tb, s);
        let eff = tb.effective(s)?;
        let item_kind = match (kind, eff.get("items")) {
            (ValueKind::Array, Some(items)) => Some(value_kind(tb, &items).0),
            (ValueKind::Array, None) => Some(ValueKind::Any),
            _ => None,
        };
        let enum_src = eff.get("enum").or_else(|| {
            eff.get("items")
                .and_then(|i| tb.effective(&i).ok()?.get("enum"))
        });
        let enum_values = enum_src
            .and_then(|e| e.value.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter(|v| !v.is_null())
            .map(json_text)
            .collect();
        let default = s
            .get("default")
            .or_else(|| eff.get("default"))
            .map(|d| json_text(d.value));
        Ok(ParamSchema {
            kind,
            nullable,
            item_kind,
            enum_values,
            default,
            schema: json_text(&inline_schema(tb, s, 0)),
            ty: tb.ty(s, hint, true)?,
        })
    }
}

/// A typed parameter (`hint` names its generated type, when it needs one).
fn typed_param<'a>(
    r: RawParam<'a>,
    hint: &str,
    body: &BodyIr,
    tb: &mut TypeBuilder<'a>,
    namer: &mut Namer,
) -> Result<ParamIr, SpecError> {
    let mut s = match &r.schema {
        Some(node) => ParamSchema::of(node, hint, tb)?,
        None => ParamSchema::untyped(),
    };
    // The reference does not validate array-item body fields: keep them unchecked.
    if r.location == ParamLocation::Body && matches!(body, BodyIr::JsonArray) {
        s.kind = ValueKind::Any;
        s.item_kind = None;
        s.enum_values = Vec::new();
    }
    // Every required parameter is a constructor argument, whatever its location (GitHub's
    // GraphQL `owner`/`repo` are query parameters feeding variables). The one exception is a
    // header with a default: the runtime always sends it. Scoped and config-injected
    // parameters are arguments too: a typed client has no connector config to fill them from.
    let is_arg = r.required && !(r.location == ParamLocation::Header && s.default.is_some());
    Ok(ParamIr {
        rust_name: namer.unique(&safe_snake(&snake_base(&r.name))),
        name: r.name,
        location: r.location,
        required: r.required,
        is_arg,
        kind: s.kind,
        item_kind: s.item_kind,
        nullable: s.nullable,
        enum_values: s.enum_values,
        default: s.default,
        style: r.style,
        description: r.description,
        schema: s.schema,
        config_inject: r.config_inject,
        ty: s.ty,
    })
}

/// The typed result: bytes for downloads, a page for list-like actions, else one record.
fn output_of<'a>(
    op: &SpecOp<'a>,
    kind: ActionKind,
    entity_type: &str,
    action_pascal: &str,
    tb: &mut TypeBuilder<'a>,
    spec: &Spec<'a>,
) -> Result<OutputIr, SpecError> {
    if kind == ActionKind::Download {
        return Ok(OutputIr::Bytes);
    }
    if kind.returns_many() && answers_one_object(op, tb)? {
        // A list or search whose spec names no record extractor and whose response is one
        // object (Stripe's `search_result`): the call returns that body, as the reference does,
        // so the typed result is the body's own type rather than a page of one record.
        let hint = format!("{entity_type}{action_pascal}Result");
        return Ok(OutputIr::Record(record_type(
            op,
            ActionKind::Get,
            &hint,
            tb,
            spec,
        )?));
    }
    let record = record_type(op, kind, &format!("{entity_type}Record"), tb, spec)?;
    Ok(if kind.returns_many() {
        let meta = meta_type(op, &format!("{entity_type}{action_pascal}Meta"), tb)?;
        OutputIr::Page(record, meta)
    } else {
        OutputIr::Record(record)
    })
}

/// Whether a list-like operation's whole response is one object that the runtime returns as is:
/// no record extractor, transform or meta extractor, and a response schema that is an object.
fn answers_one_object(op: &SpecOp<'_>, tb: &mut TypeBuilder<'_>) -> Result<bool, SpecError> {
    if op.record_extractor.is_some()
        || !op.record_transform.is_empty()
        || !op.meta_extractor.is_empty()
    {
        return Ok(false);
    }
    let Some(schema) = &op.response_schema else {
        return Ok(false);
    };
    let types = TypeBuilder::types_of(&tb.effective(schema)?);
    Ok(types.iter().any(|t| t == "object") && !types.iter().any(|t| t == "array"))
}

fn action_kind(action: &str) -> Option<ActionKind> {
    Some(match action {
        "list" => ActionKind::List,
        "get" => ActionKind::Get,
        "create" => ActionKind::Create,
        "update" => ActionKind::Update,
        "delete" => ActionKind::Delete,
        "api_search" | "search" => ActionKind::Search,
        "download" => ActionKind::Download,
        _ => return None,
    })
}

fn method_of(m: &str) -> Method {
    match m {
        "post" => Method::Post,
        "put" => Method::Put,
        "patch" => Method::Patch,
        "delete" => Method::Delete,
        "head" => Method::Head,
        "options" => Method::Options,
        _ => Method::Get,
    }
}

fn body_shape_warning(schema: &Node<'_>) -> String {
    let types = TypeBuilder::types_of(schema);
    if types.iter().any(|t| t == "array") {
        "array request body: its item fields cannot be expressed as flat body params (descriptor has no \
         array-body encoding); no typed body fields"
            .to_string()
    } else if schema.get("additionalProperties").is_some() {
        "open request body (additionalProperties only): arbitrary fields cannot be declared in the \
         descriptor; no typed body fields"
            .to_string()
    } else {
        "request body schema has no properties; no typed body fields".to_string()
    }
}

fn p_raw<'a>(p: &Parameter<'a>, location: ParamLocation) -> RawParam<'a> {
    RawParam {
        name: p.name.clone(),
        location,
        required: p.required,
        schema: p.schema.clone(),
        description: p.description.clone(),
        style: if p.style.as_deref() == Some("deepObject") {
            ParamStyle::DeepObject
        } else {
            ParamStyle::Form
        },
        config_inject: p.config_inject.clone(),
    }
}

fn push_raw<'a>(
    raw: &mut Vec<RawParam<'a>>,
    p: RawParam<'a>,
    warnings: &mut Vec<Warning>,
    path: &str,
) {
    if raw.iter().any(|r| r.name == p.name) {
        warnings.push(Warning {
            path: path.to_string(),
            message: format!(
                "parameter `{}` declared twice in the flat namespace; keeping the first",
                p.name
            ),
        });
        return;
    }
    raw.push(p);
}

/// `{{ name }}` placeholders in a text (identifiers only).
fn placeholders(text: &str, out: &mut Vec<String>) {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && name != "fields"
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_string());
        }
        rest = &after[end + 2..];
    }
}
