//! Typed view of the OpenAPI 3.1 subset: the document walk ([`Spec::from_root`]), info,
//! replication settings and servers. Security schemes are read in `scheme`, operations in
//! `operation`.

use serde_json::Value;

use super::operation::parse_operation;
use super::scheme::{KNOWN_SCHEME_KEYS, is_jwt_bearer_grant, parse_scheme};
use super::{Info, Node, ReplicationConfigView, ReplicationProperty, Server, ServerVar, Spec};
use super::{SpecError, Warning, type_name};

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options"];

const KNOWN_ROOT_KEYS: &[&str] = &[
    "openapi",
    "info",
    "servers",
    "security",
    "components",
    "paths",
    "tags",
    "externalDocs",
    "jsonSchemaDialect",
];

const KNOWN_INFO_KEYS: &[&str] = &[
    "title",
    "version",
    "description",
    "summary",
    "contact",
    "license",
    "termsOfService",
    "x-airbyte-connector-name",
    "x-airbyte-connector-definition-id",
    "x-airbyte-replication-version",
    "x-airbyte-replication-compatibility",
    "x-airbyte-external-documentation-urls",
    "x-airbyte-example-questions",
    "x-airbyte-context-store",
    "x-airbyte-skip-context-store",
    "x-airbyte-replication-config",
    "x-airbyte-entity-relationships",
    "x-airbyte-scoping",
    "x-airbyte-response-error-check",
    "x-airbyte-skip-suggested-streams",
    "x-airbyte-skip-auth-methods",
    "x-airbyte-auth-tooltip",
    "x-airbyte-retry-config",
    "x-airbyte-config-normalization",
];

impl<'a> Spec<'a> {
    /// Build the typed view from a document root.
    pub fn from_root(root: &'a Value) -> Result<Spec<'a>, SpecError> {
        let root = Node::root(root);
        let mut warnings = Vec::new();
        if let Some(v) = root.get("openapi") {
            let v = v.as_text()?;
            if !v.starts_with("3.") {
                return Err(root.req("openapi")?.err(format!(
                    "unsupported OpenAPI version `{v}` (expected 3.1.x)"
                )));
            }
        }
        for (k, v) in root.entries()? {
            if !KNOWN_ROOT_KEYS.contains(&k) {
                warnings.push(v.warn(format!("unknown top-level key `{k}` ignored")));
            }
        }
        let info_node = root.req("info")?;
        for (k, v) in info_node.entries()? {
            if !KNOWN_INFO_KEYS.contains(&k) {
                warnings.push(v.warn(format!("unknown info key `{k}` ignored")));
            }
        }
        let info = parse_info(&info_node, &mut warnings)?;
        let server = match root.get("servers") {
            Some(s) => {
                let items = s.items()?;
                if items.len() > 1 {
                    warnings.push(s.warn("several servers declared; only the first is used"));
                }
                items.first().map(parse_server).transpose()?
            }
            None => None,
        };
        let components = root.get("components");
        let mut schemes = Vec::new();
        if let Some(ss) = components.as_ref().and_then(|c| c.get("securitySchemes")) {
            for (key, node) in ss.entries()? {
                for (k, v) in node.entries()? {
                    if !KNOWN_SCHEME_KEYS.contains(&k) {
                        warnings.push(v.warn(format!("unknown security-scheme key `{k}` ignored")));
                    }
                }
                if let Some(tr) = node.get("x-airbyte-token-refresh") {
                    for (k, v) in tr.entries()? {
                        if !matches!(
                            k,
                            "auth_style"
                                | "body_format"
                                | "header"
                                | "prefix"
                                | "grant_type"
                                | "scopes"
                        ) {
                            warnings.push(v.warn(format!(
                                "token-refresh setting `{k}` is not expressible in the runtime descriptor; ignored"
                            )));
                        }
                        if k == "grant_type"
                            && let Some(g) = v.value.as_str()
                            && g != "refresh_token"
                            && !is_jwt_bearer_grant(g)
                        {
                            warnings.push(v.warn(format!(
                                "token grant `{g}` is not supported (refresh_token or jwt_bearer); the refresh-token grant is used"
                            )));
                        }
                    }
                }
                schemes.push(parse_scheme(key, &node)?);
            }
        }
        let mut schemas = Vec::new();
        if let Some(s) = components.as_ref().and_then(|c| c.get("schemas")) {
            for (name, node) in s.entries()? {
                schemas.push((name.to_string(), node));
            }
        }
        let mut operations = Vec::new();
        let paths = root.req("paths")?;
        for (key, item) in paths.entries()? {
            for (method, op) in item.entries()? {
                let lower = method.to_ascii_lowercase();
                if !METHODS.contains(&lower.as_str()) {
                    if !method.starts_with("x-")
                        && method != "parameters"
                        && method != "summary"
                        && method != "description"
                    {
                        warnings.push(op.warn(format!("unknown path-item key `{method}` ignored")));
                    }
                    continue;
                }
                operations.push(parse_operation(key, &lower, op, &mut warnings)?);
            }
        }
        Ok(Spec {
            info,
            server,
            schemes,
            operations,
            schemas,
            warnings,
        })
    }
}

fn parse_info(node: &Node<'_>, warnings: &mut Vec<Warning>) -> Result<Info, SpecError> {
    let title = node.text_of("title")?.unwrap_or_default();
    let version = node.text_of("version")?.unwrap_or_else(|| "0.0.0".into());
    let description = node.text_of("description")?.unwrap_or_default();
    let connector_name = match node.text_of("x-airbyte-connector-name")? {
        Some(n) if !n.trim().is_empty() => n,
        Some(_) => {
            return Err(node
                .req("x-airbyte-connector-name")?
                .err("connector name is empty"));
        }
        None => {
            let t = title.trim().to_lowercase();
            let slug: String = t
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
                .split('-')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            if slug.is_empty() {
                return Err(node.missing("x-airbyte-connector-name"));
            }
            slug
        }
    };
    let definition_id = node.req("x-airbyte-connector-definition-id")?.as_text()?;
    let mut scoping = Vec::new();
    if let Some(s) = node.get("x-airbyte-scoping") {
        for item in s.items()? {
            let param = item.req_str("param")?.to_string();
            let key = item
                .str_of("config_key")?
                .map(str::to_string)
                .unwrap_or_else(|| param.clone());
            scoping.push((param, key));
        }
    }
    let response_error_check = match node.get("x-airbyte-response-error-check") {
        Some(c) => Some((
            c.req_str("field")?.to_string(),
            serde_json::to_string(c.req("on_value")?.value).unwrap_or_else(|_| "null".into()),
            c.str_of("message_field")?.map(str::to_string),
        )),
        None => None,
    };
    let replication_config = node
        .get("x-airbyte-replication-config")
        .map(|c| parse_replication_config(&c, warnings))
        .transpose()?;
    Ok(Info {
        title,
        version,
        description,
        connector_name,
        definition_id,
        scoping,
        response_error_check,
        replication_config,
    })
}

/// A JSON Schema `type`: a string, or a list whose first non-`null` entry counts.
fn json_type(node: &Node<'_>) -> Result<Option<String>, SpecError> {
    let Some(t) = node.get("type") else {
        return Ok(None);
    };
    match t.value {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Array(_) => Ok(t.str_list()?.into_iter().find(|k| k != "null")),
        v => Err(t.err(format!(
            "expected a type name or a list of them, found {}",
            type_name(v)
        ))),
    }
}

fn parse_replication_config(
    node: &Node<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<ReplicationConfigView, SpecError> {
    let mut properties = Vec::new();
    if let Some(p) = node.get("properties") {
        for (name, prop) in p.entries()? {
            let item_kind = match prop.get("items") {
                Some(items) => json_type(&items)?,
                None => None,
            };
            properties.push(ReplicationProperty {
                name: name.to_string(),
                kind: json_type(&prop)?.unwrap_or_else(|| "string".into()),
                item_kind,
                title: prop.text_of("title")?.unwrap_or_default(),
                description: prop.text_of("description")?.unwrap_or_default(),
                format: prop.text_of("format")?,
                default: prop
                    .get("default")
                    .map(|d| serde_json::to_string(d.value).unwrap_or_default()),
                enum_values: match prop.get("enum") {
                    Some(e) => e.str_list()?,
                    None => Vec::new(),
                },
            });
        }
    }
    let mut required = Vec::new();
    if let Some(r) = node.get("required") {
        for name in r.str_list()? {
            if properties.iter().any(|p| p.name == name) {
                required.push(name);
            } else {
                warnings.push(r.warn(format!(
                    "required replication setting `{name}` is not among the properties; ignored"
                )));
            }
        }
    }
    Ok(ReplicationConfigView {
        title: node.text_of("title")?,
        description: node.text_of("description")?.unwrap_or_default(),
        required,
        properties,
    })
}

fn parse_server(node: &Node<'_>) -> Result<Server, SpecError> {
    let url = node.req_str("url")?.to_string();
    let mut variables = Vec::new();
    if let Some(vars) = node.get("variables") {
        for (name, v) in vars.entries()? {
            variables.push(ServerVar {
                name: name.to_string(),
                default: v.text_of("default")?,
                enum_values: v
                    .get("enum")
                    .map(|e| e.str_list())
                    .transpose()?
                    .unwrap_or_default(),
                description: v.text_of("description")?.unwrap_or_default(),
            });
        }
    }
    Ok(Server { url, variables })
}
