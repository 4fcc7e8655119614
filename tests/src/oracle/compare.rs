//! Comparison of observed requests and results with the oracle, producing readable mismatches.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::mask::{IGNORED_HEADERS, mask_header};
use super::model::{ExpectedResult, RecordedRequest};
use super::server::ObservedRequest;

/// Which part of a case differs. Allow-list entries may be restricted to some aspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Aspect {
    /// The spec could not be loaded, the client not built, or the case not set up.
    Setup,
    /// The call panicked or hung.
    Crash,
    /// A different number of requests (or different requests altogether).
    RequestCount,
    /// HTTP method.
    Method,
    /// Path.
    Path,
    /// Query string.
    Query,
    /// A header name or value.
    Header,
    /// The request body.
    Body,
    /// Success vs failure.
    Success,
    /// `envelope` / `raw` / `download`.
    Kind,
    /// Returned data.
    Data,
    /// Returned meta.
    Meta,
    /// Error category.
    ErrorCategory,
    /// Error message.
    ErrorMessage,
}

impl Aspect {
    /// Stable name used in reports and in the allow-list.
    pub fn name(self) -> &'static str {
        match self {
            Aspect::Setup => "setup",
            Aspect::Crash => "crash",
            Aspect::RequestCount => "request.count",
            Aspect::Method => "request.method",
            Aspect::Path => "request.path",
            Aspect::Query => "request.query",
            Aspect::Header => "request.header",
            Aspect::Body => "request.body",
            Aspect::Success => "result.success",
            Aspect::Kind => "result.kind",
            Aspect::Data => "result.data",
            Aspect::Meta => "result.meta",
            Aspect::ErrorCategory => "result.error.category",
            Aspect::ErrorMessage => "result.error.message",
        }
    }

    /// Every aspect (for allow-list validation).
    pub const ALL: &'static [Aspect] = &[
        Aspect::Setup,
        Aspect::Crash,
        Aspect::RequestCount,
        Aspect::Method,
        Aspect::Path,
        Aspect::Query,
        Aspect::Header,
        Aspect::Body,
        Aspect::Success,
        Aspect::Kind,
        Aspect::Data,
        Aspect::Meta,
        Aspect::ErrorCategory,
        Aspect::ErrorMessage,
    ];

    /// Parse a name produced by [`Aspect::name`].
    pub fn from_name(name: &str) -> Option<Aspect> {
        Aspect::ALL.iter().copied().find(|a| a.name() == name)
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One difference between the oracle and what we did.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// What differs.
    pub aspect: Aspect,
    /// Human-readable detail (expected vs actual).
    pub detail: String,
}

impl Mismatch {
    /// A new mismatch.
    pub fn new(aspect: Aspect, detail: impl Into<String>) -> Self {
        Mismatch {
            aspect,
            detail: detail.into(),
        }
    }
}

/// What our `execute` produced, reduced to the oracle's terms.
#[derive(Debug, Clone)]
pub struct ObservedResult {
    /// Whether the call succeeded.
    pub success: bool,
    /// `envelope`, `raw` or `download` on success.
    pub kind: Option<&'static str>,
    /// Returned data (`{"__bytes_base64__": ...}` for downloads).
    pub data: Value,
    /// Returned meta.
    pub meta: Value,
    /// The error, on failure.
    pub error: Option<ObservedError>,
}

/// Our error, reduced to a category and messages.
#[derive(Debug, Clone)]
pub struct ObservedError {
    /// Category (the runtime `Error` variant name, e.g. `NotFound`).
    pub category: &'static str,
    /// Bare message (the API's text for HTTP errors).
    pub message: String,
    /// Full `Display` text.
    pub display: String,
}

const MAX_LINES: usize = 6;
const MAX_VALUE: usize = 160;

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_VALUE {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX_VALUE).collect();
        format!("{head}…")
    }
}

fn clip_json(v: &Value) -> String {
    clip(&v.to_string())
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// Compare the whole request sequence.
pub fn compare_requests(
    expected: &[RecordedRequest],
    observed: &[ObservedRequest],
    out: &mut Vec<Mismatch>,
) {
    if expected.len() == observed.len() {
        for (i, (e, o)) in expected.iter().zip(observed).enumerate() {
            compare_request(i, e, o, out);
        }
        return;
    }
    let seq = |items: Vec<String>| {
        if items.is_empty() {
            "(none)".to_string()
        } else {
            items.join(", ")
        }
    };
    out.push(Mismatch::new(
        Aspect::RequestCount,
        format!(
            "expected {} request(s): {}\n     got {} request(s): {}",
            expected.len(),
            seq(expected
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect()),
            observed.len(),
            seq(observed
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect()),
        ),
    ));
    // Pair requests with the same method and path, in order, and compare those too.
    let mut used = vec![false; observed.len()];
    for (i, e) in expected.iter().enumerate() {
        let found = observed
            .iter()
            .enumerate()
            .find(|(j, o)| !used[*j] && o.method == e.method && o.path == e.path);
        if let Some((j, o)) = found {
            used[j] = true;
            compare_request(i, e, o, out);
        }
    }
}

/// Header value with the multipart boundary replaced by `{boundary}`; returns the boundary.
fn multipart_boundary(content_type: &str) -> Option<String> {
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    content_type.split(';').find_map(|p| {
        let p = p.trim();
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Our headers as the recorder would have stored them: lower-case names, masked values,
/// ignored names dropped, boundary normalised. Repeated names are joined with `, `.
pub fn normalize_headers(observed: &ObservedRequest) -> (Vec<(String, String)>, Option<String>) {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut boundary = None;
    for (name, value) in &observed.headers {
        let name = name.to_ascii_lowercase();
        if IGNORED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let mut value = mask_header(&name, value);
        if name == "content-type"
            && let Some(b) = multipart_boundary(&value)
        {
            value = value.replace(&b, "{boundary}");
            boundary = Some(b);
        }
        if let Some(existing) = out.iter_mut().find(|(n, _)| *n == name) {
            existing.1.push_str(", ");
            existing.1.push_str(&value);
        } else {
            out.push((name, value));
        }
    }
    (out, boundary)
}

fn compare_request(
    index: usize,
    expected: &RecordedRequest,
    observed: &ObservedRequest,
    out: &mut Vec<Mismatch>,
) {
    let at = format!("request[{index}] {} {}", expected.method, expected.path);
    if !expected.method.eq_ignore_ascii_case(&observed.method) {
        out.push(Mismatch::new(
            Aspect::Method,
            format!(
                "{at}: method expected {} got {}",
                expected.method, observed.method
            ),
        ));
    }
    if expected.path != observed.path {
        out.push(Mismatch::new(
            Aspect::Path,
            format!(
                "{at}: path\n     expected {}\n          got {}",
                expected.path, observed.path
            ),
        ));
    }
    if expected.raw_query != observed.raw_query {
        let e = decode_pairs(&expected.raw_query);
        let o = decode_pairs(&observed.raw_query);
        let note = if e == o {
            " (same decoded pairs: encoding differs)"
        } else {
            ""
        };
        out.push(Mismatch::new(
            Aspect::Query,
            format!(
                "{at}: query{note}\n     expected {:?}\n          got {:?}{}",
                expected.raw_query,
                observed.raw_query,
                pairs_diff(&e, &o)
            ),
        ));
    }
    let (headers, boundary) = normalize_headers(observed);
    compare_headers(&at, expected, &headers, out);
    compare_body(&at, expected, observed, boundary.as_deref(), out);
}

fn pairs_diff(e: &[(String, String)], o: &[(String, String)]) -> String {
    let missing: Vec<String> = e
        .iter()
        .filter(|p| !o.contains(p))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let extra: Vec<String> = o
        .iter()
        .filter(|p| !e.contains(p))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut s = String::new();
    if !missing.is_empty() {
        s.push_str(&format!("\n     missing {}", clip(&missing.join("&"))));
    }
    if !extra.is_empty() {
        s.push_str(&format!("\n     extra   {}", clip(&extra.join("&"))));
    }
    if s.is_empty() && e != o {
        s.push_str("\n     (same pairs, different order)");
    }
    s
}

fn compare_headers(
    at: &str,
    expected: &RecordedRequest,
    observed: &[(String, String)],
    out: &mut Vec<Mismatch>,
) {
    let get = |name: &str| {
        observed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut lines = Vec::new();
    for (name, want) in &expected.headers {
        let name = name.to_ascii_lowercase();
        if IGNORED_HEADERS.contains(&name.as_str()) || name == "connection" {
            continue;
        }
        match get(&name) {
            Some(got) if got == want => {}
            // The HTTP client's default Accept may be absent.
            None if name == "accept" && want == "*/*" => {}
            Some(got) => lines.push(format!("{name}: expected {want:?} got {got:?}")),
            None => lines.push(format!("{name}: expected {want:?}, missing")),
        }
    }
    for (name, got) in observed {
        if name == "connection"
            || expected
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case(name))
        {
            continue;
        }
        lines.push(format!("{name}: unexpected header {got:?}"));
    }
    for line in lines {
        out.push(Mismatch::new(
            Aspect::Header,
            format!("{at}: header {line}"),
        ));
    }
}

/// Decode `application/x-www-form-urlencoded` (or a query string) into pairs.
pub fn decode_pairs(s: &str) -> Vec<(String, String)> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn compare_body(
    at: &str,
    expected: &RecordedRequest,
    observed: &ObservedRequest,
    boundary: Option<&str>,
    out: &mut Vec<Mismatch>,
) {
    let body = &observed.body;
    let text = std::str::from_utf8(body).ok();
    let mut fail =
        |detail: String| out.push(Mismatch::new(Aspect::Body, format!("{at}: {detail}")));

    if expected.body_text.is_none() && expected.body_base64.is_none() {
        if !body.is_empty() {
            fail(format!(
                "body expected empty, got {}",
                clip(&String::from_utf8_lossy(body))
            ));
        }
        return;
    }
    if let Some(b64) = &expected.body_base64 {
        match B64.decode(b64) {
            Ok(want) if want == body.as_ref() => {}
            Ok(_) => fail(format!(
                "binary body differs: expected {} byte(s), got {}",
                b64.len() * 3 / 4,
                body.len()
            )),
            Err(e) => fail(format!("oracle body_base64 undecodable: {e}")),
        }
        return;
    }
    let Some(text) = text else {
        fail(format!(
            "body expected text, got {} non-UTF-8 byte(s)",
            body.len()
        ));
        return;
    };
    if let Some(form) = &expected.body_form {
        let got = decode_pairs(text);
        if &got != form {
            let e: Vec<(String, String)> = form.clone();
            fail(format!(
                "form body differs\n     expected {}\n          got {}{}",
                clip(expected.body_text.as_deref().unwrap_or("")),
                clip(text),
                pairs_diff(&e, &got)
            ));
        }
        return;
    }
    let want_text = expected.body_text.as_deref().unwrap_or("");
    let want_json = expected
        .body_json
        .clone()
        .or_else(|| serde_json::from_str::<Value>(want_text).ok());
    if let Some(want) = want_json {
        match serde_json::from_str::<Value>(text) {
            Ok(got) => {
                let mut diffs = Vec::new();
                json_diff("$", &want, &got, &mut diffs);
                if !diffs.is_empty() {
                    fail(format!("JSON body differs\n     {}", diffs.join("\n     ")));
                }
            }
            Err(_) => fail(format!(
                "body expected JSON {}\n          got non-JSON {}",
                clip(want_text),
                clip(text)
            )),
        }
        return;
    }
    if want_text.contains("{boundary}") {
        let got = match boundary {
            Some(b) => text.replace(b, "{boundary}"),
            None => text.to_string(),
        };
        let diffs = multipart_diff(want_text, &got);
        if !diffs.is_empty() {
            fail(format!(
                "multipart body differs\n     {}",
                diffs.join("\n     ")
            ));
        }
        return;
    }
    if want_text != text {
        fail(format!(
            "text body differs\n     expected {:?}\n          got {:?}",
            clip(want_text),
            clip(text)
        ));
    }
}

/// Compare multipart bodies part by part; JSON parts are compared as values.
fn multipart_diff(want: &str, got: &str) -> Vec<String> {
    let split = |s: &str| -> Vec<(String, String)> {
        s.split("--{boundary}")
            .map(|p| p.trim_start_matches("\r\n"))
            .filter(|p| !p.is_empty() && !p.starts_with("--"))
            .map(|p| {
                let p = p.strip_suffix("\r\n").unwrap_or(p);
                let (h, b) = p.split_once("\r\n\r\n").unwrap_or((p, ""));
                (h.to_ascii_lowercase(), b.to_string())
            })
            .collect()
    };
    let (w, g) = (split(want), split(got));
    let mut diffs = Vec::new();
    if w.len() != g.len() {
        diffs.push(format!("expected {} part(s), got {}", w.len(), g.len()));
    }
    for (i, ((wh, wb), (gh, gb))) in w.iter().zip(&g).enumerate() {
        let mut wl: Vec<&str> = wh.lines().map(str::trim).collect();
        let mut gl: Vec<&str> = gh.lines().map(str::trim).collect();
        wl.sort_unstable();
        gl.sort_unstable();
        if wl != gl {
            diffs.push(format!("part {i} headers: expected {wh:?} got {gh:?}"));
        }
        match (
            serde_json::from_str::<Value>(wb),
            serde_json::from_str::<Value>(gb),
        ) {
            (Ok(wj), Ok(gj)) => json_diff(&format!("part {i} $"), &wj, &gj, &mut diffs),
            _ if wb == gb => {}
            _ => diffs.push(format!(
                "part {i} body: expected {:?} got {:?}",
                clip(wb),
                clip(gb)
            )),
        }
    }
    diffs
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// Structural JSON difference; numbers compare by value (`1 == 1.0`). Appends at most a few lines.
pub fn json_diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    if out.len() >= MAX_LINES {
        return;
    }
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => {
            let same = a == b || matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if x == y);
            if !same {
                out.push(format!("{path}: expected {a} got {b}"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(vb) => json_diff(&p, va, vb, out),
                    None => out.push(format!("{p}: missing (expected {})", clip_json(va))),
                }
                if out.len() >= MAX_LINES {
                    return;
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(format!("{path}.{k}: unexpected {}", clip_json(vb)));
                    if out.len() >= MAX_LINES {
                        return;
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!(
                    "{path}: expected {} item(s) got {}",
                    a.len(),
                    b.len()
                ));
            }
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                json_diff(&format!("{path}[{i}]"), va, vb, out);
                if out.len() >= MAX_LINES {
                    return;
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!(
            "{path}: expected {} got {}",
            clip_json(a),
            clip_json(b)
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/// Runtime error categories accepted for a Python exception class.
pub fn accepted_categories(python_type: &str) -> &'static [&'static str] {
    match python_type {
        "HTTPStatusError" => &["NotFound", "Service"],
        "AuthenticationError" => &["Auth"],
        "RateLimitError" => &["RateLimited"],
        "ConnectorValidationError" => &["Validation", "InvalidParam"],
        "HTTPClientError" => &["Api", "Response", "Network"],
        "NetworkError" => &["Network"],
        "TimeoutError" => &["Timeout"],
        "NotImplementedError" => &["Unsupported"],
        "MissingParameterError" => &["MissingParam"],
        "InvalidParameterError" => &["InvalidParam"],
        "EntityNotFoundError" => &["UnknownEntity"],
        "ActionNotSupportedError" => &["UnknownAction"],
        _ => &[],
    }
}

/// Compare the outcome of `execute` with the recorded one.
pub fn compare_result(
    expected: &ExpectedResult,
    observed: &ObservedResult,
    out: &mut Vec<Mismatch>,
) {
    if expected.success != observed.success {
        let what = |ok: bool| if ok { "success" } else { "error" };
        let got = match &observed.error {
            Some(e) => format!("{}: {}", e.category, clip(&e.display)),
            None => format!(
                "{} data {}",
                observed.kind.unwrap_or("?"),
                clip_json(&observed.data)
            ),
        };
        let want = match &expected.error {
            Some(e) => format!("{}: {}", e.kind, clip(&e.message)),
            None => format!(
                "{} data {}",
                expected.kind.as_deref().unwrap_or("?"),
                clip_json(&expected.data)
            ),
        };
        out.push(Mismatch::new(
            Aspect::Success,
            format!(
                "expected {} ({want})\n     got {} ({got})",
                what(expected.success),
                what(observed.success)
            ),
        ));
        return;
    }
    if expected.success {
        let want_kind = expected.kind.as_deref();
        if want_kind != observed.kind {
            out.push(Mismatch::new(
                Aspect::Kind,
                format!("kind expected {want_kind:?} got {:?}", observed.kind),
            ));
        }
        let mut diffs = Vec::new();
        json_diff("data", &expected.data, &observed.data, &mut diffs);
        if !diffs.is_empty() {
            out.push(Mismatch::new(Aspect::Data, diffs.join("\n     ")));
        }
        let mut diffs = Vec::new();
        json_diff("meta", &expected.meta, &observed.meta, &mut diffs);
        if !diffs.is_empty() {
            out.push(Mismatch::new(Aspect::Meta, diffs.join("\n     ")));
        }
        return;
    }
    let (Some(want), Some(got)) = (&expected.error, &observed.error) else {
        return;
    };
    let accepted = accepted_categories(&want.kind);
    if !accepted.contains(&got.category) {
        out.push(Mismatch::new(
            Aspect::ErrorCategory,
            format!(
                "error category: Python {} (accepts {}) got {}: {}",
                want.kind,
                if accepted.is_empty() {
                    "nothing known".to_string()
                } else {
                    accepted.join("|")
                },
                got.category,
                clip(&got.display)
            ),
        ));
    }
    if got.message != want.message && !got.display.contains(&want.message) {
        out.push(Mismatch::new(
            Aspect::ErrorMessage,
            format!(
                "error message\n     expected {:?}\n          got {:?}",
                clip(&want.message),
                clip(&got.display)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use serde_json::json;

    fn observed(headers: &[(&str, &str)], body: &str) -> ObservedRequest {
        ObservedRequest {
            method: "POST".into(),
            path: "/v1/x".into(),
            raw_query: "a=1".into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Bytes::from(body.to_string()),
        }
    }

    fn expected(headers: &[(&str, &str)]) -> RecordedRequest {
        RecordedRequest {
            method: "POST".into(),
            path: "/v1/x".into(),
            raw_query: "a=1".into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn json_numbers_compare_by_value_and_keys_by_set() {
        let mut d = Vec::new();
        json_diff(
            "$",
            &json!({"a": 1, "b": [1, 2]}),
            &json!({"b": [1.0, 2], "a": 1.0}),
            &mut d,
        );
        assert!(d.is_empty(), "{d:?}");
        json_diff("$", &json!({"a": 1}), &json!({"a": 2, "c": null}), &mut d);
        assert_eq!(d.len(), 2, "{d:?}");
    }

    #[test]
    fn identical_request_matches_and_secrets_are_masked() {
        let mut e = expected(&[
            ("accept", "*/*"),
            ("connection", "keep-alive"),
            ("authorization", "Bearer ***(len=19,sha256:4a085afb4320)"),
            ("content-type", "application/json"),
        ]);
        e.body_text = Some(r#"{"x": 1, "y": "z"}"#.into());
        e.body_json = Some(json!({"x": 1, "y": "z"}));
        let o = observed(
            &[
                ("Authorization", "Bearer fake-stripe-api-key"),
                ("content-type", "application/json"),
                ("user-agent", "whatever"),
                ("content-length", "17"),
            ],
            r#"{"y":"z","x":1}"#,
        );
        let mut out = Vec::new();
        compare_requests(&[e], &[o], &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn differences_are_reported_per_aspect() {
        let mut e = expected(&[("authorization", "Bearer ***(len=3,sha256:000000000000)")]);
        e.body_text = Some("a=1&b=x+y".into());
        e.body_form = Some(vec![("a".into(), "1".into()), ("b".into(), "x y".into())]);
        let mut o = observed(
            &[("authorization", "Bearer abc"), ("x-extra", "1")],
            "b=x%20y&a=1",
        );
        o.raw_query = "a=&b=2".into();
        o.path = "/v1/y".into();
        let mut out = Vec::new();
        compare_requests(&[e], &[o], &mut out);
        let aspects: Vec<Aspect> = out.iter().map(|m| m.aspect).collect();
        assert!(aspects.contains(&Aspect::Path), "{out:#?}");
        assert!(aspects.contains(&Aspect::Query), "{out:#?}");
        assert!(aspects.contains(&Aspect::Body), "{out:#?}");
        assert_eq!(
            aspects.iter().filter(|a| **a == Aspect::Header).count(),
            2,
            "wrong token and unexpected header: {out:#?}"
        );
    }

    #[test]
    fn request_count_mismatch_still_compares_matching_requests() {
        let e1 = expected(&[]);
        let mut e0 = expected(&[]);
        e0.path = "/token".into();
        let o = observed(&[], "");
        let mut out = Vec::new();
        compare_requests(&[e0, e1], &[o], &mut out);
        assert_eq!(out[0].aspect, Aspect::RequestCount);
        assert_eq!(out.len(), 1, "the /v1/x pair matches: {out:#?}");
    }

    #[test]
    fn multipart_boundary_and_json_spacing_are_normalised() {
        let mut e = expected(&[("content-type", "multipart/related; boundary={boundary}")]);
        e.body_text = Some(
            "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\": \"n\"}\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--{boundary}--\r\n".into(),
        );
        let o = observed(
            &[("content-type", "multipart/related; boundary=XyZ123")],
            "--XyZ123\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"n\"}\r\n--XyZ123\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--XyZ123--\r\n",
        );
        let mut out = Vec::new();
        compare_requests(&[e.clone()], &[o], &mut out);
        assert!(out.is_empty(), "{out:#?}");
        let o = observed(
            &[("content-type", "multipart/related; boundary=B")],
            "--B\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"m\"}\r\n--B\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--B--\r\n",
        );
        compare_requests(&[e], &[o], &mut out);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].aspect, Aspect::Body);
    }

    #[test]
    fn default_accept_may_be_absent_but_declared_accept_may_not() {
        let e = expected(&[("accept", "*/*")]);
        let mut out = Vec::new();
        compare_requests(&[e], &[observed(&[], "")], &mut out);
        assert!(out.is_empty(), "{out:#?}");
        let e = expected(&[("accept", "application/vnd.github+json")]);
        compare_requests(&[e], &[observed(&[], "")], &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn results_compare_category_and_message() {
        let exp: ExpectedResult = serde_json::from_value(json!({
            "success": false, "kind": null, "data": null, "meta": null,
            "error": {"type": "HTTPStatusError", "message": "mock: resource not found"}
        }))
        .unwrap();
        let ok = ObservedResult {
            success: false,
            kind: None,
            data: Value::Null,
            meta: Value::Null,
            error: Some(ObservedError {
                category: "NotFound",
                message: "mock: resource not found".into(),
                display: "not found (HTTP 404): mock: resource not found".into(),
            }),
        };
        let mut out = Vec::new();
        compare_result(&exp, &ok, &mut out);
        assert!(out.is_empty(), "{out:#?}");
        let mut bad = ok.clone();
        if let Some(e) = bad.error.as_mut() {
            e.category = "Auth";
            e.message = "other".into();
            e.display = "other".into();
        }
        compare_result(&exp, &bad, &mut out);
        let aspects: Vec<Aspect> = out.iter().map(|m| m.aspect).collect();
        assert_eq!(aspects, vec![Aspect::ErrorCategory, Aspect::ErrorMessage]);
    }

    #[test]
    fn results_compare_data_and_meta() {
        let exp: ExpectedResult = serde_json::from_value(json!({
            "success": true, "kind": "envelope", "data": [{"id": 1}], "meta": {"next": "x"}
        }))
        .unwrap();
        let got = ObservedResult {
            success: true,
            kind: Some("raw"),
            data: json!([{"id": 2}]),
            meta: Value::Null,
            error: None,
        };
        let mut out = Vec::new();
        compare_result(&exp, &got, &mut out);
        let aspects: Vec<Aspect> = out.iter().map(|m| m.aspect).collect();
        assert_eq!(aspects, vec![Aspect::Kind, Aspect::Data, Aspect::Meta]);
    }

    #[test]
    fn form_and_query_decoding() {
        assert_eq!(
            decode_pairs("a%5Bb%5D=1+2&c=%&d"),
            vec![
                ("a[b]".to_string(), "1 2".to_string()),
                ("c".to_string(), "%".to_string()),
                ("d".to_string(), String::new())
            ]
        );
    }
}
