//! The I/O-free core of the Airbyte agent connectors.
//!
//! Everything here is plain data and pure functions: the static descriptors generated crates
//! emit, credentials kept as secrets, the one error type, request planning (parameters checked
//! against the descriptor, then URL, query, headers and body built), response interpretation
//! (status to error, record and meta extraction, typed pages decoded straight from the bytes),
//! the next-page step of every pagination style, the retry policy, and LLM tool schemas. It links
//! no HTTP client, async runtime or TLS stack, so the code generator and other tools can use it
//! without the network stack. `airbyte-agent-runtime` executes on top of it (transport, auth,
//! direct and hosted modes, page streams) and re-exports what generated crates use.

#![warn(missing_docs)]

pub mod credentials;
pub mod decode;
pub mod descriptor;
pub mod encode;
pub mod error;
pub mod execute_options;
pub mod headers;
pub mod hosted_error;
pub mod jsonpath;
mod macros;
pub mod next_page;
pub mod page;
pub mod page_from_bytes;
pub mod record;
pub mod request;
pub mod response;
pub mod retry;
pub mod template;
pub mod tools;
pub mod validate;

#[doc(hidden)]
#[cfg(any(test, feature = "fuzz"))]
#[path = "fuzz_api.rs"]
pub mod __fuzz;

pub use credentials::Credentials;
pub use descriptor::*;
pub use error::{BoxError, Error, HttpErrorDetails, Result};
pub use execute_options::{ExecuteOptions, MAX_INTENT_CHARS};
pub use hosted_error::HostedError;
pub use page::Page;
pub use response::{ExecuteResult, ResultKind};
pub use retry::RetryPolicy;

pub use secrecy::{ExposeSecret, SecretString};
pub use serde;
pub use serde_json;

/// Parameters of a call: wire name → JSON value.
pub type Params = serde_json::Map<String, serde_json::Value>;
