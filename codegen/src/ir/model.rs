//! The IR's data: a connector with its auth options, entities, operations and parameters.

use airbyte_agent_core::{
    ActionKind, Method, ParamLocation, ParamStyle, TokenBodyFormat, TokenClientAuth, TokenGrant,
    ValueKind,
};

use super::pagination::PaginationIr;
use super::types::{RustType, TypeGraph, TypeId};
use crate::spec::Warning;

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
