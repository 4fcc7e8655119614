//! Running tool calls: argument checks, execution, errors written for models, output guard.

use serde_json::{Map, Value};

use super::{ConnectorTools, Tool, ToolOptions, ToolTarget, action_signature};
use crate::Client;
use crate::descriptor::{ActionKind, OperationDescriptor};
use crate::error::Error;
use crate::execute_options::ExecuteOptions;

/// Why a tool call failed, for callers that map failures to their own signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ToolErrorKind {
    /// Unknown tool, or arguments that do not fit the schema (nothing was sent).
    InvalidArguments,
    /// Credentials missing, invalid or lacking permission.
    Auth,
    /// The addressed record does not exist (HTTP 404).
    NotFound,
    /// The service rejected the request as invalid (HTTP 400/422 or an error in a 200 answer).
    Rejected,
    /// Rate limited (HTTP 429).
    RateLimited,
    /// Temporary failure: 5xx, timeout, network.
    Transient,
    /// Anything else (configuration, unexpected responses, unsupported actions).
    Other,
}

/// The result of one tool call: text for the model plus machine-readable flags.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolOutput {
    /// Compact JSON of the result, or the error message; possibly truncated.
    pub text: String,
    /// Whether the call failed.
    pub is_error: bool,
    /// Failure class when `is_error`.
    pub error_kind: Option<ToolErrorKind>,
    /// Whether `text` was cut to the output limit.
    pub truncated: bool,
    /// Whether repeating the same call later may succeed.
    pub retryable: bool,
    /// The result as JSON (what `text` serialises) when the call succeeded: the whole result,
    /// or, for a page over the output limit, the page cut to the records that fit. `None` for
    /// errors and for other results over the limit, so a huge result is not carried past the
    /// output guard.
    pub value: Option<Value>,
    /// The file a download was saved to (with [`ToolOptions::download_dir`]); `value` then
    /// describes it (`path`, `size`, `content_type`).
    pub file: Option<std::path::PathBuf>,
}

impl ToolOutput {
    fn ok(text: String, truncated: bool, value: Value) -> Self {
        ToolOutput {
            text,
            is_error: false,
            error_kind: None,
            truncated,
            retryable: false,
            value: (!truncated).then_some(value),
            file: None,
        }
    }

    fn error(kind: ToolErrorKind, text: String, retryable: bool) -> Self {
        ToolOutput {
            text,
            is_error: true,
            error_kind: Some(kind),
            truncated: false,
            retryable,
            value: None,
            file: None,
        }
    }
}

/// Cut `text` to `max` characters and append a marker telling the model how to narrow the
/// request. Returns whether it was cut.
pub(crate) fn guard_output(text: &mut String, max: usize) -> bool {
    let total = text.chars().count();
    if total <= max {
        return false;
    }
    let cut = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
    text.truncate(cut);
    text.push_str(&format!(
        "\n[output truncated: showing {max} of {total} characters. Narrow the request \
         (a smaller `limit`, filters, or `get` for a single record) to see complete results.]"
    ));
    true
}

/// A page result over the output limit, cut at a record boundary: the first records whose
/// JSON fits in `max` characters (with `meta` kept), and its text with a note saying how many
/// records were left out. `None` when the result is not a page of records.
fn fewer_records(value: &Value, max: usize) -> Option<(Value, String)> {
    let records = value.get("data")?.as_array()?;
    let with = |k: usize| {
        let mut v = value.clone();
        v["data"] = Value::Array(records[..k].to_vec());
        let text = serde_json::to_string(&v).unwrap_or_default();
        (v, text)
    };
    // The largest record count that fits (a page of none always is the fallback).
    let (mut lo, mut hi) = (0, records.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if with(mid).1.chars().count() <= max {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let (v, mut text) = with(lo);
    text.push_str(&format!(
        "\n[output truncated: showing {lo} of {} records (the output limit is {max} characters). \
         Narrow the request (a smaller `limit`, filters, or `get` for a single record) to see \
         the rest.]",
        records.len()
    ));
    Some((v, text))
}

/// A new file name for a download: entity, action, the string arguments (an id, a path) and a
/// per-process sequence number, reduced to characters safe in any file system.
fn download_file_name(op: &OperationDescriptor, params: &Map<String, Value>) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut parts = vec![op.entity.to_string(), op.action.to_string()];
    parts.extend(
        params
            .values()
            .filter_map(Value::as_str)
            .map(str::to_string),
    );
    let safe: String = parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    format!("{}-{}-{n}", safe.trim_matches('.'), std::process::id())
}

/// Runs tool calls of one connector through a [`Client`].
#[derive(Debug, Clone)]
pub struct Dispatcher {
    client: Client,
    /// Shared: a server answering many callers with the same tools builds them once.
    tools: std::sync::Arc<ConnectorTools>,
}

impl Dispatcher {
    /// A dispatcher with default [`ToolOptions`].
    pub fn new(client: Client) -> Self {
        Self::with_options(client, ToolOptions::default())
    }

    /// A dispatcher exposing the tools chosen by `options`.
    pub fn with_options(client: Client, options: ToolOptions) -> Self {
        let tools = ConnectorTools::with_options(client.descriptor(), options);
        Dispatcher {
            client,
            tools: std::sync::Arc::new(tools),
        }
    }

    /// A dispatcher answering `tools`, built once and shared (a server keeps one set of tools
    /// per connector and makes a dispatcher per call). Tools of another connector than the
    /// client's are rebuilt for the client's, with the same options.
    pub fn with_tools(client: Client, tools: std::sync::Arc<ConnectorTools>) -> Self {
        if std::ptr::eq(tools.descriptor(), client.descriptor()) {
            Dispatcher { client, tools }
        } else {
            let options = tools.options().clone();
            Self::with_options(client, options)
        }
    }

    /// The tools this dispatcher answers.
    pub fn tools(&self) -> &ConnectorTools {
        &self.tools
    }

    /// The client calls run through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Run a tool call given as JSON: `{"name": "...", "arguments": {...}}` (`arguments` may
    /// also be a JSON string holding the object, as some model APIs send it).
    pub async fn call_json(&self, call: &Value) -> ToolOutput {
        let Some(obj) = call.as_object() else {
            return invalid(format!(
                "A tool call must be a JSON object with `name` and `arguments`, got {}.",
                crate::validate::json_type(call)
            ));
        };
        let Some(name) = obj.get("name").and_then(Value::as_str) else {
            return invalid(
                "A tool call needs a string `name`; available tools: ".to_string()
                    + &self.tool_names(),
            );
        };
        let args = match obj.get("arguments").or_else(|| obj.get("input")) {
            Some(Value::String(s)) => match serde_json::from_str(s) {
                Ok(v) => v,
                Err(e) => return invalid(format!("`arguments` is not valid JSON: {e}.")),
            },
            Some(v) => v.clone(),
            None => Value::Null,
        };
        self.call(name, args).await
    }

    /// Run the tool `name` with `arguments` (a JSON object, or null for none). Never panics:
    /// every failure becomes an error output whose text tells the model what to change.
    pub async fn call(&self, name: &str, arguments: Value) -> ToolOutput {
        let Some(tool) = self.tools.tool(name) else {
            return invalid(format!(
                "Unknown tool `{name}`. Available tools: {}.",
                self.tool_names()
            ));
        };
        let args = match arguments {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                return invalid(format!(
                    "The arguments of `{name}` must be a JSON object, got {}.",
                    crate::validate::json_type(&other)
                ));
            }
        };
        match tool.target {
            ToolTarget::Action(op) => {
                self.run(op, Value::Object(args), &ExecuteOptions::default())
                    .await
            }
            ToolTarget::Combined => self.run_combined(tool, args).await,
            _ => invalid(format!(
                "`{name}` is a kind of tool this runtime version cannot run."
            )),
        }
    }

    fn tool_names(&self) -> String {
        let names: Vec<&str> = self.tools.tools().iter().map(|t| t.name.as_str()).collect();
        names.join(", ")
    }

    async fn run_combined(&self, tool: &Tool, mut args: Map<String, Value>) -> ToolOutput {
        let d = self.client.descriptor();
        if let Some(extra) = args.keys().find(|k| {
            !matches!(
                k.as_str(),
                "entity" | "action" | "params" | "select_fields" | "exclude_fields"
            )
        }) {
            return invalid(format!(
                "`{}` takes only `entity`, `action`, `params`, `select_fields` and `exclude_fields`; unexpected `{extra}`. Put action parameters inside `params`.",
                tool.name
            ));
        }
        let mut fields = [Vec::new(), Vec::new()];
        for (slot, key) in fields.iter_mut().zip(["select_fields", "exclude_fields"]) {
            match args.remove(key) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    let names: Vec<String> = items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect();
                    if names.len() != items.len() {
                        return invalid(format!(
                            "`{key}` must list field names as strings, e.g. [\"id\", \"address.city\"]."
                        ));
                    }
                    *slot = names;
                }
                Some(other) => {
                    return invalid(format!(
                        "`{key}` must be a list of field names, got {}.",
                        crate::validate::json_type(&other)
                    ));
                }
            }
        }
        let [select, exclude] = fields;
        let options = ExecuteOptions::new()
            .select_fields(select)
            .exclude_fields(exclude);
        let entities = || {
            d.entities
                .iter()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let entity = match args.remove("entity") {
            Some(Value::String(s)) => s,
            Some(other) => {
                return invalid(format!(
                    "`entity` must be a string, got {}. Valid entities: {}.",
                    crate::validate::json_type(&other),
                    entities()
                ));
            }
            None => {
                return invalid(format!(
                    "`entity` is required. Valid entities: {}.",
                    entities()
                ));
            }
        };
        let action = match args.remove("action") {
            Some(Value::String(s)) => s,
            other => {
                let actions = d
                    .entity(&entity)
                    .map(|e| {
                        e.operations
                            .iter()
                            .map(|o| o.action)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                let what = match other {
                    Some(v) => format!(
                        "`action` must be a string, got {}",
                        crate::validate::json_type(&v)
                    ),
                    None => "`action` is required".to_string(),
                };
                return invalid(if actions.is_empty() {
                    format!("{what}.")
                } else {
                    format!("{what}. Actions of `{entity}`: {actions}.")
                });
            }
        };
        let params = match args.remove("params") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v,
            Some(other) => {
                return invalid(format!(
                    "`params` must be a JSON object, got {}.",
                    crate::validate::json_type(&other)
                ));
            }
        };
        let op = match self.client.operation(&entity, &action) {
            Ok(op) => op,
            Err(e) => return self.failure(None, e),
        };
        self.run(op, params, &options).await
    }

    /// The input schema of `op`'s tool (computed when only the combined tool exists).
    fn schema_of(&self, op: &'static OperationDescriptor) -> std::borrow::Cow<'_, Value> {
        self.tools
            .tools()
            .iter()
            .find(|t| matches!(t.target, ToolTarget::Action(o) if std::ptr::eq(o, op)))
            .map(|t| std::borrow::Cow::Borrowed(&t.input_schema))
            .unwrap_or_else(|| {
                std::borrow::Cow::Owned(super::action_schema(self.client.descriptor(), op))
            })
    }

    async fn run(
        &self,
        op: &'static OperationDescriptor,
        params: Value,
        options: &ExecuteOptions,
    ) -> ToolOutput {
        // Constraints the schema declares are checked before anything is sent. GraphQL
        // variables may be unassigned with null.
        if let Value::Object(args) = &params {
            let graphql = matches!(op.body, crate::descriptor::BodyDescriptor::GraphQl(_));
            if let Err(msg) = super::check_arguments(&self.schema_of(op), args, graphql) {
                return invalid(msg);
            }
        }
        if op.kind == ActionKind::Download
            && let Some(dir) = &self.tools.options().download_dir
        {
            return self.download_to(dir, op, params).await;
        }
        match self
            .client
            .execute_with(op.entity, op.action, params, options)
            .await
        {
            Ok(result) => {
                let value = result.into_value();
                let mut text = match serde_json::to_string(&value) {
                    Ok(t) => t,
                    Err(e) => {
                        return ToolOutput::error(
                            ToolErrorKind::Other,
                            format!("The result could not be serialised: {e}."),
                            false,
                        );
                    }
                };
                let max = self.tools.options().max_output_chars;
                if text.chars().count() > max
                    && let Some((trimmed, trimmed_text)) = fewer_records(&value, max)
                {
                    return ToolOutput {
                        text: trimmed_text,
                        truncated: true,
                        value: Some(trimmed),
                        ..ToolOutput::ok(String::new(), false, Value::Null)
                    };
                }
                let truncated = guard_output(&mut text, max);
                ToolOutput::ok(text, truncated, value)
            }
            Err(e) => self.failure(Some(op), e),
        }
    }

    /// Stream a download into a new file of `dir` and answer with its path, size and type.
    async fn download_to(
        &self,
        dir: &std::path::Path,
        op: &'static OperationDescriptor,
        params: Value,
    ) -> ToolOutput {
        let params = match params {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let path = dir.join(download_file_name(op, &params));
        if let Err(e) = std::fs::create_dir_all(dir) {
            return ToolOutput::error(
                ToolErrorKind::Other,
                format!(
                    "The download folder {} cannot be created: {e}.",
                    dir.display()
                ),
                false,
            );
        }
        let stream = match self.client.download(op, params).await {
            Ok(s) => s,
            Err(e) => return self.failure(Some(op), e),
        };
        let content_type = stream.content_type().map(str::to_string);
        let size = match stream.write_to_file(&path, false).await {
            Ok(n) => n,
            Err(e) => return self.failure(Some(op), e),
        };
        let value = serde_json::json!({
            "path": path.display().to_string(),
            "size": size,
            "content_type": content_type,
        });
        let text = format!(
            "Saved {size} bytes to {}{}.",
            path.display(),
            content_type.map(|t| format!(" ({t})")).unwrap_or_default()
        );
        ToolOutput {
            file: Some(path),
            ..ToolOutput::ok(text, false, value)
        }
    }

    fn failure(&self, op: Option<&'static OperationDescriptor>, e: Error) -> ToolOutput {
        let d = self.client.descriptor();
        let retryable = e.is_retryable();
        let write = op.is_some_and(|o| !super::ToolAnnotations::for_operation(o).read_only);
        let (kind, hint) = match &e {
            _ if e.is_validation() => (
                ToolErrorKind::InvalidArguments,
                match (&e, op) {
                    (Error::MissingParam { .. } | Error::InvalidParam { .. }, Some(op)) => {
                        format!(
                            "Nothing was sent. Fix the arguments and call again. Parameters: {}.",
                            action_signature(d, op)
                        )
                    }
                    _ => "Nothing was sent. Fix the arguments and call again.".to_string(),
                },
            ),
            Error::Auth(_) => (
                ToolErrorKind::Auth,
                "The credentials are missing, invalid or lack permission; retrying will not help. Tell the user.".into(),
            ),
            Error::NotFound(_) => (
                ToolErrorKind::NotFound,
                "Check the identifier; list the entity to find valid ones.".into(),
            ),
            Error::Validation(_) | Error::Api(_) => (
                ToolErrorKind::Rejected,
                "The service rejected the arguments; change them before calling again.".into(),
            ),
            Error::RateLimited { retry_after, .. } => (
                ToolErrorKind::RateLimited,
                match retry_after {
                    Some(d) => format!("Wait {} s before calling again.", d.as_secs_f64().ceil()),
                    None => "Wait a little before calling again.".into(),
                },
            ),
            _ if retryable && write => (
                ToolErrorKind::Transient,
                "This may be temporary, but the write may have happened: check with list/get before retrying.".into(),
            ),
            _ if retryable => (
                ToolErrorKind::Transient,
                "This may be temporary; you may retry once.".into(),
            ),
            _ => (ToolErrorKind::Other, String::new()),
        };
        let mut text = format!("Error: {e}.");
        if text.ends_with("..") {
            text.pop();
        }
        if !hint.is_empty() {
            text.push(' ');
            text.push_str(&hint);
        }
        ToolOutput::error(kind, text, retryable)
    }
}

fn invalid(text: String) -> ToolOutput {
    ToolOutput::error(ToolErrorKind::InvalidArguments, text, false)
}
