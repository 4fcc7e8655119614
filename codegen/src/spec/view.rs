//! Typed view of the OpenAPI 3.1 subset (info, servers, security schemes, operations).

use std::path::PathBuf;

use serde_json::Value;

use super::{SpecError, Warning, type_name};

/// A node of the document with its JSON path, for precise errors.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The value.
    pub value: &'a Value,
    /// JSON path (`paths./v1/customers.get`).
    pub path: String,
}

/// Join a JSON path and a key.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Node<'a> {
    /// The document root.
    pub fn root(value: &'a Value) -> Self {
        Node {
            value,
            path: String::new(),
        }
    }

    /// An error at this node (the file is filled in by the loader).
    pub fn err(&self, message: impl Into<String>) -> SpecError {
        SpecError {
            file: PathBuf::new(),
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// An error about a missing key of this node.
    pub fn missing(&self, key: &str) -> SpecError {
        SpecError {
            file: PathBuf::new(),
            path: join(&self.path, key),
            message: format!("required key `{key}` is missing"),
        }
    }

    /// A warning at this node.
    pub fn warn(&self, message: impl Into<String>) -> Warning {
        Warning {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Child by key (None when absent, when `null`, or when this node is not a mapping).
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        match self.value.as_object()?.get(key)? {
            Value::Null => None,
            v => Some(Node {
                value: v,
                path: join(&self.path, key),
            }),
        }
    }

    /// Required child.
    pub fn req(&self, key: &str) -> Result<Node<'a>, SpecError> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    /// This node as a string.
    pub fn as_str(&self) -> Result<&'a str, SpecError> {
        self.value.as_str().ok_or_else(|| {
            self.err(format!(
                "expected a string, found {}",
                type_name(self.value)
            ))
        })
    }

    /// This node as a string, also accepting numbers and booleans (written as text).
    pub fn as_text(&self) -> Result<String, SpecError> {
        match self.value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            v => Err(self.err(format!("expected a string, found {}", type_name(v)))),
        }
    }

    /// Optional string child.
    pub fn str_of(&self, key: &str) -> Result<Option<&'a str>, SpecError> {
        self.get(key).map(|n| n.as_str()).transpose()
    }

    /// Optional text child (strings, numbers, booleans).
    pub fn text_of(&self, key: &str) -> Result<Option<String>, SpecError> {
        self.get(key).map(|n| n.as_text()).transpose()
    }

    /// Required string child.
    pub fn req_str(&self, key: &str) -> Result<&'a str, SpecError> {
        self.req(key)?.as_str()
    }

    /// Optional boolean child (`true`/`false`; strings `"true"` are tolerated).
    pub fn bool_of(&self, key: &str) -> Result<Option<bool>, SpecError> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => match n.value {
                Value::Bool(b) => Ok(Some(*b)),
                Value::String(s) if s == "true" => Ok(Some(true)),
                Value::String(s) if s == "false" => Ok(Some(false)),
                v => Err(n.err(format!("expected a boolean, found {}", type_name(v)))),
            },
        }
    }

    /// Entries of a mapping node.
    pub fn entries(&self) -> Result<Vec<(&'a str, Node<'a>)>, SpecError> {
        let map = self.value.as_object().ok_or_else(|| {
            self.err(format!(
                "expected a mapping, found {}",
                type_name(self.value)
            ))
        })?;
        Ok(map
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    Node {
                        value: v,
                        path: join(&self.path, k),
                    },
                )
            })
            .collect())
    }

    /// Items of a list node.
    pub fn items(&self) -> Result<Vec<Node<'a>>, SpecError> {
        let list = self
            .value
            .as_array()
            .ok_or_else(|| self.err(format!("expected a list, found {}", type_name(self.value))))?;
        Ok(list
            .iter()
            .enumerate()
            .map(|(i, v)| Node {
                value: v,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// A list of strings.
    pub fn str_list(&self) -> Result<Vec<String>, SpecError> {
        self.items()?.iter().map(|n| n.as_text()).collect()
    }

    /// A mapping of strings to text values.
    pub fn str_map(&self) -> Result<Vec<(String, String)>, SpecError> {
        self.entries()?
            .into_iter()
            .map(|(k, v)| {
                Ok((
                    k.to_string(),
                    if v.value.is_null() {
                        String::new()
                    } else {
                        v.as_text()?
                    },
                ))
            })
            .collect()
    }
}

/// `info` and its Airbyte extensions.
#[derive(Debug, Clone)]
pub struct Info {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: String,
    /// `x-airbyte-connector-name` (or the kebab-cased title).
    pub connector_name: String,
    /// `x-airbyte-connector-definition-id`.
    pub definition_id: String,
    /// `x-airbyte-scoping`: (param, config key).
    pub scoping: Vec<(String, String)>,
    /// `x-airbyte-response-error-check`: (field, on_value JSON, message_field).
    pub response_error_check: Option<(String, String, Option<String>)>,
    /// `x-airbyte-replication-config`: settings Airbyte needs to create a hosted source.
    pub replication_config: Option<ReplicationConfigView>,
}

/// `x-airbyte-replication-config`.
#[derive(Debug, Clone, Default)]
pub struct ReplicationConfigView {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: String,
    /// Required property names (unknown names are dropped with a warning).
    pub required: Vec<String>,
    /// Properties in declaration order.
    pub properties: Vec<ReplicationProperty>,
}

/// One property of `x-airbyte-replication-config`.
#[derive(Debug, Clone)]
pub struct ReplicationProperty {
    /// Wire name.
    pub name: String,
    /// JSON type (`string` when absent; the first non-`null` entry of a type list).
    pub kind: String,
    /// JSON type of array items.
    pub item_kind: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// `format` (e.g. `date-time`).
    pub format: Option<String>,
    /// `default`, as JSON text.
    pub default: Option<String>,
    /// `enum` values, as text.
    pub enum_values: Vec<String>,
}

/// A server variable.
#[derive(Debug, Clone)]
pub struct ServerVar {
    /// Name.
    pub name: String,
    /// Default.
    pub default: Option<String>,
    /// Enum values.
    pub enum_values: Vec<String>,
    /// Description.
    pub description: String,
}

/// `servers[0]`.
#[derive(Debug, Clone)]
pub struct Server {
    /// URL template.
    pub url: String,
    /// Variables.
    pub variables: Vec<ServerVar>,
}

/// `x-airbyte-auth-config`.
#[derive(Debug, Clone, Default)]
pub struct AuthConfigView {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: String,
    /// Required property names.
    pub required: Vec<String>,
    /// (name, title, description).
    pub properties: Vec<(String, String, String)>,
    /// Scheme parameter → `${field}` template.
    pub auth_mapping: Vec<(String, String)>,
    /// Header → `{{ field }}` template.
    pub additional_headers: Vec<(String, String)>,
}

/// A security scheme.
#[derive(Debug, Clone)]
pub struct SecurityScheme {
    /// Key in `components.securitySchemes`.
    pub key: String,
    /// `type` (`http`, `apiKey`, `oauth2`).
    pub kind: String,
    /// `scheme` of http schemes.
    pub scheme: Option<String>,
    /// `in` of apiKey schemes.
    pub location: Option<String>,
    /// `name` of apiKey schemes.
    pub name: Option<String>,
    /// OAuth2 authorization URL.
    pub authorization_url: Option<String>,
    /// OAuth2 token URL.
    pub token_url: Option<String>,
    /// OAuth2 refresh URL.
    pub refresh_url: Option<String>,
    /// `x-airbyte-token-refresh.auth_style`.
    pub refresh_auth_style: Option<String>,
    /// `x-airbyte-token-refresh.body_format`.
    pub refresh_body_format: Option<String>,
    /// `x-airbyte-token-refresh.header`: header carrying the access token.
    pub token_header: Option<String>,
    /// `x-airbyte-token-refresh.prefix`: text before the token in that header.
    pub token_prefix: Option<String>,
    /// `x-airbyte-token-refresh.grant_type`.
    pub refresh_grant_type: Option<String>,
    /// Scopes: `x-airbyte-token-refresh.scopes` when given, else the keys of the flow's `scopes`.
    pub scopes: Vec<String>,
    /// `x-airbyte-token-extract`.
    pub token_extract: Vec<String>,
    /// `x-airbyte-auth-config`.
    pub auth_config: AuthConfigView,
    /// JSON path of the scheme.
    pub path: String,
}

/// An operation parameter.
#[derive(Debug, Clone)]
pub struct Parameter<'a> {
    /// Name.
    pub name: String,
    /// `in`.
    pub location: String,
    /// `required`.
    pub required: bool,
    /// `schema`.
    pub schema: Option<Node<'a>>,
    /// `description`.
    pub description: String,
    /// `style`.
    pub style: Option<String>,
    /// `x-airbyte-param-config-inject`: (source, map).
    pub config_inject: Option<(String, Vec<(String, String)>)>,
    /// JSON path.
    pub path: String,
}

/// `x-airbyte-body-type: {type: graphql}`.
#[derive(Debug, Clone)]
pub struct GraphQlView {
    /// Query text.
    pub query: String,
    /// Variables template.
    pub variables: Option<Value>,
    /// Default fields.
    pub default_fields: Option<Value>,
    /// `operationName`.
    pub operation_name: Option<String>,
    /// `x-airbyte-nullable-variables`.
    pub nullable_variables: Vec<String>,
}

/// `requestBody`.
#[derive(Debug, Clone)]
pub struct RequestBody<'a> {
    /// `required`.
    pub required: bool,
    /// (content type, schema).
    pub content: Vec<(String, Option<Node<'a>>)>,
    /// GraphQL body type.
    pub graphql: Option<GraphQlView>,
}

/// An operation (`paths.<key>.<method>`).
#[derive(Debug, Clone)]
pub struct Operation<'a> {
    /// The path key.
    pub path_key: String,
    /// Lower-case method.
    pub method: String,
    /// The operation node.
    pub node: Node<'a>,
    /// `x-airbyte-entity`.
    pub entity: String,
    /// `x-airbyte-action`.
    pub action: String,
    /// `x-airbyte-path-override.path`.
    pub path_override: Option<String>,
    /// `summary`.
    pub summary: String,
    /// `description`.
    pub description: String,
    /// Parameters.
    pub parameters: Vec<Parameter<'a>>,
    /// Request body.
    pub request_body: Option<RequestBody<'a>>,
    /// Schema of the first 200/201 JSON response.
    pub response_schema: Option<Node<'a>>,
    /// Declares only 204 / no content.
    pub no_content: bool,
    /// `x-airbyte-record-extractor`.
    pub record_extractor: Option<String>,
    /// `x-airbyte-meta-extractor`.
    pub meta_extractor: Vec<(String, String)>,
    /// `x-airbyte-record-filter`.
    pub record_filter: Option<String>,
    /// `x-airbyte-record-transform`.
    pub record_transform: Vec<(String, String)>,
    /// `x-airbyte-file-url`.
    pub file_url: Option<String>,
    /// `x-airbyte-no-pagination` present.
    pub no_pagination: bool,
    /// `x-airbyte-preferred-for-check`.
    pub preferred_for_check: bool,
    /// `x-airbyte-upload-file-param`.
    pub upload_file_param: Option<String>,
}

/// Typed view of a whole spec.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// Info.
    pub info: Info,
    /// First server, if any.
    pub server: Option<Server>,
    /// Security schemes in document order.
    pub schemes: Vec<SecurityScheme>,
    /// Operations in document order.
    pub operations: Vec<Operation<'a>>,
    /// `components.schemas` in document order.
    pub schemas: Vec<(String, Node<'a>)>,
    /// Tolerated oddities.
    pub warnings: Vec<Warning>,
}

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

const KNOWN_SCHEME_KEYS: &[&str] = &[
    "type",
    "scheme",
    "in",
    "name",
    "flows",
    "description",
    "bearerFormat",
    "x-airbyte-auth-config",
    "x-airbyte-token-refresh",
    "x-airbyte-token-extract",
    "x-airbyte-oauth-credentials",
    "x-airbyte-oauth-scopes",
    "x-airbyte-untested",
    "x-airbyte-token-path",
];

const KNOWN_OP_KEYS: &[&str] = &[
    "summary",
    "description",
    "operationId",
    "tags",
    "parameters",
    "requestBody",
    "responses",
    "deprecated",
    "x-airbyte-entity",
    "x-airbyte-action",
    "x-airbyte-record-extractor",
    "x-airbyte-meta-extractor",
    "x-airbyte-path-override",
    "x-airbyte-no-pagination",
    "x-airbyte-preferred-for-check",
    "x-airbyte-untested",
    "x-airbyte-ai-hints",
    "x-airbyte-file-url",
    "x-airbyte-record-filter",
    "x-airbyte-record-transform",
    "x-airbyte-upload-file-param",
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

/// Whether an `x-airbyte-token-refresh.grant_type` names the RFC 7523 JWT bearer grant.
pub(crate) fn is_jwt_bearer_grant(grant: &str) -> bool {
    matches!(
        grant,
        "jwt_bearer" | "urn:ietf:params:oauth:grant-type:jwt-bearer"
    )
}

/// Scope names from a `scopes` node: the keys of an OpenAPI scope map, a list, or a
/// space-separated string. Anything else has no scopes (they only matter to the jwt-bearer grant).
fn scope_names(node: Option<Node<'_>>) -> Vec<String> {
    match node.map(|n| n.value) {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn parse_scheme(key: &str, node: &Node<'_>) -> Result<SecurityScheme, SpecError> {
    let kind = node.req_str("type")?.to_string();
    let flow = node.get("flows").and_then(|f| {
        f.get("authorizationCode")
            .or_else(|| f.get("clientCredentials"))
            .or_else(|| f.get("password"))
            .or_else(|| f.get("implicit"))
    });
    let (authorization_url, token_url, refresh_url) = match &flow {
        Some(f) => (
            f.text_of("authorizationUrl")?,
            f.text_of("tokenUrl")?,
            f.text_of("refreshUrl")?,
        ),
        None => (None, None, None),
    };
    let refresh = node.get("x-airbyte-token-refresh");
    let auth_config = match node.get("x-airbyte-auth-config") {
        Some(c) => {
            let mut properties = Vec::new();
            if let Some(p) = c.get("properties") {
                for (name, prop) in p.entries()? {
                    properties.push((
                        name.to_string(),
                        prop.text_of("title")?.unwrap_or_default(),
                        prop.text_of("description")?.unwrap_or_default(),
                    ));
                }
            }
            AuthConfigView {
                title: c.text_of("title")?,
                description: c.text_of("description")?.unwrap_or_default(),
                required: c
                    .get("required")
                    .map(|r| r.str_list())
                    .transpose()?
                    .unwrap_or_default(),
                properties,
                auth_mapping: c
                    .get("auth_mapping")
                    .map(|m| m.str_map())
                    .transpose()?
                    .unwrap_or_default(),
                additional_headers: c
                    .get("additional_headers")
                    .map(|m| m.str_map())
                    .transpose()?
                    .unwrap_or_default(),
            }
        }
        None => AuthConfigView::default(),
    };
    Ok(SecurityScheme {
        key: key.to_string(),
        kind,
        scheme: node.text_of("scheme")?,
        location: node.text_of("in")?,
        name: node.text_of("name")?,
        authorization_url,
        token_url,
        refresh_url,
        refresh_auth_style: refresh
            .as_ref()
            .map(|r| r.text_of("auth_style"))
            .transpose()?
            .flatten(),
        refresh_body_format: refresh
            .as_ref()
            .map(|r| r.text_of("body_format"))
            .transpose()?
            .flatten(),
        token_header: refresh
            .as_ref()
            .map(|r| r.text_of("header"))
            .transpose()?
            .flatten(),
        token_prefix: refresh
            .as_ref()
            .map(|r| r.text_of("prefix"))
            .transpose()?
            .flatten(),
        refresh_grant_type: refresh
            .as_ref()
            .map(|r| r.text_of("grant_type"))
            .transpose()?
            .flatten(),
        scopes: scope_names(
            refresh
                .as_ref()
                .and_then(|r| r.get("scopes"))
                .or_else(|| flow.as_ref().and_then(|f| f.get("scopes"))),
        ),
        token_extract: node
            .get("x-airbyte-token-extract")
            .map(|t| t.str_list())
            .transpose()?
            .unwrap_or_default(),
        auth_config,
        path: node.path.clone(),
    })
}

fn parse_operation<'a>(
    key: &str,
    method: &str,
    op: Node<'a>,
    warnings: &mut Vec<Warning>,
) -> Result<Operation<'a>, SpecError> {
    for (k, v) in op.entries()? {
        if !KNOWN_OP_KEYS.contains(&k) {
            let what = if k.starts_with("x-") {
                "unknown extension"
            } else {
                "unknown key"
            };
            warnings.push(v.warn(format!("{what} `{k}` ignored")));
        }
    }
    let entity = op.req("x-airbyte-entity")?;
    let entity_name = entity.as_str()?.trim().to_string();
    if entity_name.is_empty() {
        return Err(entity.err("entity name is empty"));
    }
    let action = op.req("x-airbyte-action")?;
    let action_name = action.as_str()?.trim().to_string();
    if action_name.is_empty() {
        return Err(action.err("action name is empty"));
    }
    let path_override = match op.get("x-airbyte-path-override") {
        Some(o) if o.value.is_string() => Some(o.as_str()?.to_string()),
        Some(o) => Some(o.req_str("path")?.to_string()),
        None => None,
    };
    let mut parameters = Vec::new();
    if let Some(ps) = op.get("parameters") {
        for p in ps.items()? {
            if p.get("$ref").is_some() {
                return Err(p.err("parameter `$ref`s are not supported; declare parameters inline"));
            }
            let location = p.req_str("in")?.to_string();
            let config_inject = match p.get("x-airbyte-param-config-inject") {
                Some(c) => Some((
                    c.req_str("source")?.to_string(),
                    c.get("map")
                        .map(|m| m.str_map())
                        .transpose()?
                        .unwrap_or_default(),
                )),
                None => None,
            };
            parameters.push(Parameter {
                name: p.req("name")?.as_text()?,
                required: p.bool_of("required")?.unwrap_or(location == "path"),
                location,
                schema: p.get("schema"),
                description: p.text_of("description")?.unwrap_or_default(),
                style: p.text_of("style")?,
                config_inject,
                path: p.path.clone(),
            });
        }
    }
    let request_body = match op.get("requestBody") {
        Some(b) => {
            let mut content = Vec::new();
            if let Some(c) = b.get("content") {
                for (ct, media) in c.entries()? {
                    content.push((ct.to_string(), media.get("schema")));
                }
            }
            let graphql = match b.get("x-airbyte-body-type") {
                Some(g) => {
                    let t = g.text_of("type")?.unwrap_or_default();
                    if t != "graphql" {
                        return Err(g
                            .req("type")?
                            .err(format!("unsupported body type `{t}` (expected `graphql`)")));
                    }
                    Some(GraphQlView {
                        query: g.req("query")?.as_text()?,
                        variables: g.get("variables").map(|v| v.value.clone()),
                        default_fields: g.get("default_fields").map(|v| v.value.clone()),
                        operation_name: g.text_of("operationName")?,
                        nullable_variables: g
                            .get("x-airbyte-nullable-variables")
                            .map(|v| v.str_list())
                            .transpose()?
                            .unwrap_or_default(),
                    })
                }
                None => None,
            };
            Some(RequestBody {
                required: b.bool_of("required")?.unwrap_or(false),
                content,
                graphql,
            })
        }
        None => None,
    };
    let mut response_schema = None;
    let mut no_content = false;
    if let Some(rs) = op.get("responses") {
        let entries = rs.entries()?;
        for code in ["200", "201", "202", "2XX", "default"] {
            if let Some((_, r)) = entries.iter().find(|(k, _)| *k == code) {
                if let Some(c) = r.get("content") {
                    for (ct, media) in c.entries()? {
                        if ct.contains("json")
                            && let Some(s) = media.get("schema")
                        {
                            response_schema = Some(s);
                            break;
                        }
                    }
                }
                if response_schema.is_some() {
                    break;
                }
            }
        }
        let has_2xx_content = entries
            .iter()
            .any(|(k, r)| k.starts_with('2') && *k != "204" && r.get("content").is_some());
        no_content = entries.iter().any(|(k, _)| *k == "204") && !has_2xx_content;
    }
    let meta_extractor = op
        .get("x-airbyte-meta-extractor")
        .map(|m| m.str_map())
        .transpose()?
        .unwrap_or_default();
    let record_transform = op
        .get("x-airbyte-record-transform")
        .map(|m| m.str_map())
        .transpose()?
        .unwrap_or_default();
    Ok(Operation {
        path_key: key.to_string(),
        method: method.to_string(),
        entity: entity_name,
        action: action_name,
        path_override,
        summary: op.text_of("summary")?.unwrap_or_default(),
        description: op.text_of("description")?.unwrap_or_default(),
        parameters,
        request_body,
        response_schema,
        no_content,
        record_extractor: op.text_of("x-airbyte-record-extractor")?,
        meta_extractor,
        record_filter: op.text_of("x-airbyte-record-filter")?,
        record_transform,
        file_url: op.text_of("x-airbyte-file-url")?,
        no_pagination: op.get("x-airbyte-no-pagination").is_some(),
        preferred_for_check: op
            .bool_of("x-airbyte-preferred-for-check")?
            .unwrap_or(false),
        upload_file_param: op.text_of("x-airbyte-upload-file-param")?,
        node: op,
    })
}
