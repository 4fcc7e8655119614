//! A self-hostable server speaking the hosted protocol of Airbyte's agent-connector API, so
//! generated crates and the runtime's hosted client work against it with only a different base
//! URL. Connector credentials stay on the server (envelope-encrypted at rest); execute runs the
//! call through the runtime's direct mode.
//!
//! Modules, each importing only those listed before it: [`error`], [`crypto`], [`config`],
//! [`registry`], [`storage`], [`metrics`], [`api`], [`cli`].

pub mod api;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod error;
pub mod metrics;
pub mod registry;
pub mod storage;
pub mod tls;
