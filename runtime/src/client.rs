//! `Client` and `ClientBuilder`: direct mode execution (hosted mode plugs in via [`Mode`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument as _;

use crate::Credentials;
use crate::auth::{AuthState, RefreshedTokens, TokenRefreshCallback, poisoned};
use crate::descriptor::{
    ActionKind, ConnectorDescriptor, Method, OperationDescriptor, ParamLocation,
};
use crate::download::ByteStream;
use crate::error::{Error, Result};
use crate::execute_options::ExecuteOptions;
use crate::pagination::{Page, PageStream};
use crate::request::{self, Prepared};
use crate::response::{self, ExecuteResult, Headers, ResultKind};
use crate::retry::RetryPolicy;
use crate::{Params, validate};

/// Default page cap of [`Client::pages`].
pub const DEFAULT_MAX_PAGES: usize = 1000;

/// Builder of a [`Client`].
pub struct ClientBuilder {
    descriptor: &'static ConnectorDescriptor,
    credentials: Credentials,
    base_url: Option<String>,
    config: BTreeMap<String, String>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    on_token_refresh: Option<TokenRefreshCallback>,
    refresh_url: Option<String>,
    max_pages: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("connector", &self.descriptor.name)
            .field("credentials", &self.credentials)
            .field("base_url", &self.base_url)
            .field("config", &self.config.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Override the base URL (tests, proxies, regional endpoints). `{variable}` placeholders are
    /// still filled from server variables.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Set a server variable / config value (`subdomain`, `region`, `instance_url`, ...). Also
    /// feeds `x-airbyte-scoping`, `x-airbyte-param-config-inject` and token URL templates.
    pub fn server_variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(name.into(), value.into());
        self
    }

    /// Read timeout per request (default 30 s): the longest wait for response data.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect timeout (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retry policy (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Callback receiving every refreshed token set (persist rotated refresh tokens there).
    pub fn on_token_refresh(
        mut self,
        f: impl Fn(&RefreshedTokens) + Send + Sync + 'static,
    ) -> Self {
        self.on_token_refresh = Some(Arc::new(f));
        self
    }

    /// Override the OAuth2 token refresh URL of the auth scheme.
    pub fn refresh_url(mut self, url: impl Into<String>) -> Self {
        self.refresh_url = Some(url.into());
        self
    }

    /// Page cap of [`Client::pages`] (default [`DEFAULT_MAX_PAGES`]).
    pub fn max_pages(mut self, n: usize) -> Self {
        self.max_pages = n.max(1);
        self
    }

    /// Build the client.
    pub fn build(self) -> Result<Client> {
        let auth = AuthState::new(self.descriptor, &self.credentials)?;
        let http = direct_http_client(self.timeout, self.connect_timeout)?;
        Ok(Client {
            inner: Arc::new(Inner {
                descriptor: self.descriptor,
                mode: Mode::Direct,
                http,
                auth,
                config: RwLock::new(self.config),
                base_url: self.base_url,
                retry: self.retry,
                on_token_refresh: self.on_token_refresh,
                refresh_url: self.refresh_url,
                max_pages: self.max_pages,
            }),
        })
    }
}

/// The process-wide TLS configuration: the platform verifier (system roots) is built once, so
/// fresh clients are cheap. Errors are cached too (they would not change on a retry).
fn tls_config() -> Result<rustls::ClientConfig> {
    static TLS: OnceLock<std::result::Result<rustls::ClientConfig, String>> = OnceLock::new();
    TLS.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|e| format!("cannot load TLS roots: {e}"))?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup failed: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tls)
    })
    .clone()
    .map_err(Error::Config)
}

pub(crate) fn http_client(timeout: Duration, connect_timeout: Duration) -> Result<reqwest::Client> {
    build_http_client(
        timeout,
        connect_timeout,
        reqwest::redirect::Policy::default(),
    )
}

/// Direct mode's HTTP client: redirects are followed by [`Client`] itself (credentials stay on
/// the API's origin).
fn direct_http_client(timeout: Duration, connect_timeout: Duration) -> Result<reqwest::Client> {
    build_http_client(timeout, connect_timeout, reqwest::redirect::Policy::none())
}

fn build_http_client(
    timeout: Duration,
    connect_timeout: Duration,
    redirects: reqwest::redirect::Policy,
) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(redirects)
        .tls_backend_preconfigured(tls_config()?)
        .connect_timeout(connect_timeout)
        .read_timeout(timeout)
        // Keep enough idle connections for highly concurrent callers: a smaller cap closes the
        // surplus after every response, so each call beyond it pays a new connection.
        .pool_max_idle_per_host(128)
        .build()
        .map_err(|e| {
            Error::Config(format!(
                "cannot build HTTP client: {}",
                describe_reqwest(&e)
            ))
        })
}

/// How calls are executed.
#[derive(Debug)]
enum Mode {
    /// Requests go straight to the provider's API.
    Direct,
    /// Operations run through Airbyte's hosted execute endpoint (`crate::hosted`).
    Hosted(crate::hosted::Binding),
}

struct Inner {
    descriptor: &'static ConnectorDescriptor,
    mode: Mode,
    http: reqwest::Client,
    auth: AuthState,
    config: RwLock<BTreeMap<String, String>>,
    base_url: Option<String>,
    retry: RetryPolicy,
    on_token_refresh: Option<TokenRefreshCallback>,
    refresh_url: Option<String>,
    max_pages: usize,
}

/// A connector client: cheap to clone (an `Arc` inside), safe to share across tasks.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("connector", &self.inner.descriptor.name)
            .field("mode", &self.inner.mode)
            .field("auth_scheme", &self.inner.auth.scheme.map(|s| s.key))
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

pub(crate) fn describe_reqwest(e: &reqwest::Error) -> String {
    // reqwest's Display may include the URL, whose query could carry an API key: strip it.
    let mut msg = e.to_string();
    if let Some(u) = e.url() {
        let mut c = u.clone();
        c.set_query(None);
        msg = msg.replace(u.as_str(), c.as_str());
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

fn map_send_error(e: reqwest::Error) -> Error {
    let timeout = e.is_timeout();
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    if timeout {
        Error::Timeout { message: msg }
    } else {
        Error::Network { message: msg }
    }
}

fn origin(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    Some(format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default()?
    ))
}

impl Client {
    /// A hosted-mode client (built by `crate::hosted::HostedClientBuilder`).
    pub(crate) fn from_hosted(
        descriptor: &'static ConnectorDescriptor,
        binding: crate::hosted::Binding,
        retry: RetryPolicy,
        max_pages: usize,
    ) -> Client {
        Client {
            inner: Arc::new(Inner {
                descriptor,
                // Requests go through the binding's transport; this is the same pooled client.
                http: binding.http_client(),
                auth: AuthState::none(),
                config: RwLock::new(BTreeMap::new()),
                base_url: None,
                retry,
                on_token_refresh: None,
                refresh_url: None,
                max_pages,
                mode: Mode::Hosted(binding),
            }),
        }
    }

    /// The hosted-mode state, when the client runs in hosted mode.
    pub(crate) fn hosted_binding(&self) -> Option<&crate::hosted::Binding> {
        match &self.inner.mode {
            Mode::Hosted(b) => Some(b),
            Mode::Direct => None,
        }
    }

    /// Start building a client for `descriptor` with `credentials`.
    pub fn builder(
        descriptor: &'static ConnectorDescriptor,
        credentials: Credentials,
    ) -> ClientBuilder {
        ClientBuilder {
            descriptor,
            credentials,
            base_url: None,
            config: BTreeMap::new(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            on_token_refresh: None,
            refresh_url: None,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// The connector descriptor.
    pub fn descriptor(&self) -> &'static ConnectorDescriptor {
        self.inner.descriptor
    }

    /// Look up an operation, with errors naming the valid choices.
    pub fn operation(&self, entity: &str, action: &str) -> Result<&'static OperationDescriptor> {
        let d = self.inner.descriptor;
        let e = d.entity(entity).ok_or_else(|| Error::UnknownEntity {
            entity: entity.to_string(),
            available: d.entities.iter().map(|e| e.name).collect(),
        })?;
        let action_eq = |a: &str| {
            a == action
                || (action == "api_search" && a == "search")
                || (action == "search" && a == "api_search")
        };
        e.operations
            .iter()
            .find(|o| o.action == action)
            .or_else(|| e.operations.iter().find(|o| action_eq(o.action)))
            .ok_or_else(|| {
                if action == "context_store_search" || action == "context_store_sql_query" {
                    Error::Unsupported(format!(
                        "{action} is only available in hosted execution mode. Initialize the connector with an AirbyteAuthConfig to use this feature."
                    ))
                } else {
                    Error::UnknownAction {
                        entity: entity.to_string(),
                        action: action.to_string(),
                        available: e.operations.iter().map(|o| o.action).collect(),
                    }
                }
            })
    }

    /// Dynamic, validated entry point (LLM tools): `params` must be a JSON object whose keys are
    /// the operation's parameter names (wire names or their snake-case aliases).
    ///
    /// Download operations return [`ResultKind::Download`] with
    /// `{"content_base64": ..., "size": n}`; use [`Client::download`] to stream instead.
    pub async fn execute(
        &self,
        entity: &str,
        action: &str,
        params: Value,
    ) -> Result<ExecuteResult> {
        self.execute_with(entity, action, params, &ExecuteOptions::default())
            .await
    }

    /// [`Client::execute`] with per-call options: keep or drop record fields (applied to the
    /// records in both modes), let Airbyte shorten long texts, state the call's intent (the last
    /// two are sent to the hosted execute endpoint; direct mode has no use for them).
    pub async fn execute_with(
        &self,
        entity: &str,
        action: &str,
        params: Value,
        options: &ExecuteOptions,
    ) -> Result<ExecuteResult> {
        options.validate()?;
        if let Some(h) = self.hosted_binding()
            && (action == "context_store_search" || action == "context_store_sql_query")
        {
            return h
                .execute_passthrough(self.inner.descriptor, entity, action, params)
                .await;
        }
        let op = self.operation(entity, action)?;
        let params = match params {
            Value::Object(m) => m,
            Value::Null => Params::new(),
            other => {
                return Err(Error::invalid(
                    op,
                    "params",
                    format!("expected a JSON object, got {other}"),
                ));
            }
        };
        if op.kind == ActionKind::Download {
            use base64::Engine as _;
            let stream = self.download(op, params).await?;
            let bytes = stream.collect_bytes().await?;
            let mut m = serde_json::Map::new();
            m.insert("size".into(), Value::from(bytes.len()));
            m.insert(
                "content_base64".into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
            );
            return Ok(ExecuteResult {
                data: Value::Object(m),
                meta: None,
                kind: ResultKind::Download,
            });
        }
        let mut result = self.call_with(op, params, options).await?;
        options.apply(&mut result);
        Ok(result)
    }

    /// Typed entry point: run `op` with `params` (keys are wire names).
    pub async fn call(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Result<ExecuteResult> {
        self.call_with(op, params, &ExecuteOptions::default()).await
    }

    async fn call_with(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
        options: &ExecuteOptions,
    ) -> Result<ExecuteResult> {
        let span = tracing::info_span!(
            "airbyte_connector_call",
            connector = self.inner.descriptor.name,
            entity = op.entity,
            action = op.action
        );
        async move {
            let params = self.prepare_params(op, params)?;
            self.call_prepared(op, &params, options).await
        }
        .instrument(span)
        .await
    }

    /// Run a single-record operation and decode the record.
    pub async fn call_record<T: DeserializeOwned>(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Result<T> {
        let r = self.call(op, params).await?;
        decode(op, "data", r.data)
    }

    /// Run a list/search operation and decode one page.
    pub async fn call_list<T: DeserializeOwned, M: DeserializeOwned>(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Result<Page<T, M>> {
        if self.hosted_binding().is_none() && crate::fast::eligible(self.inner.descriptor, op) {
            let span = tracing::info_span!(
                "airbyte_connector_call",
                connector = self.inner.descriptor.name,
                entity = op.entity,
                action = op.action
            );
            return async move {
                let params = self.prepare_params(op, params)?;
                let (base, config) = self.base_and_config()?;
                let prep = request::build(self.inner.descriptor, op, &params, &base, &config)?;
                let (headers, bytes) = self.send_checked(&prep).await?;
                // Records decoded straight from the bytes; any unusual body takes the general
                // path below (on the same bytes), which also yields the precise error.
                if let Some(page) =
                    crate::fast::page::<T, M>(self.inner.descriptor, op, &headers, &bytes)
                {
                    return page;
                }
                Page::decode(op, self.shape_bytes(op, &headers, &bytes)?)
            }
            .instrument(span)
            .await;
        }
        let r = self.call(op, params).await?;
        Page::decode(op, r)
    }

    /// A lazy stream of pages following the operation's pagination (capped at `max_pages`).
    pub fn pages<T, M>(&self, op: &'static OperationDescriptor, params: Params) -> PageStream<T, M>
    where
        T: DeserializeOwned + Send + 'static,
        M: DeserializeOwned + Send + 'static,
    {
        crate::pagination::stream(self.clone(), op, params, self.inner.max_pages)
    }

    /// Stream the bytes of a download operation (one- or two-step), with back-pressure.
    pub async fn download(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Result<ByteStream> {
        let span = tracing::info_span!(
            "airbyte_connector_download",
            connector = self.inner.descriptor.name,
            entity = op.entity,
            action = op.action
        );
        async move {
            let mut params = self.prepare_params(op, params)?;
            if let Some(h) = self.hosted_binding() {
                return h.download(self.inner.descriptor, op, &params).await;
            }
            let range = params
                .remove("range_header")
                .and_then(|v| v.as_str().map(str::to_string));
            let (base, config) = self.base_and_config()?;
            let mut prep = request::build(self.inner.descriptor, op, &params, &base, &config)?;
            if let Some(file_url) = op.response.file_url {
                let (headers, bytes) = self.send_checked(&prep).await?;
                let body = response::parse_body(200, &headers, &bytes)?;
                response::check_error(self.inner.descriptor, &headers, &body)?;
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
                    url: self.absolutize(&url, &base),
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
            let resp = self.send(&prep, true).await?;
            let status = resp.status().as_u16();
            if status >= 400 {
                let headers = Headers::from_reqwest(resp.headers());
                let bytes = resp.bytes().await.unwrap_or_default();
                return Err(response::status_error(status, &headers, &bytes));
            }
            Ok(ByteStream::from_response(resp))
        }
        .instrument(span)
        .await
    }

    pub(crate) fn prepare_params(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Result<Params> {
        let params = validate::normalize(op, params)?;
        let d = self.inner.descriptor;
        let config = self.inner.config.read().map_err(|_| poisoned())?;
        let graphql = matches!(op.body, crate::descriptor::BodyDescriptor::GraphQl(_));
        let hosted = self.hosted_binding().is_some();
        validate::check_required(op, &params, |p| {
            // Hosted: scoping and config-injected values live with the connector on the server.
            (hosted
                && (p.config_inject.is_some()
                    || (p.location == ParamLocation::Path
                        && d.scoping.iter().any(|s| s.param == p.name))))
                || (graphql && p.location == ParamLocation::Body)
                || (p.location == ParamLocation::Path
                    && d.scoping.iter().any(|s| {
                        s.param == p.name
                            && (config.contains_key(s.config_key) || config.contains_key(s.param))
                    }))
                || p.config_inject
                    .as_ref()
                    .is_some_and(|c| config.contains_key(c.source))
        })?;
        Ok(params)
    }

    /// The API base URL this client calls, with server variables (and values extracted from
    /// token responses) substituted.
    pub fn resolved_base_url(&self) -> Result<String> {
        Ok(self.base_and_config()?.0)
    }

    fn base_and_config(&self) -> Result<(String, BTreeMap<String, String>)> {
        let config = self.inner.config.read().map_err(|_| poisoned())?.clone();
        let tmpl = self
            .inner
            .base_url
            .as_deref()
            .unwrap_or(self.inner.descriptor.base_url);
        let base = request::render_base_url(tmpl, self.inner.descriptor, &config)?;
        Ok((base, config))
    }

    fn absolutize(&self, url: &str, base: &str) -> String {
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

    /// Run with already normalised params.
    pub(crate) async fn call_prepared(
        &self,
        op: &'static OperationDescriptor,
        params: &Params,
        options: &ExecuteOptions,
    ) -> Result<ExecuteResult> {
        if let Some(h) = self.hosted_binding() {
            return h.execute(self.inner.descriptor, op, params, options).await;
        }
        let (base, config) = self.base_and_config()?;
        let prep = request::build(self.inner.descriptor, op, params, &base, &config)?;
        self.run(op, &prep).await
    }

    /// Fetch an absolute/relative next-page URL as-is.
    pub(crate) async fn call_url(
        &self,
        op: &'static OperationDescriptor,
        url: &str,
    ) -> Result<ExecuteResult> {
        if let Some(h) = self.hosted_binding() {
            return h.execute_next_url(self.inner.descriptor, op, url).await;
        }
        let (base, _) = self.base_and_config()?;
        let prep = Prepared {
            method: Method::Get,
            url: self.absolutize(url, &base),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        };
        self.run(op, &prep).await
    }

    async fn run(
        &self,
        op: &'static OperationDescriptor,
        prep: &Prepared,
    ) -> Result<ExecuteResult> {
        let (headers, bytes) = self.send_checked(prep).await?;
        self.shape_bytes(op, &headers, &bytes)
    }

    /// Parse and shape a successful body.
    fn shape_bytes(
        &self,
        op: &'static OperationDescriptor,
        headers: &Headers,
        bytes: &[u8],
    ) -> Result<ExecuteResult> {
        let body = if op.response.no_content && bytes.is_empty() {
            Value::Object(Default::default())
        } else {
            response::parse_body(200, headers, bytes)?
        };
        let config = self.inner.config.read().map_err(|_| poisoned())?.clone();
        response::shape(self.inner.descriptor, op, headers, body, &config)
    }

    /// Send and map status ≥ 400 to errors; returns headers and the body.
    async fn send_checked(&self, prep: &Prepared) -> Result<(Headers, bytes::Bytes)> {
        let resp = self.send(prep, true).await?;
        let status = resp.status().as_u16();
        let headers = Headers::from_reqwest(resp.headers());
        let bytes = resp.bytes().await.map_err(map_send_error)?;
        if status >= 400 {
            return Err(response::status_error(status, &headers, &bytes));
        }
        Ok((headers, bytes))
    }

    /// Send with auth and retries, following redirects by hand: credentials (auth headers and
    /// query parameters) go only to URLs under the API base URL, so a redirect to another host
    /// never carries them (reqwest's own policy would forward custom API-key headers).
    async fn send(&self, prep: &Prepared, use_auth: bool) -> Result<reqwest::Response> {
        const MAX_REDIRECTS: usize = 10;
        let mut resp = self.send_once(prep, use_auth).await?;
        let mut current = prep.clone();
        for _ in 0..MAX_REDIRECTS {
            let status = resp.status().as_u16();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Ok(resp);
            }
            let Some(location) = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            else {
                return Ok(resp);
            };
            let Ok(next_url) = reqwest::Url::parse(&current.url).and_then(|u| u.join(location))
            else {
                return Err(Error::Network {
                    message: format!("redirect (HTTP {status}) to an invalid location"),
                });
            };
            if !matches!(next_url.scheme(), "http" | "https") {
                return Err(Error::Network {
                    message: format!("redirect (HTTP {status}) to an unsupported scheme"),
                });
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
            drop(resp);
            tracing::debug!(status, "following redirect");
            resp = self.send_once(&next, use_auth).await?;
            current = next;
        }
        Err(Error::Network {
            message: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// Send with auth (proactive refresh, 401 refresh-and-replay) and retries.
    async fn send_once(&self, prep: &Prepared, use_auth: bool) -> Result<reqwest::Response> {
        let inner = &self.inner;
        let (base, _) = self.base_and_config()?;
        // Credentials only go to URLs under the API base URL (pre-signed and foreign URLs get none).
        let under_base = prep.url.starts_with(&base)
            && matches!(
                prep.url.as_bytes().get(base.len()),
                None | Some(b'/' | b'?' | b'#')
            )
            && origin(&prep.url).is_some();
        let use_auth = use_auth && under_base;
        if use_auth && inner.auth.needs_proactive_refresh() {
            if inner.auth.can_refresh(inner.refresh_url.as_deref()) {
                let generation = inner.auth.generation();
                inner
                    .auth
                    .refresh(
                        &inner.http,
                        generation,
                        &inner.config,
                        inner.refresh_url.as_deref(),
                        inner.on_token_refresh.as_ref(),
                    )
                    .await?;
            } else {
                inner.auth.mark_proactive_done();
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
        let generation = inner.auth.generation();
        let resp = self.send_with_retries(prep, use_auth).await?;
        if resp.status().as_u16() == 401
            && use_auth
            && inner.auth.can_refresh(inner.refresh_url.as_deref())
        {
            let refreshed = inner
                .auth
                .refresh(
                    &inner.http,
                    generation,
                    &inner.config,
                    inner.refresh_url.as_deref(),
                    inner.on_token_refresh.as_ref(),
                )
                .await;
            match refreshed {
                Ok(()) if inner.auth.generation() != generation => {
                    return self.send_with_retries(prep, use_auth).await;
                }
                Ok(()) => {}
                Err(e) => tracing::warn!(error = %e, "token refresh after 401 failed"),
            }
        }
        Ok(resp)
    }

    fn to_reqwest(&self, prep: &Prepared, use_auth: bool) -> Result<reqwest::RequestBuilder> {
        use reqwest::header::{HeaderName, HeaderValue};
        let mut url = prep.url.clone();
        let mut query = prep.query.clone();
        let mut auth_headers = Vec::new();
        if use_auth {
            let parts = self.inner.auth.parts()?;
            query.extend(parts.query);
            auth_headers = parts.headers;
        }
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&crate::encode::encode_pairs(&query));
        }
        let method = match prep.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
            Method::Head => reqwest::Method::HEAD,
            _ => reqwest::Method::OPTIONS,
        };
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| Error::Config(format!("invalid request URL ({e})")))?;
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in &prep.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::Config(format!("invalid header name `{k}`")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| Error::Config(format!("invalid value for header `{k}`")))?;
            map.insert(name, value);
        }
        for h in auth_headers {
            let name = HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|_| Error::Config(format!("invalid auth header name `{}`", h.name)))?;
            let mut value = HeaderValue::from_str(&h.value).map_err(|_| {
                Error::Config(format!(
                    "credential for header `{}` contains invalid characters",
                    h.name
                ))
            })?;
            value.set_sensitive(h.sensitive);
            map.insert(name, value);
        }
        let mut rb = self.inner.http.request(method, parsed).headers(map);
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
        crate::retry::send_with_policy(&self.inner.retry, prep.method.is_idempotent(), || {
            self.to_reqwest(prep, use_auth)
        })
        .await?
        .map_err(map_send_error)
    }
}

/// Decode JSON into `T` with the serde path of the failure.
pub(crate) fn decode<T: DeserializeOwned>(
    op: &OperationDescriptor,
    prefix: &str,
    v: Value,
) -> Result<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let inner = e.path().to_string();
        Error::Decode {
            entity: op.entity.to_string(),
            action: op.action.to_string(),
            path: if inner == "." {
                prefix.to_string()
            } else {
                format!("{prefix}.{inner}")
            },
            message: e.into_inner().to_string(),
        }
    })
}
