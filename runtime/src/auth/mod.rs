//! Direct-mode auth: credentials on the wire (bearer, basic, API key, OAuth2 headers, `${field}`
//! mappings) and the OAuth2 access token, obtained and renewed through the one token cache
//! ([`refresh`]: refresh-token and jwt-bearer grants).

mod jwt;
mod refresh;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

pub(crate) use refresh::Refresh;

use crate::Credentials;
use crate::descriptor::{
    AuthKind, AuthSchemeDescriptor, ConnectorDescriptor, OAuth2Descriptor, TokenGrant,
};
use crate::error::{Error, HttpErrorDetails, Result};
use crate::template;
use crate::token_cache::{Renewal, TokenCache};

/// Tokens obtained by a refresh, handed to the `on_token_refresh` callback so the caller can
/// persist them (rotated refresh tokens in particular). `Debug` is redacted.
#[derive(Clone)]
#[non_exhaustive]
pub struct RefreshedTokens {
    /// The new access token.
    pub access_token: SecretString,
    /// The new refresh token when the provider rotated it.
    pub refresh_token: Option<SecretString>,
    /// `token_type` of the response (default `Bearer`).
    pub token_type: String,
    /// `expires_in` of the response, in seconds, if present.
    pub expires_in: Option<u64>,
    /// Values extracted from the token response (`x-airbyte-token-extract`, e.g. `instance_url`).
    pub extracted: BTreeMap<String, String>,
}

impl fmt::Debug for RefreshedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshedTokens")
            .field("access_token", &"[REDACTED]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("extracted", &self.extracted.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Callback receiving refreshed tokens.
pub type TokenRefreshCallback = Arc<dyn Fn(&RefreshedTokens) + Send + Sync>;

/// A header to set, with its sensitivity.
pub(crate) struct AuthHeader {
    pub name: String,
    pub value: String,
    pub sensitive: bool,
}

/// What auth adds to a request.
#[derive(Default)]
pub(crate) struct AuthParts {
    pub headers: Vec<AuthHeader>,
    pub query: Vec<(String, String)>,
}

pub(crate) struct AuthState {
    pub scheme: Option<&'static AuthSchemeDescriptor>,
    /// Current user fields plus a rotated refresh token, by name.
    secrets: RwLock<BTreeMap<String, SecretString>>,
    /// The access token obtained by the last refresh, renewed a minute before it expires.
    token: TokenCache,
    /// Whether the first request no longer needs a refresh before it.
    proactive_done: AtomicBool,
}

impl fmt::Debug for AuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthState")
            .field("scheme", &self.scheme.map(|s| s.key))
            .field("secrets", &"[REDACTED]")
            .finish()
    }
}

impl AuthState {
    pub(crate) fn new(
        descriptor: &'static ConnectorDescriptor,
        creds: &Credentials,
    ) -> Result<Self> {
        let scheme = if descriptor.auth_schemes.is_empty() {
            None
        } else {
            let found = descriptor
                .auth_schemes
                .iter()
                .find(|s| s.key == creds.scheme())
                .ok_or_else(|| Error::UnknownAuthScheme {
                    scheme: creds.scheme().to_string(),
                    available: descriptor.auth_schemes.iter().map(|s| s.key).collect(),
                })?;
            for f in found.fields {
                if f.required && creds.get(f.name).is_none() {
                    return Err(Error::MissingCredential {
                        scheme: found.key.to_string(),
                        field: f.name.to_string(),
                    });
                }
            }
            Some(found)
        };
        let mut secrets = BTreeMap::new();
        for name in creds.field_names() {
            if let Some(v) = creds.get(name) {
                secrets.insert(name.to_string(), v.clone());
            }
        }
        Ok(AuthState {
            scheme,
            secrets: RwLock::new(secrets),
            token: TokenCache::new(Renewal::MinuteEarly),
            proactive_done: AtomicBool::new(false),
        })
    }

    /// Generation of the access token (0 before the first refresh).
    pub(crate) fn generation(&self) -> u64 {
        self.token.generation()
    }

    fn field_required(&self, name: &str) -> bool {
        self.scheme
            .and_then(|s| s.fields.iter().find(|f| f.name == name))
            .is_some_and(|f| f.required)
    }

    /// Scheme parameters (`token`, `username`, `access_token`, ...) resolved from the mapping,
    /// plus every raw field (fields used only in additional headers pass through).
    fn resolved(&self) -> Result<BTreeMap<String, String>> {
        let secrets = self.secrets.read().map_err(|_| poisoned())?;
        let refreshed = self.token.current();
        let mut out: BTreeMap<String, String> = secrets
            .iter()
            .map(|(k, v)| (k.clone(), v.expose_secret().to_string()))
            .collect();
        let Some(scheme) = self.scheme else {
            return Ok(out);
        };
        for (param, tmpl) in scheme.mapping {
            // A refreshed token wins over mapped user fields.
            if *param == "access_token" && refreshed.is_some() {
                continue;
            }
            match template::render_dollar(tmpl, |n| secrets.get(n).map(|s| s.expose_secret())) {
                Ok(v) => {
                    out.insert((*param).to_string(), v);
                }
                Err(missing) => {
                    if self.field_required(&missing) {
                        return Err(Error::MissingCredential {
                            scheme: scheme.key.to_string(),
                            field: missing,
                        });
                    }
                }
            }
        }
        if let Some(t) = refreshed {
            out.insert("access_token".into(), t.value.expose_secret().to_string());
        }
        if let Some(t) = secrets.get("__refreshed_refresh_token") {
            out.insert("refresh_token".into(), t.expose_secret().to_string());
        }
        out.retain(|k, _| !k.starts_with("__"));
        Ok(out)
    }

    fn has_param(&self, name: &str) -> bool {
        self.resolved()
            .map(|m| m.get(name).is_some_and(|v| !v.is_empty()))
            .unwrap_or(false)
    }

    /// Whether the credentials the grant exchanges for an access token are present.
    fn has_grant_input(&self, o: &OAuth2Descriptor) -> bool {
        match o.grant {
            TokenGrant::JwtBearer => self.has_param("credentials_json"),
            _ => self.has_param("refresh_token"),
        }
    }

    /// Whether a 401 can be answered with a refresh.
    pub(crate) fn can_refresh(&self, refresh_url_override: Option<&str>) -> bool {
        match self.scheme.and_then(|s| s.kind.oauth2()) {
            Some(o) => {
                // The jwt-bearer grant can fall back to the token URL of the key file.
                (o.grant == TokenGrant::JwtBearer
                    || o.refresh_url.is_some()
                    || refresh_url_override.is_some())
                    && self.has_grant_input(o)
            }
            _ => false,
        }
    }

    /// Whether a request must be preceded by a refresh: there is no access token yet, or the
    /// refreshed one is about to expire (`expires_in` of the last refresh).
    pub(crate) fn needs_proactive_refresh(&self) -> bool {
        let Some(o) = self.scheme.and_then(|s| s.kind.oauth2()) else {
            return false;
        };
        let expiring = self.token.is_due();
        let first = !self.proactive_done.load(Ordering::SeqCst) && !self.has_param("access_token");
        (expiring || first) && self.has_grant_input(o)
    }

    /// Headers and query pairs for one request.
    pub(crate) fn parts(&self) -> Result<AuthParts> {
        let mut parts = AuthParts::default();
        let Some(scheme) = self.scheme else {
            return Ok(parts);
        };
        let p = self.resolved()?;
        let get = |name: &str| p.get(name).cloned();
        let missing = |what: &str| {
            Error::Auth(HttpErrorDetails::new(
                0,
                format!("auth scheme `{}` has no value for `{what}`", scheme.key),
            ))
        };
        match &scheme.kind {
            AuthKind::Bearer => {
                let t = get("token").ok_or_else(|| missing("token"))?;
                parts.headers.push(AuthHeader {
                    name: "Authorization".into(),
                    value: format!("Bearer {t}"),
                    sensitive: true,
                });
            }
            AuthKind::Basic => {
                let u = get("username").ok_or_else(|| missing("username"))?;
                let pw = get("password").unwrap_or_default();
                let enc = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{pw}"));
                parts.headers.push(AuthHeader {
                    name: "Authorization".into(),
                    value: format!("Basic {enc}"),
                    sensitive: true,
                });
            }
            AuthKind::ApiKeyHeader { header } => {
                let k = get("api_key").ok_or_else(|| missing("api_key"))?;
                parts.headers.push(AuthHeader {
                    name: (*header).to_string(),
                    value: k,
                    sensitive: true,
                });
            }
            AuthKind::ApiKeyQuery { name } => {
                let k = get("api_key").ok_or_else(|| missing("api_key"))?;
                parts.query.push(((*name).to_string(), k));
            }
            AuthKind::OAuth2(_) | AuthKind::OAuth2Header { .. } => {
                let t = get("access_token").filter(|t| !t.is_empty()).ok_or_else(|| {
                    if p.contains_key("refresh_token") {
                        Error::Auth(HttpErrorDetails::new(0, format!(
                                "auth scheme `{}` has no access token and no refresh URL to obtain one",
                                scheme.key
                            )))
                    } else {
                        missing("access_token")
                    }
                })?;
                let (name, value) = match &scheme.kind {
                    AuthKind::OAuth2Header { header, prefix, .. } => (
                        (*header).to_string(),
                        if prefix.is_empty() {
                            t
                        } else {
                            format!("{prefix} {t}")
                        },
                    ),
                    _ => ("Authorization".to_string(), format!("Bearer {t}")),
                };
                parts.headers.push(AuthHeader {
                    name,
                    value,
                    sensitive: true,
                });
            }
            _ => {
                return Err(Error::Unsupported(format!(
                    "auth scheme `{}` uses a kind of authentication this runtime version does not know",
                    scheme.key
                )));
            }
        }
        for (name, tmpl) in scheme.additional_headers {
            let value = template::render_braces(tmpl, |n| p.get(n).cloned());
            parts.headers.retain(|h| !h.name.eq_ignore_ascii_case(name));
            parts.headers.push(AuthHeader {
                name: (*name).to_string(),
                value,
                sensitive: true,
            });
        }
        Ok(parts)
    }

    /// No refresh is possible: stop asking before every request.
    pub(crate) fn mark_proactive_done(&self) {
        self.proactive_done.store(true, Ordering::SeqCst);
        self.token.keep_until_rejected();
    }
}

pub(crate) fn poisoned() -> Error {
    Error::Internal("the credentials lock is poisoned")
}
