//! Errors: [`Error`] for storage, keys and configuration; [`ApiError`] for what an HTTP client
//! sees, in the protocol's error shape `{"errors": [{"userPresentableMessage": ...}]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Failures of the server's own machinery (never shown verbatim to API clients).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed or refused.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The master key is missing or malformed.
    #[error("master key: {0}")]
    MasterKey(String),
    /// Encryption, decryption or hashing failed (no secret in the message).
    #[error("crypto: {0}")]
    Crypto(&'static str),
    /// A stored record is not what the server wrote.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// Bad configuration or arguments.
    #[error("{0}")]
    Config(String),
    /// I/O (files, sockets).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// An error answered to an API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Message shown to the client (never a secret).
    pub message: String,
    /// Seconds for a `Retry-After` header (503 while the database is unavailable).
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
    /// 400.
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    /// 401.
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, m)
    }
    /// 403.
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, m)
    }
    /// 404.
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, m)
    }
    /// 409.
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, m)
    }
    /// 422.
    pub fn unprocessable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, m)
    }
}

/// Seconds a client is asked to wait while the database is unavailable.
pub const UNAVAILABLE_RETRY_AFTER: u32 = 2;

/// Whether a database error means "not reachable right now" (connection refused or lost, pool
/// exhausted, server shutting down, SQLite busy) rather than a fault of the request or data.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            // PostgreSQL: connection exceptions (08), operator intervention (57P), too many
            // connections; SQLite: BUSY and LOCKED (extended codes keep the low byte).
            c.starts_with("08")
                || c.starts_with("57P")
                || c == "53300"
                || c.parse::<i64>()
                    .is_ok_and(|n| n & 0xff == 5 || n & 0xff == 6)
        }),
        _ => false,
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        if let Error::Database(d) = &e
            && is_unavailable(d)
        {
            eprintln!("airbyte-agent-server: database unavailable: {e}");
            let mut out = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable; retry shortly",
            );
            out.retry_after = Some(UNAVAILABLE_RETRY_AFTER);
            return out;
        }
        // The cause goes to the operator's log, not to the client.
        eprintln!("airbyte-agent-server: internal error: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "errors": [{"userPresentableMessage": self.message}],
        });
        let mut r = (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        r
    }
}

/// An error and its sources, `: `-joined (reqwest keeps the cause of a connection failure in
/// the chain).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}
