//! Help texts of the connector commands, from the connector descriptors.

use std::fmt::Write as _;

use airbyte_agent_runtime::tools::{action_description, action_signature};
use airbyte_agent_runtime::{
    ConnectorDescriptor, EntityDescriptor, OperationDescriptor, ValueKind,
};

use crate::env::{self, var_name};

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// First sentence (or line) of a description.
fn first_sentence(text: &str) -> &str {
    let line = text.trim().lines().next().unwrap_or("").trim();
    match line.find(". ") {
        Some(i) => &line[..=i],
        None => line,
    }
}

fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| one_line(s).trim_end_matches('.').to_ascii_lowercase();
    norm(a) == norm(b)
}

/// The connector's title without a trailing "connector".
pub fn short_title(d: &ConnectorDescriptor) -> &str {
    let t = d.title.trim();
    match t
        .strip_suffix(" connector")
        .or_else(|| t.strip_suffix(" Connector"))
    {
        Some(rest) if !rest.trim().is_empty() => rest.trim_end(),
        _ if t.is_empty() => d.name,
        _ => t,
    }
}

/// One line describing an entity. Many specs give an entity the summary of one of its actions as
/// its description ("invoices: Create an invoice"); such a description does not describe the
/// entity, so the heading names the records and the actions instead.
pub fn entity_heading(d: &ConnectorDescriptor, e: &EntityDescriptor) -> String {
    let desc = one_line(first_sentence(e.description));
    let describes_an_action = e
        .operations
        .iter()
        .any(|op| same_text(&desc, op.summary) || same_text(&desc, first_sentence(op.description)));
    if !desc.is_empty() && !describes_an_action {
        return desc;
    }
    let actions: Vec<&str> = e.operations.iter().map(|op| op.action).collect();
    format!(
        "{} {} ({})",
        short_title(d),
        e.name.replace('_', " "),
        actions.join(", ")
    )
}

/// One line for an action in listings.
pub fn action_summary(op: &OperationDescriptor) -> String {
    let s = one_line(first_sentence(op.summary));
    if s.is_empty() {
        one_line(first_sentence(op.description))
    } else {
        s
    }
}

/// `airbyte-agent stripe`: the entities, one line each.
pub fn entity_list(d: &ConnectorDescriptor) -> String {
    let width = d.entities.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let mut s = format!(
        "{} entities (airbyte-agent {} <entity> --help for its actions):\n",
        short_title(d),
        d.name
    );
    for e in d.entities {
        let _ = writeln!(s, "  {:width$}  {}", e.name, entity_heading(d, e));
    }
    s
}

/// `airbyte-agent stripe --help`: usage, every entity with its actions, and the settings.
pub fn connector_help(d: &ConnectorDescriptor) -> String {
    let mut s = format!(
        "Usage: airbyte-agent {} <entity> <action> [--param NAME=VALUE]... [--json PARAMS]\n       airbyte-agent {} check [--entity ENTITY]\n\n{} connector (`{}`). Entities and their actions; `?` marks optional parameters:\n",
        d.name,
        d.name,
        short_title(d),
        d.name
    );
    for e in d.entities {
        let _ = writeln!(s, "{}: {}", e.name, entity_heading(d, e));
        for op in e.operations {
            let summary = action_summary(op);
            if summary.is_empty() {
                let _ = writeln!(s, "  {}", action_signature(d, op));
            } else {
                let _ = writeln!(s, "  {} - {}", action_signature(d, op), summary);
            }
        }
    }
    s.push_str("\nSettings:\n");
    let _ = writeln!(
        s,
        "  {}",
        env::missing_credentials_message(d).replacen("no credentials for", "credentials for", 1)
    );
    let _ = writeln!(
        s,
        "  --base-url URL or {} overrides the base URL ({})",
        var_name(d, "BASE_URL"),
        d.base_url
    );
    for key in env::config_keys(d) {
        if d.server_variables.iter().any(|v| v.name == key) {
            continue;
        }
        let _ = writeln!(s, "  {} sets config value `{key}`", var_name(d, key));
    }
    for v in d.server_variables {
        let _ = writeln!(
            s,
            "  {} sets server variable `{}`{}",
            var_name(d, v.name),
            v.name,
            v.default
                .map(|x| format!(" (default `{x}`)"))
                .unwrap_or_default()
        );
    }
    s.push_str(
        "\nOutput: --output json|jsonl|table (json: --pretty or --compact; default pretty on a terminal).\n",
    );
    s
}

/// `airbyte-agent stripe customers --help`.
pub fn entity_help(d: &ConnectorDescriptor, e: &EntityDescriptor) -> String {
    let mut s = format!("{}: {}\nActions:\n", e.name, entity_heading(d, e));
    for op in e.operations {
        let _ = writeln!(s, "  {}", action_signature(d, op));
    }
    let _ = writeln!(
        s,
        "\nRun `airbyte-agent {} {} <action> --help` for an action's parameters.",
        d.name, e.name
    );
    s
}

/// `airbyte-agent stripe check --help`.
pub fn check_help(d: &ConnectorDescriptor) -> String {
    format!(
        "Usage: airbyte-agent {} check [--entity ENTITY] [--param NAME=VALUE]... [--base-url URL]\n\nRuns the connector's health-check operation (or one entity's list/get) with limit 1 and prints\na JSON report. Exit codes: 0 ok, 3 credentials rejected, 4 unreachable or API error,\n5 bad configuration, 1 nothing checkable.\n",
        d.name
    )
}

/// `airbyte-agent stripe customers list --help`.
pub fn action_help(d: &ConnectorDescriptor, op: &OperationDescriptor) -> String {
    let mut s = format!(
        "Usage: airbyte-agent {} {} {} [--param NAME=VALUE]... [--json PARAMS] [--select FIELDS]\n       [--exclude FIELDS] [--base-url URL] [--output json|jsonl|table]\n\n{}\n\nParameters:\n",
        d.name,
        op.entity,
        op.action,
        action_description(d, op)
    );
    for p in op.params {
        if p.name == "*" {
            continue;
        }
        let desc = one_line(p.description);
        let _ = writeln!(
            s,
            "  {} ({:?}, {}{}){}{}",
            p.name,
            p.location,
            kind_name(p.kind),
            if p.required && p.default.is_none() {
                ", required"
            } else {
                ""
            },
            p.default
                .map(|x| format!(" default {x}"))
                .unwrap_or_default(),
            if desc.is_empty() {
                String::new()
            } else {
                format!(": {desc}")
            }
        );
    }
    s
}

fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::String => "string",
        ValueKind::Integer => "integer",
        ValueKind::Number => "number",
        ValueKind::Boolean => "boolean",
        ValueKind::Array => "array",
        ValueKind::Object => "object",
        _ => "any",
    }
}
