//! Hosted mode on the client: [`HostedClientBuilder`] and the calls only hosted mode has
//! (connector id, context-store search).
//!
//! A hosted [`Client`] has the same typed surface as a direct one (`call`, `call_record`,
//! `call_list`, `pages`, `execute`): every operation is posted to
//! `POST /api/v1/integrations/connectors/{id}/execute` and the result is decoded into the same
//! typed records. Tokens: one application token per credential set and process, shared by every
//! client, fetched by a single task at a time, refreshed before it expires and re-fetched once
//! when the API answers 401. Retries follow the client's [`RetryPolicy`] (429 always; 5xx only
//! for operations whose HTTP method is idempotent).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Client, DEFAULT_MAX_PAGES, HOSTED_ONLY};
use crate::airbyte_api::{AirbyteAuthConfig, Transport};
use crate::descriptor::ConnectorDescriptor;
use crate::error::{Error, Result};
use crate::modes::hosted::HostedExecutor;
use crate::retry::RetryPolicy;

/// Builder of a hosted-mode [`Client`] (see [`Client::hosted`]).
#[must_use]
pub struct HostedClientBuilder {
    descriptor: &'static ConnectorDescriptor,
    source: Source,
    connector_id: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    max_pages: usize,
}

enum Source {
    Config(Box<AirbyteAuthConfig>),
    Transport(Arc<Transport>, String),
}

impl std::fmt::Debug for HostedClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostedClientBuilder")
            .field("connector", &self.descriptor.name)
            .field("connector_id", &self.connector_id)
            .finish_non_exhaustive()
    }
}

impl HostedClientBuilder {
    pub(crate) fn from_transport(
        descriptor: &'static ConnectorDescriptor,
        transport: Arc<Transport>,
        workspace_name: String,
    ) -> Self {
        HostedClientBuilder {
            connector_id: None,
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(5),
            retry: transport.retry_policy().clone(),
            max_pages: DEFAULT_MAX_PAGES,
            source: Source::Transport(transport, workspace_name),
            descriptor,
        }
    }

    /// Bind to a known connector id (no lookup).
    pub fn connector_id(mut self, id: impl Into<String>) -> Self {
        self.connector_id = Some(id.into());
        self
    }

    /// Read timeout per request (default 300 s: the platform runs the provider call inside).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Connect timeout (default 5 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Retry policy for 429/5xx answers of the Airbyte API.
    pub fn retry_policy(mut self, p: RetryPolicy) -> Self {
        self.retry = p;
        self
    }

    /// Page cap of [`Client::pages`].
    pub fn max_pages(mut self, n: usize) -> Self {
        self.max_pages = n.max(1);
        self
    }

    /// Resolve credentials (a clear error, before any request, when they are missing) and
    /// build. The connector id is looked up on the first call, or eagerly with
    /// [`Client::hosted_connector_id`].
    pub fn build(self) -> Result<Client> {
        let (transport, workspace, config_id) = match self.source {
            Source::Config(cfg) => {
                let auth = cfg.resolve()?;
                let ws = auth.workspace_name.clone();
                let id = auth.connector_id.clone();
                let t =
                    Transport::new(auth, self.timeout, self.connect_timeout, self.retry.clone())?;
                (Arc::new(t), ws, id)
            }
            // Same credentials (and so the same process-wide token), this builder's settings.
            Source::Transport(t, ws) => {
                let t = Transport::new(
                    t.auth.clone(),
                    self.timeout,
                    self.connect_timeout,
                    self.retry.clone(),
                )?;
                (Arc::new(t), ws, None)
            }
        };
        let executor = HostedExecutor::new(
            self.descriptor,
            transport,
            workspace,
            self.connector_id.or(config_id),
        );
        Ok(Client::with_executor(
            self.descriptor,
            Arc::new(executor),
            self.max_pages,
        ))
    }
}

impl Client {
    /// A hosted-mode client for `descriptor`: operations run through Airbyte's API with the
    /// credentials stored there.
    pub fn hosted(
        descriptor: &'static ConnectorDescriptor,
        config: AirbyteAuthConfig,
    ) -> HostedClientBuilder {
        HostedClientBuilder {
            descriptor,
            connector_id: None,
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            max_pages: DEFAULT_MAX_PAGES,
            source: Source::Config(Box::new(config)),
        }
    }

    /// Whether this client runs in hosted mode.
    pub fn is_hosted(&self) -> bool {
        self.executor_as::<HostedExecutor>().is_some()
    }

    /// Hosted mode: the connector id, looking it up (once) by workspace and definition id.
    pub async fn hosted_connector_id(&self) -> Result<String> {
        self.require_hosted("hosted_connector_id")?
            .connector_id()
            .await
    }

    /// Hosted mode: application tokens fetched so far for this client's credential set.
    pub fn hosted_token_fetches(&self) -> Option<u64> {
        self.executor_as::<HostedExecutor>()
            .map(|h| h.transport.token_fetches())
    }

    /// Hosted mode: search the Airbyte context store of `entity`.
    /// `query` is `{"filter": {...}, "sort": [...]}`.
    pub async fn context_store_search<T: DeserializeOwned>(
        &self,
        entity: &str,
        query: Value,
        options: SearchOptions,
    ) -> Result<ContextStoreSearch<T>> {
        let b = self.require_hosted("context_store_search")?;
        let mut params = Map::new();
        params.insert("query".into(), query);
        if let Some(l) = options.limit {
            params.insert("limit".into(), l.into());
        }
        if let Some(c) = options.cursor {
            params.insert("cursor".into(), c.into());
        }
        if let Some(f) = options.fields {
            params.insert("fields".into(), f.into());
        }
        let (result, _) = b
            .execute_raw(
                entity,
                "context_store_search",
                Value::Object(params),
                true,
                &crate::ExecuteOptions::default(),
            )
            .await?;
        crate::decode::decode_str_for(entity, "context_store_search", "", &result.to_string())
    }

    fn require_hosted(&self, what: &str) -> Result<&HostedExecutor> {
        self.executor_as::<HostedExecutor>()
            .ok_or_else(|| Error::Unsupported(format!("{what} {HOSTED_ONLY}")))
    }
}

/// Options of [`Client::context_store_search`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SearchOptions {
    /// Page size.
    pub limit: Option<u64>,
    /// Cursor from the previous page's meta.
    pub cursor: Option<String>,
    /// Fields to return.
    pub fields: Option<Vec<String>>,
}

impl SearchOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set the page size.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// Continue after a cursor.
    pub fn cursor(mut self, c: impl Into<String>) -> Self {
        self.cursor = Some(c.into());
        self
    }
    /// Select fields.
    pub fn fields(mut self, f: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.fields = Some(f.into_iter().map(Into::into).collect());
        self
    }
}

/// A page of context-store search results.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ContextStoreSearch<T> {
    /// Matching records.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Paging and timing.
    #[serde(default)]
    pub meta: SearchMeta,
}

/// Meta of a context-store search page.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchMeta {
    /// Whether more results exist.
    #[serde(default)]
    pub has_more: bool,
    /// Cursor of the next page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Server time in milliseconds.
    #[serde(default)]
    pub took_ms: Option<u64>,
}
