//! Sending a planned request in direct mode: auth (proactive refresh, one refresh-and-replay
//! after a 401), the retry loop, and redirects followed by hand so that credentials only ever go
//! to URLs under the API base URL.

use reqwest::header::{HeaderName, HeaderValue};

use super::DirectExecutor;
use crate::auth::Refresh;
use crate::descriptor::Method;
use crate::error::{Error, Result};
use crate::headers::Headers;
use crate::request::Prepared;
use crate::transport::{headers_from_reqwest, map_reqwest_error, method, send_with_policy};

const MAX_REDIRECTS: usize = 10;

/// Whether `url` lies under `base` (same origin, path below it): only such URLs get credentials
/// (pre-signed and foreign URLs get none).
fn under_base(url: &str, base: &str) -> bool {
    url.starts_with(base)
        && matches!(
            url.as_bytes().get(base.len()),
            None | Some(b'/' | b'?' | b'#')
        )
        && reqwest::Url::parse(url)
            .ok()
            .is_some_and(|u| u.host_str().is_some() && u.port_or_known_default().is_some())
}

/// The request a redirect answer leads to, or `None` when `status` is no redirect or has no
/// location.
fn redirect_target(current: &Prepared, resp: &reqwest::Response) -> Result<Option<Prepared>> {
    let status = resp.status().as_u16();
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Ok(next_url) = reqwest::Url::parse(&current.url).and_then(|u| u.join(location)) else {
        return Err(Error::network(format!(
            "redirect (HTTP {status}) to an invalid location"
        )));
    };
    if !matches!(next_url.scheme(), "http" | "https") {
        return Err(Error::network(format!(
            "redirect (HTTP {status}) to an unsupported scheme"
        )));
    }
    let keep_method = matches!(status, 307 | 308)
        || (status != 303 && current.method != Method::Post)
        || current.method == Method::Head;
    let mut next = Prepared {
        method: if keep_method {
            current.method
        } else {
            Method::Get
        },
        url: next_url.to_string(),
        query: Vec::new(),
        headers: current.headers.clone(),
        body: if keep_method {
            current.body.clone()
        } else {
            None
        },
    };
    if !keep_method {
        next.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
    }
    Ok(Some(next))
}

impl DirectExecutor {
    /// Send and map status ≥ 400 to errors; returns headers and the body.
    pub(super) async fn send_checked(&self, prep: &Prepared) -> Result<(Headers, bytes::Bytes)> {
        let resp = self.send(prep).await?;
        let status = resp.status().as_u16();
        let headers = headers_from_reqwest(resp.headers());
        let bytes = resp.bytes().await.map_err(|e| map_reqwest_error(e, None))?;
        if status >= 400 {
            return Err(crate::response::status_error(status, &headers, &bytes));
        }
        Ok((headers, bytes))
    }

    /// Send with auth and retries, following redirects by hand (reqwest's own policy would
    /// forward custom API-key headers to another host).
    pub(super) async fn send(&self, prep: &Prepared) -> Result<reqwest::Response> {
        let mut resp = self.send_once(prep).await?;
        let mut current = prep.clone();
        for _ in 0..MAX_REDIRECTS {
            let Some(next) = redirect_target(&current, &resp)? else {
                return Ok(resp);
            };
            drop(resp);
            tracing::debug!("following redirect");
            resp = self.send_once(&next).await?;
            current = next;
        }
        Err(Error::network(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }

    fn refresh_context(&self) -> Refresh<'_> {
        Refresh {
            http: &self.http,
            retry: &self.retry,
            config: &self.config,
            refresh_url: self.refresh_url.as_deref(),
            callback: self.on_token_refresh.as_ref(),
        }
    }

    /// Send with auth (proactive refresh, 401 refresh-and-replay) and retries.
    async fn send_once(&self, prep: &Prepared) -> Result<reqwest::Response> {
        let (base, _) = self.base_and_config()?;
        let use_auth = under_base(&prep.url, &base);
        let auth = &self.auth;
        let refresh = self.refresh_context();
        if use_auth && auth.needs_proactive_refresh() {
            if auth.can_refresh(refresh.refresh_url) {
                auth.refresh(&refresh, auth.generation()).await?;
            } else {
                auth.mark_proactive_done();
            }
        }
        // The URL may have changed (token_extract → base URL).
        let prep_owned;
        let prep = if use_auth {
            let (new_base, _) = self.base_and_config()?;
            if new_base != base && prep.url.starts_with(&base) {
                let mut p = prep.clone();
                p.url = format!("{new_base}{}", &prep.url[base.len()..]);
                prep_owned = p;
                &prep_owned
            } else {
                prep
            }
        } else {
            prep
        };
        let generation = auth.generation();
        let resp = self.send_with_retries(prep, use_auth).await?;
        if resp.status().as_u16() == 401 && use_auth && auth.can_refresh(refresh.refresh_url) {
            match auth.refresh(&refresh, generation).await {
                Ok(()) if auth.generation() != generation => {
                    return self.send_with_retries(prep, use_auth).await;
                }
                Ok(()) => {}
                Err(e) => tracing::warn!(error = %e, "token refresh after 401 failed"),
            }
        }
        Ok(resp)
    }

    fn to_reqwest(&self, prep: &Prepared, use_auth: bool) -> Result<reqwest::RequestBuilder> {
        let mut url = prep.url.clone();
        let mut query = prep.query.clone();
        let mut auth_headers = Vec::new();
        if use_auth {
            let parts = self.auth.parts()?;
            query.extend(parts.query);
            auth_headers = parts.headers;
        }
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&crate::encode::encode_pairs(&query));
        }
        let parsed = reqwest::Url::parse(&url).map_err(|e| Error::InvalidUrl {
            setting: "request URL (base URL + operation path)".into(),
            reason: e.to_string(),
        })?;
        let mut map = reqwest::header::HeaderMap::new();
        let invalid = |name: &str, reason| Error::InvalidHeader {
            header: name.chars().filter(|c| c.is_ascii_graphic()).collect(),
            reason,
        };
        for (k, v) in &prep.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| invalid(k, "the name is not a valid header name"))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| invalid(k, "the value has characters not allowed in a header"))?;
            map.insert(name, value);
        }
        for h in auth_headers {
            let name = HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|_| invalid(&h.name, "the auth header name is not a valid header name"))?;
            let mut value = HeaderValue::from_str(&h.value).map_err(|_| {
                invalid(
                    &h.name,
                    "the credential has characters not allowed in a header",
                )
            })?;
            value.set_sensitive(h.sensitive);
            map.insert(name, value);
        }
        let mut rb = self.http.request(method(prep.method), parsed).headers(map);
        if let Some(b) = &prep.body {
            rb = rb.body(b.bytes.clone());
        }
        Ok(rb)
    }

    async fn send_with_retries(
        &self,
        prep: &Prepared,
        use_auth: bool,
    ) -> Result<reqwest::Response> {
        send_with_policy(&self.retry, prep.method.is_idempotent(), || {
            self.to_reqwest(prep, use_auth)
        })
        .await?
        .map_err(|e| map_reqwest_error(e, None))
    }
}
