//! Auth options of a connector: the security schemes, how credentials reach the wire, and
//! the OAuth2 token grants.

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
