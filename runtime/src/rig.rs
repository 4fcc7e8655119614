//! Connector actions as tools of the [rig](https://docs.rs/rig-core) agent framework (feature
//! `rig`, rig 0.44).
//!
//! One adapter for every connector, on top of the tool [`Dispatcher`]: each tool the dispatcher
//! exposes (one per action, `customers_list`, ... and optionally the combined
//! `<connector>_execute`) becomes a rig [`DynamicTool`] with the same name, description and
//! JSON Schema. A call runs through [`Dispatcher::call`], so the arguments are validated before
//! anything is sent, and every failure (invalid arguments, rejected credentials, 404, rate
//! limits, network) is a rig [`ToolExecutionError`] whose model-visible text is the
//! dispatcher's message: the agent sees an error tool result and can correct itself; nothing
//! panics. Successful results reach the model as JSON (or as text with a truncation marker when
//! they exceed [`ToolOptions::max_output_chars`]).
//!
//! Generated connector crates need nothing: every connector hands out its
//! [`Client`] (`stripe.client()`), and [`tools`] or [`RigTools::rig_tools`] turn it into tools
//! for rig-agent's `AgentBuilder::dynamic_tools`. The example of the README's "Use with rig"
//! section (a repository test keeps the two identical):
//!
//! ```no_run
//! use airbyte_agent_runtime::Client;
//! use airbyte_agent_runtime::rig::RigTools;
//! use rig_agent::AgentBuilder;
//! use rig_agent::completion::PromptError;
//! use rig_agent::core::{DynModel, operation::Completion};
//!
//! // `stripe` is `StripeConnector::new(auth)?.client()`; `model` is any rig completion model.
//! async fn ask(model: DynModel<Completion>, stripe: &Client) -> Result<String, PromptError> {
//!     let agent = AgentBuilder::new(model)
//!         .preamble("You answer questions about our Stripe account.")
//!         .dynamic_tools(stripe.rig_tools()) // customers_list, customers_get, ...
//!         .build();
//!     let answer = agent.prompt("Who are our two newest customers?").max_turns(4).await?;
//!     Ok(answer.output().to_string())
//! }
//! ```
//!
//! Several connectors in one agent: prefix the names so they cannot collide, and choose the
//! combined `{entity, action, params}` tool instead of one tool per action when the catalogue
//! is large.
//!
//! ```no_run
//! use airbyte_agent_runtime::Client;
//! use airbyte_agent_runtime::rig::{rig_core::tool::DynamicTool, tools_with};
//! use airbyte_agent_runtime::tools::ToolOptions;
//!
//! fn all_tools(stripe: &Client, github: &Client) -> Vec<DynamicTool> {
//!     let mut all = tools_with(stripe, ToolOptions::new().prefix("stripe"));
//!     all.extend(tools_with(github, ToolOptions::new().prefix("github").per_action(false).combined(true)));
//!     all
//! }
//! ```
//!
//! rig changes its API with most minor releases, so this adapter is written against one minor
//! version (`rig-core ~0.44.0`; the agent runtime is the separate `rig-agent` crate of the same
//! version). [`rig_core`] is re-exported so a caller can name the exact version the tools are
//! built with.

use std::sync::Arc;

pub use rig_core;
use rig_core::message::ToolName;
use rig_core::tool::{DynamicTool, ToolErrorKind as RigErrorKind, ToolExecutionError, ToolOutput};

use crate::Client;
use crate::tools::{Dispatcher, ToolErrorKind, ToolOptions};

/// The tools of `client`'s connector (one per action, default [`ToolOptions`]) as rig
/// [`DynamicTool`]s.
pub fn tools(client: &Client) -> Vec<DynamicTool> {
    dispatcher_tools(Dispatcher::new(client.clone()))
}

/// The tools chosen by `options` (name prefix, combined tool, output limit) as rig
/// [`DynamicTool`]s.
pub fn tools_with(client: &Client, options: ToolOptions) -> Vec<DynamicTool> {
    dispatcher_tools(Dispatcher::with_options(client.clone(), options))
}

/// Every tool `dispatcher` answers as a rig [`DynamicTool`]; the tools share the dispatcher.
pub fn dispatcher_tools(dispatcher: Dispatcher) -> Vec<DynamicTool> {
    let dispatcher = Arc::new(dispatcher);
    let mut out = Vec::with_capacity(dispatcher.tools().tools().len());
    for tool in dispatcher.tools().tools() {
        // The core names every tool with 1 to 128 characters, so `new` cannot fail here; a
        // name it refused would be a tool no model could call anyway.
        let Ok(name) = ToolName::new(tool.name.clone()) else {
            continue;
        };
        let dispatcher = Arc::clone(&dispatcher);
        let tool_name = tool.name.clone();
        out.push(DynamicTool::new(
            name,
            tool.description.clone(),
            tool.input_schema.clone(),
            move |arguments| {
                let dispatcher = Arc::clone(&dispatcher);
                let tool_name = tool_name.clone();
                Box::pin(async move { run(&dispatcher, &tool_name, arguments).await })
            },
        ));
    }
    out
}

/// Run one call through the dispatcher and shape its answer for rig.
async fn run(
    dispatcher: &Dispatcher,
    name: &str,
    arguments: serde_json::Value,
) -> Result<ToolOutput, ToolExecutionError> {
    let out = dispatcher.call(name, arguments).await;
    if out.is_error {
        let kind = out.error_kind.map_or(RigErrorKind::Other, rig_kind);
        // The dispatcher's text is written for the model (what was wrong, what to change) and
        // never holds a credential, so it is the model-visible output as well.
        return Err(ToolExecutionError::new(kind, out.text).with_retryable(out.retryable));
    }
    Ok(match out.value {
        Some(value) => ToolOutput::json(value),
        // Truncated: the text with its marker telling the model how to narrow the request.
        None => ToolOutput::text(out.text),
    })
}

/// The rig error class of a dispatcher failure.
fn rig_kind(kind: ToolErrorKind) -> RigErrorKind {
    match kind {
        ToolErrorKind::InvalidArguments => RigErrorKind::InvalidArgs,
        ToolErrorKind::Auth => RigErrorKind::PermissionDenied,
        ToolErrorKind::NotFound => RigErrorKind::NotFound,
        ToolErrorKind::RateLimited => RigErrorKind::RateLimited,
        ToolErrorKind::Rejected | ToolErrorKind::Transient => RigErrorKind::Provider,
        _ => RigErrorKind::Other,
    }
}

/// `rig_tools()` on a [`Client`] or a [`Dispatcher`]: the same as [`tools`] and
/// [`dispatcher_tools`], for method-call style (`stripe.client().rig_tools()`).
pub trait RigTools {
    /// Every tool as a rig [`DynamicTool`].
    fn rig_tools(&self) -> Vec<DynamicTool>;
}

impl RigTools for Client {
    fn rig_tools(&self) -> Vec<DynamicTool> {
        tools(self)
    }
}

impl RigTools for Dispatcher {
    fn rig_tools(&self) -> Vec<DynamicTool> {
        dispatcher_tools(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dispatcher_error_kind_has_a_rig_kind() {
        let cases = [
            (ToolErrorKind::InvalidArguments, RigErrorKind::InvalidArgs),
            (ToolErrorKind::Auth, RigErrorKind::PermissionDenied),
            (ToolErrorKind::NotFound, RigErrorKind::NotFound),
            (ToolErrorKind::Rejected, RigErrorKind::Provider),
            (ToolErrorKind::RateLimited, RigErrorKind::RateLimited),
            (ToolErrorKind::Transient, RigErrorKind::Provider),
            (ToolErrorKind::Other, RigErrorKind::Other),
        ];
        for (ours, theirs) in cases {
            assert_eq!(rig_kind(ours), theirs, "{ours:?}");
        }
    }
}
