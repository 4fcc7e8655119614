//! Declarative macros used by generated code.

/// Define an open string enum: the listed variants plus `Unknown(String)` for values the spec
/// does not know yet (forward compatibility).
///
/// ```
/// airbyte_agent_core::string_enum! {
///     /// Subscription status.
///     pub enum Status {
///         /// Active.
///         Active => "active",
///         Past_due => "past_due",
///     }
/// }
/// assert_eq!(Status::Active.as_str(), "active");
/// assert_eq!(Status::from("paused"), Status::Unknown("paused".into()));
/// let s: Status = serde_json::from_str("\"past_due\"").unwrap();
/// assert_eq!(s, Status::Past_due);
/// assert_eq!(serde_json::to_string(&Status::Unknown("x".into())).unwrap(), "\"x\"");
/// ```
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident => $value:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )*
            /// A value not known when this crate was generated.
            Unknown(::std::string::String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Unknown(s) => s.as_str(),
                }
            }

            /// Every known wire value.
            pub const VALUES: &'static [&'static str] = &[$($value),*];
        }

        impl ::std::convert::From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $value => $name::$variant, )*
                    other => $name::Unknown(other.to_string()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(s: ::std::string::String) -> Self {
                match s.as_str() {
                    $( $value => $name::$variant, )*
                    _ => $name::Unknown(s),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                ::std::result::Result::Ok(<$name as ::std::convert::From<&str>>::from(s))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl $crate::record::Field for $name {
            fn view(&self) -> $crate::record::ValueView<'_> {
                $crate::record::ValueView::Str(self.as_str())
            }
            fn decode(
                source: &mut dyn $crate::record::ValueSource,
            ) -> ::core::result::Result<Self, $crate::record::Failed> {
                source.string().map(<$name as ::std::convert::From<::std::string::String>>::from)
            }
            fn decode_opt(
                source: &mut dyn $crate::record::ValueSource,
            ) -> ::core::result::Result<::core::option::Option<Self>, $crate::record::Failed> {
                ::core::result::Result::Ok(source.opt_string()?.map(<$name as ::std::convert::From<::std::string::String>>::from))
            }
        }

        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::string::String as $crate::serde::Deserialize>::deserialize(deserializer)?;
                ::std::result::Result::Ok(<$name as ::std::convert::From<::std::string::String>>::from(s))
            }
        }
    };
}

/// Implement decoding and encoding for a generated record struct whose fields are all `Option`s:
/// [`Record`](crate::record::Record) (a key match and one assignment per field, walked by
/// [`record::deserialize`](crate::record::deserialize)), [`Field`](crate::record::Field) (so
/// the record can be a field of another), `Deserialize` through that walk, and `Serialize` as an
/// object of the fields that are `Some`, under their wire names. Every field type must implement
/// `Field`.
///
/// Each entry is `field => "wire name"`; `field => "wire name" skip_nulls` marks a list whose `null`
/// items are dropped (see [`skip_nulls`](crate::record::skip_nulls)). With a leading `debug`
/// (`impl_record!(debug Name { .. })`) the macro also implements `Debug` through
/// [`record::debug`](crate::record::debug), instead of a derive per struct.
///
/// ```
/// #[derive(Debug, Default, PartialEq)]
/// pub struct Address {
///     pub city: Option<String>,
///     pub r#type: Option<String>,
///     pub lines: Option<Vec<String>>,
/// }
/// airbyte_agent_core::impl_record!(Address { city => "city", r#type => "type", lines => "lines" skip_nulls });
///
/// let a: Address = serde_json::from_str(r#"{"city":"Oslo","lines":["a",null],"extra":1}"#).unwrap();
/// assert_eq!(a, Address { city: Some("Oslo".into()), r#type: None, lines: Some(vec!["a".into()]) });
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"city":"Oslo","lines":["a"]}"#);
///
/// #[derive(Debug, Default)]
/// pub struct Empty {}
/// airbyte_agent_core::impl_record!(Empty {});
/// assert_eq!(serde_json::to_string(&serde_json::from_str::<Empty>(r#"{"a":1}"#).unwrap()).unwrap(), "{}");
/// ```
#[macro_export]
macro_rules! impl_record {
    (debug $name:ident { $($body:tt)* }) => {
        $crate::impl_record!($name { $($body)* });
        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                $crate::record::debug(self, f)
            }
        }
    };
    ($name:ident { $($field:ident => $key:literal $($skip_nulls:ident)?),* $(,)? }) => {
        const _: () = {
            #[allow(non_camel_case_types, non_upper_case_globals, dead_code)]
            mod __index {
                enum __Field { $($field),* }
                $(pub(super) const $field: usize = __Field::$field as usize;)*
            }

            impl $crate::record::Record for $name {
                const NAME: &'static str = ::core::stringify!($name);

                #[inline]
                fn field_index(key: &str) -> ::core::option::Option<usize> {
                    match key {
                        $($key => ::core::option::Option::Some(__index::$field),)*
                        _ => ::core::option::Option::None,
                    }
                }

                #[inline]
                fn set_field(
                    &mut self,
                    index: usize,
                    value: &mut dyn $crate::record::ValueSource,
                ) -> ::core::result::Result<(), $crate::record::Failed> {
                    match index {
                        $(__index::$field => $crate::__record_put!(self.$field, value $($skip_nulls)?),)*
                        _ => value.skip(),
                    }
                }

                const KEYS: &'static [&'static str] = &[$($key),*];
                const NAMES: &'static [&'static str] = &[$(::core::stringify!($field)),*];

                fn view_field(
                    &self,
                    index: usize,
                ) -> ::core::option::Option<$crate::record::ValueView<'_>> {
                    match index {
                        $(__index::$field => $crate::record::view_of(&self.$field),)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            impl $crate::record::Field for $name {
                fn view(&self) -> $crate::record::ValueView<'_> {
                    $crate::record::ValueView::Record(self)
                }
                fn decode(
                    value: &mut dyn $crate::record::ValueSource,
                ) -> ::core::result::Result<Self, $crate::record::Failed> {
                    $crate::record::decode_record(value)
                }
                fn decode_opt(
                    value: &mut dyn $crate::record::ValueSource,
                ) -> ::core::result::Result<::core::option::Option<Self>, $crate::record::Failed> {
                    $crate::record::decode_opt_record(value)
                }
            }

            impl<'de> $crate::serde::Deserialize<'de> for $name {
                fn deserialize<__D: $crate::serde::Deserializer<'de>>(
                    d: __D,
                ) -> ::core::result::Result<Self, __D::Error> {
                    $crate::record::deserialize(d)
                }
            }

            impl $crate::serde::Serialize for $name {
                fn serialize<__S: $crate::serde::Serializer>(
                    &self,
                    serializer: __S,
                ) -> ::core::result::Result<__S::Ok, __S::Error> {
                    $crate::record::serialize(self, serializer)
                }
            }
        };
    };
}

/// One field assignment of [`impl_record!`]: plain, or a list with its `null` items dropped.
#[doc(hidden)]
#[macro_export]
macro_rules! __record_put {
    ($slot:expr, $value:ident) => {
        $crate::record::put(&mut $slot, $value)
    };
    ($slot:expr, $value:ident skip_nulls) => {
        $crate::record::put_skip_nulls(&mut $slot, $value)
    };
}
