//! Typed decoding through ONE deserializer: every record, page and meta type is decoded from JSON
//! text by `serde_json`'s string deserializer, whatever the source (the response bytes, or a
//! value the general path or hosted mode produced, written out first). A failure's position is
//! turned into the JSON path of the offending value by a plain scan of the text, so no
//! path-tracking deserializer is instantiated per record type: each generated struct's
//! `Deserialize` is compiled once, not three times.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::descriptor::OperationDescriptor;
use crate::error::{Error, Result};

/// Decode JSON text into `T`; a failure names the operation and the path of the offending value
/// below `prefix` (`data[1].created`).
pub fn decode_str<T: DeserializeOwned>(
    op: &OperationDescriptor,
    prefix: &str,
    text: &str,
) -> Result<T> {
    decode_str_for(op.entity, op.action, prefix, text)
}

/// [`decode_str`] for an action no descriptor describes (hosted-only actions).
pub fn decode_str_for<T: DeserializeOwned>(
    entity: &str,
    action: &str,
    prefix: &str,
    text: &str,
) -> Result<T> {
    let mut de = serde_json::Deserializer::from_str(text);
    let result = T::deserialize(&mut de).and_then(|t| de.end().map(|()| t));
    result.map_err(|e| decode_error(entity, action, prefix, text, &e))
}

/// Decode a JSON value into `T` (written out, then [`decode_str`]).
pub fn decode_value<T: DeserializeOwned>(
    op: &OperationDescriptor,
    prefix: &str,
    v: &Value,
) -> Result<T> {
    decode_str(op, prefix, &v.to_string())
}

fn decode_error(
    entity: &str,
    action: &str,
    prefix: &str,
    text: &str,
    e: &serde_json::Error,
) -> Error {
    let offset = line_column_offset(text, e.line(), e.column());
    let inner = path_at(text, offset);
    Error::Decode {
        entity: entity.to_string(),
        action: action.to_string(),
        path: match (prefix.is_empty(), inner.is_empty()) {
            (true, true) => ".".to_string(),
            (true, false) => inner,
            (false, true) => prefix.to_string(),
            (false, false) if inner.starts_with('[') => format!("{prefix}{inner}"),
            (false, false) => format!("{prefix}.{inner}"),
        },
        message: message_without_position(e),
    }
}

/// serde_json's message without its ` at line L column C` suffix.
fn message_without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix)
        .map(str::to_string)
        .unwrap_or(text)
}

/// Byte offset of a 1-based line and column (serde_json counts columns in bytes).
fn line_column_offset(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    (start + column).min(text.len())
}

enum Frame {
    Object { key: Option<String> },
    Array { index: usize, started: bool },
}

/// The path (`items[0].amount`, `""` for the root) of the innermost value that is open at
/// `offset` or was closed right there: where serde_json stops when a value does not fit.
fn path_at(text: &str, offset: usize) -> String {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    // The path when the innermost value ending at or after `offset` was entered.
    let mut i = 0;
    let render = |stack: &[Frame]| {
        let mut out = String::new();
        for f in stack {
            match f {
                Frame::Object { key: Some(k) } => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Frame::Array {
                    index,
                    started: true,
                } => {
                    out.push_str(&format!("[{index}]"));
                }
                _ => {}
            }
        }
        out
    };
    while i < bytes.len() {
        if i >= offset {
            return render(&stack);
        }
        match bytes[i] {
            b'{' => {
                enter_value(&mut stack);
                stack.push(Frame::Object { key: None });
                i += 1;
            }
            b'[' => {
                enter_value(&mut stack);
                stack.push(Frame::Array {
                    index: 0,
                    started: false,
                });
                i += 1;
            }
            b'}' | b']' => {
                i += 1;
                if i >= offset {
                    // The container just closed is the value that did not fit.
                    return render(&stack);
                }
                stack.pop();
                leave_value(&mut stack);
            }
            b'"' => {
                let end = string_end(bytes, i);
                let is_key = matches!(stack.last(), Some(Frame::Object { .. }))
                    && bytes[end..]
                        .iter()
                        .find(|b| !b.is_ascii_whitespace())
                        .is_some_and(|b| *b == b':');
                if is_key {
                    let raw = &text[i..end];
                    let key = serde_json::from_str::<String>(raw)
                        .unwrap_or_else(|_| raw.trim_matches('"').to_string());
                    if let Some(Frame::Object { key: k }) = stack.last_mut() {
                        *k = Some(key);
                    }
                    i = end;
                } else {
                    enter_value(&mut stack);
                    i = end;
                    if i >= offset {
                        return render(&stack);
                    }
                    leave_value(&mut stack);
                }
            }
            b',' | b':' => i += 1,
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                // A number, true, false or null.
                let end = bytes[i..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                    .map_or(bytes.len(), |p| i + p);
                enter_value(&mut stack);
                i = end;
                if i >= offset {
                    return render(&stack);
                }
                leave_value(&mut stack);
            }
        }
    }
    render(&stack)
}

/// A value starts inside the innermost container: an array counts it.
fn enter_value(stack: &mut [Frame]) {
    if let Some(Frame::Array { index, started }) = stack.last_mut() {
        if *started {
            *index += 1;
        }
        *started = true;
    }
}

/// A value inside the innermost container ended: an object forgets its key.
fn leave_value(stack: &mut [Frame]) {
    if let Some(Frame::Object { key }) = stack.last_mut() {
        *key = None;
    }
}

/// Index just past the closing quote of the string starting at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        id: i64,
        #[serde(default)]
        tags: Option<Vec<i64>>,
        #[serde(default)]
        owner: Option<Owner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Owner {
        login: String,
    }

    static OP: OperationDescriptor = OperationDescriptor {
        entity: "items",
        action: "list",
        kind: ActionKind::List,
        method: Method::Get,
        path: "/items",
        summary: "",
        description: "",
        params: &[],
        body: BodyDescriptor::None,
        response: ResponseDescriptor {
            record_extractor: Some("$.data"),
            meta_extractor: &[],
            record_filter: None,
            record_transform: &[],
            file_url: None,
            no_content: false,
            data_schema: None,
        },
        pagination: Pagination::None,
        preferred_for_check: false,
    };

    fn path_of<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> (String, String) {
        match decode_str::<T>(&OP, "data", text) {
            Err(Error::Decode { path, message, .. }) => (path, message),
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn paths_of_failures() {
        assert_eq!(path_of::<Item>(r#"{"id": "x"}"#).0, "data.id");
        let (p, m) = path_of::<Item>(r#"{"tags": [1]}"#);
        assert_eq!(p, "data");
        assert_eq!(m, "missing field `id`");
        assert_eq!(
            path_of::<Item>(r#"{"id":1,"tags":[1,2,"x"]}"#).0,
            "data.tags[2]"
        );
        assert_eq!(
            path_of::<Item>(r#"{"id":1,"owner":{"login":7}}"#).0,
            "data.owner.login"
        );
        assert_eq!(
            path_of::<Vec<Item>>(r#"[{"id":1},{"id":"two"}]"#).0,
            "data[1].id"
        );
        assert_eq!(
            path_of::<Item>(r#"{"a":{"b":[{}]},"id":true}"#).0,
            "data.id"
        );
        assert_eq!(path_of::<Item>(r#"{"k\"ey":"v","id":"s"}"#).0, "data.id");
        let m = path_of::<Item>(r#"{"id": "x"}"#).1;
        assert!(
            m.starts_with("invalid type: string \"x\", expected i64"),
            "{m}"
        );
    }

    #[test]
    fn values_decode_like_text() {
        let v = serde_json::json!({"id": 3, "tags": [1, 2]});
        let item: Item = decode_value(&OP, "data", &v).unwrap();
        assert_eq!(item.id, 3);
    }
}
