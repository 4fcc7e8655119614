//! LLM tool surface: tool descriptors, JSON Schemas and a dispatcher, derived from a
//! connector's static [`ConnectorDescriptor`].
//!
//! * [`ConnectorTools`] lists one tool per action, named `<entity>_<action>` (optionally
//!   prefixed), each with a draft 2020-12 input schema ([`action_schema`]), a description
//!   written for models and [`ToolAnnotations`] derived from HTTP semantics; optionally one
//!   combined `{entity, action, params}` tool ([`combined_schema`]). The whole connector is
//!   summarised by [`connector_description`].
//!
//! The dispatcher that runs tool calls through a client lives in the runtime
//! (`airbyte_agent_runtime::tools::Dispatcher`).

mod check;
mod describe;
mod output;
mod schema;

pub use check::check_arguments;
pub use describe::{action_description, action_signature, connector_description};
pub use output::{
    answers_envelope, any_output_schema, output_schema, record_definitions, structured_content,
};
pub use schema::{SCHEMA_DIALECT, action_schema, combined_schema, param_schema};

/// Default cap of a tool result's text, in characters.
pub const DEFAULT_MAX_OUTPUT_CHARS: usize = 100_000;

use serde_json::Value;

use crate::descriptor::{ActionKind, ConnectorDescriptor, Method, OperationDescriptor};

/// Behaviour hints of a tool (MCP `ToolAnnotations`), derived from the action kind and the
/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ToolAnnotations {
    /// The tool does not modify anything (GET, and list/get/search/download actions even when
    /// sent as POST, e.g. GraphQL queries and search endpoints).
    pub read_only: bool,
    /// The tool may overwrite or delete existing data (DELETE, PUT, PATCH, update/delete
    /// actions).
    pub destructive: bool,
    /// Repeating the call with the same arguments has no further effect.
    pub idempotent: bool,
    /// The tool talks to an external service.
    pub open_world: bool,
}

impl ToolAnnotations {
    /// Annotations of one operation.
    pub fn for_operation(op: &OperationDescriptor) -> Self {
        let read_kind = matches!(
            op.kind,
            ActionKind::List | ActionKind::Get | ActionKind::Search | ActionKind::Download
        );
        let read_method = matches!(op.method, Method::Get | Method::Head | Method::Options);
        let read_only = read_method || (read_kind && op.method == Method::Post);
        let destructive = !read_only
            && (matches!(op.method, Method::Delete | Method::Put | Method::Patch)
                || matches!(op.kind, ActionKind::Update | ActionKind::Delete));
        ToolAnnotations {
            read_only,
            destructive,
            idempotent: read_only || matches!(op.method, Method::Put | Method::Delete),
            open_world: true,
        }
    }

    /// Annotations of a tool that can run any of `ops`.
    fn combine<'a>(ops: impl Iterator<Item = &'a OperationDescriptor>) -> Self {
        let mut out = ToolAnnotations {
            read_only: true,
            destructive: false,
            idempotent: true,
            open_world: true,
        };
        for op in ops {
            let a = Self::for_operation(op);
            out.read_only &= a.read_only;
            out.destructive |= a.destructive;
            out.idempotent &= a.idempotent;
        }
        out
    }
}

/// What a tool runs.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ToolTarget {
    /// One operation; the arguments are its parameters.
    Action(&'static OperationDescriptor),
    /// Any operation, chosen by the `entity` and `action` arguments; `params` are its
    /// parameters.
    Combined,
}

/// One tool: name, description, input schema and annotations.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Tool {
    /// Tool name (`customers_list`; `^[A-Za-z0-9_-]{1,128}$`).
    pub name: String,
    /// Short human title (the operation summary).
    pub title: String,
    /// Description written for a language model.
    pub description: String,
    /// Draft 2020-12 JSON Schema of the arguments (an object schema).
    pub input_schema: Value,
    /// Draft 2020-12 JSON Schema of a successful result's structured content (an object
    /// schema; see [`output_schema`]).
    pub output_schema: Value,
    /// Behaviour hints.
    pub annotations: ToolAnnotations,
    /// What the tool runs.
    pub target: ToolTarget,
}

/// Which tools to expose and how to name them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolOptions {
    /// Prefix of every tool name (`stripe` → `stripe_customers_list`); use it when several
    /// connectors share one tool namespace.
    pub prefix: Option<String>,
    /// Expose one tool per action (default `true`).
    pub per_action: bool,
    /// Expose the combined `{entity, action, params}` tool, named `<prefix or connector>_execute`
    /// (default `false`).
    pub combined: bool,
    /// Largest tool output in characters before it is truncated (default
    /// [`DEFAULT_MAX_OUTPUT_CHARS`]).
    pub max_output_chars: usize,
    /// Where download actions save the file they fetch; the result then names the file instead
    /// of carrying its bytes (default `None`: the bytes come back base64-encoded).
    pub download_dir: Option<std::path::PathBuf>,
}

impl Default for ToolOptions {
    fn default() -> Self {
        ToolOptions {
            prefix: None,
            per_action: true,
            combined: false,
            max_output_chars: DEFAULT_MAX_OUTPUT_CHARS,
            download_dir: None,
        }
    }
}

impl ToolOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Prefix tool names with `prefix` and an underscore.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Expose one tool per action.
    pub fn per_action(mut self, yes: bool) -> Self {
        self.per_action = yes;
        self
    }

    /// Expose the combined tool.
    pub fn combined(mut self, yes: bool) -> Self {
        self.combined = yes;
        self
    }

    /// Output-size limit in characters (at least 1).
    pub fn max_output_chars(mut self, n: usize) -> Self {
        self.max_output_chars = n.max(1);
        self
    }

    /// Save downloads into `dir` (created when missing) and answer with the file.
    pub fn download_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.download_dir = Some(dir.into());
        self
    }
}

/// Turn arbitrary text into a valid tool-name fragment: ASCII letters, digits, `_` and `-`.
pub fn sanitize_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() { "tool".into() } else { out }
}

/// The default tool name of an action: `<entity>_<action>`, sanitised.
pub fn tool_name(entity: &str, action: &str) -> String {
    sanitize_name(&format!("{entity}_{action}"))
}

fn clip_name(mut name: String) -> String {
    if name.len() > 128 {
        name.truncate(128);
    }
    name
}

/// The tools of one connector (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct ConnectorTools {
    descriptor: &'static ConnectorDescriptor,
    description: String,
    tools: Vec<Tool>,
    options: ToolOptions,
}

impl ConnectorTools {
    /// Tools of `descriptor` with default options (one tool per action, no prefix).
    pub fn new(descriptor: &'static ConnectorDescriptor) -> Self {
        Self::with_options(descriptor, ToolOptions::default())
    }

    /// Tools of `descriptor` with `options`.
    pub fn with_options(descriptor: &'static ConnectorDescriptor, options: ToolOptions) -> Self {
        let d = descriptor;
        let prefix = options.prefix.as_deref().map(sanitize_name);
        let full = |base: String| match &prefix {
            Some(p) => clip_name(format!("{p}_{base}")),
            None => clip_name(base),
        };
        let mut tools: Vec<Tool> = Vec::new();
        let defs = record_definitions(d);
        if options.per_action {
            for e in d.entities {
                for op in e.operations {
                    let mut name = full(tool_name(op.entity, op.action));
                    let mut n = 2;
                    while tools.iter().any(|t| t.name == name) {
                        name = full(format!("{}_{n}", tool_name(op.entity, op.action)));
                        n += 1;
                    }
                    let title = if op.summary.trim().is_empty() {
                        format!("{} {}", op.action, op.entity)
                    } else {
                        op.summary.split_whitespace().collect::<Vec<_>>().join(" ")
                    };
                    tools.push(Tool {
                        name,
                        title,
                        description: action_description(d, op),
                        input_schema: action_schema(d, op),
                        output_schema: output_schema(&defs, op),
                        annotations: ToolAnnotations::for_operation(op),
                        target: ToolTarget::Action(op),
                    });
                }
            }
        }
        let description = connector_description(d);
        if options.combined {
            let base = prefix.clone().unwrap_or_else(|| sanitize_name(d.name));
            let mut name = clip_name(format!("{base}_execute"));
            if tools.iter().any(|t| t.name == name) {
                name = clip_name(format!("{base}_execute_any"));
            }
            tools.push(Tool {
                name,
                title: format!("{} (any action)", describe::short_title(d)),
                description: format!(
                    "Run any action of the {} connector: pass `entity`, `action` and `params`.\n{}",
                    describe::short_title(d),
                    description
                ),
                input_schema: combined_schema(d),
                output_schema: any_output_schema(),
                annotations: ToolAnnotations::combine(
                    d.entities.iter().flat_map(|e| e.operations.iter()),
                ),
                target: ToolTarget::Combined,
            });
        }
        ConnectorTools {
            descriptor,
            description,
            tools,
            options,
        }
    }

    /// The connector descriptor.
    pub fn descriptor(&self) -> &'static ConnectorDescriptor {
        self.descriptor
    }

    /// The connector description ([`connector_description`]).
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Every tool, per-action tools in descriptor order, then the combined tool.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// A tool by name.
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// The options the tools were built with.
    pub fn options(&self) -> &ToolOptions {
        &self.options
    }
}
