//! TLS and the pooled reqwest client.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use airbyte_agent_core::Method;
use airbyte_agent_core::headers::Headers;

use crate::error::{Error, Result};

/// How the client treats redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HttpClient {
    /// Redirects are followed by the caller, who decides which URLs get credentials (direct
    /// mode).
    ManualRedirects,
    /// reqwest follows redirects (Airbyte's API, downloads, loopback servers).
    FollowRedirects,
}

impl HttpClient {
    /// A pooled client with these timeouts: `timeout` is the longest wait for response data.
    pub(crate) fn build(
        self,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<reqwest::Client> {
        let redirects = match self {
            HttpClient::ManualRedirects => reqwest::redirect::Policy::none(),
            HttpClient::FollowRedirects => reqwest::redirect::Policy::default(),
        };
        reqwest::Client::builder()
            .redirect(redirects)
            .tls_backend_preconfigured(tls_config()?)
            .connect_timeout(connect_timeout)
            .read_timeout(timeout)
            // Keep enough idle connections for highly concurrent callers: a smaller cap closes
            // the surplus after every response, so each call beyond it pays a new connection.
            .pool_max_idle_per_host(128)
            .build()
            .map_err(|e| Error::Setup {
                message: super::error::describe(&e),
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
    .map_err(|message| Error::Setup { message })
}

/// The reqwest method of a descriptor method.
pub(crate) fn method(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
        Method::Head => reqwest::Method::HEAD,
        _ => reqwest::Method::OPTIONS,
    }
}

/// Response headers in the core's form (values that are not text are skipped).
pub(crate) fn headers_from_reqwest(h: &reqwest::header::HeaderMap) -> Headers {
    Headers(
        h.iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_string(), v.to_string()))
            })
            .collect(),
    )
}
