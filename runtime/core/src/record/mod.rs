//! Decoding of generated object types.
//!
//! A generated struct describes itself with [`Record`]: a key → field-index lookup and one
//! assignment per field. The map walk, unknown-key skipping and error wording live here, once,
//! instead of in a serde derive expansion per struct (which also generates sequence decoding,
//! field enums and missing-field bookkeeping that JSON records never use). Every field of a
//! generated struct is optional, so a key that is absent keeps its `Default` (`None`).
//!
//! The walk is type-erased: it runs over a `&mut dyn` [`DynRecord`], and a field reads its value
//! from a `&mut dyn` [`ValueSource`] (implemented once for any deserializer) through its
//! [`Field`] type. So serde's map, option and sequence code is instantiated once per
//! deserializer, not once per record type; a record type contributes its key match, one plain
//! call per field and a shim per deserializer.

mod source;
#[cfg(test)]
mod tests;
mod view;

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

pub use source::{
    EntrySink, Failed, Field, ItemSink, ValueSource, put, put_skip_nulls, skip_nulls,
};
pub use view::{ListView, MapView, ValueView, debug, serialize, view_of};

/// A generated struct decoded field by field from a JSON object.
pub trait Record: Default {
    /// Type name, for error messages.
    const NAME: &'static str;
    /// Index of the field with wire name `key` (`None`: unknown, skipped).
    fn field_index(key: &str) -> Option<usize>;
    /// Decode the value of field `index` from `value` into `self`.
    fn set_field(&mut self, index: usize, value: &mut dyn ValueSource) -> Result<(), Failed>;
    /// Wire names of the fields, by field index.
    const KEYS: &'static [&'static str];
    /// Rust names of the fields, by field index (for `Debug`).
    const NAMES: &'static [&'static str];
    /// Field `index` for encoding (`None`: the field is `None`, or there is no such field).
    fn view_field(&self, index: usize) -> Option<ValueView<'_>>;
}

/// A [`Record`] as a trait object: what the one record walk works on.
pub trait DynRecord {
    /// [`Record::NAME`].
    fn record_name(&self) -> &'static str;
    /// [`Record::field_index`].
    fn index_of(&self, key: &str) -> Option<usize>;
    /// [`Record::set_field`].
    fn decode_field(&mut self, index: usize, value: &mut dyn ValueSource) -> Result<(), Failed>;
    /// [`Record::KEYS`].
    fn wire_keys(&self) -> &'static [&'static str];
    /// [`Record::NAMES`].
    fn field_names(&self) -> &'static [&'static str];
    /// [`Record::view_field`].
    fn field_view(&self, index: usize) -> Option<ValueView<'_>>;
}

impl<T: Record> DynRecord for T {
    fn record_name(&self) -> &'static str {
        T::NAME
    }
    fn index_of(&self, key: &str) -> Option<usize> {
        T::field_index(key)
    }
    fn decode_field(&mut self, index: usize, value: &mut dyn ValueSource) -> Result<(), Failed> {
        self.set_field(index, value)
    }
    fn wire_keys(&self) -> &'static [&'static str] {
        T::KEYS
    }
    fn field_names(&self) -> &'static [&'static str] {
        T::NAMES
    }
    fn field_view(&self, index: usize) -> Option<ValueView<'_>> {
        self.view_field(index)
    }
}

/// Decode a [`Record`] from a JSON object (unknown keys skipped; for a repeated key the last
/// value wins).
pub fn deserialize<'de, T: Record, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    let mut out = T::default();
    deserialize_into(deserializer, &mut out)?;
    Ok(out)
}

/// [`deserialize`] into an existing record: the fields the object holds are overwritten.
pub fn deserialize_into<'de, D: Deserializer<'de>>(
    deserializer: D,
    into: &mut dyn DynRecord,
) -> Result<(), D::Error> {
    deserializer.deserialize_map(RecordVisitor { into })
}

/// Decode JSON text holding one object into `into` (trailing characters other than whitespace
/// are an error). Typed decoding reads text with this deserializer (`decode`,
/// `page_from_bytes`), so its walk is compiled here once and shared by the connector crates'
/// unoptimized builds.
pub fn from_str_into(text: &str, into: &mut dyn DynRecord) -> serde_json::Result<()> {
    let mut de = serde_json::Deserializer::from_str(text);
    deserialize_into(&mut de, into)?;
    de.end()
}

/// A [`Record`] decoded from a [`ValueSource`] (for [`Field`] impls of records).
pub fn decode_record<T: Record>(value: &mut dyn ValueSource) -> Result<T, Failed> {
    let mut out = T::default();
    value.record(&mut out)?;
    Ok(out)
}

/// A [`Record`] or `null` decoded from a [`ValueSource`] (for [`Field`] impls of records).
pub fn decode_opt_record<T: Record>(value: &mut dyn ValueSource) -> Result<Option<T>, Failed> {
    let mut out = T::default();
    Ok(if value.opt_record(&mut out)? {
        Some(out)
    } else {
        None
    })
}

/// The record walk.
struct RecordVisitor<'r> {
    into: &'r mut dyn DynRecord,
}

impl<'de> Visitor<'de> for RecordVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a `{}` object", self.into.record_name())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(index) = map.next_key_seed(FieldIndex(&*self.into))? {
            match index {
                Some(index) => map.next_value_seed(FieldValue {
                    into: &mut *self.into,
                    index,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A key, looked up among the record's fields.
struct FieldIndex<'r>(&'r dyn DynRecord);

impl<'de> DeserializeSeed<'de> for FieldIndex<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for FieldIndex<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.index_of(key))
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Option<usize>, E> {
        Ok(std::str::from_utf8(key)
            .ok()
            .and_then(|k| self.0.index_of(k)))
    }
}

/// The value of a known field.
struct FieldValue<'r> {
    into: &'r mut dyn DynRecord,
    index: usize,
}

impl<'de> DeserializeSeed<'de> for FieldValue<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let mut value = source::Source::new(d);
        let result = self.into.decode_field(self.index, &mut value);
        value.finish(result)
    }
}

/// An optional list whose `null` items are dropped: a spec-violating `null` in a list of
/// strings or objects must not make the whole record undecodable.
pub struct SkipNulls<T>(pub Option<Vec<T>>);

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for SkipNulls<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_option(SkipNullsVisitor(PhantomData))
    }
}

struct SkipNullsVisitor<T>(PhantomData<T>);

impl<'de, T: de::Deserialize<'de>> Visitor<'de> for SkipNullsVisitor<T> {
    type Value = SkipNulls<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(SkipNulls(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(SkipNulls(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<Option<T>>()? {
            out.extend(item);
        }
        Ok(SkipNulls(Some(out)))
    }
}
