//! Percent-encoding and value stringification matching the reference runtime's wire format.

use serde_json::Value;

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_pct(out: &mut String, b: u8) {
    out.push('%');
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 15) as usize] as char);
}

/// `application/x-www-form-urlencoded` component encoding (Python `quote_plus`): unreserved
/// characters kept, space as `+`, everything else percent-encoded.
pub fn form_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            push_pct(&mut out, b);
        }
    }
    out
}

/// Path segment encoding with no safe characters (`/` becomes `%2F`, space `%20`).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            push_pct(&mut out, b);
        }
    }
    out
}

/// Decode a percent-encoded query component (`+` as space).
pub fn form_decode(s: &str) -> String {
    let replaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&replaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// A scalar as the reference stringifies it on the wire: strings raw, booleans `true`/`false`,
/// numbers in JSON notation, `null` as `None`, arrays/objects as compact JSON.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Flatten a value into bracket-notation pairs (`a[b]=1`, `items[0][price]=p`). Nulls are
/// skipped; empty arrays and objects produce nothing.
pub fn bracket_pairs(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Null => {}
        Value::Object(m) => {
            for (k, v) in m {
                bracket_pairs(&format!("{prefix}[{k}]"), v, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                bracket_pairs(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => {
            if let Some(s) = scalar_text(other) {
                out.push((prefix.to_string(), s));
            }
        }
    }
}

/// Join pairs as a form-encoded string.
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(&form_component(k));
        s.push('=');
        s.push_str(&form_component(v));
    }
    s
}

/// The Python-side name of a wire parameter name: snake case, non-identifier characters as `_`,
/// a trailing `_` for Python keywords is accepted separately by the caller.
pub fn snake_alias(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() {
                let prev = if i > 0 { Some(chars[i - 1]) } else { None };
                let next = chars.get(i + 1).copied();
                let boundary = match prev {
                    Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                    Some(p) if p.is_ascii_uppercase() => {
                        next.is_some_and(|n| n.is_ascii_lowercase())
                    }
                    _ => false,
                };
                if boundary && !out.ends_with('_') && !out.is_empty() {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_python() {
        assert_eq!(
            form_component("2024-01-01T00:00:00Z"),
            "2024-01-01T00%3A00%3A00Z"
        );
        assert_eq!(form_component("processed_at ASC"), "processed_at+ASC");
        assert_eq!(form_component("created[gte]"), "created%5Bgte%5D");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn aliases() {
        assert_eq!(snake_alias("maxResults"), "max_results");
        assert_eq!(snake_alias("page[size]"), "page_size");
        assert_eq!(snake_alias("statuses[]"), "statuses");
        assert_eq!(snake_alias("created_at.after"), "created_at_after");
        assert_eq!(snake_alias("workspace-id"), "workspace_id");
        assert_eq!(snake_alias("Intercom-Version"), "intercom_version");
        assert_eq!(snake_alias("MarketplaceIds"), "marketplace_ids");
        assert_eq!(snake_alias("HTTPCode"), "http_code");
    }
}
