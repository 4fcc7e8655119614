//! The I/O-free core of the Airbyte agent connectors.
//!
//! Everything here is plain data and pure functions: the static descriptors generated crates
//! emit, credentials as secrets, encoding, templates, the JSONPath subset, and the record walk
//! generated structs decode through. It links no HTTP client, async runtime or TLS stack, so the
//! code generator and other tools can name descriptor types without the network stack.
//! `airbyte-agent-runtime` builds execution (transport, auth, modes, pagination) on top of it
//! and re-exports what generated crates use.

#![warn(missing_docs)]

pub mod credentials;
pub mod descriptor;
pub mod encode;
pub mod jsonpath;
mod macros;
pub mod record;
pub mod template;

pub use credentials::Credentials;
pub use descriptor::*;

pub use secrecy::{ExposeSecret, SecretString};
pub use serde;
pub use serde_json;
