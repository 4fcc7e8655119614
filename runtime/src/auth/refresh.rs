//! Obtaining a new OAuth2 access token: the `refresh_token` grant and the RFC 7523 jwt-bearer
//! grant, sent through the retry loop, stored in the token cache (single flight).

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::Ordering;

use base64::Engine as _;
use secrecy::SecretString;
use serde_json::Value;

use super::{AuthState, RefreshedTokens, TokenRefreshCallback, jwt, poisoned};
use crate::descriptor::{OAuth2Descriptor, TokenBodyFormat, TokenClientAuth, TokenGrant};
use crate::error::{Error, HttpErrorDetails, Result};
use crate::retry::RetryPolicy;
use crate::template;
use crate::token_cache::token_lifetime;
use crate::transport::{map_reqwest_error, send_with_policy};

/// What a refresh needs from the client.
pub(crate) struct Refresh<'a> {
    /// The client's pooled HTTP client.
    pub http: &'a reqwest::Client,
    /// The client's retry policy (the token endpoint is a POST: 429 and connection failures).
    pub retry: &'a RetryPolicy,
    /// Config values: token URL variables in, `x-airbyte-token-extract` values out.
    pub config: &'a RwLock<BTreeMap<String, String>>,
    /// Override of the scheme's refresh URL.
    pub refresh_url: Option<&'a str>,
    /// Receives every refreshed token set.
    pub callback: Option<&'a TokenRefreshCallback>,
}

fn auth_error(status: u16, message: String) -> Error {
    Error::Auth(HttpErrorDetails::new(status, message))
}

impl AuthState {
    /// Refresh the access token once, unless another task already did since `seen_generation`.
    pub(crate) async fn refresh(&self, ctx: &Refresh<'_>, seen_generation: u64) -> Result<()> {
        self.token
            .renew(seen_generation, || self.obtain(ctx))
            .await
            .map(|_| ())
    }

    /// One token request; stores a rotated refresh token and extracted values, tells the
    /// callback, and returns the access token with its lifetime for the cache.
    async fn obtain(
        &self,
        ctx: &Refresh<'_>,
    ) -> Result<(SecretString, Option<std::time::Duration>)> {
        let (http, config, refresh_url_override, callback) =
            (ctx.http, ctx.config, ctx.refresh_url, ctx.callback);
        let Some(scheme) = self.scheme else {
            return Err(Error::RefreshUnavailable {
                scheme: String::new(),
                reason: "the connector has no auth scheme",
            });
        };
        let Some(o) = scheme.kind.oauth2() else {
            return Err(Error::RefreshUnavailable {
                scheme: scheme.key.to_string(),
                reason: "the scheme is not OAuth2",
            });
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
            _ => Self::refresh_token_request(http, o, &p, url, scheme.key)?,
        };
        let resp = send_with_policy(ctx.retry, false, || {
            req.try_clone()
                .ok_or(Error::Internal("a token request body cannot be repeated"))
        })
        .await?
        .map_err(|e| {
            auth_error(
                0,
                format!(
                    "token refresh request failed: {}",
                    map_reqwest_error(e, None).message()
                ),
            )
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            let snippet: String = text.chars().take(500).collect();
            return Err(Error::Auth(HttpErrorDetails::new(
                status,
                format!("token refresh failed: {snippet}"),
            )));
        }
        let body: Value = serde_json::from_str(&text).map_err(|_| {
            Error::Auth(HttpErrorDetails::new(
                status,
                "token refresh response is not JSON",
            ))
        })?;
        let access = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::Auth(HttpErrorDetails::new(
                    status,
                    "token refresh response has no access_token",
                ))
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
        if let Some(r) = &rotated {
            let mut s = self.secrets.write().map_err(|_| poisoned())?;
            s.insert(
                "__refreshed_refresh_token".into(),
                SecretString::from(r.clone()),
            );
        }
        if !extracted.is_empty() {
            let mut cfg = config.write().map_err(|_| poisoned())?;
            for (k, v) in &extracted {
                cfg.insert(k.clone(), v.clone());
            }
        }
        self.proactive_done.store(true, Ordering::SeqCst);
        let lifetime = token_lifetime(&body);
        let expires_in = lifetime.map(|d| d.as_secs());
        tracing::debug!(rotated = rotated.is_some(), "access token refreshed");
        if let Some(cb) = callback {
            let tokens = RefreshedTokens {
                access_token: SecretString::from(access.clone()),
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
        Ok((SecretString::from(access), lifetime))
    }

    /// The `grant_type=refresh_token` request.
    fn refresh_token_request(
        http: &reqwest::Client,
        o: &OAuth2Descriptor,
        p: &BTreeMap<String, String>,
        url: Option<String>,
        scheme: &str,
    ) -> Result<reqwest::RequestBuilder> {
        let refresh_token = p
            .get("refresh_token")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::RefreshUnavailable {
                scheme: scheme.to_string(),
                reason: "no refresh token is available",
            })?
            .clone();
        let url = url.ok_or_else(|| Error::RefreshUnavailable {
            scheme: scheme.to_string(),
            reason: "the scheme declares no refresh URL",
        })?;
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
                    Error::InvalidHeader {
                        header: "Authorization".into(),
                        reason: "the client credentials have characters not allowed in a header",
                    }
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
            Error::Auth(HttpErrorDetails::new(
                0,
                format!(
                    "Failed to obtain access_token via token refresh: Invalid 'credentials_json': {why}"
                ),
            ))
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
}

fn form_body(req: reqwest::RequestBuilder, fields: &[(String, String)]) -> reqwest::RequestBuilder {
    req.header("content-type", "application/x-www-form-urlencoded")
        .body(crate::encode::encode_pairs(fields))
}
