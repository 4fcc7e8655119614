//! Entry points for the fuzz targets in `fuzz/` (not a public API: may change at any time).
//!
//! Each function takes arbitrary input and must return without panicking; the differential
//! check [`page_equivalence`] also compares the direct typed page decoder against the general
//! `Value`-based path and reports any disagreement as `Err`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::descriptor::*;
use crate::headers::Headers;
use crate::page::Page;

/// Evaluate a JSONPath expression (the spec subset) on a document; returns the match count.
pub fn jsonpath(expr: &str, doc: &Value) -> usize {
    let _ = crate::jsonpath::dotted_get(doc, expr);
    match crate::jsonpath::JsonPath::parse(expr) {
        Some(p) => {
            let _ = (p.is_root(), p.has_wildcard(), p.keys());
            p.find(doc).len()
        }
        None => 0,
    }
}

/// Render `template` with every template language of the runtime.
pub fn templates(template: &str, record: &Value, config: &Value) {
    let lookup = |name: &str| record.get(name).and_then(Value::as_str);
    let _ = crate::template::render_dollar(template, lookup);
    let _ = crate::template::render_braces(template, |n| {
        record.get(n).and_then(crate::encode::scalar_text)
    });
    if let Ok(s) =
        crate::template::render_jinja(template, &[("record", record), ("config", config)])
    {
        let _ = crate::template::is_falsy_text(&s);
    }
}

/// Response-side parsers on arbitrary bytes/text: body parsing, error mapping, `Link` and
/// `Retry-After` headers.
pub fn response_bytes(status: u16, content_type: &str, header: &str, body: &[u8]) {
    let headers = Headers(vec![
        ("content-type".into(), content_type.into()),
        ("link".into(), header.into()),
        ("retry-after".into(), header.into()),
    ]);
    let _ = crate::response::parse_body(status, &headers, body);
    let e = crate::response::status_error(status.max(400), &headers, body);
    let _ = (e.to_string(), e.message().to_string(), e.is_retryable());
    let _ = crate::headers::link_rel(header, "next");
    let _ = crate::headers::parse_retry_after(header);
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
struct Rec {
    id: Option<String>,
    n: Option<i64>,
    f: Option<f64>,
    ok: Option<bool>,
    tags: Option<Vec<String>>,
    nested: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
struct Meta {
    has_more: Option<bool>,
    next: Option<Value>,
    cursor: Option<String>,
}

const fn list_op(extractor: &'static str) -> OperationDescriptor {
    OperationDescriptor {
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
            record_extractor: Some(extractor),
            meta_extractor: &[
                ("has_more", "$.has_more"),
                ("next", "@link.next"),
                ("cursor", "$.paging.cursor"),
            ],
            record_filter: None,
            record_transform: &[],
            file_url: None,
            no_content: false,
            data_schema: None,
        },
        pagination: Pagination::None,
        preferred_for_check: false,
    }
}

static OPS: [OperationDescriptor; 2] = [list_op("$.data"), list_op("$.result.items")];

const fn conn(check: Option<ResponseErrorCheck>) -> ConnectorDescriptor {
    ConnectorDescriptor {
        name: "fuzz",
        title: "",
        version: "",
        definition_id: "",
        base_url: "",
        server_variables: &[],
        auth_schemes: &[],
        entities: &[],
        scoping: &[],
        response_error_check: check,
        record_schemas: "",
    }
}

static CONNS: [ConnectorDescriptor; 2] = [
    conn(None),
    conn(Some(ResponseErrorCheck {
        field: "ok",
        on_value: "false",
        message_field: Some("error"),
    })),
];

/// Replace `\uD800`–`\uDFFF` escapes (UTF-16 surrogates) with `\uFFFD`.
fn without_surrogate_escapes(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' && i + 1 < body.len() {
            if body[i + 1] == b'u'
                && let Some(hex) = body.get(i + 2..i + 6)
                && let Ok(code) = u16::from_str_radix(&String::from_utf8_lossy(hex), 16)
                && (0xD800..=0xDFFF).contains(&code)
            {
                out.extend_from_slice(b"\\uFFFD");
                i += 6;
                continue;
            }
            out.extend_from_slice(&body[i..i + 2]);
            i += 2;
            continue;
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// Decode `body` as a typed list page with the direct decoder and with the general path; `Err`
/// when both answer and disagree.
///
/// One difference is by design: the direct decoder skips members it does not read without
/// decoding their strings, so escaped lone UTF-16 surrogates there (which the general path's full
/// parse rejects) are tolerated. Such a body must agree once the surrogate escapes are replaced.
pub fn page_equivalence(body: &[u8]) -> Result<(), String> {
    match equivalence(body) {
        Err(_) if body.windows(2).any(|w| w == b"\\u") => {
            equivalence(&without_surrogate_escapes(body))
        }
        other => other,
    }
}

fn equivalence(body: &[u8]) -> Result<(), String> {
    let headers = Headers(vec![
        ("content-type".into(), "application/json".into()),
        (
            "link".into(),
            "<https://x.invalid/items?page=2>; rel=\"next\"".into(),
        ),
    ]);
    for d in &CONNS {
        for op in &OPS {
            let general = crate::response::parse_body(200, &headers, body)
                .and_then(|v| crate::response::shape(d, op, &headers, v, &BTreeMap::new()))
                .and_then(|r| Page::<Rec, Meta>::decode(op, r));
            if !crate::page_from_bytes::eligible(d, op) {
                return Err(format!(
                    "`{}` should take the direct path",
                    op.response.record_extractor.unwrap_or("")
                ));
            }
            match (
                crate::page_from_bytes::page::<Rec, Meta>(d, op, &headers, body),
                general,
            ) {
                (None, _) => {}
                (Some(Ok(a)), Ok(b)) if a == b => {}
                (Some(Err(a)), Err(b)) if a.to_string() == b.to_string() => {}
                (Some(a), b) => return Err(format!("direct {a:?} != general {b:?}")),
            }
        }
    }
    Ok(())
}

/// The same record shape decoded through the runtime's [`crate::record::Record`] walk (as
/// generated structs are), to compare with the serde derive of [`Rec`].
#[derive(Debug, Clone, PartialEq, Default)]
struct WalkRec {
    id: Option<String>,
    n: Option<i64>,
    f: Option<f64>,
    ok: Option<bool>,
    tags: Option<Vec<String>>,
    nested: Option<Map<String, Value>>,
}

crate::impl_record!(WalkRec {
    id => "id",
    n => "n",
    f => "f",
    ok => "ok",
    tags => "tags",
    nested => "nested",
});

/// Differential check of the record walk against serde's derive on arbitrary bytes: whatever
/// the derive decodes, the walk decodes to the same value. (The walk is more lenient in two
/// documented ways: a repeated key keeps its last value where the derive fails, and an array
/// is not read positionally as a record.)
pub fn record_walk_equivalence(body: &[u8]) -> Result<(), String> {
    let derived = serde_json::from_slice::<Rec>(body);
    let walked = serde_json::from_slice::<WalkRec>(body);
    match (derived, walked) {
        (Ok(d), Ok(w)) => {
            let same = d.id == w.id
                && d.n == w.n
                && d.f.map(f64::to_bits) == w.f.map(f64::to_bits)
                && d.ok == w.ok
                && d.tags == w.tags
                && d.nested == w.nested;
            if same {
                Ok(())
            } else {
                Err(format!("derive {d:?} but walk {w:?}"))
            }
        }
        (Ok(d), Err(e)) if !body.trim_ascii_start().starts_with(b"[") => {
            Err(format!("derive decoded {d:?} but the walk failed: {e}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_numbers_decode_alike_on_both_paths() {
        for f in [
            "118446744073709551615",
            "118446744073709551615.5",
            "1.18446744073709556e20",
            "11844674407370955161500e-2",
            "0.000000000000000000000000000000000000000000000000000000000000123456789012345678901",
        ] {
            let body = format!(r#"{{"data":[{{"id":"a","f":{f}}}]}}"#);
            assert_eq!(super::page_equivalence(body.as_bytes()), Ok(()), "{f}");
            assert_eq!(
                super::record_walk_equivalence(body.as_bytes()),
                Ok(()),
                "{f}"
            );
        }
    }
}
