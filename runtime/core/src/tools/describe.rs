//! Plain-text descriptions of connectors and actions, written for language models.
//!
//! The text has no blank lines (some agent frameworks cut tool descriptions at the first
//! one), lists every entity with its actions as signatures such as
//! `list(limit?: integer, status?: "draft"|"open")`, and ends with how results, pagination
//! and errors look.

use std::fmt::Write as _;

use super::schema::{is_required, kind_type};
use crate::descriptor::{
    ActionKind, ConnectorDescriptor, Method, OperationDescriptor, Pagination, ParamDescriptor,
    ValueKind,
};
use crate::request::is_open_body;

/// Most enum values shown inline in a signature.
const MAX_ENUM_SHOWN: usize = 8;
/// Most characters of an operation description repeated in a per-action tool description.
const MAX_DESCRIPTION_CHARS: usize = 600;

/// The connector title without a trailing "connector" (`Stripe connector` → `Stripe`).
pub fn short_title(d: &ConnectorDescriptor) -> &str {
    let t = d.title.trim();
    let lower = t.to_ascii_lowercase();
    match lower.strip_suffix(" connector") {
        Some(rest) if !rest.trim().is_empty() => t[..rest.len()].trim_end(),
        _ if t.is_empty() => d.name,
        _ => t,
    }
}

/// First sentence (or line) of a description, trimmed.
fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let line = text.lines().next().unwrap_or("").trim();
    match line.find(". ") {
        Some(i) => &line[..=i],
        None => line,
    }
}

/// Collapse whitespace (including newlines) so descriptions stay on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max).collect();
    s.push('…');
    s
}

fn type_label(p: &ParamDescriptor) -> String {
    let values: Vec<&str> = p.enum_values.to_vec();
    if !values.is_empty() {
        let mut shown: Vec<&str> = values.iter().take(MAX_ENUM_SHOWN).copied().collect();
        if values.len() > MAX_ENUM_SHOWN {
            shown.push("…");
        }
        let joined = shown.join("|");
        return if p.kind == ValueKind::Array {
            format!("array<{joined}>")
        } else {
            joined
        };
    }
    match (p.kind, p.item_kind.and_then(kind_type)) {
        (ValueKind::Array, Some(item)) => format!("array<{item}>"),
        (kind, _) => kind_type(kind).unwrap_or("any").to_string(),
    }
}

/// Signature of an action, e.g. `get(id: string)` or `list(limit?: integer, cursor?: string)`.
/// Required parameters come first; config-injected parameters are left out.
pub fn action_signature(d: &ConnectorDescriptor, op: &OperationDescriptor) -> String {
    let mut required = Vec::new();
    let mut optional = Vec::new();
    let mut open = false;
    for p in op.params {
        if is_open_body(p) {
            open = true;
            continue;
        }
        if p.config_inject.is_some() {
            continue;
        }
        if is_required(d, p) {
            required.push(format!("{}: {}", p.name, type_label(p)));
        } else {
            optional.push(format!("{}?: {}", p.name, type_label(p)));
        }
    }
    required.extend(optional);
    if open {
        required.push("...other fields".into());
    }
    format!("{}({})", op.action, required.join(", "))
}

fn result_shape(op: &OperationDescriptor) -> String {
    let mut s = match op.kind {
        ActionKind::List | ActionKind::Search => {
            let meta: Vec<&str> = op.response.meta_extractor.iter().map(|(k, _)| *k).collect();
            if meta.is_empty() {
                "Returns {data: [records], meta}.".to_string()
            } else {
                format!(
                    "Returns {{data: [records], meta: {{{}}}}}.",
                    meta.join(", ")
                )
            }
        }
        ActionKind::Download => "Returns {content_base64, size}.".to_string(),
        _ if op.response.no_content => "Returns nothing on success.".to_string(),
        _ if !op.response.meta_extractor.is_empty() => "Returns {data, meta}.".to_string(),
        _ => "Returns the record.".to_string(),
    };
    if let Some(hint) = pagination_hint(&op.pagination) {
        s.push(' ');
        s.push_str(&hint);
    }
    s
}

fn pagination_hint(p: &Pagination) -> Option<String> {
    Some(match *p {
        Pagination::Cursor { meta, param } => {
            format!("Next page: pass meta.{meta} as `{param}`.")
        }
        Pagination::LastRecord {
            field,
            param,
            has_more,
        } => match has_more {
            Some(h) => format!(
                "Next page: while meta.{h} is true, pass the last record's `{field}` as `{param}`."
            ),
            None => format!("Next page: pass the last record's `{field}` as `{param}`."),
        },
        Pagination::CursorInLink { meta, param } => {
            format!("Next page: pass the `{param}` value found in meta.{meta} as `{param}`.")
        }
        Pagination::PageNumber { param, .. } => {
            format!("Next page: increase `{param}` by one while pages are not empty.")
        }
        Pagination::Offset { param } => {
            format!("Next page: increase `{param}` by the number of records received.")
        }
        Pagination::Relay {
            cursor_meta,
            has_next_meta,
            param,
        } => format!(
            "Next page: while meta.{has_next_meta} is true, pass meta.{cursor_meta} as `{param}`."
        ),
        _ => return None,
    })
}

fn failure_hint(op: &OperationDescriptor) -> Option<&'static str> {
    let a = super::ToolAnnotations::for_operation(op);
    if a.read_only {
        None
    } else if a.destructive && op.method == Method::Delete {
        Some(
            "Destructive: deletes data; confirm with the user first. On failure do not retry blindly with a different target.",
        )
    } else {
        Some(
            "Writes data. On failure read the error; do not retry blindly (the write may have happened), check with list/get first.",
        )
    }
}

/// Description of one action's tool: summary, description, signature, result shape,
/// pagination and failure handling, on consecutive lines.
pub fn action_description(d: &ConnectorDescriptor, op: &OperationDescriptor) -> String {
    let mut s = String::new();
    let summary = one_line(op.summary);
    let description = one_line(op.description);
    let head = match (summary.is_empty(), description.is_empty()) {
        (false, false) if description.starts_with(summary.trim_end_matches('.')) => description,
        (false, false) => format!("{}. {}", summary.trim_end_matches('.'), description),
        (false, true) => summary,
        (true, false) => description,
        (true, true) => format!("{} {}", op.action, op.entity),
    };
    let _ = writeln!(
        s,
        "{}: {}",
        short_title(d),
        clip(&head, MAX_DESCRIPTION_CHARS)
    );
    let _ = writeln!(s, "Parameters: {}", action_signature(d, op));
    let _ = write!(s, "{}", result_shape(op));
    if let Some(h) = failure_hint(op) {
        let _ = write!(s, "\n{h}");
    }
    s
}

/// The concise description of a whole connector: every entity with its actions and their
/// parameter signatures, then the conventions shared by all actions. One line per item and
/// no blank lines.
pub fn connector_description(d: &ConnectorDescriptor) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} connector (`{}`). Entities and their actions; `?` marks optional parameters:",
        short_title(d),
        d.name
    );
    for e in d.entities {
        let desc = first_sentence(e.description);
        if desc.is_empty() {
            let _ = writeln!(s, "{}:", e.name);
        } else {
            let _ = writeln!(s, "{}: {}", e.name, one_line(desc));
        }
        for op in e.operations {
            let summary = one_line(first_sentence(op.summary));
            if summary.is_empty() {
                let _ = writeln!(s, "  {}", action_signature(d, op));
            } else {
                let _ = writeln!(s, "  {} - {}", action_signature(d, op), summary);
            }
        }
    }
    s.push_str(
        "RESPONSES: list/search return {data: [records], meta: {...}}; get/create/update return the record itself.\n",
    );
    s.push_str(
        "PAGINATION: pass the cursor from meta (or the last record's id) back as the action's cursor parameter; stop after a few pages unless the user asks for everything.\n",
    );
    s.push_str(
        "ERRORS: invalid arguments are reported with the valid choices before any request is sent; fix them and call again. Authentication errors will not go away by retrying.",
    );
    s
}
