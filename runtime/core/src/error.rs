//! The one error type of the runtime.

use std::time::Duration;

/// The underlying error of a transport failure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with the runtime's [`Error`] as default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use crate::hosted_error::HostedError;

/// Details of an HTTP error response (status ≥ 400 or an HTTP-200 error check).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpErrorDetails {
    /// HTTP status code (200 for application errors signalled in a successful response).
    pub status: u16,
    /// Human-readable message extracted from the response body (never contains credentials).
    pub message: String,
    /// Machine-readable error code from the body (`code`, `error.code`, `type`), if any.
    pub code: Option<String>,
    /// Request id from the response headers (`x-request-id`, `request-id`, ...), if any.
    pub request_id: Option<String>,
}

impl HttpErrorDetails {
    /// Details with a status and a message (no code, no request id).
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        HttpErrorDetails {
            status,
            message: message.into(),
            code: None,
            request_id: None,
        }
    }
}

/// Every failure the runtime reports.
///
/// `Display` always includes the message. Messages never contain secret values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The entity does not exist in this connector.
    #[error("unknown entity `{entity}`; available entities: {}", .available.join(", "))]
    UnknownEntity {
        /// Requested entity.
        entity: String,
        /// Valid entity names.
        available: Vec<&'static str>,
    },
    /// The entity exists but does not support the action.
    #[error("entity `{entity}` does not support action `{action}`; available actions: {}", .available.join(", "))]
    UnknownAction {
        /// Entity.
        entity: String,
        /// Requested action.
        action: String,
        /// Valid actions of the entity.
        available: Vec<&'static str>,
    },
    /// A parameter the operation does not declare.
    #[error("`{entity}.{action}` has no parameter `{param}`; valid parameters: {}", .available.join(", "))]
    UnknownParam {
        /// Entity.
        entity: String,
        /// Action.
        action: String,
        /// The unknown parameter.
        param: String,
        /// Valid parameter names.
        available: Vec<&'static str>,
    },
    /// A required parameter is missing.
    #[error("`{entity}.{action}` requires parameter `{param}`")]
    MissingParam {
        /// Entity.
        entity: String,
        /// Action.
        action: String,
        /// The missing parameter.
        param: String,
    },
    /// A parameter value is invalid (wrong JSON type, not an allowed value, blank path value...).
    #[error("invalid value for `{param}` of `{entity}.{action}`: {reason}")]
    InvalidParam {
        /// Entity.
        entity: String,
        /// Action.
        action: String,
        /// The parameter.
        param: String,
        /// What is wrong.
        reason: String,
    },
    /// The credentials name an auth scheme the connector does not have.
    #[error("unknown auth scheme `{scheme}`; available schemes: {}", .available.join(", "))]
    UnknownAuthScheme {
        /// The scheme key of the credentials.
        scheme: String,
        /// The connector's scheme keys.
        available: Vec<&'static str>,
    },
    /// A credential field the auth scheme requires was not given.
    #[error("auth scheme `{scheme}` requires credential field `{field}`")]
    MissingCredential {
        /// The auth scheme.
        scheme: String,
        /// The missing field.
        field: String,
    },
    /// A URL setting cannot be used (the base URL, the Airbyte API host, a request URL).
    #[error("invalid {setting}: {reason}")]
    InvalidUrl {
        /// Which setting holds the URL, as the caller knows it (e.g. `base URL (base_url)`).
        setting: String,
        /// What is wrong.
        reason: String,
    },
    /// A variable of the base URL template has no value and no default.
    #[error(
        "server variable `{name}` has no value; set it with `server_variable(\"{name}\", ...)`"
    )]
    MissingServerVariable {
        /// The variable.
        name: String,
    },
    /// A header cannot be sent: its name or value has characters HTTP does not allow (the value
    /// itself is never shown; it may be a credential).
    #[error("header `{header}` cannot be sent: {reason}")]
    InvalidHeader {
        /// The header name (as much of it as is printable).
        header: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An access token is needed but the auth scheme gives no way to obtain a new one.
    #[error("auth scheme `{scheme}` cannot refresh its token: {reason}")]
    RefreshUnavailable {
        /// The auth scheme.
        scheme: String,
        /// What is missing.
        reason: &'static str,
    },
    /// A local file could not be read (an env file, a key file).
    #[error("cannot read {what} `{}`: {source}", .path.display())]
    File {
        /// What the file is (`env file`, ...).
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The TLS configuration or the HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {message}")]
    Setup {
        /// What failed.
        message: String,
    },
    /// An argument of a call is unusable (an empty id, an intent over the length limit, ...).
    #[error("invalid `{name}`: {reason}")]
    InvalidArgument {
        /// The argument.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The connector descriptor cannot be executed as it is (e.g. an invalid template in it).
    #[error("`{entity}.{action}` cannot be executed: {message}")]
    Descriptor {
        /// Entity.
        entity: String,
        /// Action.
        action: String,
        /// What is wrong.
        message: String,
    },
    /// A client built for one connector was given to another connector's type.
    #[error("the client was built for connector `{actual}`, not `{expected}`")]
    WrongConnector {
        /// The connector of the type.
        expected: String,
        /// The connector of the client.
        actual: String,
    },
    /// An internal lock was poisoned by a panic elsewhere in the process.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// 401 / 403, or a failed token refresh.
    #[error("authentication failed{}: {}", status_suffix(.0.status), .0.message)]
    Auth(HttpErrorDetails),
    /// 404.
    #[error("not found (HTTP 404): {}", .0.message)]
    NotFound(HttpErrorDetails),
    /// 429.
    #[error("rate limited (HTTP 429){}: {}", retry_suffix(*.retry_after), .details.message)]
    RateLimited {
        /// Response details.
        details: HttpErrorDetails,
        /// Delay the server asked for (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// 400 / 422: the request was rejected as invalid; fix the arguments and retry.
    #[error("request rejected (HTTP {}): {}", .0.status, .0.message)]
    Validation(HttpErrorDetails),
    /// Any other status ≥ 400.
    #[error("service error (HTTP {}{}): {}", .0.status, code_suffix(.0.code.as_deref()), .0.message)]
    Service(HttpErrorDetails),
    /// An HTTP-200 response that signals an application error (`x-airbyte-response-error-check`).
    #[error("API error: {}", .0.message)]
    Api(HttpErrorDetails),
    /// The request timed out.
    #[error("request timed out: {message}")]
    Timeout {
        /// What timed out.
        message: String,
        /// The transport's own error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// Connection or transport failure (no response).
    #[error("network error: {message}")]
    Network {
        /// Description of the failure.
        message: String,
        /// The transport's own error, when there is one (its URL removed).
        #[source]
        source: Option<BoxError>,
    },
    /// The response could not be interpreted (HTML/XML instead of JSON, invalid JSON, ...).
    #[error("unexpected response (HTTP {status}): {message}")]
    Response {
        /// HTTP status.
        status: u16,
        /// Description.
        message: String,
    },
    /// Record or record-shaping failure (record filter/transform errors, extraction errors).
    #[error("cannot process records of `{entity}.{action}`: {message}")]
    Records {
        /// Entity.
        entity: String,
        /// Action.
        action: String,
        /// Description.
        message: String,
    },
    /// The JSON result could not be decoded into the typed record.
    #[error("cannot decode result of `{entity}.{action}` at `{path}`: {message}")]
    Decode {
        /// Entity.
        entity: String,
        /// Action.
        action: String,
        /// Path of the offending value inside the result (`data[1].created`).
        path: String,
        /// Serde's message.
        message: String,
    },
    /// Local I/O failure (writing a download to disk).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The operation cannot run in this mode (e.g. hosted-only actions in direct mode).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Hosted-mode failure that is not an HTTP error (missing credentials, connector lookup, ...).
    #[error(transparent)]
    Hosted(#[from] crate::hosted_error::HostedError),
}

fn status_suffix(status: u16) -> String {
    if status == 0 {
        String::new()
    } else {
        format!(" (HTTP {status})")
    }
}

fn code_suffix(code: Option<&str>) -> String {
    code.map(|c| format!(", code {c}")).unwrap_or_default()
}

fn retry_suffix(d: Option<Duration>) -> String {
    d.map(|d| format!(", retry after {} s", d.as_secs_f64()))
        .unwrap_or_default()
}

impl Error {
    /// HTTP status of the response that caused the error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Auth(d) if d.status != 0 => Some(d.status),
            Error::NotFound(d) | Error::Validation(d) | Error::Service(d) | Error::Api(d) => {
                Some(d.status)
            }
            Error::RateLimited { details, .. } => Some(details.status),
            Error::Response { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether repeating the same call later may succeed (rate limits, 5xx, timeouts, network).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Timeout { .. } | Error::Network { .. } => true,
            Error::Service(d) => matches!(d.status, 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// The bare message: for HTTP errors the text extracted from the response body, otherwise the
    /// `Display` text.
    pub fn message(&self) -> String {
        match self {
            Error::Unsupported(m) => m.clone(),
            Error::InvalidArgument { reason, .. } => reason.clone(),
            _ => match self.details() {
                Some(d) => d.message.clone(),
                None => self.to_string(),
            },
        }
    }

    /// Response details for HTTP errors.
    pub fn details(&self) -> Option<&HttpErrorDetails> {
        match self {
            Error::Auth(d)
            | Error::NotFound(d)
            | Error::Validation(d)
            | Error::Service(d)
            | Error::Api(d) => Some(d),
            Error::RateLimited { details, .. } => Some(details),
            _ => None,
        }
    }

    /// Response details for HTTP errors, to amend (e.g. with the endpoint called).
    pub fn details_mut(&mut self) -> Option<&mut HttpErrorDetails> {
        match self {
            Error::Auth(d)
            | Error::NotFound(d)
            | Error::Validation(d)
            | Error::Service(d)
            | Error::Api(d) => Some(d),
            Error::RateLimited { details, .. } => Some(details),
            _ => None,
        }
    }

    /// Delay asked for by a 429 response.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the error was detected before any request was sent (unknown entity/action/param,
    /// missing or invalid parameters).
    pub fn is_validation(&self) -> bool {
        matches!(
            self,
            Error::UnknownEntity { .. }
                | Error::UnknownAction { .. }
                | Error::UnknownParam { .. }
                | Error::MissingParam { .. }
                | Error::InvalidParam { .. }
        )
    }

    /// [`Error::InvalidParam`] for `param` of `op`.
    pub fn invalid(
        op: &crate::OperationDescriptor,
        param: &str,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidParam {
            entity: op.entity.to_string(),
            action: op.action.to_string(),
            param: param.to_string(),
            reason: reason.into(),
        }
    }

    /// [`Error::MissingParam`] for `param` of `op`.
    pub fn missing(op: &crate::OperationDescriptor, param: &str) -> Self {
        Error::MissingParam {
            entity: op.entity.to_string(),
            action: op.action.to_string(),
            param: param.to_string(),
        }
    }

    /// [`Error::Records`] for `op`.
    pub fn records(op: &crate::OperationDescriptor, message: impl Into<String>) -> Self {
        Error::Records {
            entity: op.entity.to_string(),
            action: op.action.to_string(),
            message: message.into(),
        }
    }

    /// [`Error::Network`] without an underlying error.
    pub fn network(message: impl Into<String>) -> Self {
        Error::Network {
            message: message.into(),
            source: None,
        }
    }

    /// [`Error::Timeout`] without an underlying error.
    pub fn timeout(message: impl Into<String>) -> Self {
        Error::Timeout {
            message: message.into(),
            source: None,
        }
    }

    /// [`Error::Descriptor`] for `op`.
    pub fn descriptor(op: &crate::OperationDescriptor, message: impl Into<String>) -> Self {
        Error::Descriptor {
            entity: op.entity.to_string(),
            action: op.action.to_string(),
            message: message.into(),
        }
    }

    /// [`Error::InvalidArgument`].
    pub fn argument(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name: name.into(),
            reason: reason.into(),
        }
    }
}
