//! Auth injection (bearer, basic, API key, OAuth2) and OAuth2 refresh-token handling.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::Credentials;
use crate::descriptor::{
    AuthKind, AuthSchemeDescriptor, ConnectorDescriptor, OAuth2Descriptor, TokenBodyFormat,
    TokenClientAuth, TokenGrant,
};
use crate::error::{Error, HttpErrorDetails, Result};
use crate::{jwt, template};

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
    /// Current user fields plus refreshed tokens, by name.
    secrets: RwLock<BTreeMap<String, SecretString>>,
    generation: AtomicU64,
    refresh_lock: tokio::sync::Mutex<()>,
    proactive_done: std::sync::atomic::AtomicBool,
    /// When the refreshed access token should be replaced (from `expires_in`, minus a margin).
    renew_at: std::sync::Mutex<Option<std::time::Instant>>,
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
                .ok_or_else(|| {
                    let keys: Vec<&str> = descriptor.auth_schemes.iter().map(|s| s.key).collect();
                    Error::Config(format!(
                        "unknown auth scheme `{}`; available schemes: {}",
                        creds.scheme(),
                        keys.join(", ")
                    ))
                })?;
            for f in found.fields {
                if f.required && creds.get(f.name).is_none() {
                    return Err(Error::Config(format!(
                        "auth scheme `{}` requires credential field `{}`",
                        found.key, f.name
                    )));
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
            generation: AtomicU64::new(0),
            refresh_lock: tokio::sync::Mutex::new(()),
            proactive_done: std::sync::atomic::AtomicBool::new(false),
            renew_at: std::sync::Mutex::new(None),
        })
    }

    /// No credentials at all (hosted mode: the platform holds them).
    pub(crate) fn none() -> Self {
        AuthState {
            scheme: None,
            secrets: RwLock::new(BTreeMap::new()),
            generation: AtomicU64::new(0),
            refresh_lock: tokio::sync::Mutex::new(()),
            proactive_done: std::sync::atomic::AtomicBool::new(true),
            renew_at: std::sync::Mutex::new(None),
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
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
        let mut out: BTreeMap<String, String> = secrets
            .iter()
            .map(|(k, v)| (k.clone(), v.expose_secret().to_string()))
            .collect();
        let Some(scheme) = self.scheme else {
            return Ok(out);
        };
        for (param, tmpl) in scheme.mapping {
            // Refreshed tokens win over mapped user fields.
            if *param == "access_token" && secrets.contains_key("__refreshed_access_token") {
                continue;
            }
            match template::render_dollar(tmpl, |n| secrets.get(n).map(|s| s.expose_secret())) {
                Ok(v) => {
                    out.insert((*param).to_string(), v);
                }
                Err(missing) => {
                    if self.field_required(&missing) {
                        return Err(Error::Config(format!(
                            "credential field `{missing}` is required by auth scheme `{}`",
                            scheme.key
                        )));
                    }
                }
            }
        }
        if let Some(t) = secrets.get("__refreshed_access_token") {
            out.insert("access_token".into(), t.expose_secret().to_string());
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
        let expiring = self
            .renew_at
            .lock()
            .ok()
            .and_then(|t| *t)
            .is_some_and(|t| std::time::Instant::now() >= t);
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
            Error::Auth(HttpErrorDetails {
                status: 0,
                message: format!("auth scheme `{}` has no value for `{what}`", scheme.key),
                code: None,
                request_id: None,
            })
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
                        Error::Auth(HttpErrorDetails {
                            status: 0,
                            message: format!(
                                "auth scheme `{}` has no access token and no refresh URL to obtain one",
                                scheme.key
                            ),
                            code: None,
                            request_id: None,
                        })
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

    /// Refresh the access token once, unless another task already did since `seen_generation`.
    pub(crate) async fn refresh(
        &self,
        http: &reqwest::Client,
        seen_generation: u64,
        config: &RwLock<BTreeMap<String, String>>,
        refresh_url_override: Option<&str>,
        callback: Option<&TokenRefreshCallback>,
    ) -> Result<()> {
        let _guard = self.refresh_lock.lock().await;
        if self.generation() != seen_generation {
            return Ok(());
        }
        let Some(o) = self.scheme.and_then(|s| s.kind.oauth2()) else {
            return Err(Error::Config(
                "auth scheme does not support token refresh".into(),
            ));
        };
        let p = self.resolved()?;
        let url = match refresh_url_override
            .or(o.refresh_url)
            .or(o.token_url.filter(|_| o.grant == TokenGrant::JwtBearer))
        {
            Some(tmpl) => {
                let cfg = config.read().map_err(|_| poisoned())?;
                Some(template::render_braces(tmpl, |n| {
                    cfg.get(n).cloned().or_else(|| p.get(n).cloned())
                }))
            }
            None => None,
        };
        let req = match o.grant {
            TokenGrant::JwtBearer => Self::jwt_bearer_request(http, o, &p, url)?,
            _ => Self::refresh_token_request(http, o, &p, url)?,
        };
        let resp = req.send().await.map_err(|e| {
            Error::Auth(HttpErrorDetails {
                status: 0,
                message: format!(
                    "token refresh request failed: {}",
                    crate::client::describe_reqwest(&e)
                ),
                code: None,
                request_id: None,
            })
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            let snippet: String = text.chars().take(500).collect();
            return Err(Error::Auth(HttpErrorDetails {
                status,
                message: format!("token refresh failed: {snippet}"),
                code: None,
                request_id: None,
            }));
        }
        let body: Value = serde_json::from_str(&text).map_err(|_| {
            Error::Auth(HttpErrorDetails {
                status,
                message: "token refresh response is not JSON".into(),
                code: None,
                request_id: None,
            })
        })?;
        let access = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::Auth(HttpErrorDetails {
                    status,
                    message: "token refresh response has no access_token".into(),
                    code: None,
                    request_id: None,
                })
            })?
            .to_string();
        let rotated = body
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let mut extracted = BTreeMap::new();
        for key in o.token_extract {
            if let Some(v) = body.get(*key).and_then(crate::encode::scalar_text) {
                extracted.insert((*key).to_string(), v);
            }
        }
        {
            let mut s = self.secrets.write().map_err(|_| poisoned())?;
            s.insert(
                "__refreshed_access_token".into(),
                SecretString::from(access.clone()),
            );
            if let Some(r) = &rotated {
                s.insert(
                    "__refreshed_refresh_token".into(),
                    SecretString::from(r.clone()),
                );
            }
        }
        if !extracted.is_empty() {
            let mut cfg = config.write().map_err(|_| poisoned())?;
            for (k, v) in &extracted {
                cfg.insert(k.clone(), v.clone());
            }
        }
        self.proactive_done.store(true, Ordering::SeqCst);
        let expires_in = token_lifetime(&body).map(|d| d.as_secs());
        if let Ok(mut t) = self.renew_at.lock() {
            *t = expires_in
                .and_then(renewal_delay)
                .map(|d| std::time::Instant::now() + d);
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        tracing::debug!(rotated = rotated.is_some(), "access token refreshed");
        if let Some(cb) = callback {
            let tokens = RefreshedTokens {
                access_token: SecretString::from(access),
                refresh_token: rotated.map(SecretString::from),
                token_type: body
                    .get("token_type")
                    .and_then(Value::as_str)
                    .unwrap_or("Bearer")
                    .to_string(),
                expires_in,
                extracted,
            };
            let cb = cb.clone();
            // A panicking callback must not take the client down.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(&tokens))).is_err() {
                tracing::warn!("on_token_refresh callback panicked");
            }
        }
        Ok(())
    }

    /// The `grant_type=refresh_token` request.
    fn refresh_token_request(
        http: &reqwest::Client,
        o: &OAuth2Descriptor,
        p: &BTreeMap<String, String>,
        url: Option<String>,
    ) -> Result<reqwest::RequestBuilder> {
        let refresh_token = p
            .get("refresh_token")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Config("no refresh token available".into()))?
            .clone();
        let url =
            url.ok_or_else(|| Error::Config("the auth scheme declares no refresh URL".into()))?;
        let client_id = p.get("client_id").cloned().unwrap_or_default();
        let client_secret = p.get("client_secret").cloned().unwrap_or_default();
        let mut fields: Vec<(String, String)> = vec![
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), refresh_token),
        ];
        if o.client_auth == TokenClientAuth::Body {
            fields.push(("client_id".into(), client_id.clone()));
            fields.push(("client_secret".into(), client_secret.clone()));
        }
        let mut req = http.post(&url);
        match o.body_format {
            TokenBodyFormat::Json => {
                let obj: serde_json::Map<String, Value> = fields
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                req = req
                    .header("content-type", "application/json")
                    .body(Value::Object(obj).to_string());
            }
            _ => req = form_body(req, &fields),
        }
        if o.client_auth == TokenClientAuth::Basic {
            let enc = base64::engine::general_purpose::STANDARD
                .encode(format!("{client_id}:{client_secret}"));
            let mut hv =
                reqwest::header::HeaderValue::from_str(&format!("Basic {enc}")).map_err(|_| {
                    Error::Config("client credentials contain invalid header characters".into())
                })?;
            hv.set_sensitive(true);
            req = req.header(reqwest::header::AUTHORIZATION, hv);
        }
        Ok(req)
    }

    /// The RFC 7523 jwt-bearer request: an assertion signed with the service-account key.
    fn jwt_bearer_request(
        http: &reqwest::Client,
        o: &OAuth2Descriptor,
        p: &BTreeMap<String, String>,
        url: Option<String>,
    ) -> Result<reqwest::RequestBuilder> {
        let invalid = |why: &str| {
            Error::Auth(HttpErrorDetails {
                status: 0,
                message: format!(
                    "Failed to obtain access_token via token refresh: Invalid 'credentials_json': {why}"
                ),
                code: None,
                request_id: None,
            })
        };
        let json = p
            .get("credentials_json")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("the credential is empty"))?;
        let key = jwt::ServiceAccountKey::parse(json).map_err(invalid)?;
        let url = match url {
            Some(url) => url,
            None => key
                .token_uri()
                .ok_or_else(|| invalid("'token_uri' is missing"))?
                .to_string(),
        };
        let audience = key.token_uri().unwrap_or(&url).to_string();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let assertion = key.assertion(o.scopes, &audience, now).map_err(invalid)?;
        let fields = [
            ("grant_type".to_string(), jwt::GRANT_TYPE.to_string()),
            ("assertion".to_string(), assertion),
        ];
        Ok(form_body(http.post(&url), &fields))
    }

    /// No refresh is possible: stop asking before every request.
    pub(crate) fn mark_proactive_done(&self) {
        self.proactive_done.store(true, Ordering::SeqCst);
        if let Ok(mut t) = self.renew_at.lock() {
            *t = None;
        }
    }
}

fn form_body(req: reqwest::RequestBuilder, fields: &[(String, String)]) -> reqwest::RequestBuilder {
    req.header("content-type", "application/x-www-form-urlencoded")
        .body(crate::encode::encode_pairs(fields))
}

/// The lifetime a token response states in `expires_in`: seconds as a number or, as some
/// providers send it, a numeric string. Shared by OAuth2 refreshes and Airbyte's application
/// tokens.
pub(crate) fn token_lifetime(body: &Value) -> Option<std::time::Duration> {
    let secs = match body.get("expires_in")? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }?;
    (secs.is_finite() && secs >= 0.0).then(|| std::time::Duration::from_secs_f64(secs.min(1.0e7)))
}

/// How long a token that `expires_in` seconds is used before it is renewed: a minute less (half
/// its life for tokens shorter than two minutes), so that requests in flight do not meet the
/// expiry. `None` (renew on 401 only) for a zero or absurd lifetime.
fn renewal_delay(expires_in: u64) -> Option<std::time::Duration> {
    if expires_in == 0 || expires_in > 10 * 365 * 24 * 3600 {
        return None;
    }
    let margin = (expires_in / 2).min(60);
    Some(std::time::Duration::from_secs(expires_in - margin))
}

pub(crate) fn poisoned() -> Error {
    Error::Config("internal lock poisoned".into())
}

#[cfg(test)]
mod tests {
    use super::renewal_delay;
    use std::time::Duration;

    #[test]
    fn tokens_are_renewed_a_minute_early_or_at_half_life() {
        assert_eq!(renewal_delay(3600), Some(Duration::from_secs(3540)));
        assert_eq!(renewal_delay(120), Some(Duration::from_secs(60)));
        assert_eq!(renewal_delay(30), Some(Duration::from_secs(15)));
        assert_eq!(renewal_delay(1), Some(Duration::from_secs(1)));
        assert_eq!(renewal_delay(0), None);
        assert_eq!(renewal_delay(u64::MAX), None);
    }
}
