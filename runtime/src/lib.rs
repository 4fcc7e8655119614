//! Shared runtime for generated Airbyte agent connector crates.
//!
//! Generated crates describe their operations as static data ([`descriptor`]); this crate
//! executes them: URL and body building, auth (including OAuth2 refresh), retries, response
//! extraction, pagination and streamed downloads. See `ARCHITECTURE.md` for the contract.
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

pub use airbyte_agent_core::descriptor;
pub use descriptor::*;

#[doc(hidden)]
#[path = "fuzz_api.rs"]
pub mod __fuzz;
use airbyte_agent_core::{encode, jsonpath, template};
pub use airbyte_agent_core::{record, string_enum};
mod auth;
mod client;
mod download;
mod error;
mod execute_options;
mod fast;
pub mod hosted;
mod jwt;
mod pagination;
mod request;
mod response;
mod retry;
mod validate;

pub mod tools;

pub mod check;
pub use check::{CheckReport, CheckStatus};

// Record and replay API calls at the transport layer (feature `cassette`; docs in the module).
#[cfg(feature = "cassette")]
pub mod cassette;

pub use airbyte_agent_core::Credentials;
pub use auth::{RefreshedTokens, TokenRefreshCallback};
pub use client::{Client, ClientBuilder, DEFAULT_MAX_PAGES};
pub use download::ByteStream;
pub use error::{Error, HttpErrorDetails, Result};
pub use execute_options::{ExecuteOptions, MAX_INTENT_CHARS};
pub use pagination::{Page, PageStream, RecordStream};
pub use response::{ExecuteResult, ResultKind};
pub use retry::RetryPolicy;

pub use airbyte_agent_core::{ExposeSecret, SecretString, serde, serde_json};

/// Parameters of a call: wire name → JSON value.
pub type Params = serde_json::Map<String, serde_json::Value>;
