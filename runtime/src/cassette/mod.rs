//! Cassettes: record one real API call once, then replay it offline at the transport layer.
//!
//! A [`Cassette`] is one YAML document in the reference SDK's `TestSpec` layout: the call
//! (`entity`, `action`, `inputs.params`), the auth config as `${ENV_VAR}` references, the captured
//! request with its validation flags, and the captured response (plus the file request/response of
//! a two-step download).
//!
//! Replay ([`Replay`]) starts a real HTTP server on 127.0.0.1 that answers the captured response;
//! a normal [`Client`](crate::Client) pointed at it runs the runtime's own auth, URL building,
//! encoding and retry code, and the server reports every difference between what it received and
//! the captured request ([`Mismatch`]).
//!
//! Recording ([`Recorder`]) is a loopback proxy in front of the real API: point a client at it,
//! make the call, then build the cassette. Auth headers are dropped, secret-looking values are
//! redacted, and a cassette in which a credential value still appears is refused.
//!
//! ```no_run
//! # async fn demo(descriptor: &'static airbyte_agent_runtime::ConnectorDescriptor) -> Result<(), Box<dyn std::error::Error>> {
//! use airbyte_agent_runtime::cassette::{Cassette, Replay};
//! let cassette = Cassette::load("tests/cassettes/customers_list.yaml")?;
//! let report = Replay::run(&cassette, descriptor, |var| std::env::var(var).ok()).await?;
//! assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
//! println!("{}", report.result?.data);
//! # Ok(()) }
//! ```

mod compare;
mod model;
mod record;
mod redact;
mod replay;
mod server;

pub use compare::{Mismatch, RequestRole};
pub use model::{
    CapturedRequest, CapturedResponse, Cassette, Inputs, QueryValue, REDACTED, Validation,
};
pub use record::{RecordedCall, Recorder, RecorderServer};
pub use replay::{Replay, ReplayReport, ReplayServer};

/// Errors of loading, saving, recording and replaying cassettes.
///
/// Messages name the file and the field at fault; they never contain a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CassetteError {
    /// The cassette file cannot be read or written.
    #[error("cassette {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The YAML is not a valid cassette.
    #[error("cassette {origin}: {message}")]
    Invalid {
        /// The file (or `<string>`).
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// An `auth_config` value is a literal instead of a `${ENV_VAR}` reference.
    #[error(
        "cassette {origin}: auth_config.{field} must be an environment variable reference like `${{MY_API_KEY}}`, not a literal value"
    )]
    LiteralSecret {
        /// The file (or `<string>`).
        origin: String,
        /// The auth field.
        field: String,
    },
    /// An environment variable named by `auth_config` is not set.
    #[error("environment variable `{var}` (auth_config.{field}) is not set")]
    MissingEnv {
        /// The auth field.
        field: String,
        /// The variable name.
        var: String,
    },
    /// A credential value would still appear in the recorded cassette.
    #[error(
        "refusing to write the cassette: the value of credential `{field}` still appears in {location} after redaction"
    )]
    SecretLeak {
        /// The credential field whose value leaked.
        field: String,
        /// Where it appears (`captured_response.body`, ...).
        location: String,
    },
    /// Nothing was recorded (no request reached the recorder).
    #[error("nothing recorded: no request reached the recorder")]
    NothingRecorded,
    /// The cassette cannot be serialized to YAML.
    #[error("cannot write the cassette as YAML: {0}")]
    Serialize(String),
    /// The loopback server could not start.
    #[error("cannot start the loopback server: {0}")]
    Server(String),
    /// The replay client could not be built.
    #[error("cannot build the replay client: {0}")]
    Client(#[source] crate::Error),
}
