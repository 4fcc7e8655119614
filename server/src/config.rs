//! Settings of a running server.

use std::collections::BTreeMap;
use std::time::Duration;

/// Lifetime of application tokens (as Airbyte's: 15 minutes).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Lifetime of workspace-scoped tokens (as Airbyte's: 20 minutes).
pub const DEFAULT_SCOPED_TOKEN_TTL: Duration = Duration::from_secs(20 * 60);

/// Largest request body accepted, in bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// How the HTTP API behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Lifetime of application tokens.
    pub token_ttl: Duration,
    /// Lifetime of workspace-scoped tokens.
    pub scoped_token_ttl: Duration,
    /// Largest request body, in bytes (larger bodies get 413).
    pub max_body_bytes: usize,
    /// Definition id (lower case) → provider base URL used instead of the spec's server URL,
    /// for every connector of that definition (sandboxes, proxies, tests).
    pub provider_base_urls: BTreeMap<String, String>,
    /// Definition id (lower case) → OAuth2 refresh URL used instead of the spec's.
    pub provider_refresh_urls: BTreeMap<String, String>,
    /// Definition id (lower case) → OAuth consent page used instead of the spec's.
    pub provider_authorization_urls: BTreeMap<String, String>,
    /// The server's own base URL as browsers reach it (OAuth `redirect_uri`); default: the
    /// `Host` of the initiate request over `http`.
    pub public_url: Option<String>,
    /// Timeout of one provider call.
    pub provider_timeout: Duration,
    /// Longest time one request may take before it is answered 504.
    pub request_timeout: Duration,
    /// Write one JSON line per request to stderr (request id, method, route template, status,
    /// duration; never a query string, header or body).
    pub access_log: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            token_ttl: DEFAULT_TOKEN_TTL,
            scoped_token_ttl: DEFAULT_SCOPED_TOKEN_TTL,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            provider_base_urls: BTreeMap::new(),
            provider_refresh_urls: BTreeMap::new(),
            provider_authorization_urls: BTreeMap::new(),
            public_url: None,
            provider_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
            access_log: false,
        }
    }
}

impl ServerConfig {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set the token lifetime.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Set the scoped-token lifetime.
    pub fn scoped_token_ttl(mut self, ttl: Duration) -> Self {
        self.scoped_token_ttl = ttl;
        self
    }

    /// Set the longest time one request may take (answered 504 after it).
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t;
        self
    }

    /// Write one JSON access-log line per request to stderr.
    pub fn access_log(mut self, on: bool) -> Self {
        self.access_log = on;
        self
    }

    /// Set the request body limit.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Send the calls of connectors of `definition_id` to `base_url`.
    pub fn provider_base_url(
        mut self,
        definition_id: impl AsRef<str>,
        base_url: impl Into<String>,
    ) -> Self {
        self.provider_base_urls
            .insert(definition_id.as_ref().to_ascii_lowercase(), base_url.into());
        self
    }

    /// Refresh the OAuth2 tokens of connectors of `definition_id` at `url`.
    pub fn provider_refresh_url(
        mut self,
        definition_id: impl AsRef<str>,
        url: impl Into<String>,
    ) -> Self {
        self.provider_refresh_urls
            .insert(definition_id.as_ref().to_ascii_lowercase(), url.into());
        self
    }

    /// Send the OAuth consent of connectors of `definition_id` to `url`.
    pub fn provider_authorization_url(
        mut self,
        definition_id: impl AsRef<str>,
        url: impl Into<String>,
    ) -> Self {
        self.provider_authorization_urls
            .insert(definition_id.as_ref().to_ascii_lowercase(), url.into());
        self
    }

    /// Set the server's public base URL.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into().trim_end_matches('/').to_string());
        self
    }
}
