//! A node of the JSON tree with its path, and typed accessors that fail with that path.

use std::path::PathBuf;

use serde_json::Value;

use super::{SpecError, Warning, type_name};

/// A node of the document with its JSON path, for precise errors.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The value.
    pub value: &'a Value,
    /// JSON path (`paths./v1/customers.get`).
    pub path: String,
}

/// Join a JSON path and a key.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Node<'a> {
    /// The document root.
    pub fn root(value: &'a Value) -> Self {
        Node {
            value,
            path: String::new(),
        }
    }

    /// An error at this node (the file is filled in by the loader).
    pub fn err(&self, message: impl Into<String>) -> SpecError {
        SpecError {
            file: PathBuf::new(),
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// An error about a missing key of this node.
    pub fn missing(&self, key: &str) -> SpecError {
        SpecError {
            file: PathBuf::new(),
            path: join(&self.path, key),
            message: format!("required key `{key}` is missing"),
        }
    }

    /// A warning at this node.
    pub fn warn(&self, message: impl Into<String>) -> Warning {
        Warning {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Child by key (None when absent, when `null`, or when this node is not a mapping).
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        match self.value.as_object()?.get(key)? {
            Value::Null => None,
            v => Some(Node {
                value: v,
                path: join(&self.path, key),
            }),
        }
    }

    /// Required child.
    pub fn req(&self, key: &str) -> Result<Node<'a>, SpecError> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    /// This node as a string.
    pub fn as_str(&self) -> Result<&'a str, SpecError> {
        self.value.as_str().ok_or_else(|| {
            self.err(format!(
                "expected a string, found {}",
                type_name(self.value)
            ))
        })
    }

    /// This node as a string, also accepting numbers and booleans (written as text).
    pub fn as_text(&self) -> Result<String, SpecError> {
        match self.value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            v => Err(self.err(format!("expected a string, found {}", type_name(v)))),
        }
    }

    /// Optional string child.
    pub fn str_of(&self, key: &str) -> Result<Option<&'a str>, SpecError> {
        self.get(key).map(|n| n.as_str()).transpose()
    }

    /// Optional text child (strings, numbers, booleans).
    pub fn text_of(&self, key: &str) -> Result<Option<String>, SpecError> {
        self.get(key).map(|n| n.as_text()).transpose()
    }

    /// Required string child.
    pub fn req_str(&self, key: &str) -> Result<&'a str, SpecError> {
        self.req(key)?.as_str()
    }

    /// Optional boolean child (`true`/`false`; strings `"true"` are tolerated).
    pub fn bool_of(&self, key: &str) -> Result<Option<bool>, SpecError> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => match n.value {
                Value::Bool(b) => Ok(Some(*b)),
                Value::String(s) if s == "true" => Ok(Some(true)),
                Value::String(s) if s == "false" => Ok(Some(false)),
                v => Err(n.err(format!("expected a boolean, found {}", type_name(v)))),
            },
        }
    }

    /// Entries of a mapping node.
    pub fn entries(&self) -> Result<Vec<(&'a str, Node<'a>)>, SpecError> {
        let map = self.value.as_object().ok_or_else(|| {
            self.err(format!(
                "expected a mapping, found {}",
                type_name(self.value)
            ))
        })?;
        Ok(map
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    Node {
                        value: v,
                        path: join(&self.path, k),
                    },
                )
            })
            .collect())
    }

    /// Items of a list node.
    pub fn items(&self) -> Result<Vec<Node<'a>>, SpecError> {
        let list = self
            .value
            .as_array()
            .ok_or_else(|| self.err(format!("expected a list, found {}", type_name(self.value))))?;
        Ok(list
            .iter()
            .enumerate()
            .map(|(i, v)| Node {
                value: v,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// A list of strings.
    pub fn str_list(&self) -> Result<Vec<String>, SpecError> {
        self.items()?.iter().map(|n| n.as_text()).collect()
    }

    /// A mapping of strings to text values.
    pub fn str_map(&self) -> Result<Vec<(String, String)>, SpecError> {
        self.entries()?
            .into_iter()
            .map(|(k, v)| {
                Ok((
                    k.to_string(),
                    if v.value.is_null() {
                        String::new()
                    } else {
                        v.as_text()?
                    },
                ))
            })
            .collect()
    }
}
