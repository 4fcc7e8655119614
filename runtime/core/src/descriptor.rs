//! Static descriptions of connectors: the data that generated crates emit and the runtime executes.
//!
//! A generated connector crate contains one `static` [`ConnectorDescriptor`] built from its spec.
//! Every behaviour (URL building, auth, bodies, extraction, pagination, retries) lives in this
//! runtime and is driven by these values, so the generated code stays small: data plus thin typed
//! wrappers. The generator (`codegen`) builds the same values at run time from any spec (used by
//! `cargo xtask oracle`), so both paths execute through identical code.
//!
//! All fields are `&'static`: generated crates write them as literals; tools that build
//! descriptors dynamically leak them once per process.
//!
//! Every struct has a `const DEFAULT` value. Generated crates spell out only the fields that
//! differ from it and end each literal with `..Type::DEFAULT`, so a field added here (with its
//! default) is an additive change that does not break any generated crate:
//!
//! ```
//! use airbyte_agent_core::{ParamDescriptor, ParamLocation};
//!
//! static ID: ParamDescriptor = ParamDescriptor {
//!     name: "id",
//!     location: ParamLocation::Path,
//!     required: true,
//!     ..ParamDescriptor::DEFAULT
//! };
//! assert_eq!(ID.schema, r#"{"type":"string"}"#);
//! ```

/// A whole connector: identity, base URL, auth options and operations.
#[derive(Debug)]
pub struct ConnectorDescriptor {
    /// Connector slug, e.g. `stripe`, `zendesk-support`.
    pub name: &'static str,
    /// Human title of the connector.
    pub title: &'static str,
    /// The spec's `info.version`.
    pub version: &'static str,
    /// Airbyte connector definition id (UUID), used by hosted mode.
    pub definition_id: &'static str,
    /// Base URL template with `{variable}` placeholders (`servers[0].url`).
    pub base_url: &'static str,
    /// Variables of the base URL template.
    pub server_variables: &'static [ServerVariable],
    /// Every auth option of the connector (all `components.securitySchemes`).
    pub auth_schemes: &'static [AuthSchemeDescriptor],
    /// Entities with their operations.
    pub entities: &'static [EntityDescriptor],
    /// Path parameters filled from connector config when the caller omits them.
    pub scoping: &'static [Scoping],
    /// HTTP-200 responses that are really errors (`x-airbyte-response-error-check`).
    pub response_error_check: Option<ResponseErrorCheck>,
}

impl ConnectorDescriptor {
    /// The base value for struct-update syntax (`..ConnectorDescriptor::DEFAULT`): every text
    /// empty, no server variables, auth options, entities or scoping, no response error check.
    pub const DEFAULT: Self = ConnectorDescriptor {
        name: "",
        title: "",
        version: "",
        definition_id: "",
        base_url: "",
        server_variables: &[],
        auth_schemes: &[],
        entities: &[],
        scoping: &[],
        response_error_check: None,
    };
}

/// A variable of the base URL template.
#[derive(Debug)]
pub struct ServerVariable {
    /// Placeholder name.
    pub name: &'static str,
    /// Default value from the spec, if any.
    pub default: Option<&'static str>,
    /// Allowed values (not enforced; informational).
    pub enum_values: &'static [&'static str],
    /// Description.
    pub description: &'static str,
}

impl ServerVariable {
    /// The base value for struct-update syntax: no default, no allowed values, no description.
    pub const DEFAULT: Self = ServerVariable {
        name: "",
        default: None,
        enum_values: &[],
        description: "",
    };
}

/// One auth option (a security scheme plus its `x-airbyte-auth-config`).
#[derive(Debug)]
pub struct AuthSchemeDescriptor {
    /// The security scheme's key in `components.securitySchemes` (e.g. `bearerAuth`).
    pub key: &'static str,
    /// Title of the option.
    pub title: &'static str,
    /// Description of the option.
    pub description: &'static str,
    /// How credentials reach the wire.
    pub kind: AuthKind,
    /// User-facing credential fields.
    pub fields: &'static [AuthField],
    /// Scheme parameter (`token`, `username`, `api_key`, `access_token`, ...) → `${field}` template.
    pub mapping: &'static [(&'static str, &'static str)],
    /// Extra header name → `{{ field }}` template rendered from the current secrets.
    pub additional_headers: &'static [(&'static str, &'static str)],
}

impl AuthSchemeDescriptor {
    /// The base value for struct-update syntax: a bearer option without title, description,
    /// fields, mapping or additional headers.
    pub const DEFAULT: Self = AuthSchemeDescriptor {
        key: "",
        title: "",
        description: "",
        kind: AuthKind::Bearer,
        fields: &[],
        mapping: &[],
        additional_headers: &[],
    };
}

/// How an auth option is injected.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthKind {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: Basic base64(username:password)`.
    Basic,
    /// A header carrying the key verbatim.
    ApiKeyHeader {
        /// Header name.
        header: &'static str,
    },
    /// A query parameter carrying the key.
    ApiKeyQuery {
        /// Query parameter name.
        name: &'static str,
    },
    /// OAuth2 access token as a bearer header, optionally refreshed.
    OAuth2(OAuth2Descriptor),
    /// OAuth2 access token sent in a custom header instead of `Authorization: Bearer`
    /// (`x-airbyte-token-refresh: {header, prefix}`, e.g. Shopify's `X-Shopify-Access-Token`).
    OAuth2Header {
        /// OAuth2 details (refresh works as for [`AuthKind::OAuth2`]).
        oauth: OAuth2Descriptor,
        /// Header carrying the token.
        header: &'static str,
        /// Text before the token, joined with a space; empty sends the raw token.
        prefix: &'static str,
    },
}

impl AuthKind {
    /// The OAuth2 details of OAuth2 kinds.
    pub fn oauth2(&self) -> Option<&OAuth2Descriptor> {
        match self {
            AuthKind::OAuth2(o) | AuthKind::OAuth2Header { oauth: o, .. } => Some(o),
            _ => None,
        }
    }
}

/// OAuth2 details of an auth option.
#[derive(Debug)]
pub struct OAuth2Descriptor {
    /// Token refresh URL (may contain `{{ var }}` templates); `None` when never refreshed.
    pub refresh_url: Option<&'static str>,
    /// Authorization URL (consent), informational.
    pub authorization_url: Option<&'static str>,
    /// Token URL, informational.
    pub token_url: Option<&'static str>,
    /// How client credentials are sent to the refresh endpoint.
    pub client_auth: TokenClientAuth,
    /// Body encoding of the refresh request.
    pub body_format: TokenBodyFormat,
    /// Token-response fields copied into server variables (Salesforce `instance_url`).
    pub token_extract: &'static [&'static str],
    /// How a new access token is obtained.
    pub grant: TokenGrant,
    /// Scopes of the flow (sent in the jwt-bearer assertion; informational otherwise).
    pub scopes: &'static [&'static str],
}

impl OAuth2Descriptor {
    /// The base value for struct-update syntax: never refreshed, no URLs, client credentials in a
    /// form-encoded body, no extracted token fields, the `refresh_token` grant, no scopes.
    pub const DEFAULT: Self = OAuth2Descriptor {
        refresh_url: None,
        authorization_url: None,
        token_url: None,
        client_auth: TokenClientAuth::Body,
        body_format: TokenBodyFormat::Form,
        token_extract: &[],
        grant: TokenGrant::RefreshToken,
        scopes: &[],
    };
}

/// The grant used to obtain a new access token (`x-airbyte-token-refresh.grant_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenGrant {
    /// `grant_type=refresh_token` with the user's refresh token (the default).
    RefreshToken,
    /// RFC 7523 JWT bearer assertion signed with a Google service-account key
    /// (credential field `credentials_json`).
    JwtBearer,
}

/// Client authentication style for the token refresh call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenClientAuth {
    /// `client_id` and `client_secret` in the body.
    Body,
    /// HTTP Basic with `client_id:client_secret`.
    Basic,
    /// No client credentials.
    None,
}

/// Body encoding for the token refresh call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenBodyFormat {
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `application/json`.
    Json,
}

/// A user-facing credential field.
#[derive(Debug)]
pub struct AuthField {
    /// Field name (e.g. `api_key`).
    pub name: &'static str,
    /// Title.
    pub title: &'static str,
    /// Description.
    pub description: &'static str,
    /// Whether the user must supply it.
    pub required: bool,
}

impl AuthField {
    /// The base value for struct-update syntax: an optional field without title or description.
    pub const DEFAULT: Self = AuthField {
        name: "",
        title: "",
        description: "",
        required: false,
    };
}

/// A path parameter filled from config (`x-airbyte-scoping`).
#[derive(Debug)]
pub struct Scoping {
    /// Parameter name.
    pub param: &'static str,
    /// Config key holding the value (defaults to the parameter name).
    pub config_key: &'static str,
}

impl Scoping {
    /// The base value for struct-update syntax: empty parameter and config key.
    pub const DEFAULT: Self = Scoping {
        param: "",
        config_key: "",
    };
}

/// `x-airbyte-response-error-check`.
#[derive(Debug)]
pub struct ResponseErrorCheck {
    /// Top-level field to inspect.
    pub field: &'static str,
    /// JSON text of the value that signals an error (e.g. `false`).
    pub on_value: &'static str,
    /// Field holding the error message.
    pub message_field: Option<&'static str>,
}

impl ResponseErrorCheck {
    /// The base value for struct-update syntax: empty field and value, no message field.
    pub const DEFAULT: Self = ResponseErrorCheck {
        field: "",
        on_value: "",
        message_field: None,
    };
}

/// An entity: a noun of the API with its operations.
#[derive(Debug)]
pub struct EntityDescriptor {
    /// Entity name as in the spec (`customers`).
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// Operations, one per action.
    pub operations: &'static [OperationDescriptor],
}

impl EntityDescriptor {
    /// The base value for struct-update syntax: no description, no operations.
    pub const DEFAULT: Self = EntityDescriptor {
        name: "",
        description: "",
        operations: &[],
    };
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
}

impl Method {
    /// Upper-case method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }

    /// Whether repeating the request cannot duplicate a write.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch)
    }
}

/// What kind of action an operation is (from `x-airbyte-action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActionKind {
    /// `list`: many records plus meta.
    List,
    /// `get`: one record.
    Get,
    /// `create`
    Create,
    /// `update`
    Update,
    /// `delete`
    Delete,
    /// `api_search` / `search`: provider-side search returning many records.
    Search,
    /// `download`: a byte stream.
    Download,
    /// An action this runtime does not know; treated like `get`.
    Other,
}

impl ActionKind {
    /// Whether the result is an array of records.
    pub fn returns_many(self) -> bool {
        matches!(self, ActionKind::List | ActionKind::Search)
    }
}

/// One operation: an (entity, action) pair bound to an HTTP request.
#[derive(Debug)]
pub struct OperationDescriptor {
    /// Entity name.
    pub entity: &'static str,
    /// Action name exactly as in the spec (`list`, `api_search`, `search`, ...).
    pub action: &'static str,
    /// Classified action.
    pub kind: ActionKind,
    /// HTTP method.
    pub method: Method,
    /// Real path template (the `x-airbyte-path-override` when present), with `{param}` placeholders.
    pub path: &'static str,
    /// Short summary.
    pub summary: &'static str,
    /// Longer description.
    pub description: &'static str,
    /// Every parameter: path, query, header and top-level body fields, in one flat namespace.
    pub params: &'static [ParamDescriptor],
    /// Request body encoding.
    pub body: BodyDescriptor,
    /// Response shaping.
    pub response: ResponseDescriptor,
    /// How to reach the next page, when the spec makes it reachable.
    pub pagination: Pagination,
    /// Marked `x-airbyte-preferred-for-check`.
    pub preferred_for_check: bool,
}

impl OperationDescriptor {
    /// The base value for struct-update syntax: a `get` action sent as `GET` without summary,
    /// description or parameters, no body, [`ResponseDescriptor::DEFAULT`], a single page, not
    /// preferred for health checks.
    pub const DEFAULT: Self = OperationDescriptor {
        entity: "",
        action: "",
        kind: ActionKind::Get,
        method: Method::Get,
        path: "",
        summary: "",
        description: "",
        params: &[],
        body: BodyDescriptor::None,
        response: ResponseDescriptor::DEFAULT,
        pagination: Pagination::None,
        preferred_for_check: false,
    };
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParamLocation {
    /// `{name}` in the path.
    Path,
    /// Query string.
    Query,
    /// Request header.
    Header,
    /// Top-level field of the request body (JSON, form, multipart metadata, or GraphQL input).
    Body,
}

/// JSON type of a parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// string
    String,
    /// integer
    Integer,
    /// number
    Number,
    /// boolean
    Boolean,
    /// array
    Array,
    /// object
    Object,
    /// anything (unions, untyped)
    Any,
}

/// Query serialisation style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamStyle {
    /// `name=v` (arrays repeat the key).
    Form,
    /// `name[key]=v` for object members.
    DeepObject,
}

/// A parameter of an operation.
#[derive(Debug)]
pub struct ParamDescriptor {
    /// Wire name (`page[size]`, `created`, `Notion-Version`).
    pub name: &'static str,
    /// Where it goes.
    pub location: ParamLocation,
    /// Whether the caller must supply it.
    pub required: bool,
    /// JSON type.
    pub kind: ValueKind,
    /// JSON type of array items, for arrays.
    pub item_kind: Option<ValueKind>,
    /// Whether `null` is an accepted value.
    pub nullable: bool,
    /// Allowed values (JSON texts), empty when unrestricted.
    pub enum_values: &'static [&'static str],
    /// Default as JSON text.
    pub default: Option<&'static str>,
    /// Query style.
    pub style: ParamStyle,
    /// Description.
    pub description: &'static str,
    /// JSON Schema of the value (JSON text, `$ref`s inlined), for validation and tool schemas.
    pub schema: &'static str,
    /// Value taken from config when omitted (`x-airbyte-param-config-inject`).
    pub config_inject: Option<ConfigInject>,
}

impl ParamDescriptor {
    /// The base value for struct-update syntax (`..ParamDescriptor::DEFAULT`): an optional,
    /// non-nullable, form-style string query parameter (schema `{"type":"string"}`) without
    /// allowed values, default, description or config injection.
    pub const DEFAULT: Self = ParamDescriptor {
        name: "",
        location: ParamLocation::Query,
        required: false,
        kind: ValueKind::String,
        item_kind: None,
        nullable: false,
        enum_values: &[],
        default: None,
        style: ParamStyle::Form,
        description: "",
        schema: "{\"type\":\"string\"}",
        config_inject: None,
    };
}

/// `x-airbyte-param-config-inject`.
#[derive(Debug)]
pub struct ConfigInject {
    /// Config key to read.
    pub source: &'static str,
    /// Optional value translation.
    pub map: &'static [(&'static str, &'static str)],
}

impl ConfigInject {
    /// The base value for struct-update syntax: empty source, no value translation.
    pub const DEFAULT: Self = ConfigInject {
        source: "",
        map: &[],
    };
}

/// Request body encoding.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyDescriptor {
    /// No body.
    None,
    /// JSON object built from the `Body` params. A `Body` param named `*` marks an open schema
    /// (`additionalProperties`): undeclared caller params then become body fields too.
    Json,
    /// A JSON array holding one object built from the `Body` params (array-typed request
    /// schemas whose item fields are exposed as params, e.g. HubSpot association labels).
    JsonArray,
    /// `application/x-www-form-urlencoded` with bracket flattening.
    Form,
    /// `multipart/related`: JSON metadata plus a base64-supplied file part.
    MultipartRelated {
        /// The body field holding base64 file content.
        file_param: &'static str,
    },
    /// `multipart/form-data` built from the `Body` params.
    MultipartForm,
    /// A GraphQL request.
    GraphQl(GraphQlBody),
}

/// `x-airbyte-body-type: {type: graphql, ...}`.
#[derive(Debug)]
pub struct GraphQlBody {
    /// Query text, possibly containing `{{ fields }}`.
    pub query: &'static str,
    /// JSON text of the variables template.
    pub variables: Option<&'static str>,
    /// JSON text of `default_fields` (string or list).
    pub default_fields: Option<&'static str>,
    /// `operationName`.
    pub operation_name: Option<&'static str>,
    /// Variables kept even when null.
    pub nullable_variables: &'static [&'static str],
}

impl GraphQlBody {
    /// The base value for struct-update syntax: empty query, no variables, default fields or
    /// operation name, no variable kept when null.
    pub const DEFAULT: Self = GraphQlBody {
        query: "",
        variables: None,
        default_fields: None,
        operation_name: None,
        nullable_variables: &[],
    };
}

/// Response shaping.
#[derive(Debug)]
pub struct ResponseDescriptor {
    /// JSONPath to the records.
    pub record_extractor: Option<&'static str>,
    /// Meta name → expression (JSONPath, `@link.<rel>`, `@header.<Name>`).
    pub meta_extractor: &'static [(&'static str, &'static str)],
    /// Jinja boolean per record (privacy filter; fails closed).
    pub record_filter: Option<&'static str>,
    /// Output field → Jinja template per record.
    pub record_transform: &'static [(&'static str, &'static str)],
    /// Dotted field path of the download URL (two-step downloads).
    pub file_url: Option<&'static str>,
    /// The operation answers 204 / no body.
    pub no_content: bool,
}

impl ResponseDescriptor {
    /// The base value for struct-update syntax: the whole body is the result (no record or meta
    /// extraction, filter or transform), no download URL, a body is expected.
    pub const DEFAULT: Self = ResponseDescriptor {
        record_extractor: None,
        meta_extractor: &[],
        record_filter: None,
        record_transform: &[],
        file_url: None,
        no_content: false,
    };
}

/// How the next page is reached, derived by the generator from params and meta.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Pagination {
    /// Single page (declared or not reachable).
    None,
    /// An opaque token from meta is passed back in a parameter.
    Cursor {
        /// Meta field holding the token.
        meta: &'static str,
        /// Parameter taking it.
        param: &'static str,
    },
    /// The last record's field is passed back (Stripe `starting_after`); `has_more` meta says when to stop.
    LastRecord {
        /// Record field to read (usually `id`).
        field: &'static str,
        /// Parameter taking it.
        param: &'static str,
        /// Boolean meta saying whether more pages exist.
        has_more: Option<&'static str>,
    },
    /// A token embedded in a URL or object from meta, extracted by query-parameter name.
    CursorInLink {
        /// Meta field holding the link (string URL or object with a `uri`/`offset` member).
        meta: &'static str,
        /// Query parameter name inside the link, and the operation's parameter taking it.
        param: &'static str,
    },
    /// An integer page number parameter, incremented while pages are non-empty.
    PageNumber {
        /// Parameter name.
        param: &'static str,
        /// Meta field whose null/absence signals the end, if any.
        next_meta: Option<&'static str>,
    },
    /// An integer offset advanced by the number of records received.
    Offset {
        /// Parameter name.
        param: &'static str,
    },
    /// A full next-page URL (meta field or Link header) fetched as-is.
    NextUrl {
        /// Meta field holding the URL.
        meta: &'static str,
    },
    /// GraphQL relay: `endCursor` passed to `after` while `hasNextPage`.
    Relay {
        /// Meta field of the end cursor.
        cursor_meta: &'static str,
        /// Meta field of the has-next flag.
        has_next_meta: &'static str,
        /// Parameter taking the cursor.
        param: &'static str,
    },
}

impl ConnectorDescriptor {
    /// Find an operation by entity and action name.
    pub fn operation(&self, entity: &str, action: &str) -> Option<&'static OperationDescriptor> {
        self.entities
            .iter()
            .find(|e| e.name == entity)
            .and_then(|e| e.operations.iter().find(|o| o.action == action))
    }

    /// Find an entity by name.
    pub fn entity(&self, entity: &str) -> Option<&'static EntityDescriptor> {
        self.entities.iter().find(|e| e.name == entity)
    }
}
