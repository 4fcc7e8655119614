//! The validated intermediate representation of a connector: everything the descriptor and the
//! emitter need, with all naming decisions already made.

pub mod naming;
mod pagination;
pub mod types;

use std::collections::{BTreeMap, BTreeSet};

use airbyte_agent_runtime::{
    ActionKind, Method, ParamLocation, ParamStyle, TokenBodyFormat, TokenClientAuth, TokenGrant,
    ValueKind,
};
use serde_json::Value;

use self::naming::{
    Namer, connector_pascal, pascal_base, safe_snake, shouty, snake_base, title_suffix,
};
pub use self::pagination::PaginationIr;
use self::types::{RESERVED_TYPE_NAMES, RustType, TypeBuilder, TypeGraph, TypeId};
use crate::spec::{Node, Operation as SpecOp, Parameter, Spec, SpecError, Warning};

/// A whole connector.
#[derive(Debug, Clone)]
pub struct Connector {
    /// Connector slug (`zendesk-support`).
    pub name: String,
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: String,
    /// Definition id.
    pub definition_id: String,
    /// Hex sha256 of the spec file.
    pub spec_sha256: String,
    /// PascalCase connector name (`ZendeskSupport`).
    pub pascal: String,
    /// snake_case connector name (`zendesk_support`).
    pub snake: String,
    /// Base URL template.
    pub base_url: String,
    /// Server variables.
    pub server_variables: Vec<ServerVariable>,
    /// Auth options in `components.securitySchemes` order.
    pub auth: Vec<AuthOption>,
    /// Rust name of the auth config type the connector takes (struct or enum).
    pub auth_type: String,
    /// `x-airbyte-scoping`: (param, config key).
    pub scoping: Vec<(String, String)>,
    /// `x-airbyte-response-error-check`: (field, on_value JSON, message field).
    pub response_error_check: Option<(String, String, Option<String>)>,
    /// Entities in first-appearance order.
    pub entities: Vec<Entity>,
    /// Generated record/param/meta types.
    pub types: TypeGraph,
    /// `x-airbyte-replication-config`: typed settings for creating a hosted connector.
    pub replication: Option<ReplicationIr>,
}

/// The typed replication settings of a connector (`<Pascal>ReplicationConfig`).
#[derive(Debug, Clone)]
pub struct ReplicationIr {
    /// Rust struct name.
    pub type_name: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Fields in declaration order.
    pub fields: Vec<ReplicationFieldIr>,
}

/// Rust type of a replication setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplicationType {
    /// `string` (any format).
    String,
    /// `integer`.
    Integer,
    /// `number`.
    Number,
    /// `boolean`.
    Boolean,
    /// `array` of strings.
    StringList,
    /// Anything else, as JSON.
    Json,
}

/// One replication setting.
#[derive(Debug, Clone)]
pub struct ReplicationFieldIr {
    /// Wire name.
    pub name: String,
    /// Rust identifier.
    pub rust_name: String,
    /// Rust type.
    pub ty: ReplicationType,
    /// Required (a constructor argument).
    pub required: bool,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// `format`.
    pub format: Option<String>,
    /// `default`, as JSON text.
    pub default: Option<String>,
    /// Allowed values.
    pub enum_values: Vec<String>,
}

/// A server URL variable.
#[derive(Debug, Clone)]
pub struct ServerVariable {
    /// Placeholder name.
    pub name: String,
    /// Rust identifier for the argument/setter.
    pub rust_name: String,
    /// Default.
    pub default: Option<String>,
    /// Enum values.
    pub enum_values: Vec<String>,
    /// Description.
    pub description: String,
    /// No usable default (missing or a placeholder such as `your-subdomain`): a required argument.
    pub required: bool,
}

/// How an auth option reaches the wire.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthKindIr {
    /// Bearer.
    Bearer,
    /// Basic.
    Basic,
    /// API key header.
    ApiKeyHeader(String),
    /// API key query parameter.
    ApiKeyQuery(String),
    /// OAuth2.
    OAuth2 {
        /// Refresh URL.
        refresh_url: Option<String>,
        /// Authorization URL.
        authorization_url: Option<String>,
        /// Token URL.
        token_url: Option<String>,
        /// Client auth style.
        client_auth: TokenClientAuth,
        /// Body format.
        body_format: TokenBodyFormat,
        /// Token-extract fields.
        token_extract: Vec<String>,
        /// Custom token header and prefix (`x-airbyte-token-refresh.header/prefix`).
        token_header: Option<(String, String)>,
        /// Grant used to obtain new access tokens.
        grant: TokenGrant,
        /// Scopes of the flow.
        scopes: Vec<String>,
    },
}

/// A credential field.
#[derive(Debug, Clone)]
pub struct AuthFieldIr {
    /// Wire name.
    pub name: String,
    /// Rust identifier.
    pub rust_name: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Required.
    pub required: bool,
}

/// An auth option.
#[derive(Debug, Clone)]
pub struct AuthOption {
    /// Security scheme key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Rust struct name (`StripeAuthConfig`, `GongOauth20AuthenticationAuthConfig`).
    pub type_name: String,
    /// Variant name in the auth enum (`Oauth20Authentication`) when several options exist.
    pub variant: String,
    /// Wire kind.
    pub kind: AuthKindIr,
    /// Fields.
    pub fields: Vec<AuthFieldIr>,
    /// Auth mapping.
    pub mapping: Vec<(String, String)>,
    /// Additional headers.
    pub additional_headers: Vec<(String, String)>,
}

/// An entity.
#[derive(Debug, Clone)]
pub struct Entity {
    /// Name as in the spec.
    pub name: String,
    /// Description (from linked schema or first operation).
    pub description: String,
    /// Module / method identifier (`customers`).
    pub rust_name: String,
    /// Handle type name (`Customers`).
    pub type_name: String,
    /// Cargo feature name.
    pub feature: String,
    /// SHOUTY name of the operations static (`CUSTOMERS`).
    pub static_name: String,
    /// Operations, one per action.
    pub operations: Vec<OperationIr>,
}

/// Request body encoding.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BodyIr {
    /// None.
    None,
    /// JSON.
    Json,
    /// A JSON array holding one object built from the body params.
    JsonArray,
    /// Form.
    Form,
    /// multipart/related.
    MultipartRelated(String),
    /// multipart/form-data.
    MultipartForm,
    /// GraphQL.
    GraphQl {
        /// Query text.
        query: String,
        /// Variables JSON text.
        variables: Option<String>,
        /// Default fields JSON text.
        default_fields: Option<String>,
        /// operationName.
        operation_name: Option<String>,
        /// Nullable variables.
        nullable_variables: Vec<String>,
    },
}

/// A parameter.
#[derive(Debug, Clone)]
pub struct ParamIr {
    /// Wire name.
    pub name: String,
    /// Rust identifier for the setter / argument.
    pub rust_name: String,
    /// Location.
    pub location: ParamLocation,
    /// Required by the spec.
    pub required: bool,
    /// A required argument of the typed API (required, no header default, not config-filled).
    pub is_arg: bool,
    /// JSON kind.
    pub kind: ValueKind,
    /// Item kind for arrays.
    pub item_kind: Option<ValueKind>,
    /// Nullable.
    pub nullable: bool,
    /// Enum values (JSON texts).
    pub enum_values: Vec<String>,
    /// Default (JSON text).
    pub default: Option<String>,
    /// Style.
    pub style: ParamStyle,
    /// Description.
    pub description: String,
    /// Schema JSON text with `$ref`s inlined.
    pub schema: String,
    /// Config inject: (source, map).
    pub config_inject: Option<(String, Vec<(String, String)>)>,
    /// Rust type of the typed setter.
    pub ty: RustType,
}

/// What a typed call returns.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum OutputIr {
    /// One record.
    Record(RustType),
    /// A page of records and a meta struct.
    Page(RustType, TypeId),
    /// A byte stream.
    Bytes,
}

/// An operation.
#[derive(Debug, Clone)]
pub struct OperationIr {
    /// Entity name.
    pub entity: String,
    /// Action as in the spec.
    pub action: String,
    /// Classified action.
    pub kind: ActionKind,
    /// Method.
    pub method: Method,
    /// Real path.
    pub path: String,
    /// Summary.
    pub summary: String,
    /// Description.
    pub description: String,
    /// Params (flat namespace).
    pub params: Vec<ParamIr>,
    /// Body.
    pub body: BodyIr,
    /// Record extractor.
    pub record_extractor: Option<String>,
    /// Meta extractor.
    pub meta_extractor: Vec<(String, String)>,
    /// Record filter.
    pub record_filter: Option<String>,
    /// Record transform.
    pub record_transform: Vec<(String, String)>,
    /// File URL.
    pub file_url: Option<String>,
    /// No content.
    pub no_content: bool,
    /// Pagination.
    pub pagination: PaginationIr,
    /// Preferred for check.
    pub preferred_for_check: bool,
    /// Method name on the entity handle (`list`, `api_search`).
    pub rust_name: String,
    /// Request builder type name (`CustomersListRequest`).
    pub request_type: String,
    /// Output.
    pub output: OutputIr,
}

/// Result of loading a spec: the IR and the tolerated oddities.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The IR.
    pub ir: Connector,
    /// Warnings (unknown extensions, tolerated defects).
    pub warnings: Vec<Warning>,
}

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

/// Build the IR from a parsed document.
pub fn build(doc: &crate::spec::Document) -> Result<Loaded, SpecError> {
    let spec = Spec::from_root(&doc.root)?;
    let mut warnings = spec.warnings.clone();
    let info = &spec.info;
    let pascal = connector_pascal(&info.connector_name);
    if pascal.is_empty() {
        return Err(SpecError {
            file: Default::default(),
            path: "info.x-airbyte-connector-name".into(),
            message: format!(
                "connector name `{}` yields no identifier",
                info.connector_name
            ),
        });
    }
    let snake = snake_base(&info.connector_name);

    // Type namespace: handles, requests, auth and connector types are reserved up front.
    let mut reserved: Vec<String> = RESERVED_TYPE_NAMES.iter().map(|s| s.to_string()).collect();
    reserved.push(format!("{pascal}Connector"));
    reserved.push(format!("{pascal}ConnectorBuilder"));
    let mut type_namer =
        Namer::with_reserved(&reserved.iter().map(String::as_str).collect::<Vec<_>>());

    // Server.
    let (base_url, server_variables) = match &spec.server {
        Some(s) => {
            let mut namer = Namer::with_reserved(&[
                "base_url",
                "timeout",
                "connect_timeout",
                "retry_policy",
                "build",
                "on_token_refresh",
                "refresh_url",
                "max_pages",
                "auth",
                "inner",
            ]);
            let vars = s
                .variables
                .iter()
                .map(|v| ServerVariable {
                    name: v.name.clone(),
                    rust_name: namer.unique(&safe_snake(&snake_base(&v.name))),
                    default: v.default.clone(),
                    enum_values: v.enum_values.clone(),
                    description: v.description.clone(),
                    required: is_placeholder(v.default.as_deref()),
                })
                .collect();
            (s.url.clone(), vars)
        }
        None => {
            warnings.push(Warning {
                path: "servers".into(),
                message: "no server declared; base URL must be set".into(),
            });
            (String::new(), Vec::new())
        }
    };

    // Auth.
    let auth = build_auth(&spec, &pascal, &mut type_namer, &mut warnings)?;
    let auth_type = if auth.len() == 1 {
        auth[0].type_name.clone()
    } else {
        type_namer.unique(&format!("{pascal}AuthConfig"))
    };
    let replication = info
        .replication_config
        .as_ref()
        .map(|r| build_replication(r, &type_namer.unique(&format!("{pascal}ReplicationConfig"))));

    // Group operations by entity; duplicate (entity, action) → last wins.
    let mut order: Vec<String> = Vec::new();
    let mut by_entity: BTreeMap<String, Vec<SpecOp<'_>>> = BTreeMap::new();
    for op in &spec.operations {
        let list = by_entity.entry(op.entity.clone()).or_insert_with(|| {
            order.push(op.entity.clone());
            Vec::new()
        });
        if let Some(pos) = list.iter().position(|o| o.action == op.action) {
            warnings.push(op.node.warn(format!(
                "duplicate operation for entity `{}` action `{}` (also at `{}`); keeping the last one",
                op.entity, op.action, list[pos].node.path
            )));
            list[pos] = op.clone();
        } else {
            list.push(op.clone());
        }
    }

    let mut entity_namer = Namer::with_reserved(&[
        "new",
        "builder",
        "hosted",
        "create_hosted",
        "from_client",
        "check",
        "execute",
        "client",
        "descriptor",
        "operations",
        "meta",
        "auth",
        "types",
        "entities",
        "clone",
        "fmt",
    ]);
    let mut feature_namer = Namer::with_reserved(&["default", "full"]);
    let mut static_namer = Namer::with_reserved(&["CONNECTOR"]);
    let mut entity_shells = Vec::new();
    for name in &order {
        let rust_name = entity_namer.unique(&safe_snake(&snake_base(name)));
        let type_name = type_namer.unique(&pascal_base(name));
        let feature = feature_namer.unique(&snake_base(name));
        let static_name = static_namer.unique(&shouty(name));
        entity_shells.push((name.clone(), rust_name, type_name, feature, static_name));
    }

    let mut tb = TypeBuilder::new(&spec.schemas, type_namer);
    let mut entities = Vec::new();
    for (name, rust_name, type_name, feature, static_name) in entity_shells {
        let ops = by_entity.remove(&name).unwrap_or_default();
        let mut action_namer = Namer::with_reserved(&["new", "client", "clone", "fmt"]);
        let mut operations = Vec::new();
        let mut roots = Vec::new();
        for op in &ops {
            let o = build_operation(
                op,
                &type_name,
                &mut action_namer,
                &mut tb,
                &spec,
                &mut warnings,
            )?;
            for p in &o.params {
                roots.push(p.ty.clone());
            }
            match &o.output {
                OutputIr::Record(t) => roots.push(t.clone()),
                OutputIr::Page(t, m) => {
                    roots.push(t.clone());
                    roots.push(RustType::Named(*m));
                }
                OutputIr::Bytes => {}
            }
            operations.push(o);
        }
        tb.mark_users(&name, &roots);
        let description = linked_schema(&spec, &name)
            .and_then(|n| n.text_of("description").ok().flatten())
            .or_else(|| ops.first().map(|o| o.summary.clone()))
            .unwrap_or_default();
        entities.push(Entity {
            name,
            description,
            rust_name,
            type_name,
            feature,
            static_name,
            operations,
        });
    }
    warnings.append(&mut tb.warnings);

    let connector = Connector {
        name: info.connector_name.clone(),
        title: info.title.clone(),
        version: info.version.clone(),
        description: info.description.clone(),
        definition_id: info.definition_id.clone(),
        spec_sha256: doc.sha256.clone(),
        pascal,
        snake,
        base_url,
        server_variables,
        auth,
        auth_type,
        scoping: info.scoping.clone(),
        response_error_check: info.response_error_check.clone(),
        entities,
        types: tb.graph,
        replication,
    };
    Ok(Loaded {
        ir: connector,
        warnings,
    })
}

fn build_replication(view: &crate::spec::ReplicationConfigView, type_name: &str) -> ReplicationIr {
    let mut namer = Namer::with_reserved(&["new", "into_map", "clone", "fmt"]);
    let fields = view
        .properties
        .iter()
        .map(|p| ReplicationFieldIr {
            name: p.name.clone(),
            rust_name: namer.unique(&safe_snake(&snake_base(&p.name))),
            ty: match (p.kind.as_str(), p.item_kind.as_deref()) {
                ("string", _) => ReplicationType::String,
                ("integer", _) => ReplicationType::Integer,
                ("number", _) => ReplicationType::Number,
                ("boolean", _) => ReplicationType::Boolean,
                ("array", Some("string") | None) => ReplicationType::StringList,
                _ => ReplicationType::Json,
            },
            required: view.required.contains(&p.name),
            title: p.title.clone(),
            description: p.description.clone(),
            format: p.format.clone(),
            default: p.default.clone(),
            enum_values: p.enum_values.clone(),
        })
        .collect();
    ReplicationIr {
        type_name: type_name.to_string(),
        title: view.title.clone().unwrap_or_default(),
        description: view.description.clone(),
        fields,
    }
}

fn is_placeholder(default: Option<&str>) -> bool {
    match default {
        None => true,
        Some(d) => {
            let d = d.trim();
            d.is_empty()
                || d.contains('{')
                || d.starts_with("your-")
                || d.starts_with("your_")
                || d.starts_with("my-")
                || d.starts_with('<')
        }
    }
}

fn build_auth(
    spec: &Spec<'_>,
    pascal: &str,
    namer: &mut Namer,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<AuthOption>, SpecError> {
    let several = spec.schemes.len() > 1;
    let mut variant_namer = Namer::default();
    let mut out = Vec::new();
    for s in &spec.schemes {
        let node_err = |key: &str, msg: String| SpecError {
            file: Default::default(),
            path: format!("{}.{key}", s.path),
            message: msg,
        };
        let kind = match s.kind.as_str() {
            "http" => match s.scheme.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("bearer") => AuthKindIr::Bearer,
                Some("basic") => AuthKindIr::Basic,
                other => {
                    return Err(node_err(
                        "scheme",
                        format!("unsupported http auth scheme `{}`", other.unwrap_or("")),
                    ));
                }
            },
            "apiKey" => {
                let name = s
                    .name
                    .clone()
                    .ok_or_else(|| node_err("name", "apiKey scheme without `name`".into()))?;
                match s.location.as_deref() {
                    Some("header") | None => AuthKindIr::ApiKeyHeader(name),
                    Some("query") => AuthKindIr::ApiKeyQuery(name),
                    Some(other) => {
                        return Err(node_err(
                            "in",
                            format!("unsupported apiKey location `{other}`"),
                        ));
                    }
                }
            }
            "oauth2" => AuthKindIr::OAuth2 {
                refresh_url: s.refresh_url.clone(),
                authorization_url: s.authorization_url.clone(),
                token_url: s.token_url.clone(),
                client_auth: match s.refresh_auth_style.as_deref() {
                    None | Some("body") => TokenClientAuth::Body,
                    Some("basic") => TokenClientAuth::Basic,
                    Some("none") => TokenClientAuth::None,
                    Some(o) => {
                        return Err(node_err(
                            "x-airbyte-token-refresh.auth_style",
                            format!("unknown auth_style `{o}` (expected body, basic or none)"),
                        ));
                    }
                },
                body_format: match s.refresh_body_format.as_deref() {
                    None | Some("form") => TokenBodyFormat::Form,
                    Some("json") => TokenBodyFormat::Json,
                    Some(o) => {
                        return Err(node_err(
                            "x-airbyte-token-refresh.body_format",
                            format!("unknown body_format `{o}` (expected form or json)"),
                        ));
                    }
                },
                token_extract: s.token_extract.clone(),
                token_header: s
                    .token_header
                    .clone()
                    .map(|h| (h, s.token_prefix.clone().unwrap_or_default())),
                // Unknown grant types were reported as warnings while reading the spec.
                grant: match s.refresh_grant_type.as_deref() {
                    Some(g) if crate::spec::is_jwt_bearer_grant(g) => TokenGrant::JwtBearer,
                    _ => TokenGrant::RefreshToken,
                },
                scopes: s.scopes.clone(),
            },
            other => {
                return Err(node_err(
                    "type",
                    format!("unsupported security scheme type `{other}`"),
                ));
            }
        };
        let cfg = &s.auth_config;
        let mut props = cfg.properties.clone();
        let mut mapping = cfg.auth_mapping.clone();
        let mut required = cfg.required.clone();
        if props.is_empty() {
            let (fields, m): (Vec<&str>, Vec<(&str, &str)>) = match &kind {
                AuthKindIr::Bearer => (vec!["token"], vec![("token", "${token}")]),
                AuthKindIr::Basic => (
                    vec!["username", "password"],
                    vec![("username", "${username}"), ("password", "${password}")],
                ),
                AuthKindIr::ApiKeyHeader(_) | AuthKindIr::ApiKeyQuery(_) => {
                    (vec!["api_key"], vec![("api_key", "${api_key}")])
                }
                AuthKindIr::OAuth2 { .. } => (
                    vec!["access_token"],
                    vec![("access_token", "${access_token}")],
                ),
            };
            warnings.push(Warning {
                path: s.path.clone(),
                message: "no x-airbyte-auth-config; synthesised default credential fields".into(),
            });
            props = fields
                .iter()
                .map(|f| (f.to_string(), String::new(), String::new()))
                .collect();
            mapping = m
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            required = fields.iter().map(|f| f.to_string()).collect();
        }
        let title = cfg.title.clone().unwrap_or_else(|| s.key.clone());
        let suffix = {
            let t = title_suffix(&title);
            if t.is_empty() { pascal_base(&s.key) } else { t }
        };
        let type_name = if several {
            namer.unique(&format!("{pascal}{suffix}AuthConfig"))
        } else {
            namer.unique(&format!("{pascal}AuthConfig"))
        };
        let mut field_namer = Namer::with_reserved(&["new"]);
        let fields = props
            .iter()
            .map(|(name, t, d)| AuthFieldIr {
                name: name.clone(),
                rust_name: field_namer.unique(&safe_snake(&snake_base(name))),
                title: t.clone(),
                description: d.clone(),
                required: required.contains(name),
            })
            .collect();
        out.push(AuthOption {
            key: s.key.clone(),
            title,
            description: cfg.description.clone(),
            type_name,
            variant: variant_namer.unique(&suffix),
            kind,
            fields,
            mapping,
            additional_headers: cfg.additional_headers.clone(),
        });
    }
    if out.is_empty() {
        return Err(SpecError {
            file: Default::default(),
            path: "components.securitySchemes".into(),
            message: "no security scheme declared".into(),
        });
    }
    Ok(out)
}

fn linked_schema<'a>(spec: &Spec<'a>, entity: &str) -> Option<Node<'a>> {
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

/// JSON kind of a schema (after refs and null-unions).
fn value_kind(tb: &TypeBuilder<'_>, node: &Node<'_>) -> (ValueKind, bool) {
    let raw = node.value;
    let mut nullable = raw
        .get("nullable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(Value::Array(a)) = raw.get("type") {
        nullable |= a.iter().any(|t| t == "null");
    }
    if let Some(Value::Array(a)) = raw.get("oneOf") {
        nullable |= a
            .iter()
            .any(|m| m.get("type").and_then(Value::as_str) == Some("null"));
    }
    let Ok(eff) = tb.effective(node) else {
        return (ValueKind::Any, nullable);
    };
    if let Some(Value::Array(a)) = eff.value.get("type") {
        nullable |= a.iter().any(|t| t == "null");
    }
    if eff.get("oneOf").is_some() {
        return (ValueKind::Any, nullable);
    }
    let types = TypeBuilder::types_of(&eff);
    let kind = match types.as_slice() {
        [t] => match t.as_str() {
            "string" => ValueKind::String,
            "integer" => ValueKind::Integer,
            "number" => ValueKind::Number,
            "boolean" => ValueKind::Boolean,
            "array" => ValueKind::Array,
            "object" => ValueKind::Object,
            _ => ValueKind::Any,
        },
        [] if eff.get("properties").is_some() => ValueKind::Object,
        [] if eff.get("items").is_some() => ValueKind::Array,
        _ => ValueKind::Any,
    };
    (kind, nullable)
}

/// Schema JSON with `$ref`s inlined (cycles cut to `{}`).
fn inline_schema(tb: &TypeBuilder<'_>, node: &Node<'_>, depth: usize) -> Value {
    if depth > 12 {
        return Value::Object(Default::default());
    }
    if node.get("$ref").is_some() {
        return match tb.deref(node) {
            Ok(target) => inline_schema(tb, &target, depth + 1),
            Err(_) => Value::Object(Default::default()),
        };
    }
    match node.value {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                if k.starts_with("x-") {
                    continue;
                }
                let child = Node {
                    value: v,
                    path: crate::spec::join(&node.path, k),
                };
                out.insert(k.clone(), inline_schema(tb, &child, depth + 1));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    inline_schema(
                        tb,
                        &Node {
                            value: v,
                            path: format!("{}[{i}]", node.path),
                        },
                        depth + 1,
                    )
                })
                .collect(),
        ),
        v => v.clone(),
    }
}

fn json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

struct RawParam<'a> {
    name: String,
    location: ParamLocation,
    required: bool,
    schema: Option<Node<'a>>,
    description: String,
    style: ParamStyle,
    config_inject: Option<(String, Vec<(String, String)>)>,
}

fn build_operation<'a>(
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
    let method = method_of(&op.method);
    let path = op
        .path_override
        .clone()
        .unwrap_or_else(|| op.path_key.clone());
    let rust_name = action_namer.unique(&safe_snake(&snake_base(&op.action)));
    let action_pascal = pascal_base(&op.action);
    let request_type = tb
        .namer
        .unique(&format!("{entity_type}{action_pascal}Request"));

    // Raw params: declared ones, then body fields, then undeclared GraphQL variables.
    let mut raw: Vec<RawParam<'a>> = Vec::new();
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
    let mut body = BodyIr::None;
    if let Some(rb) = &op.request_body {
        let first = rb.content.first();
        body = if let Some(g) = &rb.graphql {
            BodyIr::GraphQl {
                query: g.query.clone(),
                variables: g.variables.as_ref().map(json_text),
                default_fields: g.default_fields.as_ref().map(json_text),
                operation_name: g.operation_name.clone(),
                nullable_variables: g.nullable_variables.clone(),
            }
        } else {
            match first.map(|(ct, _)| ct.to_ascii_lowercase()) {
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
        };
        if let Some((_, Some(schema))) = first {
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
                    body = BodyIr::JsonArray;
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
                        push_raw(&mut raw, rp, warnings, &prop.path);
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
                            description:
                                "Any field: the body schema is open (additionalProperties).".into(),
                            style: ParamStyle::Form,
                            config_inject: None,
                        });
                    } else {
                        warnings.push(eff.warn(body_shape_warning(&eff)));
                    }
                }
            }
        }
        if let BodyIr::GraphQl {
            query, variables, ..
        } = &body
        {
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
    }

    // Typed params.
    let mut pnamer = Namer::with_reserved(REQUEST_METHODS);
    let mut params = Vec::new();
    for r in raw {
        let (kind, nullable, item_kind, enum_values, default, schema_text, ty) = match &r.schema {
            Some(s) => {
                let (k, nullable) = value_kind(tb, s);
                let eff = tb.effective(s)?;
                let item_kind = match (k, eff.get("items")) {
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
                let schema_text = json_text(&inline_schema(tb, s, 0));
                let hint = format!("{entity_type}{action_pascal}{}", pascal_base(&r.name));
                let ty = tb.ty(s, &hint, true)?;
                (
                    k,
                    nullable,
                    item_kind,
                    enum_values,
                    default,
                    schema_text,
                    ty,
                )
            }
            None => (
                ValueKind::Any,
                true,
                None,
                Vec::new(),
                None,
                "{}".to_string(),
                RustType::Value,
            ),
        };
        // The reference does not validate array-item body fields: keep them unchecked.
        let unchecked = r.location == ParamLocation::Body && matches!(body, BodyIr::JsonArray);
        let (kind, item_kind, enum_values) = if unchecked {
            (ValueKind::Any, None, Vec::new())
        } else {
            (kind, item_kind, enum_values)
        };
        // Every required parameter is a constructor argument, whatever its location (GitHub's
        // GraphQL `owner`/`repo` are query parameters feeding variables). The one exception is a
        // header with a default: the runtime always sends it. Scoped and config-injected
        // parameters are arguments too: a typed client has no connector config to fill them from.
        let is_arg = r.required && !(r.location == ParamLocation::Header && default.is_some());
        params.push(ParamIr {
            rust_name: pnamer.unique(&safe_snake(&snake_base(&r.name))),
            name: r.name,
            location: r.location,
            required: r.required,
            is_arg,
            kind,
            item_kind,
            nullable,
            enum_values,
            default,
            style: r.style,
            description: r.description,
            schema: schema_text,
            config_inject: r.config_inject,
            ty,
        });
    }

    // Output typing.
    let entity_records = format!("{entity_type}Record");
    let output = match kind {
        ActionKind::Download => OutputIr::Bytes,
        k => {
            let record = record_type(op, k, &entity_records, tb, spec)?;
            if k.returns_many() {
                let meta = meta_type(op, &format!("{entity_type}{action_pascal}Meta"), tb)?;
                OutputIr::Page(record, meta)
            } else {
                OutputIr::Record(record)
            }
        }
    };
    let pagination = pagination::classify(op, kind, &params, tb);

    Ok(OperationIr {
        entity: op.entity.clone(),
        action: op.action.clone(),
        kind,
        method,
        path,
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

fn record_type<'a>(
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
    if kind.returns_many()
        && let Some(t) = &target
        && TypeBuilder::types_of(t).iter().any(|t| t == "array")
    {
        target = t.get("items");
    }
    let mut ty = match &target {
        Some(t) => tb.ty(t, hint, true)?,
        None => RustType::Value,
    };
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

fn meta_type<'a>(
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
