//! A self-hostable server speaking the hosted protocol of Airbyte's agent-connector API.
pub mod crypto;
pub mod error;
pub mod storage;
