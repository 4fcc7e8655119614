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
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::descriptor::{ConnectorDescriptor, OperationDescriptor, Pagination};
use crate::headers::Headers;
use crate::jsonpath::JsonPath;
use crate::next_page::PageView;
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

/// Walks objects along the record path; at the top level also keeps the captured members. `R`
/// decodes the records array (typed records, or the facts the next-page step reads).
struct PathSeed<'p, R: RecordsSeed> {
    path: &'p [String],
    capture: &'p [String],
    seed: R,
    records: &'p mut Option<R::Records>,
    captured: &'p mut Vec<Option<Value>>,
}

/// How a [`PathSeed`] decodes the records array it reaches.
trait RecordsSeed: Copy {
    type Records;
    fn records<'de, D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Records, D::Error>;
}

impl<'de, R: RecordsSeed> DeserializeSeed<'de> for PathSeed<'_, R> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, R: RecordsSeed> Visitor<'de> for PathSeed<'_, R> {
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
                    *self.records = Some(map.next_value_seed(Records(self.seed))?);
                }
                Some(Key::Records) => map.next_value_seed(PathSeed {
                    path: rest,
                    capture: &[],
                    seed: self.seed,
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

struct Records<R>(R);

impl<'de, R: RecordsSeed> DeserializeSeed<'de> for Records<R> {
    type Value = R::Records;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<R::Records, D::Error> {
        self.0.records(d)
    }
}

/// Typed records; a `null` item is no record and is dropped, as the general path does.
struct Typed<T>(std::marker::PhantomData<fn() -> T>);

impl<T> Clone for Typed<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Typed<T> {}

impl<T: DeserializeOwned> RecordsSeed for Typed<T> {
    type Records = Vec<T>;
    fn records<'de, D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Typed<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(16).min(1024));
        while let Some(t) = seq.next_element::<Option<T>>()? {
            out.extend(t);
        }
        Ok(out)
    }
}

/// The records array skipped, counted, and its last item kept when `keep_last`.
#[derive(Clone, Copy)]
struct Counted {
    keep_last: bool,
}

impl RecordsSeed for Counted {
    type Records = (usize, Option<Value>);
    fn records<'de, D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Records, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Counted {
    type Value = (usize, Option<Value>);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut n, mut last) = (0, None::<&'de RawValue>);
        if self.keep_last {
            while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                n += 1;
                last = Some(raw);
            }
        } else {
            while seq.next_element::<IgnoredAny>()?.is_some() {
                n += 1;
            }
        }
        let last = match last {
            Some(raw) => Some(serde_json::from_str(raw.get()).map_err(de::Error::custom)?),
            None => None,
        };
        Ok((n, last))
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

/// A page's meta values.
type Meta = Option<Map<String, Value>>;

/// The records array decoded by `seed`, and the meta values, for a body of the plain shape
/// whose error check does not match; `None` otherwise.
fn walk<R: RecordsSeed>(
    descriptor: &ConnectorDescriptor,
    op: &OperationDescriptor,
    headers: &Headers,
    bytes: &[u8],
    seed: R,
) -> Option<(R::Records, Meta)> {
    if is_html_or_xml(headers) {
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
        seed,
        records: &mut records,
        captured: &mut captured,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    let records = records?;

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
    Some((records, crate::response::extract_meta(op, headers, &root)))
}

/// Decode a page from the body bytes, or `None` to let the general path handle it.
pub fn page<T: DeserializeOwned, M: DeserializeOwned>(
    descriptor: &ConnectorDescriptor,
    op: &OperationDescriptor,
    headers: &Headers,
    bytes: &[u8],
) -> Option<crate::Result<Page<T, M>>> {
    if accepts_primitives::<T>() {
        return None;
    }
    let (data, meta) = walk(
        descriptor,
        op,
        headers,
        bytes,
        Typed::<T>(Default::default()),
    )?;
    Some(Page::from_parts(op, data, meta))
}

/// What the next-page step reads of a page of the plain shape, gathered from the bytes without
/// decoding the records (the last one is parsed when the pagination reads it); `None` when the
/// general path must handle the body. The same facts as the general path's result gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// The page's meta values.
    pub meta: Option<Map<String, Value>>,
    /// The number of items in the records array (`null` items included).
    pub records: usize,
    /// The last item, kept only for pagination by the last record's field.
    pub last_record: Option<Value>,
}

impl Facts {
    /// The view [`next_page_of`](crate::next_page::next_page_of) reads.
    pub fn view(&self) -> PageView<'_> {
        PageView {
            meta: &self.meta,
            records: self.records,
            last_record: self.last_record.as_ref(),
        }
    }
}

/// Gather the [`Facts`] of a body, or `None` to let the general path handle it.
pub fn facts(
    descriptor: &ConnectorDescriptor,
    op: &OperationDescriptor,
    headers: &Headers,
    bytes: &[u8],
) -> Option<Facts> {
    let keep_last = matches!(op.pagination, Pagination::LastRecord { .. });
    let ((records, last_record), meta) =
        walk(descriptor, op, headers, bytes, Counted { keep_last })?;
    Some(Facts {
        meta,
        records,
        last_record,
    })
}

#[cfg(test)]
mod tests;
