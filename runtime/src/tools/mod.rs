//! LLM tool surface: tool descriptors, JSON Schemas and descriptions (from the core, derived
//! from a connector's static descriptor) plus the [`Dispatcher`] that runs tool calls through a
//! [`Client`](crate::Client) in either mode: the runtime validates the arguments before any
//! request is sent, failures become [`ToolOutput`]s with text for the model (what was wrong,
//! the valid choices, whether a retry can help), and large results are truncated with a marker.
//!
//! ```no_run
//! # async fn demo(client: airbyte_agent_runtime::Client) {
//! use airbyte_agent_runtime::tools::Dispatcher;
//! let tools = Dispatcher::new(client);
//! for tool in tools.tools().tools() {
//!     println!("{}: {}", tool.name, tool.input_schema);
//! }
//! let out = tools.call("customers_list", serde_json::json!({"limit": 2})).await;
//! println!("{}", out.text);
//! # }
//! ```

mod dispatch;

pub use airbyte_agent_core::tools::*;
pub use dispatch::{Dispatcher, ToolErrorKind, ToolOutput};

#[cfg(test)]
mod tests;
