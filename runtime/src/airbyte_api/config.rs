//! Airbyte platform credentials: [`AirbyteAuthConfig`], the process-wide [`configure`], env and
//! `.env` resolution.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::RwLock;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::{Error, HostedError, Result};

/// Default Airbyte API base URL.
pub const DEFAULT_API_BASE: &str = "https://api.airbyte.ai";
/// Environment variable overriding the API base URL (development and tests).
pub const ENV_API_HOST: &str = "SDK_DEV_ADP_API_HOST";
/// Environment variable of the application client id.
pub const ENV_CLIENT_ID: &str = "AIRBYTE_CLIENT_ID";
/// Environment variable of the application client secret.
pub const ENV_CLIENT_SECRET: &str = "AIRBYTE_CLIENT_SECRET";
/// Environment variable of the organization id.
pub const ENV_ORGANIZATION_ID: &str = "AIRBYTE_ORGANIZATION_ID";
/// Workspace used when none is given.
pub const DEFAULT_WORKSPACE: &str = "default";

/// Credentials and identity for Airbyte's hosted API (hosted mode and platform operations).
///
/// Every field is optional here; missing values are resolved, in this order, from the explicit
/// value, the process-wide [`configure`] call, then the environment (`AIRBYTE_CLIENT_ID`,
/// `AIRBYTE_CLIENT_SECRET`, `AIRBYTE_ORGANIZATION_ID`, `SDK_DEV_ADP_API_HOST`). Empty strings count
/// as missing. `workspace_name` defaults to `"default"`.
///
/// Deserialises from JSON/YAML accepting every historical field name: `workspace_name` /
/// `customer_name` / `external_user_id`, `client_id` / `airbyte_client_id`, `client_secret` /
/// `airbyte_client_secret`. `Debug` never prints the secret.
#[derive(Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct AirbyteAuthConfig {
    /// Application client id.
    #[serde(default, alias = "airbyte_client_id")]
    pub client_id: Option<String>,
    /// Application client secret.
    #[serde(
        default,
        alias = "airbyte_client_secret",
        deserialize_with = "de_secret"
    )]
    pub client_secret: Option<SecretString>,
    /// Organization id, sent as `X-Organization-Id` (required for accounts in several organizations).
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Workspace holding the connectors (default `"default"`).
    #[serde(default, alias = "customer_name", alias = "external_user_id")]
    pub workspace_name: Option<String>,
    /// A known connector id (skips the lookup by workspace and definition id).
    #[serde(default)]
    pub connector_id: Option<String>,
    /// API base URL (default `https://api.airbyte.ai`).
    #[serde(default, alias = "api_url", alias = "airbyte_connector_api_url")]
    pub base_url: Option<String>,
}

fn de_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
}

impl fmt::Debug for AirbyteAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AirbyteAuthConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("organization_id", &self.organization_id)
            .field("workspace_name", &self.workspace_name)
            .field("connector_id", &self.connector_id)
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl AirbyteAuthConfig {
    /// Explicit application credentials.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<SecretString>) -> Self {
        AirbyteAuthConfig {
            client_id: Some(client_id.into()),
            client_secret: Some(client_secret.into()),
            ..Default::default()
        }
    }

    /// Nothing explicit: everything comes from [`configure`] or the environment.
    pub fn from_env() -> Self {
        Self::default()
    }

    /// Read `AIRBYTE_*` / `SDK_DEV_ADP_API_HOST` keys from a `.env` file (`KEY=value` lines,
    /// optional `export `, quotes and `#` comments). The process environment is not modified.
    /// Values from the file count as explicit.
    pub fn from_env_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::File {
            what: "env file",
            path: path.to_path_buf(),
            source,
        })?;
        let vars = parse_dotenv(&text);
        let get = |k: &str| vars.get(k).filter(|v| !v.is_empty()).cloned();
        Ok(AirbyteAuthConfig {
            client_id: get(ENV_CLIENT_ID),
            client_secret: get(ENV_CLIENT_SECRET).map(SecretString::from),
            organization_id: get(ENV_ORGANIZATION_ID),
            workspace_name: None,
            connector_id: None,
            base_url: get(ENV_API_HOST),
        })
    }

    /// Set the organization id.
    pub fn organization_id(mut self, id: impl Into<String>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    /// Set the workspace name.
    pub fn workspace_name(mut self, name: impl Into<String>) -> Self {
        self.workspace_name = Some(name.into());
        self
    }

    /// Bind to a known connector id.
    pub fn connector_id(mut self, id: impl Into<String>) -> Self {
        self.connector_id = Some(id.into());
        self
    }

    /// Override the API base URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Resolve against [`configure`] and the process environment.
    pub fn resolve(&self) -> Result<ResolvedAuth> {
        let global = GLOBAL
            .read()
            .map_err(|_| Error::Internal("the global Airbyte configuration lock is poisoned"))?
            .clone();
        self.resolve_with(global.as_ref(), |k| std::env::var(k).ok())
    }

    /// Resolution with an explicit global config and environment (testable without globals).
    pub(crate) fn resolve_with(
        &self,
        global: Option<&AirbyteAuthConfig>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ResolvedAuth> {
        fn pick(v: &[Option<String>]) -> Option<String> {
            v.iter().flatten().find(|s| !s.trim().is_empty()).cloned()
        }
        let g = |f: fn(&AirbyteAuthConfig) -> Option<String>| global.and_then(f);
        let client_id = pick(&[
            self.client_id.clone(),
            g(|c| c.client_id.clone()),
            env(ENV_CLIENT_ID),
        ]);
        let secret_of = |c: &AirbyteAuthConfig| {
            c.client_secret
                .as_ref()
                .filter(|s| !s.expose_secret().trim().is_empty())
                .cloned()
        };
        let client_secret = secret_of(self)
            .or_else(|| global.and_then(secret_of))
            .or_else(|| {
                env(ENV_CLIENT_SECRET)
                    .filter(|s| !s.trim().is_empty())
                    .map(SecretString::from)
            });
        let mut missing = Vec::new();
        if client_id.is_none() {
            missing.push("client_id");
        }
        if client_secret.is_none() {
            missing.push("client_secret");
        }
        let (Some(client_id), Some(client_secret)) = (client_id, client_secret) else {
            return Err(HostedError::MissingCredentials { missing }.into());
        };
        let organization_id = pick(&[
            self.organization_id.clone(),
            g(|c| c.organization_id.clone()),
            env(ENV_ORGANIZATION_ID),
        ]);
        let workspace_name = pick(&[self.workspace_name.clone(), g(|c| c.workspace_name.clone())])
            .unwrap_or_else(|| DEFAULT_WORKSPACE.to_string());
        let base = pick(&[
            self.base_url.clone(),
            g(|c| c.base_url.clone()),
            env(ENV_API_HOST),
        ])
        .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
        let base_url = normalize_base(&base)?;
        Ok(ResolvedAuth {
            client_id,
            client_secret,
            organization_id,
            workspace_name,
            connector_id: self.connector_id.clone().filter(|s| !s.trim().is_empty()),
            base_url,
        })
    }
}

fn normalize_base(base: &str) -> Result<String> {
    let b = base.trim().trim_end_matches('/');
    let ok = reqwest::Url::parse(b)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !ok {
        return Err(Error::InvalidUrl {
            setting: format!("Airbyte API base URL `{b}` (base_url / {ENV_API_HOST})"),
            reason: "expected http(s)://host[:port]".into(),
        });
    }
    Ok(b.to_string())
}

/// Fully resolved platform credentials.
#[derive(Clone)]
pub struct ResolvedAuth {
    /// Application client id.
    pub client_id: String,
    /// Application client secret.
    pub client_secret: SecretString,
    /// Organization id (`X-Organization-Id`), when known.
    pub organization_id: Option<String>,
    /// Workspace name.
    pub workspace_name: String,
    /// Explicit connector id, if any.
    pub connector_id: Option<String>,
    /// API base URL without trailing slash.
    pub base_url: String,
}

impl fmt::Debug for ResolvedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedAuth")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("organization_id", &self.organization_id)
            .field("workspace_name", &self.workspace_name)
            .field("connector_id", &self.connector_id)
            .field("base_url", &self.base_url)
            .finish()
    }
}

static GLOBAL: RwLock<Option<AirbyteAuthConfig>> = RwLock::new(None);

/// Set process-wide defaults used by every hosted client and [`Platform`](crate::hosted::Platform)
/// for fields not given explicitly. Calling again replaces the previous configuration.
pub fn configure(config: AirbyteAuthConfig) {
    match GLOBAL.write() {
        Ok(mut g) => *g = Some(config),
        Err(p) => *p.into_inner() = Some(config),
    }
}

/// Remove the process-wide configuration set by [`configure`].
pub fn clear_configuration() {
    match GLOBAL.write() {
        Ok(mut g) => *g = None,
        Err(p) => *p.into_inner() = None,
    }
}

/// Parse `.env` text: `KEY=value`, optional `export ` prefix, single/double quotes, `#` comments
/// (outside quotes), blank lines. Malformed lines are skipped.
pub fn parse_dotenv(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            continue;
        }
        let value = value.trim();
        let value = if let Some(rest) = value.strip_prefix('"') {
            match rest.find('"') {
                Some(end) => rest[..end].replace("\\n", "\n").replace("\\\"", "\""),
                None => continue,
            }
        } else if let Some(rest) = value.strip_prefix('\'') {
            match rest.find('\'') {
                Some(end) => rest[..end].to_string(),
                None => continue,
            }
        } else {
            match value.find(" #") {
                Some(i) => value[..i].trim_end().to_string(),
                None => value.to_string(),
            }
        };
        out.insert(key.to_string(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn resolution_order() {
        let explicit = AirbyteAuthConfig::new("id-explicit", "s-explicit".to_string());
        let global = AirbyteAuthConfig::new("id-global", "s-global".to_string())
            .organization_id("org-global")
            .workspace_name("ws-global");
        let env = env_of(&[
            (ENV_CLIENT_ID, "id-env"),
            (ENV_CLIENT_SECRET, "s-env"),
            (ENV_ORGANIZATION_ID, "org-env"),
            (ENV_API_HOST, "http://127.0.0.1:9/"),
        ]);
        let r = explicit.resolve_with(Some(&global), &env).unwrap();
        assert_eq!(r.client_id, "id-explicit");
        assert_eq!(r.client_secret.expose_secret(), "s-explicit");
        assert_eq!(r.organization_id.as_deref(), Some("org-global"));
        assert_eq!(r.workspace_name, "ws-global");
        assert_eq!(r.base_url, "http://127.0.0.1:9");

        let r = AirbyteAuthConfig::default()
            .resolve_with(None, &env)
            .unwrap();
        assert_eq!(r.client_id, "id-env");
        assert_eq!(r.client_secret.expose_secret(), "s-env");
        assert_eq!(r.organization_id.as_deref(), Some("org-env"));
        assert_eq!(r.workspace_name, DEFAULT_WORKSPACE);

        // Empty strings fall through.
        let r = AirbyteAuthConfig::new("", String::new())
            .resolve_with(Some(&global), env_of(&[]))
            .unwrap();
        assert_eq!(r.client_id, "id-global");
        assert_eq!(r.base_url, DEFAULT_API_BASE);
    }

    #[test]
    fn missing_credentials_are_named() {
        let e = AirbyteAuthConfig::default()
            .resolve_with(None, env_of(&[(ENV_CLIENT_ID, "x")]))
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("client_secret"), "{msg}");
        assert!(msg.contains(ENV_CLIENT_SECRET), "{msg}");
        assert!(!msg.contains("client_id,"), "{msg}");
    }

    #[test]
    fn bad_base_url() {
        let e = AirbyteAuthConfig::new("a", "b".to_string())
            .base_url("not a url")
            .resolve_with(None, env_of(&[]))
            .unwrap_err();
        assert!(e.to_string().contains("base URL"));
    }

    #[test]
    fn aliases_and_debug() {
        let c: AirbyteAuthConfig = serde_json::from_value(serde_json::json!({
            "airbyte_client_id": "cid",
            "airbyte_client_secret": "very-secret",
            "external_user_id": "acme"
        }))
        .unwrap();
        assert_eq!(c.client_id.as_deref(), Some("cid"));
        assert_eq!(c.workspace_name.as_deref(), Some("acme"));
        let c2: AirbyteAuthConfig =
            serde_json::from_value(serde_json::json!({"customer_name": "acme2"})).unwrap();
        assert_eq!(c2.workspace_name.as_deref(), Some("acme2"));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("very-secret"), "{dbg}");
    }

    #[test]
    fn dotenv() {
        let m = parse_dotenv(
            "# c\nexport AIRBYTE_CLIENT_ID=abc\nAIRBYTE_CLIENT_SECRET=\"s e#c\" \nX='q' # tail\nY=v # c\nbad line\n=nokey\n",
        );
        assert_eq!(m["AIRBYTE_CLIENT_ID"], "abc");
        assert_eq!(m["AIRBYTE_CLIENT_SECRET"], "s e#c");
        assert_eq!(m["X"], "q");
        assert_eq!(m["Y"], "v");
        assert_eq!(m.len(), 4);
    }
}
