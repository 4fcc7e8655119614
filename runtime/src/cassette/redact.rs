//! Redaction rules for recorded cassettes: sensitive names, and secret-shaped values anywhere.

use serde_json::Value;

use super::REDACTED;

/// Request headers that carry credentials (dropped) / response headers redacted.
pub(crate) fn sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "-");
    [
        "authorization",
        "api-key",
        "apikey",
        "token",
        "secret",
        "password",
        "cookie",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Query parameter names whose values are redacted.
pub(crate) fn sensitive_query_key(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["key", "token", "secret", "password", "auth"]
        .iter()
        .any(|s| n.contains(s))
}

/// JSON keys whose values are redacted.
pub(crate) fn sensitive_json_key(name: &str) -> bool {
    [
        "access_token",
        "refresh_token",
        "client_secret",
        "password",
        "token",
        "private_key",
        "api_key",
    ]
    .iter()
    .any(|s| s.eq_ignore_ascii_case(name))
}

/// Redact sensitive keys and secret-shaped strings in a JSON value, in place.
pub(crate) fn redact_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            // A binary body's base64 is not text; leave it alone.
            if m.get("_binary").and_then(Value::as_bool) == Some(true) {
                return;
            }
            for (k, item) in m.iter_mut() {
                if sensitive_json_key(k) && !item.is_null() {
                    *item = Value::String(REDACTED.into());
                } else {
                    redact_json(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::String(s) => {
            if let Some(r) = redact_shapes(s) {
                *s = r;
            }
        }
        _ => {}
    }
}

/// A secret shape: a prefix, then at least `min` characters of `tail`.
struct Shape {
    prefix: &'static str,
    min: usize,
    tail: fn(char) -> bool,
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}
fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
fn dashed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}
fn b64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}
fn upper_digit(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

const SHAPES: &[Shape] = &[
    // Stripe secret / restricted keys and webhook secrets.
    Shape {
        prefix: "sk_",
        min: 12,
        tail: word,
    },
    Shape {
        prefix: "rk_",
        min: 12,
        tail: word,
    },
    Shape {
        prefix: "whsec_",
        min: 12,
        tail: alnum,
    },
    // GitHub tokens.
    Shape {
        prefix: "ghp_",
        min: 20,
        tail: alnum,
    },
    Shape {
        prefix: "gho_",
        min: 20,
        tail: alnum,
    },
    Shape {
        prefix: "ghu_",
        min: 20,
        tail: alnum,
    },
    Shape {
        prefix: "ghs_",
        min: 20,
        tail: alnum,
    },
    Shape {
        prefix: "ghr_",
        min: 20,
        tail: alnum,
    },
    Shape {
        prefix: "github_pat_",
        min: 20,
        tail: word,
    },
    // Slack tokens (xoxb-, xoxp-, xoxa-, xoxo-, xoxs-, xoxr-).
    Shape {
        prefix: "xoxb-",
        min: 8,
        tail: dashed,
    },
    Shape {
        prefix: "xoxp-",
        min: 8,
        tail: dashed,
    },
    Shape {
        prefix: "xoxa-",
        min: 8,
        tail: dashed,
    },
    Shape {
        prefix: "xoxo-",
        min: 8,
        tail: dashed,
    },
    Shape {
        prefix: "xoxs-",
        min: 8,
        tail: dashed,
    },
    Shape {
        prefix: "xoxr-",
        min: 8,
        tail: dashed,
    },
    // Google API keys.
    Shape {
        prefix: "AIza",
        min: 30,
        tail: b64url,
    },
    // AWS access key ids.
    Shape {
        prefix: "AKIA",
        min: 16,
        tail: upper_digit,
    },
];

/// The length of a JWT (`eyJ...` `.` `eyJ...` `.` signature) starting at `s`, if one does.
fn jwt_len(s: &str) -> Option<usize> {
    let seg = |t: &str| t.find(|c: char| !b64url(c)).unwrap_or(t.len());
    if !s.starts_with("eyJ") {
        return None;
    }
    let a = seg(s);
    let rest = s[a..].strip_prefix('.')?;
    if a < 10 || !rest.starts_with("eyJ") {
        return None;
    }
    let b = seg(rest);
    if b < 10 {
        return None;
    }
    let rest2 = &rest[b..];
    let c = rest2.strip_prefix('.').map(seg).unwrap_or(0);
    let dot2 = usize::from(rest2.starts_with('.'));
    Some(a + 1 + b + dot2 + c)
}

/// Replace every secret-shaped token in `s`; `None` when nothing was found.
pub(crate) fn redact_shapes(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut changed = false;
    let mut i = 0;
    let mut prev: Option<char> = None;
    while i < s.len() {
        let rest = &s[i..];
        let boundary = prev.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        if boundary {
            let mut hit = jwt_len(rest);
            if hit.is_none() {
                for shape in SHAPES {
                    if let Some(after) = rest.strip_prefix(shape.prefix) {
                        let n = after
                            .find(|c: char| !(shape.tail)(c))
                            .unwrap_or(after.len());
                        if n >= shape.min {
                            hit = Some(shape.prefix.len() + n);
                            break;
                        }
                    }
                }
            }
            if let Some(len) = hit {
                out.push_str(REDACTED);
                changed = true;
                i += len;
                prev = s[..i].chars().next_back();
                continue;
            }
        }
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        prev = Some(c);
        i += c.len_utf8();
    }
    changed.then_some(out)
}

/// Redact a plain string (header or query value) by shape.
pub(crate) fn redact_text(s: &str) -> String {
    redact_shapes(s).unwrap_or_else(|| s.to_string())
}
