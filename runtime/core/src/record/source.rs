//! The erased value source: one JSON value, decoded through object-safe methods that are
//! implemented once for any serde deserializer, so a record type's field assignments compile to
//! plain calls instead of serde instantiations of their own.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{DynRecord, RecordVisitor, ValueView};

/// A value did not decode. The deserializer's own error is kept by the [`ValueSource`] that
/// reported it and is returned by the enclosing `Deserialize` call, so this marker only
/// propagates (with `?`) through field assignments.
#[derive(Debug)]
pub struct Failed(());

/// Receives each item of a list (or the value of a present option) as a [`ValueSource`].
pub type ItemSink<'a> = dyn FnMut(&mut dyn ValueSource) -> Result<(), Failed> + 'a;

/// Receives each entry of a map: the key and its value as a [`ValueSource`].
pub type EntrySink<'a> = dyn FnMut(String, &mut dyn ValueSource) -> Result<(), Failed> + 'a;

/// One JSON value to decode, read by exactly one of these methods. The `opt_` forms read
/// `null` as `None` (`false`); the others decode the value as serde's impls for the same types
/// would, with the same error messages.
pub trait ValueSource {
    /// A string.
    fn string(&mut self) -> Result<String, Failed>;
    /// A string or `null`.
    fn opt_string(&mut self) -> Result<Option<String>, Failed>;
    /// An integer.
    fn i64(&mut self) -> Result<i64, Failed>;
    /// An integer or `null`.
    fn opt_i64(&mut self) -> Result<Option<i64>, Failed>;
    /// A number.
    fn f64(&mut self) -> Result<f64, Failed>;
    /// A number or `null`.
    fn opt_f64(&mut self) -> Result<Option<f64>, Failed>;
    /// A boolean.
    fn bool(&mut self) -> Result<bool, Failed>;
    /// A boolean or `null`.
    fn opt_bool(&mut self) -> Result<Option<bool>, Failed>;
    /// Any JSON value.
    fn value(&mut self) -> Result<Value, Failed>;
    /// Any JSON value, `null` as `None`.
    fn opt_value(&mut self) -> Result<Option<Value>, Failed>;
    /// A JSON object kept as a map of values.
    fn object(&mut self) -> Result<Map<String, Value>, Failed>;
    /// A JSON object kept as a map of values, or `null`.
    fn opt_object(&mut self) -> Result<Option<Map<String, Value>>, Failed>;
    /// A record, decoded into `into`.
    fn record(&mut self, into: &mut dyn DynRecord) -> Result<(), Failed>;
    /// A record decoded into `into` (`true`), or `null` (`false`).
    fn opt_record(&mut self, into: &mut dyn DynRecord) -> Result<bool, Failed>;
    /// A list, each item passed to `item`; with `skip_nulls` its `null` items are dropped.
    fn list(&mut self, skip_nulls: bool, item: &mut ItemSink<'_>) -> Result<(), Failed>;
    /// A list as in [`list`](Self::list) (`true`), or `null` (`false`).
    fn opt_list(&mut self, skip_nulls: bool, item: &mut ItemSink<'_>) -> Result<bool, Failed>;
    /// An object, each entry passed to `entry` in order.
    fn map(&mut self, entry: &mut EntrySink<'_>) -> Result<(), Failed>;
    /// A value passed to `some` (`true`), or `null` (`false`).
    fn option(&mut self, some: &mut ItemSink<'_>) -> Result<bool, Failed>;
    /// Any value, skipped.
    fn skip(&mut self) -> Result<(), Failed>;
}

/// The [`ValueSource`] of a deserializer: the deserializer until it is read, then the error if
/// reading failed.
pub(super) struct Source<'de, D: Deserializer<'de>> {
    de: Option<D>,
    error: Option<D::Error>,
    _de: PhantomData<&'de ()>,
}

impl<'de, D: Deserializer<'de>> Source<'de, D> {
    pub(super) fn new(de: D) -> Self {
        Source {
            de: Some(de),
            error: None,
            _de: PhantomData,
        }
    }

    /// Read the value with `f`, keeping its error.
    fn read<T>(&mut self, f: impl FnOnce(D) -> Result<T, D::Error>) -> Result<T, Failed> {
        let result = match self.de.take() {
            Some(de) => f(de),
            None => Err(de::Error::custom("a value was read twice")),
        };
        result.map_err(|e| {
            self.error = Some(e);
            Failed(())
        })
    }

    /// The deserializer's result of a read through this source.
    pub(super) fn finish<T>(self, result: Result<T, Failed>) -> Result<T, D::Error> {
        result.map_err(|Failed(())| {
            self.error
                .unwrap_or_else(|| de::Error::custom("a value failed without an error"))
        })
    }
}

/// Run `sink` on the value `de` through its [`ValueSource`].
fn with_source<'de, D: Deserializer<'de>>(de: D, sink: &mut ItemSink<'_>) -> Result<(), D::Error> {
    let mut source = Source::new(de);
    let result = sink(&mut source);
    source.finish(result)
}

/// Methods that read the value with serde's own impl of their type.
macro_rules! read_with_serde {
    ($($method:ident -> $ty:ty;)*) => {$(
        fn $method(&mut self) -> Result<$ty, Failed> {
            self.read(<$ty>::deserialize)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> ValueSource for Source<'de, D> {
    read_with_serde! {
        string -> String;
        opt_string -> Option<String>;
        i64 -> i64;
        opt_i64 -> Option<i64>;
        f64 -> f64;
        opt_f64 -> Option<f64>;
        bool -> bool;
        opt_bool -> Option<bool>;
        value -> Value;
        opt_value -> Option<Value>;
        object -> Map<String, Value>;
        opt_object -> Option<Map<String, Value>>;
    }
    fn record(&mut self, into: &mut dyn DynRecord) -> Result<(), Failed> {
        self.read(|de| de.deserialize_map(RecordVisitor { into }))
    }
    fn opt_record(&mut self, into: &mut dyn DynRecord) -> Result<bool, Failed> {
        self.read(|de| de.deserialize_option(Nullable(RecordVisitor { into })))
    }
    fn list(&mut self, skip_nulls: bool, item: &mut ItemSink<'_>) -> Result<(), Failed> {
        self.read(|de| de.deserialize_seq(List { skip_nulls, item }))
    }
    fn opt_list(&mut self, skip_nulls: bool, item: &mut ItemSink<'_>) -> Result<bool, Failed> {
        self.read(|de| de.deserialize_option(Nullable(List { skip_nulls, item })))
    }
    fn map(&mut self, entry: &mut EntrySink<'_>) -> Result<(), Failed> {
        self.read(|de| de.deserialize_map(Entries { entry }))
    }
    fn option(&mut self, some: &mut ItemSink<'_>) -> Result<bool, Failed> {
        self.read(|de| de.deserialize_option(Nullable(some)))
    }
    fn skip(&mut self) -> Result<(), Failed> {
        self.read(|de| IgnoredAny::deserialize(de).map(drop))
    }
}

/// What reads the value of a [`Nullable`] that is not `null`.
trait Present {
    fn present<'de, D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error>;
}

impl Present for &mut ItemSink<'_> {
    fn present<'de, D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        with_source(de, self)
    }
}

impl Present for RecordVisitor<'_> {
    fn present<'de, D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl Present for List<'_, '_> {
    fn present<'de, D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

/// `null` (`false`) or a value read by `P` (`true`): serde's `Option` visitor, erased.
struct Nullable<P>(P);

impl<'de, P: Present> Visitor<'de> for Nullable<P> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        self.0.present(de).map(|()| true)
    }
}

/// A list's items handed to a sink; `null` items dropped with `skip_nulls`.
struct List<'s, 'a> {
    skip_nulls: bool,
    item: &'s mut ItemSink<'a>,
}

impl<'de> Visitor<'de> for List<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The wording of serde's `Vec` visitor, and of `SkipNulls` for the null-tolerant lists.
        f.write_str(if self.skip_nulls {
            "a list or null"
        } else {
            "a sequence"
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Item {
                skip_nulls: self.skip_nulls,
                item: &mut *self.item,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One list item.
struct Item<'s, 'a> {
    skip_nulls: bool,
    item: &'s mut ItemSink<'a>,
}

impl<'de> DeserializeSeed<'de> for Item<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        if self.skip_nulls {
            de.deserialize_option(Nullable(self.item)).map(drop)
        } else {
            with_source(de, self.item)
        }
    }
}

/// An object's entries handed to a sink: serde's map visitor, erased.
struct Entries<'s, 'a> {
    entry: &'s mut EntrySink<'a>,
}

impl<'de> Visitor<'de> for Entries<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            map.next_value_seed(Entry {
                key,
                entry: &mut *self.entry,
            })?;
        }
        Ok(())
    }
}

/// One entry's value.
struct Entry<'s, 'a> {
    key: String,
    entry: &'s mut EntrySink<'a>,
}

impl<'de> DeserializeSeed<'de> for Entry<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        let mut source = Source::new(de);
        let result = (self.entry)(self.key, &mut source);
        source.finish(result)
    }
}

/// A field type of a generated record, decoded from a [`ValueSource`]. Implemented for the
/// value types the generator emits (strings, numbers, booleans, JSON values and objects, lists,
/// string-keyed maps, boxes) and, by [`impl_record!`](crate::impl_record) and
/// [`string_enum!`](crate::string_enum), for every record and enum.
pub trait Field: Sized {
    /// The value as the serializer walk sees it (see [`ValueView`]).
    fn view(&self) -> ValueView<'_>;

    /// Decode a non-`null` value (a `null` is a type error unless `Self` accepts it).
    fn decode(source: &mut dyn ValueSource) -> Result<Self, Failed>;

    /// Decode a value, `null` as `None`.
    fn decode_opt(source: &mut dyn ValueSource) -> Result<Option<Self>, Failed> {
        let mut out = None;
        source.option(&mut |s| {
            out = Some(Self::decode(s)?);
            Ok(())
        })?;
        Ok(out)
    }
}

macro_rules! primitive_fields {
    ($($ty:ty => $one:ident, $opt:ident, |$v:ident| $view:expr;)*) => {$(
        impl Field for $ty {
            #[inline]
            fn view(&self) -> ValueView<'_> {
                let $v = self;
                $view
            }
            #[inline]
            fn decode(source: &mut dyn ValueSource) -> Result<Self, Failed> {
                source.$one()
            }
            #[inline]
            fn decode_opt(source: &mut dyn ValueSource) -> Result<Option<Self>, Failed> {
                source.$opt()
            }
        }
    )*};
}

primitive_fields! {
    String => string, opt_string, |v| ValueView::Str(v);
    i64 => i64, opt_i64, |v| ValueView::I64(*v);
    f64 => f64, opt_f64, |v| ValueView::F64(*v);
    bool => bool, opt_bool, |v| ValueView::Bool(*v);
    Value => value, opt_value, |v| ValueView::Value(v);
    Map<String, Value> => object, opt_object, |v| ValueView::Object(v);
}

/// The items of a list, decoded one by one into `out`.
fn push_into<T: Field>(
    out: &mut Vec<T>,
) -> impl FnMut(&mut dyn ValueSource) -> Result<(), Failed> + '_ {
    move |s| {
        out.push(T::decode(s)?);
        Ok(())
    }
}

impl<T: Field> Field for Vec<T> {
    fn view(&self) -> ValueView<'_> {
        ValueView::List(self)
    }
    fn decode(source: &mut dyn ValueSource) -> Result<Self, Failed> {
        let mut out = Vec::new();
        source.list(false, &mut push_into(&mut out))?;
        Ok(out)
    }
    fn decode_opt(source: &mut dyn ValueSource) -> Result<Option<Self>, Failed> {
        let mut out = Vec::new();
        let present = source.opt_list(false, &mut push_into(&mut out))?;
        Ok(present.then_some(out))
    }
}

/// Assign field `slot` of a generated record from its value (`null` is `None`).
#[inline]
pub fn put<T: Field>(slot: &mut Option<T>, source: &mut dyn ValueSource) -> Result<(), Failed> {
    // A `match`, not `?`: this is instantiated for every field type, and `?` would add two
    // more generic functions per type to every connector crate.
    match T::decode_opt(source) {
        Ok(v) => {
            *slot = v;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// [`put`] for a list field whose `null` items are dropped (see [`skip_nulls`]).
#[inline]
pub fn put_skip_nulls<T: Field>(
    slot: &mut Option<Vec<T>>,
    source: &mut dyn ValueSource,
) -> Result<(), Failed> {
    match skip_nulls(source) {
        Ok(v) => {
            *slot = v;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// A list field whose `null` items are dropped (`null` itself is `None`).
pub fn skip_nulls<T: Field>(source: &mut dyn ValueSource) -> Result<Option<Vec<T>>, Failed> {
    let mut out = Vec::new();
    let present = source.opt_list(true, &mut push_into(&mut out))?;
    Ok(present.then_some(out))
}

impl<T: Field> Field for BTreeMap<String, T> {
    fn view(&self) -> ValueView<'_> {
        ValueView::Map(self)
    }
    fn decode(source: &mut dyn ValueSource) -> Result<Self, Failed> {
        let mut out = BTreeMap::new();
        source.map(&mut |key, s| {
            out.insert(key, T::decode(s)?);
            Ok(())
        })?;
        Ok(out)
    }
}

impl<T: Field> Field for Box<T> {
    fn view(&self) -> ValueView<'_> {
        T::view(self)
    }
    fn decode(source: &mut dyn ValueSource) -> Result<Self, Failed> {
        T::decode(source).map(Box::new)
    }
    fn decode_opt(source: &mut dyn ValueSource) -> Result<Option<Self>, Failed> {
        Ok(T::decode_opt(source)?.map(Box::new))
    }
}
