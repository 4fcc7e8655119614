//! Shared runtime for generated Airbyte agent connector crates.
//!
//! Generated crates describe their operations as static data ([`descriptor`], from the I/O-free
//! `airbyte-agent-core`); this crate executes them. Its layers, each importing only those below
//! it (see `ARCHITECTURE.md`):
//!
//! 1. the one HTTP transport (TLS, the pooled client, error mapping, retry loop), the token
//!    cache, streamed downloads;
//! 2. direct-mode auth (credentials on the wire, OAuth2 refresh) and Airbyte API access;
//! 3. the modes as executors ([`Executor`]: direct and hosted);
//! 4. [`Client`]: a descriptor, an executor and limits;
//! 5. page streams, health checks, the tool dispatcher, the platform API ([`hosted`]) and
//!    cassettes.
//!
//! ```no_run
//! # async fn demo(descriptor: &'static airbyte_agent_runtime::ConnectorDescriptor) -> airbyte_agent_runtime::Result<()> {
//! use airbyte_agent_runtime::{Client, Credentials};
//! let client = Client::builder(descriptor, Credentials::new("bearerAuth").set("token", "secret".to_string()))
//!     .build()?;
//! let result = client.execute("customers", "list", serde_json::json!({"limit": 10})).await?;
//! println!("{}", result.data);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

// The core's modules, under the names the layers below use (`crate::request`, ...).
use airbyte_agent_core::{
    decode, encode, error, execute_options, headers, jsonpath, next_page, page, page_from_bytes,
    request, response, retry, template, validate,
};

// Layer 1: transport.
mod download;
mod token_cache;
mod transport;
// Layer 2: auth and Airbyte API access.
mod airbyte_api;
mod auth;
// Layer 3: modes.
mod modes;
// Layer 4: the client.
mod client;
// Layer 5: on top of the client.
pub mod check;
mod pagination;
mod platform;
pub mod tools;
// Record and replay API calls at the transport layer (feature `cassette`; docs in the module).
#[cfg(feature = "cassette")]
pub mod cassette;
// The public face of hosted mode and the platform API.
pub mod hosted;
// Layer 6: connector actions as rig agent tools (feature `rig`; docs in the module).
#[cfg(feature = "rig")]
pub mod rig;

#[cfg(feature = "fuzz")]
pub use airbyte_agent_core::__fuzz;
pub use airbyte_agent_core::descriptor;
pub use airbyte_agent_core::descriptor::*;
pub use airbyte_agent_core::{
    BoxError, Credentials, Error, ExecuteOptions, ExecuteResult, ExposeSecret, HttpErrorDetails,
    MAX_INTENT_CHARS, Page, Params, Result, ResultKind, RetryPolicy, SecretString, impl_record,
    record, serde, serde_json, string_enum,
};

pub use auth::{RefreshedTokens, TokenRefreshCallback};
pub use check::{CheckReport, CheckStatus};
pub use client::{Call, Client, ClientBuilder, DEFAULT_MAX_PAGES};
pub use download::ByteStream;
pub use modes::{Executor, Fetched, Mode};
pub use pagination::{PageStream, RecordStream};
