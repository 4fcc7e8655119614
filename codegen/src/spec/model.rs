//! The typed view's data: info, servers, security schemes, operations, parameters and bodies.

use serde_json::Value;

use super::{Node, Warning};

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
