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
