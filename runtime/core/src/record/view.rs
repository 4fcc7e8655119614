//! Encoding of generated object types: the mirror of the value source. A record shows each
//! field as a [`ValueView`] (a plain, non-generic description of the value), and one
//! serializer walk, compiled once per serializer type in this crate's generic code, writes
//! every record. A record type contributes one `match` over its fields instead of a serde
//! derive expansion per struct and serializer.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, Serializer};
use serde_json::{Map, Value};

use super::{DynRecord, Field};

/// One field value as the serializer walk sees it.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum ValueView<'a> {
    /// A string (also the wire value of an enum).
    Str(&'a str),
    /// An integer.
    I64(i64),
    /// A number.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// Any JSON value.
    Value(&'a Value),
    /// A JSON object kept as a map of values.
    Object(&'a Map<String, Value>),
    /// A nested record.
    Record(&'a dyn DynRecord),
    /// A list.
    List(&'a dyn ListView),
    /// A string-keyed map.
    Map(&'a dyn MapView),
}

/// A list field, item by item.
pub trait ListView {
    /// Number of items.
    fn len(&self) -> usize;
    /// Whether the list is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Item `index` (`None` past the end).
    fn item(&self, index: usize) -> Option<ValueView<'_>>;
}

/// A map field, entry by entry.
pub trait MapView {
    /// Number of entries.
    fn len(&self) -> usize;
    /// Whether the map is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Pass every entry to `entry`, in key order, until it returns `false`.
    fn each(&self, entry: &mut dyn FnMut(&str, ValueView<'_>) -> bool);
}

impl<T: Field> ListView for Vec<T> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn item(&self, index: usize) -> Option<ValueView<'_>> {
        self.get(index).map(Field::view)
    }
}

impl<T: Field> MapView for BTreeMap<String, T> {
    fn len(&self) -> usize {
        BTreeMap::len(self)
    }
    fn each(&self, entry: &mut dyn FnMut(&str, ValueView<'_>) -> bool) {
        for (k, v) in self {
            if !entry(k, v.view()) {
                break;
            }
        }
    }
}

/// The view of an optional field (`None`: the field is left out).
#[inline]
pub fn view_of<T: Field>(field: &Option<T>) -> Option<ValueView<'_>> {
    field.as_ref().map(Field::view)
}

/// Write a record as a struct of the fields that are `Some`, under their wire names.
pub fn serialize<S: Serializer>(record: &dyn DynRecord, serializer: S) -> Result<S::Ok, S::Error> {
    let keys = record.wire_keys();
    let len = (0..keys.len())
        .filter(|&i| record.field_view(i).is_some())
        .count();
    let mut out = serializer.serialize_struct(record.record_name(), len)?;
    for (index, key) in keys.iter().enumerate() {
        match record.field_view(index) {
            Some(v) => out.serialize_field(key, &v)?,
            None => out.skip_field(key)?,
        }
    }
    out.end()
}

impl Serialize for ValueView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            ValueView::Str(v) => s.serialize_str(v),
            ValueView::I64(v) => s.serialize_i64(v),
            ValueView::F64(v) => s.serialize_f64(v),
            ValueView::Bool(v) => s.serialize_bool(v),
            ValueView::Value(v) => v.serialize(s),
            ValueView::Object(v) => v.serialize(s),
            ValueView::Record(r) => serialize(r, s),
            ValueView::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                let mut index = 0;
                while let Some(item) = l.item(index) {
                    seq.serialize_element(&item)?;
                    index += 1;
                }
                seq.end()
            }
            ValueView::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                let mut failed = None;
                m.each(&mut |k, v| match map.serialize_entry(k, &v) {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                });
                match failed {
                    Some(e) => Err(e),
                    None => map.end(),
                }
            }
        }
    }
}

/// Format a record like `#[derive(Debug)]` does (`Name { field: Some(..), other: None }`, under
/// the Rust field names), with each value shown by its [`ValueView`]: enums as their wire value.
pub fn debug(record: &dyn DynRecord, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut out = f.debug_struct(record.record_name());
    for (index, name) in record.field_names().iter().enumerate() {
        let name = name.strip_prefix("r#").unwrap_or(name);
        out.field(name, &Shown(record.field_view(index)));
    }
    out.finish()
}

/// An optional field, formatted as `Option`'s `Debug` does.
struct Shown<'a>(Option<ValueView<'a>>);

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("None"),
            Some(v) => f.debug_tuple("Some").field(v).finish(),
        }
    }
}

impl fmt::Debug for ValueView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ValueView::Str(v) => fmt::Debug::fmt(v, f),
            ValueView::I64(v) => fmt::Debug::fmt(&v, f),
            ValueView::F64(v) => fmt::Debug::fmt(&v, f),
            ValueView::Bool(v) => fmt::Debug::fmt(&v, f),
            ValueView::Value(v) => fmt::Debug::fmt(v, f),
            ValueView::Object(v) => fmt::Debug::fmt(v, f),
            ValueView::Record(r) => debug(r, f),
            ValueView::List(l) => {
                let mut out = f.debug_list();
                let mut index = 0;
                while let Some(item) = l.item(index) {
                    out.entry(&item);
                    index += 1;
                }
                out.finish()
            }
            ValueView::Map(m) => {
                let mut out = f.debug_map();
                m.each(&mut |k, v| {
                    out.entry(&k, &v);
                    true
                });
                out.finish()
            }
        }
    }
}
