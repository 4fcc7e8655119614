//! RFC 7523 JWT bearer assertions signed with a Google service-account key (the `jwt_bearer`
//! token grant): the key is the JSON file Google issues, passed as the `credentials_json` field.
//!
//! The assertion is an RS256-signed JWT with the claims `iss` (the key's `client_email`), `scope`
//! (the flow's scopes, space-separated), `aud` (the key's `token_uri`), `iat` and `exp` (one hour
//! later). It is exchanged at the token endpoint for an access token like any refresh.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::{Map, Value, json};

/// `grant_type` of the token request.
pub(crate) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Assertion lifetime: one hour, the longest Google accepts.
const LIFETIME_S: u64 = 3600;

/// The parts of a service-account key the grant uses. No `Debug`: it holds the private key.
pub(crate) struct ServiceAccountKey {
    client_email: String,
    key_id: Option<String>,
    token_uri: Option<String>,
    key: RsaKeyPair,
}

impl ServiceAccountKey {
    /// Reads a service-account key file. The error says what is wrong without quoting the input.
    pub(crate) fn parse(credentials_json: &str) -> Result<Self, &'static str> {
        let value: Value =
            serde_json::from_str(credentials_json).map_err(|_| "it is not valid JSON")?;
        let obj = value.as_object().ok_or("it is not a JSON object")?;
        let client_email = text(obj, "client_email").ok_or("'client_email' is missing")?;
        let pem = text(obj, "private_key").ok_or("'private_key' is missing")?;
        let key = private_key(pem).ok_or("'private_key' is not a loadable PEM private key")?;
        Ok(ServiceAccountKey {
            client_email: client_email.to_string(),
            key_id: text(obj, "private_key_id").map(str::to_string),
            token_uri: text(obj, "token_uri").map(str::to_string),
            key,
        })
    }

    /// The token endpoint named in the key file.
    pub(crate) fn token_uri(&self) -> Option<&str> {
        self.token_uri.as_deref()
    }

    /// A signed assertion for `scopes`, addressed to `audience`, issued at `now` (Unix seconds).
    pub(crate) fn assertion(
        &self,
        scopes: &[&str],
        audience: &str,
        now: u64,
    ) -> Result<String, &'static str> {
        let mut header = Map::new();
        header.insert("alg".into(), "RS256".into());
        header.insert("typ".into(), "JWT".into());
        if let Some(kid) = &self.key_id {
            header.insert("kid".into(), kid.as_str().into());
        }
        let claims = json!({
            "iss": self.client_email,
            "scope": scopes.join(" "),
            "aud": audience,
            "iat": now,
            "exp": now + LIFETIME_S,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(Value::Object(header).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "signing the assertion failed")?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// An RSA key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`, what Google issues) or PKCS#1
/// (`BEGIN RSA PRIVATE KEY`), read by rustls' PEM reader. Escaped newlines (`\n` as two
/// characters, as left by copying the key out of its JSON file) are accepted.
fn private_key(pem: &str) -> Option<RsaKeyPair> {
    let pem = pem.replace("\\n", "\n");
    match PrivateKeyDer::from_pem_slice(pem.as_bytes()).ok()? {
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()).ok(),
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_named_without_quoting_the_key() {
        let cases = [
            ("{", "it is not valid JSON"),
            ("[1]", "it is not a JSON object"),
            (r#"{"private_key": "x"}"#, "'client_email' is missing"),
            (r#"{"client_email": "a@b"}"#, "'private_key' is missing"),
            (
                r#"{"client_email": "a@b", "private_key": "FAKE"}"#,
                "'private_key' is not a loadable PEM private key",
            ),
            (
                r#"{"client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#,
                "'private_key' is not a loadable PEM private key",
            ),
        ];
        for (input, want) in cases {
            match ServiceAccountKey::parse(input) {
                Err(e) => assert_eq!(e, want, "{input}"),
                Ok(_) => panic!("{input} parsed"),
            }
        }
    }
}
