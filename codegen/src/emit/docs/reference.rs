//! `REFERENCE.md`: every entity and action with its signature, parameters and result.

use std::fmt::Write as _;

use airbyte_agent_core::tools::{ToolAnnotations, action_signature, tool_name};
use airbyte_agent_core::{ConnectorDescriptor, OperationDescriptor, ParamLocation};

use super::{cell, header, kind_label, short_title};
use crate::ir::Connector;

/// GitHub-style heading anchor of a word (`api_search` → `api_search`).
pub(super) fn anchor(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c == ' ' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

pub(super) fn result_line(op: &OperationDescriptor) -> String {
    use airbyte_agent_core::ActionKind;
    let meta: Vec<&str> = op.response.meta_extractor.iter().map(|(k, _)| *k).collect();
    match op.kind {
        ActionKind::List | ActionKind::Search if meta.is_empty() => {
            "`{data: [records], meta}`".to_string()
        }
        ActionKind::List | ActionKind::Search => {
            format!("`{{data: [records], meta: {{{}}}}}`", meta.join(", "))
        }
        ActionKind::Download => {
            "a byte stream (`download()`), or `{content_base64, size}` from `execute`".into()
        }
        _ if op.response.no_content => "nothing (HTTP 204)".into(),
        _ if !meta.is_empty() => format!("`{{data, meta: {{{}}}}}`", meta.join(", ")),
        _ => "the record".into(),
    }
}

pub(super) fn reference(ir: &Connector, desc: &'static ConnectorDescriptor) -> String {
    let mut s = header(ir);
    let _ = write!(
        s,
        "# {} reference\n\nEvery entity and action of the `{}` connector. Parameter names are wire names; \
         the typed API uses their snake-case setters, `execute` and the LLM tools accept both.\n\n",
        short_title(ir),
        ir.name
    );
    for (e, eir) in desc.entities.iter().zip(ir.entities.iter()) {
        let _ = write!(s, "## {}\n\n", e.name);
        if !e.description.trim().is_empty() {
            let _ = write!(s, "{}\n\n", cell(e.description).replace("\\|", "|"));
        }
        for (op, oir) in e.operations.iter().zip(eir.operations.iter()) {
            let _ = write!(s, "### {} {}\n\n", e.name, op.action);
            let a = ToolAnnotations::for_operation(op);
            let nature = if a.read_only {
                "read-only"
            } else if a.destructive {
                "destructive"
            } else {
                "writes"
            };
            let _ = write!(
                s,
                "`{} {}` · tool `{}` · {} · typed `connector.{}().{}(..)`\n\n",
                op.method.as_str(),
                op.path,
                tool_name(op.entity, op.action),
                nature,
                eir.rust_name,
                oir.rust_name
            );
            let text = if op.description.trim().is_empty() {
                op.summary
            } else {
                op.description
            };
            if !text.trim().is_empty() {
                let _ = write!(s, "{}\n\n", cell(text).replace("\\|", "|"));
            }
            let _ = write!(s, "Signature: `{}`\n\n", action_signature(desc, op));
            let params: Vec<_> = op.params.iter().filter(|p| p.name != "*").collect();
            if !params.is_empty() {
                s.push_str("| parameter | in | type | required | default | description |\n|---|---|---|---|---|---|\n");
                for p in params {
                    let location = match p.location {
                        ParamLocation::Path => "path",
                        ParamLocation::Query => "query",
                        ParamLocation::Header => "header",
                        ParamLocation::Body => "body",
                        _ => "other",
                    };
                    let mut description = cell(p.description);
                    if !p.enum_values.is_empty() {
                        if !description.is_empty() {
                            description.push(' ');
                        }
                        description
                            .push_str(&format!("One of: {}.", cell(&p.enum_values.join(", "))));
                    }
                    if let Some(ci) = &p.config_inject {
                        description.push_str(&format!(
                            " Filled from config `{}` when omitted.",
                            ci.source
                        ));
                    }
                    let _ = writeln!(
                        s,
                        "| `{}` | {} | {} | {} | {} | {} |",
                        p.name,
                        location,
                        kind_label(p.kind, p.item_kind),
                        if p.required && p.default.is_none() {
                            "yes"
                        } else {
                            "no"
                        },
                        p.default
                            .map(|d| format!("`{}`", cell(d)))
                            .unwrap_or_default(),
                        description.trim()
                    );
                }
                s.push('\n');
            }
            if op.params.iter().any(|p| p.name == "*") {
                s.push_str("The body is open: other fields are sent as given.\n\n");
            }
            let _ = write!(s, "Returns {}.\n\n", result_line(op));
        }
    }
    s
}
