//! Shared helpers for integration tests.
pub mod airbyte_double;
pub mod oracle;
