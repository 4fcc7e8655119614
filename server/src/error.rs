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
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
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

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
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
        (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}
