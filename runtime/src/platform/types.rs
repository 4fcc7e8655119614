//! Options and records of the platform API: connector creation and OAuth options, callbacks,
//! workspace, connector and template records, regions, scoped tokens.

use std::fmt;

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::airbyte_api::id_text;
use crate::error::HostedError;
use crate::error::Result;

/// Options of connector creation.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CreateOptions {
    /// Connector name (default `"<slug> - <workspace>"`).
    pub name: Option<String>,
    /// Replication settings (e.g. `start_date`), required by replication-mode sources.
    pub replication_config: Option<Map<String, Value>>,
    /// Source template to use when the organization has several for this type.
    pub source_template_id: Option<String>,
}

impl CreateOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Set one replication setting.
    pub fn replication(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.replication_config
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }
    /// Merge a whole replication config (e.g. a generated `<Connector>ReplicationConfig`);
    /// its keys replace settings of the same name.
    pub fn replication_config(mut self, config: impl Into<Map<String, Value>>) -> Self {
        self.replication_config
            .get_or_insert_with(Map::new)
            .extend(config.into());
        self
    }
    /// Set the source template id.
    pub fn source_template_id(mut self, id: impl Into<String>) -> Self {
        self.source_template_id = Some(id.into());
        self
    }
}

/// Options of [`Workspace::initiate_oauth`](super::Workspace::initiate_oauth).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OAuthOptions {
    /// Name, replication config and template of the connector to be created.
    pub create: CreateOptions,
    /// Values for URL-templated OAuth (e.g. `{"subdomain": ...}`).
    pub environment: Option<Map<String, Value>>,
}

impl OAuthOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set the creation options.
    pub fn create(mut self, c: CreateOptions) -> Self {
        self.create = c;
        self
    }
    /// Set one environment value.
    pub fn environment(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.environment
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }
}

/// What an OAuth callback URL says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthCallback {
    /// A server-side secret id: create the connector with it.
    SecretId(String),
    /// The platform already created the connector.
    ConnectorId(String),
}

impl OAuthCallback {
    /// Parse a callback URL or bare query string. Accepts `secret_id`,
    /// `server_side_oauth_secret_id` and `connector_id`; an `error` parameter becomes an error.
    pub fn parse(callback: &str) -> Result<Self> {
        let callback = callback.trim();
        let query = match reqwest::Url::parse(callback) {
            Ok(u) => u.query().unwrap_or("").to_string(),
            Err(_) => callback
                .rsplit_once('?')
                .map(|(_, q)| q)
                .unwrap_or(callback)
                .to_string(),
        };
        let query = query.split('#').next().unwrap_or("");
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (crate::encode::form_decode(k), crate::encode::form_decode(v))
            })
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, v)| n == k && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        if let Some(err) = get("error") {
            let desc = get("error_description").unwrap_or_default();
            return Err(HostedError::OAuthCallback(format!(
                "the provider returned `{err}`{}{desc}",
                if desc.is_empty() { "" } else { ": " }
            ))
            .into());
        }
        if let Some(id) = get("connector_id") {
            return Ok(OAuthCallback::ConnectorId(id));
        }
        if let Some(s) = get("server_side_oauth_secret_id").or_else(|| get("secret_id")) {
            return Ok(OAuthCallback::SecretId(s));
        }
        Err(HostedError::OAuthCallback(
            "expected a `secret_id`, `server_side_oauth_secret_id` or `connector_id` query parameter"
                .into(),
        )
        .into())
    }
}

/// A workspace.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct WorkspaceInfo {
    /// Workspace id.
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Organization id.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Other fields, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A connector (source) of a workspace.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ConnectorInfo {
    /// Connector id.
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Definition id, when the server says.
    #[serde(default)]
    pub definition_id: Option<String>,
    /// Connector type / template name, when the server says.
    #[serde(default, alias = "source_type")]
    pub connector_type: Option<String>,
    /// Creation time as sent.
    #[serde(default)]
    pub created_at: Option<Value>,
    /// Update time as sent.
    #[serde(default)]
    pub updated_at: Option<Value>,
    /// Other fields, as sent (e.g. `summarized_source_template`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ConnectorInfo {
    /// The source template's name (`summarized_source_template.name`), if present.
    pub fn template_name(&self) -> Option<&str> {
        self.extra
            .get("summarized_source_template")
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
    }
}

/// A source template.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct SourceTemplate {
    /// Template id.
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Name (unique per organization).
    #[serde(default)]
    pub name: String,
    /// Definition id.
    #[serde(default)]
    pub actor_definition_id: Option<String>,
    /// Mode (`DIRECT`, ...).
    #[serde(default)]
    pub mode: Option<String>,
    /// Other fields, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Data-plane region of a scoped token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Region {
    /// United States (default).
    #[default]
    Us,
    /// European Union.
    Eu,
    /// Another region id.
    Custom(String),
}

impl Region {
    /// The region id sent to the API.
    pub fn id(&self) -> &str {
        match self {
            Region::Us => "645a183f-b12b-4c6e-8ad3-99e165603450",
            Region::Eu => "b9e48d61-f082-4a14-a8d0-799a907938cb",
            Region::Custom(s) => s,
        }
    }
}

/// A workspace-scoped token (the API sends it as `token` or `access_token`).
#[derive(Clone)]
#[non_exhaustive]
pub struct ScopedToken {
    /// The token.
    pub token: SecretString,
    /// Lifetime in seconds, when sent.
    pub expires_in: Option<u64>,
}

impl fmt::Debug for ScopedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedToken")
            .field("token", &"[REDACTED]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

pub(crate) fn de_id<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    id_text(&v).ok_or_else(|| serde::de::Error::custom("expected a non-empty id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks() {
        assert_eq!(
            OAuthCallback::parse("https://app.example/cb?secret_id=abc%2F1&state=x").unwrap(),
            OAuthCallback::SecretId("abc/1".into())
        );
        assert_eq!(
            OAuthCallback::parse("https://app.example/cb?server_side_oauth_secret_id=s2").unwrap(),
            OAuthCallback::SecretId("s2".into())
        );
        assert_eq!(
            OAuthCallback::parse("connector_id=c-9").unwrap(),
            OAuthCallback::ConnectorId("c-9".into())
        );
        let e = OAuthCallback::parse("https://x/cb?error=access_denied&error_description=no")
            .unwrap_err();
        assert!(e.to_string().contains("access_denied"));
        assert!(OAuthCallback::parse("https://x/cb").is_err());
    }

    #[test]
    fn regions() {
        assert_eq!(
            Region::default().id(),
            "645a183f-b12b-4c6e-8ad3-99e165603450"
        );
        assert_eq!(Region::Eu.id(), "b9e48d61-f082-4a14-a8d0-799a907938cb");
    }
}
