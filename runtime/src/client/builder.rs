//! [`ClientBuilder`]: a direct-mode [`Client`] (the caller's credentials, the provider's API).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::{Client, DEFAULT_MAX_PAGES};
use crate::Credentials;
use crate::auth::{AuthState, RefreshedTokens, TokenRefreshCallback};
use crate::descriptor::ConnectorDescriptor;
use crate::error::{Error, Result};
use crate::modes::direct::DirectExecutor;
use crate::retry::RetryPolicy;
use crate::transport::HttpClient;

/// Builder of a direct-mode [`Client`].
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

impl Client {
    /// Start building a direct-mode client for `descriptor` with `credentials`.
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

    /// Retry policy (default [`RetryPolicy::default`]); OAuth2 token requests follow it too.
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

    /// Build the client. A base URL override that is not an absolute http(s) URL with a host
    /// fails here, naming the setting (one whose `{variable}`s cannot be filled yet is checked on
    /// the first call).
    pub fn build(self) -> Result<Client> {
        if let Some(url) = &self.base_url
            && let Ok(rendered) =
                crate::request::render_base_url(url, self.descriptor, &self.config)
        {
            let usable = reqwest::Url::parse(&rendered)
                .map_err(|e| e.to_string())
                .and_then(|u| match (u.scheme(), u.host_str()) {
                    ("http" | "https", Some(_)) => Ok(()),
                    (_, None) => Err("it has no host".to_string()),
                    (scheme, _) => Err(format!("`{scheme}` is not http or https")),
                });
            if let Err(reason) = usable {
                return Err(Error::InvalidUrl {
                    setting: "base URL (ClientBuilder::base_url)".into(),
                    reason,
                });
            }
        }
        let auth = AuthState::new(self.descriptor, &self.credentials)?;
        let http = HttpClient::ManualRedirects.build(self.timeout, self.connect_timeout)?;
        let executor = DirectExecutor {
            descriptor: self.descriptor,
            http,
            auth,
            config: RwLock::new(self.config),
            base_url: self.base_url,
            retry: self.retry,
            on_token_refresh: self.on_token_refresh,
            refresh_url: self.refresh_url,
        };
        Ok(Client::with_executor(
            self.descriptor,
            Arc::new(executor),
            self.max_pages,
        ))
    }
}
