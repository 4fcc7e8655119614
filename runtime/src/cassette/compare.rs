//! Comparing a replayed request with the captured one: method, path, query, headers and
//! bodies, with masked values and globs.

use std::fmt;

/// Which captured request a received request is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestRole {
    /// `captured_request`: the operation's own request.
    Request,
    /// `captured_file_request`: the file request of a two-step download.
    FileRequest,
}

impl RequestRole {
    fn key(self) -> &'static str {
        match self {
            RequestRole::Request => "captured_request",
            RequestRole::FileRequest => "captured_file_request",
        }
    }
}

/// One difference between a received request and the captured one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The captured request compared with.
    pub role: RequestRole,
    /// Index of the received request (0 = first; retries count).
    pub index: usize,
    /// What differs: `method`, `path`, `query_params.limit`, `headers.accept`, `body.name`, ...
    pub field: String,
    /// The captured value (`(absent)` when the received request has something extra).
    pub expected: String,
    /// The received value (`(absent)` when missing). Secret-bearing values are masked.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "request #{} vs {}.{}: expected {}, got {}",
            self.index,
            self.role.key(),
            self.field,
            self.expected,
            self.actual
        )
    }
}

pub(super) fn same_path(a: &str, b: &str) -> bool {
    a == b || server::decode(a) == server::decode(b)
}

use serde_json::Value;

use super::model::{self, CapturedRequest, REDACTED};
use super::redact::{sensitive_header, sensitive_query_key};
use super::server::{self, Incoming};

/// Does `text` match `pattern`, where each `***REDACTED***` in the pattern matches anything?
fn glob_match(pattern: &str, text: &str) -> bool {
    let pieces: Vec<&str> = pattern.split(REDACTED).collect();
    if pieces.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

const ABSENT: &str = "(absent)";

fn shown(value: &str, sensitive: bool) -> String {
    if sensitive {
        "***".into()
    } else {
        format!("`{value}`")
    }
}

pub(super) fn compare(
    role: RequestRole,
    index: usize,
    captured: &CapturedRequest,
    got: &Incoming,
    out: &mut Vec<Mismatch>,
) {
    let mut push = |field: String, expected: String, actual: String| {
        out.push(Mismatch {
            role,
            index,
            field,
            expected,
            actual,
        });
    };
    let v = &captured.validation;
    if !captured.method.eq_ignore_ascii_case(&got.method) {
        push(
            "method".into(),
            captured.method.to_ascii_uppercase(),
            got.method.clone(),
        );
    }
    if !same_path(&captured.path, &got.path) {
        push(
            "path".into(),
            format!("`{}`", captured.path),
            format!("`{}`", got.path),
        );
    }

    // Query parameters.
    let mut received: Vec<(String, Vec<String>)> = Vec::new();
    for (k, val) in got.query_pairs() {
        match received.iter_mut().find(|(n, _)| *n == k) {
            Some((_, vals)) => vals.push(val),
            None => received.push((k, vec![val])),
        }
    }
    for (name, expected) in &captured.query_params {
        let sensitive = sensitive_query_key(name);
        let want = expected.values();
        let field = format!("query_params.{name}");
        match received.iter().find(|(n, _)| n == name) {
            None => push(field, shown(&want.join(","), sensitive), ABSENT.into()),
            Some((_, vals)) => {
                let ok = vals.len() == want.len()
                    && want.iter().zip(vals).all(|(w, g)| glob_match(w, g));
                if !ok {
                    push(
                        field,
                        shown(&want.join(","), sensitive),
                        shown(&vals.join(","), sensitive),
                    );
                }
            }
        }
    }
    if v.query_params_strict {
        for (name, vals) in &received {
            if !captured.query_params.contains_key(name) {
                push(
                    format!("query_params.{name}"),
                    ABSENT.into(),
                    shown(&vals.join(","), sensitive_query_key(name)),
                );
            }
        }
    }

    // Headers.
    let ignored = |k: &str| v.ignore_headers.iter().any(|i| i.eq_ignore_ascii_case(k));
    for (name, expected) in &captured.headers {
        if ignored(name) {
            continue;
        }
        let sensitive = sensitive_header(name);
        let field = format!("headers.{}", name.to_ascii_lowercase());
        match got.header(name) {
            None => push(field, shown(expected, sensitive), ABSENT.into()),
            Some(actual) if !glob_match(expected, actual) => {
                push(field, shown(expected, sensitive), shown(actual, sensitive));
            }
            Some(_) => {}
        }
    }
    if v.headers_strict {
        for (name, actual) in &got.headers {
            let transport = server::is_hop_header(name)
                || ["host", "accept-encoding", "user-agent"].contains(&name.as_str());
            if transport
                || ignored(name)
                || sensitive_header(name)
                || captured
                    .headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case(name))
            {
                continue;
            }
            push(
                format!("headers.{name}"),
                ABSENT.into(),
                shown(actual, false),
            );
        }
    }

    // Body.
    let received_body = model::body_value(&got.body, got.header("content-type"));
    if model::is_binary(&captured.body) {
        let want = model::body_bytes(&captured.body).ok().flatten();
        let have = (!got.body.is_empty()).then(|| got.body.to_vec());
        if want != have {
            push(
                "body".into(),
                format!("{} bytes", want.map_or(0, |b| b.len())),
                format!("{} bytes", got.body.len()),
            );
        }
    } else {
        json_match(
            &captured.body,
            &received_body,
            v.body_strict,
            "body",
            &mut push,
        );
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 {
        let cut: String = s.chars().take(200).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn json_match(
    expected: &Value,
    actual: &Value,
    strict: bool,
    path: &str,
    push: &mut impl FnMut(String, String, String),
) {
    match (expected, actual) {
        (Value::Null, _) if !strict => {}
        (Value::String(e), Value::String(a)) => {
            if !glob_match(e, a) {
                push(path.into(), short(expected), short(actual));
            }
        }
        (Value::String(e), _) if e == REDACTED => {}
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => json_match(ev, av, strict, &p, push),
                    None => push(p, short(ev), ABSENT.into()),
                }
            }
            if strict {
                for (k, av) in a {
                    if !e.contains_key(k) {
                        push(format!("{path}.{k}"), ABSENT.into(), short(av));
                    }
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if (strict && e.len() != a.len()) || a.len() < e.len() {
                push(
                    format!("{path}.length"),
                    e.len().to_string(),
                    a.len().to_string(),
                );
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                json_match(ev, av, strict, &format!("{path}[{i}]"), push);
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            if e != a && e.as_f64() != a.as_f64() {
                push(path.into(), short(expected), short(actual));
            }
        }
        (e, a) => {
            if e != a {
                let shown_actual = if a.is_null() { ABSENT.into() } else { short(a) };
                push(path.into(), short(e), shown_actual);
            }
        }
    }
}
