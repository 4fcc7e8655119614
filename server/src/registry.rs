//! The connectors compiled into this server (the shared registry crate, one Cargo feature per
//! connector, as in the CLI), and the auth option a set of credentials belongs to.

use airbyte_agent_runtime::{AuthSchemeDescriptor, ConnectorDescriptor};
use serde_json::{Map, Value};

pub use airbyte_agent_registry::{by_definition_id, by_type, connectors};

/// Field names that select an auth option explicitly; the API infers the option instead.
pub const DISCRIMINATORS: &[&str] = &["auth_type", "auth_scheme", "option_title"];

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// A discriminator field was given.
    #[error(
        "credentials must not contain the discriminator field '{0}'; the auth option is inferred from the fields"
    )]
    Discriminator(String),
    /// A value is not a string, number or boolean.
    #[error("credential field '{0}' must be a string")]
    NotScalar(String),
    /// A required value is empty.
    #[error("credential field '{0}' must not be empty")]
    Empty(String),
    /// No auth option has exactly these fields.
    #[error("credentials do not match any auth option of {connector}: expected {expected}")]
    NoMatch {
        /// Connector slug.
        connector: &'static str,
        /// The options' fields, for the message.
        expected: String,
    },
}

/// Credentials checked against the descriptor: the matched option and the values as text.
#[derive(Debug)]
pub struct Checked {
    /// The auth option's key.
    pub scheme: &'static str,
    /// Field → value (text).
    pub values: Map<String, Value>,
}

fn matches(s: &AuthSchemeDescriptor, creds: &Map<String, Value>) -> bool {
    !s.fields.is_empty()
        && s.fields
            .iter()
            .all(|f| !f.required || creds.contains_key(f.name))
        && creds.keys().all(|k| s.fields.iter().any(|f| f.name == k))
}

/// Validate `creds` against the connector's auth options (the option is inferred from the
/// field names, as Airbyte's API does).
pub fn check_credentials(
    d: &'static ConnectorDescriptor,
    creds: &Map<String, Value>,
) -> Result<Checked, CredentialsError> {
    if let Some(k) = creds.keys().find(|k| DISCRIMINATORS.contains(&k.as_str())) {
        return Err(CredentialsError::Discriminator(k.clone()));
    }
    let mut values = Map::new();
    for (k, v) in creds {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(CredentialsError::NotScalar(k.clone())),
        };
        if text.trim().is_empty() {
            return Err(CredentialsError::Empty(k.clone()));
        }
        values.insert(k.clone(), Value::String(text));
    }
    let scheme = d
        .auth_schemes
        .iter()
        .find(|s| matches(s, &values))
        .ok_or_else(|| CredentialsError::NoMatch {
            connector: d.name,
            expected: d
                .auth_schemes
                .iter()
                .filter(|s| !s.fields.is_empty())
                .map(|s| {
                    let f: Vec<String> = s
                        .fields
                        .iter()
                        .map(|f| {
                            if f.required {
                                f.name.to_string()
                            } else {
                                format!("{}?", f.name)
                            }
                        })
                        .collect();
                    format!("{{{}}}", f.join(", "))
                })
                .collect::<Vec<_>>()
                .join(" or "),
        })?;
    Ok(Checked {
        scheme: scheme.key,
        values,
    })
}

#[cfg(all(test, feature = "stripe"))]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn stripe_credentials() {
        let d = airbyte_agent_stripe::StripeConnector::descriptor();
        assert_eq!(
            by_definition_id(d.definition_id).map(|x| x.name),
            Some("stripe")
        );
        assert_eq!(by_type("Stripe").map(|x| x.name), Some("stripe"));
        let ok = check_credentials(d, &obj(json!({"api_key": "sk_test"}))).unwrap();
        assert_eq!(ok.scheme, "bearerAuth");
        assert!(matches!(
            check_credentials(d, &obj(json!({"api_key": "x", "auth_type": "k"}))),
            Err(CredentialsError::Discriminator(_))
        ));
        assert!(matches!(
            check_credentials(d, &obj(json!({"token": "x"}))),
            Err(CredentialsError::NoMatch { .. })
        ));
        assert!(matches!(
            check_credentials(d, &obj(json!({"api_key": {"a": 1}}))),
            Err(CredentialsError::NotScalar(_))
        ));
        assert!(matches!(
            check_credentials(d, &obj(json!({"api_key": " "}))),
            Err(CredentialsError::Empty(_))
        ));
    }
}

#[cfg(test)]
mod every_connector {
    use super::*;

    /// Every compiled-in connector is found by its definition id, and credentials with exactly
    /// the required fields of an option are inferred as an option with those fields.
    #[test]
    fn lookup_and_inference() {
        for d in connectors() {
            assert!(
                !d.definition_id.is_empty(),
                "{} has no definition id",
                d.name
            );
            assert_eq!(
                by_definition_id(d.definition_id).map(|x| x.name),
                Some(d.name)
            );
            for s in d.auth_schemes.iter().filter(|s| !s.fields.is_empty()) {
                let creds: Map<String, Value> = s
                    .fields
                    .iter()
                    .filter(|f| f.required)
                    .map(|f| (f.name.to_string(), Value::String("v".into())))
                    .collect();
                if creds.is_empty() {
                    continue;
                }
                let got = check_credentials(d, &creds);
                assert!(got.is_ok(), "{} {}: {got:?}", d.name, s.key);
            }
        }
    }
}
