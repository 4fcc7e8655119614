//! Decoding of generated object types.
//!
//! A generated struct describes itself with [`Record`]: a key → field-index lookup and one
//! assignment per field. The map walk, unknown-key skipping and error wording live here, once,
//! instead of in a serde derive expansion per struct (which also generates sequence decoding,
//! field enums and missing-field bookkeeping that JSON records never use). Every field of a
//! generated struct is optional, so a key that is absent keeps its `Default` (`None`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A generated struct decoded field by field from a JSON object.
pub trait Record: Default {
    /// Type name, for error messages.
    const NAME: &'static str;
    /// Index of the field with wire name `key` (`None`: unknown, skipped).
    fn field_index(key: &str) -> Option<usize>;
    /// Decode the value of field `index` from `map` into `self`.
    fn set_field<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
    ) -> Result<(), A::Error>;
}

/// Decode a [`Record`] from a JSON object (unknown keys skipped; for a repeated key the last
/// value wins).
pub fn deserialize<'de, T: Record, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_map(RecordVisitor::<T>(PhantomData))
}

struct RecordVisitor<T>(PhantomData<T>);

impl<'de, T: Record> Visitor<'de> for RecordVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a `{}` object", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(index) = map.next_key_seed(FieldIndex::<T>(PhantomData))? {
            match index {
                Some(i) => out.set_field(i, &mut map)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

struct FieldIndex<T>(PhantomData<T>);

impl<'de, T: Record> DeserializeSeed<'de> for FieldIndex<T> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de, T: Record> Visitor<'de> for FieldIndex<T> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(T::field_index(key))
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Option<usize>, E> {
        Ok(std::str::from_utf8(key).ok().and_then(T::field_index))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[derive(Debug, Default, PartialEq)]
    struct Rec {
        id: Option<String>,
        n: Option<i64>,
        tags: Option<Vec<String>>,
        nested: Option<Box<Rec>>,
    }

    crate::impl_record!(Rec {
        id => "id",
        n => "n",
        tags => "tags" skip_nulls,
        nested => "nested",
    });

    #[test]
    fn fields_unknown_keys_nulls_and_nesting() {
        let r: Rec = serde_json::from_value(json!({
            "id": "a", "extra": {"deep": [1, 2]}, "n": null,
            "tags": ["x", null, "y"], "nested": {"id": "b", "n": 2}
        }))
        .unwrap();
        assert_eq!(
            r,
            Rec {
                id: Some("a".into()),
                n: None,
                tags: Some(vec!["x".into(), "y".into()]),
                nested: Some(Box::new(Rec {
                    id: Some("b".into()),
                    n: Some(2),
                    ..Rec::default()
                })),
            }
        );
        // Absent fields keep their default; a repeated key keeps the last value.
        let r: Rec = serde_json::from_str(r#"{"id": "1", "id": "2"}"#).unwrap();
        assert_eq!(r.id.as_deref(), Some("2"));
        assert_eq!(r.tags, None);
        // A null list is `None`, not an error.
        let r: Rec = serde_json::from_value(json!({"tags": null})).unwrap();
        assert_eq!(r.tags, None);
        // Encoding writes the fields that are set, under their wire names.
        let r: Rec = serde_json::from_value(json!({"n": 3, "nested": {"id": "x"}})).unwrap();
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"n": 3, "nested": {"id": "x"}})
        );
    }

    #[test]
    fn wrong_types_name_the_field_path() {
        let text = r#"{"id": "a", "nested": {"n": "not a number"}}"#;
        let e = crate::decode::decode_str_for::<Rec>("e", "a", "", text).unwrap_err();
        assert!(
            matches!(&e, crate::Error::Decode { path, .. } if path == "nested.n"),
            "{e:?}"
        );
        let e = serde_json::from_str::<Rec>("[1, 2]").unwrap_err();
        assert!(e.to_string().contains("a `Rec` object"), "{e}");
    }
}
