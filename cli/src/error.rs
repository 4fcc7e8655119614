//! CLI errors and their exit codes.

use airbyte_agent_runtime::Error;
use airbyte_agent_runtime::hosted::HostedError;

/// Exit code for usage errors (bad arguments, unknown names, invalid parameters).
pub const EXIT_USAGE: i32 = 2;
/// Exit code for authentication errors (missing or rejected credentials).
pub const EXIT_AUTH: i32 = 3;
/// Exit code for API errors (HTTP errors, timeouts, network failures, bad responses).
pub const EXIT_API: i32 = 4;
/// Exit code for configuration errors (a setting that cannot be used, such as a base URL that
/// is not a URL).
pub const EXIT_CONFIG: i32 = 5;
/// Exit code for anything else.
pub const EXIT_OTHER: i32 = 1;

/// A failure of the command line tool.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad command line.
    #[error("{0}")]
    Usage(String),
    /// Missing or unusable credentials.
    #[error("{0}")]
    Auth(String),
    /// A setting that cannot be used (exit code 5); the message names the setting.
    #[error("{0}")]
    Config(String),
    /// An API failure described by the CLI (exit code 4).
    #[error("{0}")]
    Api(String),
    /// A runtime error.
    #[error(transparent)]
    Runtime(#[from] Error),
    /// Anything else (I/O, MCP transport).
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// A CLI error with the message and the exit code of a runtime error it cannot own (runtime
    /// errors are not `Clone`).
    pub fn like(e: &Error) -> CliError {
        let message = e.to_string();
        match runtime_exit_code(e) {
            EXIT_USAGE => CliError::Usage(message),
            EXIT_AUTH => CliError::Auth(message),
            EXIT_API => CliError::Api(message),
            EXIT_CONFIG => CliError::Config(message),
            _ => CliError::Other(message),
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Auth(_) => EXIT_AUTH,
            CliError::Other(_) => EXIT_OTHER,
            CliError::Api(_) => EXIT_API,
            CliError::Config(_) => EXIT_CONFIG,
            CliError::Runtime(e) => runtime_exit_code(e),
        }
    }
}

/// Exit code of a runtime error.
pub fn runtime_exit_code(e: &Error) -> i32 {
    if e.is_validation() {
        return EXIT_USAGE;
    }
    match e {
        Error::Auth(_)
        | Error::UnknownAuthScheme { .. }
        | Error::MissingCredential { .. }
        | Error::RefreshUnavailable { .. }
        | Error::Hosted(HostedError::MissingCredentials { .. }) => EXIT_AUTH,
        Error::InvalidUrl { .. }
        | Error::MissingServerVariable { .. }
        | Error::InvalidHeader { .. }
        | Error::File { .. }
        | Error::Setup { .. }
        | Error::WrongConnector { .. }
        | Error::Descriptor { .. } => EXIT_CONFIG,
        Error::InvalidArgument { .. } => EXIT_USAGE,
        Error::Hosted(_) => EXIT_API,
        Error::NotFound(_)
        | Error::RateLimited { .. }
        | Error::Validation(_)
        | Error::Service(_)
        | Error::Api(_)
        | Error::Timeout { .. }
        | Error::Network { .. }
        | Error::Response { .. }
        | Error::Records { .. }
        | Error::Decode { .. } => EXIT_API,
        Error::Unsupported(_) => EXIT_USAGE,
        _ => EXIT_OTHER,
    }
}
