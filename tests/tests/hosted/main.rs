//! Hosted mode end to end: the runtime's hosted client, platform client and workspace handle
//! against the local double of Airbyte's API, which executes through the direct-mode runtime
//! against a Stripe-shaped provider double.
//!
//! One test binary, one module per topic; the fixtures they share are in `common`.

mod common;
mod connectors;
mod errors;
mod execute;
mod oauth;
mod platform;
mod tokens;
mod workflows;
