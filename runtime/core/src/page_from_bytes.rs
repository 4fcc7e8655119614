//! Typed page decoding straight from the response bytes.
//!
//! The general path parses a body into a `serde_json::Value`, extracts and clones the records,
//! then decodes every record from its `Value`. For the common shape — records under a plain key
//! path (`$.data`, `$.response.items`) with no transform or filter — this module decodes the
//! records as `T` in one pass over the bytes: other top-level members are skipped, except those
//! the meta extractor or the error check read, which are kept as `Value`s.
//!
//! Every answer here equals the general path's: whenever the body is not the plain shape (records
//! missing or not an array, a record that does not decode, the error check matching, a record
//! type that would accept primitives, which the general path wraps as `{"value": ..}`) [`page`]
//! returns `None` and the caller runs the general path on the same bytes, which also produces the
//! precise error.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};

use crate::descriptor::{ConnectorDescriptor, OperationDescriptor};
use crate::headers::Headers;
use crate::jsonpath::JsonPath;
use crate::page::Page;

/// Key segments of a `$.a.b` / `$['a']` path; `None` for anything else (indexes, wildcards, `$`).
fn key_path(expr: &str) -> Option<Vec<String>> {
    let keys = JsonPath::parse(expr)?.keys()?;
    (!keys.is_empty()).then_some(keys)
}

/// Top-level members read by the meta extractor and the error check.
fn captured_keys(
    descriptor: &ConnectorDescriptor,
    op: &OperationDescriptor,
) -> Option<Vec<String>> {
    let records = key_path(op.response.record_extractor?)?;
    let mut keys = Vec::new();
    for (_, expr) in op.response.meta_extractor {
        if expr.starts_with("@link.") || expr.starts_with("@header.") {
            continue;
        }
        let first = key_path(expr)?.into_iter().next()?;
        if first == records[0] {
            return None;
        }
        keys.push(first);
    }
    if let Some(check) = &descriptor.response_error_check {
        if check.field == records[0] {
            return None;
        }
        keys.push(check.field.to_string());
    }
    Some(keys)
}

/// Whether `op` qualifies for direct decoding (decided from the descriptors alone).
pub fn eligible(descriptor: &ConnectorDescriptor, op: &OperationDescriptor) -> bool {
    let r = &op.response;
    r.record_transform.is_empty()
        && r.record_filter.is_none()
        && op.kind.returns_many()
        && captured_keys(descriptor, op).is_some()
}

/// Whether `T` decodes from a JSON primitive (the general path would see `{"value": ..}` then).
fn accepts_primitives<T: DeserializeOwned>() -> bool {
    ["true", "0", "\"\""]
        .iter()
        .any(|p| serde_json::from_str::<T>(p).is_ok())
}

enum Key {
    Records,
    Capture(usize),
    Other,
}

struct KeySeed<'p> {
    records: &'p str,
    capture: &'p [String],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, k: &str) -> Result<Key, E> {
        Ok(if k == self.records {
            Key::Records
        } else if let Some(i) = self.capture.iter().position(|c| c == k) {
            Key::Capture(i)
        } else {
            Key::Other
        })
    }
}

/// Walks objects along the record path; at the top level also keeps the captured members.
struct PathSeed<'p, T> {
    path: &'p [String],
    capture: &'p [String],
    records: &'p mut Option<Vec<T>>,
    captured: &'p mut Vec<Option<Value>>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for PathSeed<'_, T> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for PathSeed<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            return Err(de::Error::custom("empty record path"));
        };
        loop {
            let key = map.next_key_seed(KeySeed {
                records: first,
                capture: self.capture,
            })?;
            match key {
                None => return Ok(()),
                Some(Key::Records) if rest.is_empty() => {
                    *self.records =
                        Some(map.next_value_seed(RecordsSeed::<T>(Default::default()))?);
                }
                Some(Key::Records) => map.next_value_seed(PathSeed {
                    path: rest,
                    capture: &[],
                    records: &mut *self.records,
                    captured: &mut *self.captured,
                })?,
                Some(Key::Capture(i)) => {
                    let v: Value = map.next_value()?;
                    if let Some(slot) = self.captured.get_mut(i) {
                        *slot = Some(v);
                    }
                }
                Some(Key::Other) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
    }
}

struct RecordsSeed<T>(std::marker::PhantomData<T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for RecordsSeed<T> {
    type Value = Vec<T>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for RecordsSeed<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(16).min(1024));
        while let Some(t) = seq.next_element::<T>()? {
            out.push(t);
        }
        Ok(out)
    }
}

fn is_html_or_xml(headers: &Headers) -> bool {
    let ct = headers
        .get("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime == "text/html" || mime == "application/xml" || mime == "text/xml" || mime.ends_with("+xml")
}

/// Decode a page from the body bytes, or `None` to let the general path handle it.
pub fn page<T: DeserializeOwned, M: DeserializeOwned>(
    descriptor: &ConnectorDescriptor,
    op: &OperationDescriptor,
    headers: &Headers,
    bytes: &[u8],
) -> Option<crate::Result<Page<T, M>>> {
    if is_html_or_xml(headers) || accepts_primitives::<T>() {
        return None;
    }
    let path = key_path(op.response.record_extractor?)?;
    let capture = captured_keys(descriptor, op)?;
    // Validating UTF-8 up front (as the general path's full parse does) lets the parser skip it.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut records = None;
    let mut captured = vec![None; capture.len()];
    let mut de = serde_json::Deserializer::from_str(text);
    PathSeed {
        path: &path,
        capture: &capture,
        records: &mut records,
        captured: &mut captured,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    let data = records?;

    // The captured members form a partial root on which meta paths and the error check run
    // exactly as on the full body (none of them reach into the records' member).
    let root = Value::Object(
        capture
            .into_iter()
            .zip(captured)
            .filter_map(|(k, v)| Some((k, v?)))
            .collect::<Map<String, Value>>(),
    );
    if crate::response::check_error(descriptor, headers, &root).is_err() {
        return None;
    }
    let meta = crate::response::extract_meta(op, headers, &root);
    Some(Page::from_parts(op, data, meta))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::descriptor::*;

    #[derive(Debug, Clone, PartialEq, Default, Deserialize)]
    #[serde(default)]
    struct Rec {
        id: Option<String>,
        n: Option<i64>,
        tags: Option<Vec<String>>,
    }

    #[derive(Debug, Clone, PartialEq, Default, Deserialize)]
    #[serde(default)]
    struct Meta {
        has_more: Option<bool>,
        next: Option<Value>,
    }

    const fn op(
        extractor: &'static str,
        meta: &'static [(&'static str, &'static str)],
    ) -> OperationDescriptor {
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
                meta_extractor: meta,
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

    fn connector(check: Option<ResponseErrorCheck>) -> ConnectorDescriptor {
        ConnectorDescriptor {
            name: "t",
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

    fn general<T: DeserializeOwned, M: DeserializeOwned>(
        d: &ConnectorDescriptor,
        op: &OperationDescriptor,
        headers: &Headers,
        body: &[u8],
    ) -> crate::Result<Page<T, M>> {
        let v = crate::response::parse_body(200, headers, body)?;
        let r = crate::response::shape(d, op, headers, v, &BTreeMap::new())?;
        Page::decode(op, r)
    }

    fn json_headers() -> Headers {
        Headers(vec![
            ("content-type".into(), "application/json".into()),
            (
                "link".into(),
                "<https://x/items?page=2>; rel=\"next\"".into(),
            ),
        ])
    }

    static DATA: OperationDescriptor = op(
        "$.data",
        &[("has_more", "$.has_more"), ("next", "@link.next")],
    );
    static NESTED: OperationDescriptor = op(
        "$.response.items",
        &[("next", "$.paging.next.cursor"), ("has_more", "$.more")],
    );

    #[test]
    fn same_pages_as_the_general_path() {
        let plain = connector(None);
        let checked = connector(Some(ResponseErrorCheck {
            field: "ok",
            on_value: "false",
            message_field: Some("error"),
        }));
        let bodies: &[&str] = &[
            r#"{"data":[{"id":"a","n":1},{"id":"b","tags":["x"]}],"has_more":true,"url":"/x"}"#,
            r#"{"object":"list","data":[],"has_more":false}"#,
            r#"{"data":[{"id":"a"}],"data":[{"id":"dup"}]}"#,
            r#"{"has_more":true}"#,
            r#"{"data":null}"#,
            r#"{"data":{"id":"single"}}"#,
            r#"{"data":[1,2,3]}"#,
            r#"{"data":["a",{"id":"b"}]}"#,
            r#"{"data":[[1]]}"#,
            r#"{"data":[{"id":5}]}"#,
            r#"{"data":[{"id":"a"}]} trailing"#,
            r#"{"data":[{"id":"a"}"#,
            r#"[{"id":"a"}]"#,
            r#"{"ok":false,"error":"boom","data":[{"id":"a"}]}"#,
            r#"{"ok":true,"data":[{"id":"a"}]}"#,
            r#"{"response":{"items":[{"id":"n1"}],"more":true},"paging":{"next":{"cursor":"c2"}}}"#,
            r#"{"response":{"items":[{"id":"n1"}]},"paging":"oops"}"#,
            r#"{"response":[],"paging":{}}"#,
            r#"{"data":[{"id":"caf\u00e9 \"q\""}],"has_more":1}"#,
            "  \n",
            "",
        ];
        let headers = json_headers();
        for d in [&plain, &checked] {
            for op in [&DATA, &NESTED] {
                assert!(eligible(d, op));
                for body in bodies {
                    let want = general::<Rec, Meta>(d, op, &headers, body.as_bytes());
                    let got = page::<Rec, Meta>(d, op, &headers, body.as_bytes());
                    match (got, &want) {
                        (None, _) => {}
                        (Some(Ok(p)), Ok(w)) => assert_eq!(&p, w, "body {body}"),
                        (Some(Err(e)), Err(w)) => assert_eq!(e.to_string(), w.to_string()),
                        (Some(g), w) => panic!("body {body}: fast {g:?} vs general {w:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn primitive_accepting_records_take_the_general_path() {
        let d = connector(None);
        let body = br#"{"data":["a","b"],"has_more":false}"#;
        assert!(page::<Value, Meta>(&d, &DATA, &json_headers(), body).is_none());
        assert!(page::<String, Meta>(&d, &DATA, &json_headers(), body).is_none());
        let p =
            page::<Map<String, Value>, Meta>(&d, &DATA, &json_headers(), br#"{"data":[{"a":1}]}"#);
        assert!(matches!(p, Some(Ok(ref p)) if p.data.len() == 1));
    }

    #[test]
    fn html_and_non_plain_extractors_are_not_handled() {
        let d = connector(None);
        let html = Headers(vec![("content-type".into(), "text/html".into())]);
        assert!(page::<Rec, Meta>(&d, &DATA, &html, br#"{"data":[]}"#).is_none());
        static WILD: OperationDescriptor = op("$.data[*]", &[]);
        static ROOT: OperationDescriptor = op("$", &[]);
        static INTO_RECORDS: OperationDescriptor = op("$.data", &[("x", "$.data.x")]);
        assert!(!eligible(&d, &WILD));
        assert!(!eligible(&d, &ROOT));
        assert!(!eligible(&d, &INTO_RECORDS));
    }

    #[test]
    fn the_fast_path_answers_the_plain_shape() {
        let d = connector(None);
        let body = br#"{"data":[{"id":"a","n":1}],"has_more":true}"#;
        let p = page::<Rec, Meta>(&d, &DATA, &json_headers(), body);
        let Some(Ok(p)) = p else {
            panic!("plain body not handled: {p:?}")
        };
        assert_eq!(p.data[0].id.as_deref(), Some("a"));
        assert_eq!(p.meta.has_more, Some(true));
        assert_eq!(
            p.meta.next,
            Some(Value::String("https://x/items?page=2".into()))
        );
    }
}
