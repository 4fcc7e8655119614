//! Operations: method, kind, parameters, request body, response extraction and pagination.

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
    /// JSON Schema (draft 2020-12) of the result's `data`, as JSON text: the records of a
    /// page or the one result, with `$ref`s into [`ConnectorDescriptor::record_schemas`]
    /// (`None`: not described, e.g. downloads).
    ///
    /// [`ConnectorDescriptor::record_schemas`]: super::ConnectorDescriptor::record_schemas
    pub data_schema: Option<&'static str>,
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
        data_schema: None,
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
