//! `cargo xtask import-spec`: an upstream spec turned into a starting point for `specs/`.
//!
//! Structure and facts (paths, parameters, schemas, types, enums, extensions that drive
//! behaviour, names) are kept; upstream prose is not: every `description` / `summary` string
//! becomes a `TODO` marker, prose-like titles too, and the prose-only extensions
//! (`x-airbyte-example-questions`, `x-airbyte-ai-hints`, `x-airbyte-auth-tooltip`) are dropped.

use std::path::Path;

use serde_json::Value;

use crate::spec::{SpecError, parse_document};

/// Marker replacing upstream prose.
pub const TODO: &str = "TODO: describe";

/// Extensions whose whole value is prose for people or models.
const PROSE_EXTENSIONS: &[&str] = &[
    "x-airbyte-example-questions",
    "x-airbyte-ai-hints",
    "x-airbyte-auth-tooltip",
];

/// Keys whose object value maps *names* (property names, paths, status codes…) to values: their
/// own keys are never keywords such as `description`.
const NAME_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "schemas",
    "paths",
    "responses",
    "variables",
    "securitySchemes",
    "$defs",
    "definitions",
    "examples",
    "example",
    "default",
    "const",
    "enum",
    "headers",
    "content",
    "mapping",
];

/// Counts of what the import replaced or dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportStats {
    /// `description` / `summary` strings replaced by [`TODO`].
    pub prose_replaced: usize,
    /// Prose-like titles replaced.
    pub titles_replaced: usize,
    /// Prose-only extensions dropped.
    pub extensions_dropped: usize,
}

fn is_prose_title(t: &str) -> bool {
    t.split_whitespace().count() > 6 || t.trim_end().ends_with('.')
}

fn scrub(v: &mut Value, name_map: bool, in_example: bool, stats: &mut ImportStats) {
    match v {
        Value::Object(map) => {
            if !name_map && !in_example {
                for key in PROSE_EXTENSIONS {
                    if map.remove(*key).is_some() {
                        stats.extensions_dropped += 1;
                    }
                }
            }
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let Some(child) = map.get_mut(&k) else {
                    continue;
                };
                if !name_map && !in_example {
                    match (k.as_str(), &*child) {
                        ("description" | "summary", Value::String(s)) if !s.trim().is_empty() => {
                            *child = Value::String(TODO.into());
                            stats.prose_replaced += 1;
                            continue;
                        }
                        ("title", Value::String(s)) if is_prose_title(s) => {
                            *child = Value::String(TODO.into());
                            stats.titles_replaced += 1;
                            continue;
                        }
                        _ => {}
                    }
                }
                let example = in_example
                    || (!name_map
                        && matches!(
                            k.as_str(),
                            "example" | "examples" | "default" | "const" | "enum"
                        ));
                let child_names = !name_map && NAME_MAPS.contains(&k.as_str());
                scrub(child, child_names, example, stats);
            }
        }
        Value::Array(items) => {
            for i in items {
                scrub(i, false, in_example, stats);
            }
        }
        _ => {}
    }
}

/// Scrub a parsed spec tree in place; optionally rename the connector (`info.x-airbyte-connector-name`).
pub fn scrub_spec(root: &mut Value, name: Option<&str>) -> ImportStats {
    let mut stats = ImportStats::default();
    scrub(root, false, false, &mut stats);
    if let (Some(name), Some(info)) = (name, root.get_mut("info").and_then(Value::as_object_mut)) {
        info.insert(
            "x-airbyte-connector-name".into(),
            Value::String(name.to_string()),
        );
    }
    stats
}

/// Read an upstream spec (YAML or JSON), check that it loads, and return the scrubbed YAML text
/// plus what was replaced. The result is verified to load again.
pub fn import_spec(path: &Path, name: Option<&str>) -> Result<(String, ImportStats), SpecError> {
    let bytes = std::fs::read(path).map_err(|e| SpecError {
        file: path.to_path_buf(),
        path: String::new(),
        message: format!("cannot read file: {e}"),
    })?;
    let doc = parse_document(path, &bytes)?;
    let mut root: Value = doc.root;
    crate::load_bytes(path, &bytes)?;
    let stats = scrub_spec(&mut root, name);
    let yaml = serde_saphyr::to_string(&root).map_err(|e| SpecError {
        file: path.to_path_buf(),
        path: String::new(),
        message: format!("cannot write YAML: {e}"),
    })?;
    let text = format!(
        "# Imported by `cargo xtask import-spec`: upstream prose replaced by `{TODO}` markers.\n{yaml}"
    );
    crate::load_bytes(path, text.as_bytes())?;
    Ok((text, stats))
}
