//! The connectors compiled into this binary: the shared registry crate, whose features this
//! crate's connector features forward to (the server lists the same ones).

pub use airbyte_agent_registry::{connectors, find, names};
