//! HTTP transport to Airbyte's API: application token, common headers, retries, 401 re-token,
//! error mapping with secret redaction.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::config::ResolvedAuth;
use super::token::cache_for;
use crate::error::{Error, HostedError, Result};
use crate::headers::Headers;
use crate::retry::RetryPolicy;
use crate::token_cache::{Token, TokenCache, token_lifetime};
use crate::transport::{HttpClient, headers_from_reqwest, map_reqwest_error};

/// Value of the `X-ADP-Agent-SDK` header (the platform identifies agent SDK traffic by it).
pub const AGENT_SDK_HEADER_VALUE: &str = "airbyte-agent-sdk";
const TOKEN_PATH: &str = "/api/v1/account/applications/token";

/// HTTP method of a platform call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
    fn reqwest(self) -> reqwest::Method {
        match self {
            Verb::Get => reqwest::Method::GET,
            Verb::Post => reqwest::Method::POST,
            Verb::Put => reqwest::Method::PUT,
            Verb::Patch => reqwest::Method::PATCH,
            Verb::Delete => reqwest::Method::DELETE,
        }
    }
}

/// A platform call.
pub(crate) struct Call<'a> {
    pub verb: Verb,
    pub path: &'a str,
    pub query: Vec<(&'a str, String)>,
    pub body: Option<&'a Value>,
    /// Whether 5xx/timeouts may be retried (429 always is).
    pub idempotent: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn get(path: &'a str) -> Self {
        Call {
            verb: Verb::Get,
            path,
            query: Vec::new(),
            body: None,
            idempotent: true,
        }
    }
    pub(crate) fn post(path: &'a str, body: &'a Value) -> Self {
        Call {
            verb: Verb::Post,
            path,
            query: Vec::new(),
            body: Some(body),
            idempotent: false,
        }
    }
    pub(crate) fn query(mut self, k: &'a str, v: impl Into<String>) -> Self {
        self.query.push((k, v.into()));
        self
    }
}

/// Shared transport: one per hosted client / platform client; the token cache is process-wide.
pub(crate) struct Transport {
    http: reqwest::Client,
    pub(crate) auth: ResolvedAuth,
    token: Arc<TokenCache>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(crate) fn new(
        auth: ResolvedAuth,
        timeout: Duration,
        connect_timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self> {
        let http = HttpClient::FollowRedirects.build(timeout, connect_timeout)?;
        let token = cache_for(&auth);
        Ok(Transport {
            http,
            auth,
            token,
            retry,
        })
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Number of application tokens this credential set fetched in this process.
    pub(crate) fn token_fetches(&self) -> u64 {
        self.token.fetch_count()
    }

    /// A valid application token (cached, single flight).
    pub(crate) async fn token(&self) -> Result<Token> {
        self.token.get(|| self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<(SecretString, Option<Duration>)> {
        let body = serde_json::json!({
            "client_id": self.auth.client_id,
            "client_secret": self.auth.client_secret.expose_secret(),
        });
        let call = Call {
            verb: Verb::Post,
            path: TOKEN_PATH,
            query: Vec::new(),
            body: Some(&body),
            // Asking for a token twice is harmless.
            idempotent: true,
        };
        let (status, headers, bytes) = self.send_with_retries(&call, None).await?;
        if status >= 400 {
            let mut e = self.error(&call, status, &headers, &bytes);
            if let Some(d) = e.details_mut() {
                d.message = format!(
                    "Airbyte rejected the application credentials of client id `{}`: {}",
                    self.auth.client_id, d.message
                );
            }
            return Err(e);
        }
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| unexpected(&call, format!("token response is not JSON ({e})")))?;
        let token = v
            .get("access_token")
            .or_else(|| v.get("token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unexpected(&call, "token response has no `access_token`".into()))?;
        let ttl = token_lifetime(&v);
        Ok((SecretString::from(token.to_string()), ttl))
    }

    /// Run a call with the application token; on 401 the token is re-fetched once and the call
    /// replayed. Returns the parsed JSON body (`null` for empty bodies).
    pub(crate) async fn json(&self, call: &Call<'_>) -> Result<Value> {
        let (status, headers, bytes) = self.send_authed(call).await?;
        json_response(
            call,
            status,
            &headers,
            &bytes,
            Some(&self.auth.client_secret),
        )
    }

    async fn send_authed(&self, call: &Call<'_>) -> Result<(u16, Headers, bytes::Bytes)> {
        let token = self.token().await?;
        let r = self.send_with_retries(call, Some(&token.value)).await?;
        if r.0 != 401 {
            return Ok(r);
        }
        tracing::debug!(
            path = call.path,
            "application token rejected; fetching a new one"
        );
        self.token.invalidate(token.generation);
        let token = self.token().await?;
        self.send_with_retries(call, Some(&token.value)).await
    }

    async fn send_with_retries(
        &self,
        call: &Call<'_>,
        bearer: Option<&SecretString>,
    ) -> Result<(u16, Headers, bytes::Bytes)> {
        send_call(
            &self.http,
            &self.retry,
            &self.auth.base_url,
            self.auth.organization_id.as_deref(),
            call,
            bearer,
        )
        .await
    }

    /// Map an error response; the client secret never survives into the message.
    fn error(&self, call: &Call<'_>, status: u16, headers: &Headers, body: &[u8]) -> Error {
        error_response(call, status, headers, body, Some(&self.auth.client_secret))
    }
}

/// The headers every call to Airbyte's API carries.
fn api_headers(organization_id: Option<&str>) -> Result<HeaderMap> {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_static("x-adp-agent-sdk"),
        HeaderValue::from_static(AGENT_SDK_HEADER_VALUE),
    );
    h.insert(
        reqwest::header::USER_AGENT,
        HeaderValue::from_static(concat!("airbyte-agent-rs/", env!("CARGO_PKG_VERSION"))),
    );
    h.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    if let Some(org) = organization_id {
        let v = HeaderValue::from_str(org).map_err(|_| Error::InvalidHeader {
            header: "X-Organization-Id".into(),
            reason: "the organization id has characters not allowed in a header",
        })?;
        h.insert(HeaderName::from_static("x-organization-id"), v);
    }
    Ok(h)
}

/// Send one call to Airbyte's API: common headers, an optional bearer token, a JSON body, and
/// the shared retry loop. Used by the application-token transport and by scoped-token sessions.
pub(crate) async fn send_call(
    http: &reqwest::Client,
    retry: &RetryPolicy,
    base_url: &str,
    organization_id: Option<&str>,
    call: &Call<'_>,
    bearer: Option<&SecretString>,
) -> Result<(u16, Headers, bytes::Bytes)> {
    let mut url = reqwest::Url::parse(&format!("{base_url}{}", call.path)).map_err(|e| {
        Error::InvalidUrl {
            setting: "Airbyte API URL".into(),
            reason: e.to_string(),
        }
    })?;
    if !call.query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    let body = call
        .body
        .map(serde_json::to_vec)
        .transpose()
        .map_err(|e| Error::argument("body", format!("cannot be encoded as JSON ({e})")))?;
    let build =
        || {
            let mut headers = api_headers(organization_id)?;
            if let Some(t) = bearer {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", t.expose_secret()))
                    .map_err(|_| Error::InvalidHeader {
                        header: "Authorization".into(),
                        reason: "the token has characters not allowed in a header",
                    })?;
                v.set_sensitive(true);
                headers.insert(reqwest::header::AUTHORIZATION, v);
            }
            let mut rb = http
                .request(call.verb.reqwest(), url.clone())
                .headers(headers);
            if let Some(b) = &body {
                rb = rb
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            Ok(rb)
        };
    let resp = crate::transport::send_with_policy(retry, call.idempotent, build)
        .await?
        .map_err(send_error)?;
    let status = resp.status().as_u16();
    let headers = headers_from_reqwest(resp.headers());
    let bytes = resp.bytes().await.map_err(send_error)?;
    Ok((status, headers, bytes))
}

/// A response as JSON (`null` for an empty body), or the typed error of an error status.
pub(crate) fn json_response(
    call: &Call<'_>,
    status: u16,
    headers: &Headers,
    bytes: &[u8],
    redact: Option<&SecretString>,
) -> Result<Value> {
    if status >= 400 {
        return Err(error_response(call, status, headers, bytes, redact));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes)
        .map_err(|e| unexpected(call, format!("response is not JSON ({e})")))
}

/// Map an error response: the server's detail and the endpoint in the message, and `redact`
/// (the client secret) never in it, even when the server echoes it.
fn error_response(
    call: &Call<'_>,
    status: u16,
    headers: &Headers,
    body: &[u8],
    redact: Option<&SecretString>,
) -> Error {
    let mut e = crate::response::status_error(status, headers, body);
    if let Some(d) = e.details_mut() {
        if let Some(detail) = detail_message(body) {
            d.message = detail;
        }
        if let Some(secret) = redact.map(|s| s.expose_secret()).filter(|s| s.len() >= 4) {
            d.message = d.message.replace(secret, "[REDACTED]");
        }
        d.message = format!("{} ({} {})", d.message, call.verb.as_str(), call.path);
    }
    e
}

/// `{detail: ...}` bodies (FastAPI style), which the generic extraction leaves as raw JSON.
fn detail_message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if v.get("errors").is_some() || v.get("message").is_some() || v.get("error").is_some() {
        return None;
    }
    match v.get("detail")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let msgs: Vec<String> = items
                .iter()
                .map(|i| match i.get("msg").and_then(Value::as_str) {
                    Some(m) => {
                        let loc = i
                            .get("loc")
                            .and_then(Value::as_array)
                            .map(|l| {
                                l.iter()
                                    .map(|x| match x {
                                        Value::String(s) => s.clone(),
                                        other => other.to_string(),
                                    })
                                    .collect::<Vec<_>>()
                                    .join(".")
                            })
                            .unwrap_or_default();
                        if loc.is_empty() {
                            m.to_string()
                        } else {
                            format!("{loc}: {m}")
                        }
                    }
                    None => i.to_string(),
                })
                .collect();
            Some(msgs.join("; "))
        }
        other => Some(other.to_string()),
    }
}

pub(crate) fn unexpected(call: &Call<'_>, message: String) -> Error {
    HostedError::UnexpectedResponse {
        endpoint: format!("{} {}", call.verb.as_str(), call.path),
        message,
    }
    .into()
}

fn send_error(e: reqwest::Error) -> Error {
    map_reqwest_error(e, Some("Airbyte API unreachable"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_bodies() {
        assert_eq!(
            detail_message(br#"{"detail":"Workspace not found"}"#).as_deref(),
            Some("Workspace not found")
        );
        assert_eq!(
            detail_message(br#"{"detail":[{"loc":["body","name"],"msg":"field required"}]}"#)
                .as_deref(),
            Some("body.name: field required")
        );
        assert_eq!(detail_message(br#"{"message":"x","detail":"y"}"#), None);
        assert_eq!(detail_message(b"not json"), None);
    }
}
