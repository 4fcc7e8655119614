//! Direct mode: the request is planned by the core, authenticated with the caller's credentials
//! and sent to the provider's API over the one transport.

mod send;

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::RwLock;

use futures_core::future::BoxFuture;
use serde_json::Value;

use super::{Executor, Fetched, Mode};
use crate::Params;
use crate::auth::{AuthState, TokenRefreshCallback};
use crate::descriptor::{ConnectorDescriptor, Method, OperationDescriptor, ParamDescriptor};
use crate::download::ByteStream;
use crate::error::{Error, Result};
use crate::execute_options::ExecuteOptions;
use crate::request::{self, Prepared};
use crate::retry::RetryPolicy;
use crate::transport::headers_from_reqwest;

/// The direct-mode executor of one connector.
pub(crate) struct DirectExecutor {
    pub(crate) descriptor: &'static ConnectorDescriptor,
    pub(crate) http: reqwest::Client,
    pub(crate) auth: AuthState,
    pub(crate) config: RwLock<BTreeMap<String, String>>,
    pub(crate) base_url: Option<String>,
    pub(crate) retry: RetryPolicy,
    pub(crate) on_token_refresh: Option<TokenRefreshCallback>,
    pub(crate) refresh_url: Option<String>,
}

impl std::fmt::Debug for DirectExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("auth_scheme", &self.auth.scheme.map(|s| s.key))
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn poisoned() -> Error {
    Error::Internal("the client's config lock is poisoned")
}

impl DirectExecutor {
    /// The config values (server variables and values from token responses).
    pub(crate) fn config(&self) -> Result<BTreeMap<String, String>> {
        Ok(self.config.read().map_err(|_| poisoned())?.clone())
    }

    /// The base URL with server variables substituted, and the config it was rendered from.
    pub(crate) fn base_and_config(&self) -> Result<(String, BTreeMap<String, String>)> {
        let config = self.config()?;
        let tmpl = self.base_url.as_deref().unwrap_or(self.descriptor.base_url);
        let base = request::render_base_url(tmpl, self.descriptor, &config)?;
        Ok((base, config))
    }

    fn absolutize(url: &str, base: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_string()
        } else if let Ok(b) = reqwest::Url::parse(base) {
            b.join(url)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| format!("{base}{url}"))
        } else {
            format!("{base}{url}")
        }
    }

    async fn fetch_prepared(&self, prep: &Prepared) -> Result<Fetched> {
        let (headers, bytes) = self.send_checked(prep).await?;
        Ok(Fetched::Body {
            headers,
            bytes,
            config: self.config()?,
        })
    }

    async fn download_inner(
        &self,
        op: &'static OperationDescriptor,
        mut params: Params,
    ) -> Result<ByteStream> {
        let range = params
            .remove("range_header")
            .and_then(|v| v.as_str().map(str::to_string));
        let (base, config) = self.base_and_config()?;
        let mut prep = request::build(self.descriptor, op, &params, &base, &config)?;
        if let Some(file_url) = op.response.file_url {
            let (headers, bytes) = self.send_checked(&prep).await?;
            let body = crate::response::parse_body(200, &headers, &bytes)?;
            crate::response::check_error(self.descriptor, &headers, &body)?;
            let path = crate::template::render_braces(
                &file_url.replace('{', "{{").replace('}', "}}"),
                |n| params.get(n).and_then(crate::encode::scalar_text),
            );
            let url = crate::jsonpath::dotted_get(&body, &path)
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Error::records(op, format!("no download URL at `{path}` in the response"))
                })?
                .to_string();
            prep = Prepared {
                method: Method::Get,
                url: Self::absolutize(&url, &base),
                query: Vec::new(),
                headers: Vec::new(),
                body: None,
            };
        }
        prep.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("accept"));
        prep.headers.push(("Accept".into(), "*/*".into()));
        if let Some(r) = range {
            prep.headers.push(("Range".into(), r));
        }
        let resp = self.send(&prep).await?;
        let status = resp.status().as_u16();
        if status >= 400 {
            let headers = headers_from_reqwest(resp.headers());
            let bytes = resp.bytes().await.unwrap_or_default();
            return Err(crate::response::status_error(status, &headers, &bytes));
        }
        Ok(ByteStream::from_response(resp))
    }
}

impl Executor for DirectExecutor {
    fn mode(&self) -> Mode {
        Mode::Direct
    }

    fn supplies(&self, _op: &OperationDescriptor, p: &ParamDescriptor) -> bool {
        let Ok(config) = self.config.read() else {
            return false;
        };
        (p.location == crate::descriptor::ParamLocation::Path
            && self.descriptor.scoping.iter().any(|s| {
                s.param == p.name
                    && (config.contains_key(s.config_key) || config.contains_key(s.param))
            }))
            || p.config_inject
                .as_ref()
                .is_some_and(|c| config.contains_key(c.source))
    }

    fn fetch<'a>(
        &'a self,
        op: &'static OperationDescriptor,
        params: &'a Params,
        _options: &'a ExecuteOptions,
    ) -> BoxFuture<'a, Result<Fetched>> {
        Box::pin(async move {
            let (base, config) = self.base_and_config()?;
            let prep = request::build(self.descriptor, op, params, &base, &config)?;
            self.fetch_prepared(&prep).await
        })
    }

    fn fetch_url<'a>(
        &'a self,
        _op: &'static OperationDescriptor,
        url: &'a str,
    ) -> BoxFuture<'a, Result<Fetched>> {
        Box::pin(async move {
            let (base, _) = self.base_and_config()?;
            let prep = Prepared {
                method: Method::Get,
                url: Self::absolutize(url, &base),
                query: Vec::new(),
                headers: Vec::new(),
                body: None,
            };
            self.fetch_prepared(&prep).await
        })
    }

    fn download<'a>(
        &'a self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> BoxFuture<'a, Result<ByteStream>> {
        Box::pin(self.download_inner(op, params))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
