//! Spec loading: YAML text → `serde_json::Value` tree → typed view of the OpenAPI 3.1 subset used
//! by Airbyte agent connectors.
//!
//! Every accessor keeps the JSON path of the node it reads, so errors name the file, the path
//! (`paths./v1/customers.get.x-airbyte-entity`) and what is wrong. Nothing here panics on bad
//! input: any YAML document yields `Ok` or a [`SpecError`].

mod model;
mod node;
mod operation;
mod scheme;
mod view;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use model::*;
pub use node::*;
pub(crate) use scheme::is_jwt_bearer_grant;

/// A spec problem that prevents generation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: at `{}`: {message}", file.display(), if path.is_empty() { "<root>" } else { path.as_str() })]
pub struct SpecError {
    /// The spec file.
    pub file: PathBuf,
    /// JSON path of the offending node (`paths./v1/customers.get.x-airbyte-entity`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A tolerated oddity (unknown extension, known upstream defect handled deliberately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// JSON path of the node concerned.
    pub path: String,
    /// What was tolerated and how.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A parsed spec document plus its identity.
#[derive(Debug, Clone)]
pub struct Document {
    /// File the document came from.
    pub file: PathBuf,
    /// Hex sha256 of the file bytes.
    pub sha256: String,
    /// The whole document as JSON.
    pub root: Value,
}

/// Read and parse a spec file (YAML or JSON) into a [`Document`].
pub fn read_document(path: &Path) -> Result<Document, SpecError> {
    let bytes = std::fs::read(path).map_err(|e| SpecError {
        file: path.to_path_buf(),
        path: String::new(),
        message: format!("cannot read file: {e}"),
    })?;
    parse_document(path, &bytes)
}

/// Parse spec bytes (YAML, of which JSON is a subset) into a [`Document`].
pub fn parse_document(path: &Path, bytes: &[u8]) -> Result<Document, SpecError> {
    let err = |message: String| SpecError {
        file: path.to_path_buf(),
        path: String::new(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| err(format!("not UTF-8: {e}")))?;
    let root: Value =
        serde_saphyr::from_str(text).map_err(|e| err(format!("malformed YAML: {e}")))?;
    if !root.is_object() {
        return Err(err(format!(
            "the document must be a mapping, found {}",
            type_name(&root)
        )));
    }
    let sha256 = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Document {
        file: path.to_path_buf(),
        sha256,
        root,
    })
}

/// JSON type name of a value, for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
