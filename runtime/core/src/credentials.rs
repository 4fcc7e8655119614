//! User credentials for one auth option.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use secrecy::SecretString;

/// The user-facing credential fields of one auth scheme, all kept as secrets.
///
/// The scheme key is explicit (the security scheme name of the spec, e.g. `bearerAuth`), so a
/// connector with several auth options never has to guess. `Debug` prints field names only.
#[derive(Clone)]
pub struct Credentials {
    scheme: Cow<'static, str>,
    fields: BTreeMap<Cow<'static, str>, SecretString>,
}

impl Credentials {
    /// Credentials for the auth scheme `scheme_key` (a key of the connector's `auth_schemes`).
    pub fn new(scheme_key: &'static str) -> Self {
        Credentials {
            scheme: Cow::Borrowed(scheme_key),
            fields: BTreeMap::new(),
        }
    }

    /// Like [`Credentials::new`] with a scheme key known only at run time.
    pub fn for_scheme(scheme_key: impl Into<String>) -> Self {
        Credentials {
            scheme: Cow::Owned(scheme_key.into()),
            fields: BTreeMap::new(),
        }
    }

    /// Set a credential field (builder style).
    pub fn set(mut self, field: &'static str, value: impl Into<SecretString>) -> Self {
        self.fields.insert(Cow::Borrowed(field), value.into());
        self
    }

    /// Set a credential field when `value` is `Some` (builder style).
    pub fn set_opt(self, field: &'static str, value: Option<SecretString>) -> Self {
        match value {
            Some(v) => self.set(field, v),
            None => self,
        }
    }

    /// Set a credential field whose name is known only at run time.
    pub fn insert(&mut self, field: impl Into<String>, value: impl Into<SecretString>) {
        self.fields.insert(Cow::Owned(field.into()), value.into());
    }

    /// The auth scheme key.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Names of the fields that are set.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(|k| k.as_ref())
    }

    /// A field's secret value.
    pub fn get(&self, field: &str) -> Option<&SecretString> {
        self.fields.get(field)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        m.entry(&"scheme", &self.scheme);
        for k in self.fields.keys() {
            m.entry(k, &"[REDACTED]");
        }
        m.finish()
    }
}
