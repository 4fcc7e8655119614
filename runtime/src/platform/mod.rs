//! Platform operations: workspaces, connectors (create, list, delete), OAuth, source templates,
//! scoped tokens.

mod embedded;
mod workflows;

pub use embedded::{
    Catalog, CreateSource, Embedded, EmbeddedSource, EmbeddedTemplate, ScopedSession, StreamInfo,
    StreamSelection, TagFilter, TagMode, TemplateTag, WidgetToken, validate_whitelist,
};
pub use workflows::{
    AUTOMATION_FANOUT, AutomationInfo, AutomationOptions, AutomationUpdate, WorkflowInfo,
};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::Client;
use crate::Credentials;
use crate::airbyte_api::{
    AirbyteAuthConfig, Call, Transport, Verb, find_connector, id_text, list_items, unexpected,
};
use crate::client::HostedClientBuilder;
use crate::descriptor::ConnectorDescriptor;
use crate::error::HostedError;
use crate::error::Result;
use crate::retry::RetryPolicy;

/// Upper bound on pages followed by platform list calls.
const MAX_LIST_PAGES: usize = 1000;
/// Credential keys that only select an auth option; the API infers the option and rejects them.
const DISCRIMINATORS: &[&str] = &[
    "auth_type",
    "auth_method",
    "option_title",
    "credentials_title",
];

/// Client of Airbyte's platform API (workspaces, connectors, OAuth, templates, scoped tokens).
///
/// Cheap to clone. Shares the process-wide application-token cache with hosted connectors.
#[derive(Clone, Debug)]
pub struct Platform {
    transport: Arc<Transport>,
}

/// Builder of a [`Platform`].
#[derive(Debug)]
#[must_use]
pub struct PlatformBuilder {
    config: AirbyteAuthConfig,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
}

impl PlatformBuilder {
    /// Read timeout per request (default 60 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }
    /// Connect timeout (default 5 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }
    /// Retry policy for 429/5xx (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, p: RetryPolicy) -> Self {
        self.retry = p;
        self
    }
    /// Resolve credentials (failing before any request when they are missing) and build.
    pub fn build(self) -> Result<Platform> {
        let auth = self.config.resolve()?;
        Ok(Platform {
            transport: Arc::new(Transport::new(
                auth,
                self.timeout,
                self.connect_timeout,
                self.retry,
            )?),
        })
    }
}

impl Platform {
    /// A platform client with default settings.
    pub fn new(config: AirbyteAuthConfig) -> Result<Self> {
        Self::builder(config).build()
    }

    /// A builder for timeouts and retries.
    pub fn builder(config: AirbyteAuthConfig) -> PlatformBuilder {
        PlatformBuilder {
            config,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
        }
    }

    /// The resolved API base URL.
    pub fn base_url(&self) -> &str {
        &self.transport.auth.base_url
    }

    /// The resolved organization id.
    pub fn organization_id(&self) -> Option<&str> {
        self.transport.auth.organization_id.as_deref()
    }

    /// The workspace used by [`Platform::default_workspace`].
    pub fn workspace_name(&self) -> &str {
        &self.transport.auth.workspace_name
    }

    /// The current application token (cached; fetched when missing or about to expire).
    pub async fn application_token(&self) -> Result<SecretString> {
        Ok(self.transport.token().await?.value)
    }

    /// How many application tokens this credential set has fetched in this process.
    pub fn token_fetches(&self) -> u64 {
        self.transport.token_fetches()
    }

    /// Connector operations in workspace `name`.
    pub fn workspace(&self, name: impl Into<String>) -> Workspace {
        Workspace {
            platform: self.clone(),
            name: name.into(),
            id: Arc::default(),
        }
    }

    /// Connector operations in the configured workspace (default `"default"`).
    pub fn default_workspace(&self) -> Workspace {
        self.workspace(self.transport.auth.workspace_name.clone())
    }

    /// Every workspace of the organization (follows cursor pagination).
    pub async fn list_workspaces(&self) -> Result<Vec<WorkspaceInfo>> {
        let items = collect_pages(&self.transport, "/api/v1/workspaces", Vec::new()).await?;
        decode_items("GET /api/v1/workspaces", items)
    }

    /// The workspace with exactly this name, if any.
    pub async fn find_workspace(&self, name: &str) -> Result<Option<WorkspaceInfo>> {
        Ok(self
            .list_workspaces()
            .await?
            .into_iter()
            .find(|w| w.name == name))
    }

    /// Create a workspace.
    pub async fn create_workspace(&self, name: &str) -> Result<WorkspaceInfo> {
        let body = serde_json::json!({"name": name});
        let call = Call::post("/api/v1/workspaces", &body);
        let v = self.transport.json(&call).await?;
        decode_one(&call, v)
    }

    /// Use the organization's own OAuth app (client id/secret) for `connector_type`
    /// (e.g. `hubspot`) instead of Airbyte's.
    pub async fn set_oauth_app(
        &self,
        connector_type: &str,
        client_id: &str,
        client_secret: &SecretString,
    ) -> Result<()> {
        let body = serde_json::json!({
            "connector_type": connector_type,
            "configuration": {
                "client_id": client_id,
                "client_secret": client_secret.expose_secret(),
            },
        });
        let call = Call {
            verb: Verb::Put,
            idempotent: true,
            ..Call::post("/api/v1/oauth/credentials", &body)
        };
        self.transport.json(&call).await.map(|_| ())
    }

    /// Go back to Airbyte's OAuth app for `connector_type`.
    pub async fn reset_oauth_app(&self, connector_type: &str) -> Result<()> {
        let path = format!(
            "/api/v1/oauth/credentials/connector_type/{}",
            crate::encode::path_segment(connector_type)
        );
        let call = Call {
            verb: Verb::Delete,
            ..Call::get(&path)
        };
        self.transport.json(&call).await.map(|_| ())
    }

    /// Source templates of the organization.
    pub async fn list_source_templates(&self) -> Result<Vec<SourceTemplate>> {
        let items = collect_pages(
            &self.transport,
            "/api/v1/integrations/templates/sources",
            Vec::new(),
        )
        .await?;
        decode_items("GET /api/v1/integrations/templates/sources", items)
    }

    /// Register a source template in DIRECT mode; idempotent: an existing template with the
    /// same name is returned instead of creating a duplicate.
    pub async fn register_source_template(
        &self,
        definition_id: &str,
        name: &str,
        partial_default_config: Map<String, Value>,
    ) -> Result<SourceTemplate> {
        if let Some(t) = self.template_named(name).await? {
            return Ok(t);
        }
        let body = serde_json::json!({
            "actor_definition_id": definition_id,
            "name": name,
            "original_source_template_id": "",
            "partial_default_config": partial_default_config,
            "mode": "DIRECT",
        });
        let call = Call::post("/api/v1/integrations/templates/sources", &body);
        match self.transport.json(&call).await {
            Ok(v) => decode_one(&call, v),
            Err(e) if e.message().to_ascii_lowercase().contains("already exists") => {
                // Created concurrently by someone else: return theirs.
                self.template_named(name).await?.ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    async fn template_named(&self, name: &str) -> Result<Option<SourceTemplate>> {
        Ok(self
            .list_source_templates()
            .await?
            .into_iter()
            .find(|t| t.name == name))
    }

    /// A token scoped to one workspace (for embedding in a front end).
    pub async fn scoped_token(&self, workspace_name: &str, region: Region) -> Result<ScopedToken> {
        let body = serde_json::json!({"workspace_name": workspace_name, "region_id": region.id()});
        let call = Call::post("/api/v1/embedded/scoped-token", &body);
        let v = self.transport.json(&call).await?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unexpected(&call, "no `token` or `access_token` field".into()))?;
        Ok(ScopedToken {
            token: SecretString::from(token.to_string()),
            expires_in: v.get("expires_in").and_then(Value::as_u64),
        })
    }
}

/// Connector operations inside one workspace.
#[derive(Clone, Debug)]
pub struct Workspace {
    platform: Platform,
    name: String,
    /// The workspace id, resolved from the name once (shared by clones).
    pub(super) id: Arc<tokio::sync::OnceCell<String>>,
}

impl Workspace {
    /// Workspace name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The platform client.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    pub(super) fn transport(&self) -> &Arc<Transport> {
        &self.platform.transport
    }

    /// Every connector of the workspace (follows pagination when the server paginates).
    pub async fn list_connectors(&self) -> Result<Vec<ConnectorInfo>> {
        let items = collect_pages(
            self.transport(),
            "/api/v1/integrations/connectors",
            vec![("workspace_name", self.name.clone())],
        )
        .await?;
        decode_items("GET /api/v1/integrations/connectors", items)
    }

    /// The id of the single connector of `descriptor`'s definition in this workspace.
    pub async fn find_connector(&self, descriptor: &ConnectorDescriptor) -> Result<String> {
        find_connector(
            self.transport(),
            &self.name,
            descriptor.name,
            descriptor.definition_id,
        )
        .await
    }

    /// A hosted client bound to the connector named `name` in this workspace.
    pub async fn connector_by_name(
        &self,
        descriptor: &'static ConnectorDescriptor,
        name: &str,
    ) -> Result<Client> {
        let matches: Vec<ConnectorInfo> = self
            .list_connectors()
            .await?
            .into_iter()
            .filter(|c| c.name.as_deref() == Some(name))
            .filter(|c| {
                c.definition_id
                    .as_deref()
                    .is_none_or(|d| d == descriptor.definition_id)
            })
            .collect();
        match matches.as_slice() {
            [one] => self.connector_by_id(descriptor, one.id.clone()).build(),
            [] => Err(HostedError::ConnectorNotFound {
                connector: format!("{} named `{name}`", descriptor.name),
                workspace_name: self.name.clone(),
                definition_id: descriptor.definition_id.to_string(),
            }
            .into()),
            many => Err(HostedError::AmbiguousConnector {
                connector: format!("{} named `{name}`", descriptor.name),
                workspace_name: self.name.clone(),
                definition_id: descriptor.definition_id.to_string(),
                ids: many.iter().map(|c| c.id.clone()).collect(),
            }
            .into()),
        }
    }

    /// A hosted client for `descriptor` in this workspace (connector looked up on first call).
    pub fn connector(&self, descriptor: &'static ConnectorDescriptor) -> HostedClientBuilder {
        HostedClientBuilder::from_transport(descriptor, self.transport().clone(), self.name.clone())
    }

    /// A hosted client bound to connector `id`.
    pub fn connector_by_id(
        &self,
        descriptor: &'static ConnectorDescriptor,
        id: impl Into<String>,
    ) -> HostedClientBuilder {
        self.connector(descriptor).connector_id(id)
    }

    /// Create a connector from `credentials` (fields of one auth option) and return a hosted
    /// client bound to it. Discriminator fields such as `auth_type` are not sent.
    pub async fn create_hosted(
        &self,
        descriptor: &'static ConnectorDescriptor,
        credentials: &Credentials,
        options: CreateOptions,
    ) -> Result<Client> {
        let creds = credentials_json(descriptor, credentials);
        let info = self
            .create_connector_raw(descriptor, Some(creds), None, options)
            .await?;
        self.connector_by_id(descriptor, info.id).build()
    }

    /// Create a connector with credentials sent verbatim (dynamic callers). Prefer
    /// [`Workspace::create_hosted`], which drops discriminator fields the API rejects.
    pub async fn create_connector_json(
        &self,
        descriptor: &'static ConnectorDescriptor,
        credentials: Map<String, Value>,
        options: CreateOptions,
    ) -> Result<ConnectorInfo> {
        self.create_connector_raw(descriptor, Some(credentials), None, options)
            .await
    }

    /// Create a connector from a server-side OAuth secret id (see [`Workspace::complete_oauth`]).
    pub async fn create_from_oauth_secret(
        &self,
        descriptor: &'static ConnectorDescriptor,
        secret_id: &str,
        options: CreateOptions,
    ) -> Result<ConnectorInfo> {
        self.create_connector_raw(descriptor, None, Some(secret_id), options)
            .await
    }

    async fn create_connector_raw(
        &self,
        descriptor: &'static ConnectorDescriptor,
        credentials: Option<Map<String, Value>>,
        secret_id: Option<&str>,
        options: CreateOptions,
    ) -> Result<ConnectorInfo> {
        let mut body = Map::new();
        body.insert(
            "name".into(),
            Value::String(
                options
                    .name
                    .unwrap_or_else(|| format!("{} - {}", descriptor.name, self.name)),
            ),
        );
        body.insert("definition_id".into(), descriptor.definition_id.into());
        body.insert("workspace_name".into(), self.name.clone().into());
        if let Some(c) = credentials {
            body.insert("credentials".into(), Value::Object(c));
        }
        if let Some(r) = options.replication_config {
            body.insert("replication_config".into(), Value::Object(r));
        }
        if let Some(s) = secret_id {
            body.insert("server_side_oauth_secret_id".into(), s.into());
        }
        if let Some(t) = options.source_template_id {
            body.insert("source_template_id".into(), t.into());
        }
        let body = Value::Object(body);
        let call = Call::post("/api/v1/integrations/connectors", &body);
        let v = self.transport().json(&call).await?;
        let mut info: ConnectorInfo = decode_one(&call, v)?;
        if info.definition_id.is_none() {
            info.definition_id = Some(descriptor.definition_id.to_string());
        }
        Ok(info)
    }

    /// Delete a connector.
    pub async fn delete_connector(&self, id: &str) -> Result<()> {
        let path = format!(
            "/api/v1/integrations/connectors/{}",
            crate::encode::path_segment(id)
        );
        let call = Call {
            verb: Verb::Delete,
            ..Call::get(&path)
        };
        self.transport().json(&call).await.map(|_| ())
    }

    /// Start an OAuth flow: returns the consent URL to send the user to. After consent the
    /// user lands on `redirect_url`; pass that URL to [`Workspace::complete_oauth`].
    pub async fn initiate_oauth(
        &self,
        descriptor: &ConnectorDescriptor,
        redirect_url: &str,
        options: OAuthOptions,
    ) -> Result<String> {
        let mut body = Map::new();
        body.insert("workspace_name".into(), self.name.clone().into());
        body.insert("definition_id".into(), descriptor.definition_id.into());
        body.insert("redirect_url".into(), redirect_url.into());
        if let Some(n) = options.create.name {
            body.insert("name".into(), n.into());
        }
        if let Some(r) = options.create.replication_config {
            body.insert("replication_config".into(), Value::Object(r));
        }
        if let Some(t) = options.create.source_template_id {
            body.insert("source_template_id".into(), t.into());
        }
        if let Some(env) = options.environment {
            body.insert("environment".into(), Value::Object(env));
        }
        let body = Value::Object(body);
        let call = Call::post("/api/v1/integrations/connectors/oauth/initiate", &body);
        let v = self.transport().json(&call).await?;
        v.get("consent_url")
            .or_else(|| v.get("consentUrl"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| unexpected(&call, "no `consent_url` in the response".into()))
    }

    /// Finish an OAuth flow from the callback URL (or its query string): a secret id
    /// (`secret_id` / `server_side_oauth_secret_id`) creates the connector; a `connector_id`
    /// means the platform already created it. Returns a hosted client bound to the connector.
    pub async fn complete_oauth(
        &self,
        descriptor: &'static ConnectorDescriptor,
        callback_url: &str,
        options: CreateOptions,
    ) -> Result<Client> {
        let id = match OAuthCallback::parse(callback_url)? {
            OAuthCallback::SecretId(secret) => {
                self.create_from_oauth_secret(descriptor, &secret, options)
                    .await?
                    .id
            }
            OAuthCallback::ConnectorId(id) => id,
        };
        self.connector_by_id(descriptor, id).build()
    }
}

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

/// Options of [`Workspace::initiate_oauth`].
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

pub(super) fn de_id<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    id_text(&v).ok_or_else(|| serde::de::Error::custom("expected a non-empty id"))
}

fn credentials_json(descriptor: &ConnectorDescriptor, c: &Credentials) -> Map<String, Value> {
    let declared: Vec<&str> = descriptor
        .auth_schemes
        .iter()
        .find(|s| s.key == c.scheme())
        .map(|s| s.fields.iter().map(|f| f.name).collect())
        .unwrap_or_default();
    c.field_names()
        .filter(|n| declared.contains(n) || !DISCRIMINATORS.contains(n))
        .filter_map(|n| {
            c.get(n)
                .map(|v| (n.to_string(), Value::String(v.expose_secret().to_string())))
        })
        .collect()
}

pub(super) fn decode_one<T: serde::de::DeserializeOwned>(call: &Call<'_>, v: Value) -> Result<T> {
    // Some endpoints wrap the object in `data`.
    let v = match v {
        Value::Object(mut m)
            if !m.contains_key("id") && m.get("data").is_some_and(Value::is_object) =>
        {
            m.remove("data").unwrap_or(Value::Null)
        }
        other => other,
    };
    serde_json::from_value(v).map_err(|e| unexpected(call, format!("cannot decode ({e})")))
}

pub(super) fn decode_items<T: serde::de::DeserializeOwned>(
    endpoint: &str,
    items: Vec<Value>,
) -> Result<Vec<T>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v).map_err(|e| {
                HostedError::UnexpectedResponse {
                    endpoint: endpoint.to_string(),
                    message: format!("item {i}: {e}"),
                }
                .into()
            })
        })
        .collect()
}

/// The cursor of the next page, in any of the shapes the API has used.
fn next_cursor(v: &Value) -> Option<Next> {
    let s = |x: Option<&Value>| {
        x.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let meta = v.get("meta").or_else(|| v.get("pagination"));
    let has_more = v
        .get("has_more")
        .or_else(|| meta.and_then(|m| m.get("has_more")))
        .and_then(Value::as_bool);
    if has_more == Some(false) {
        return None;
    }
    if let Some(n) = s(v.get("next")).or_else(|| s(meta.and_then(|m| m.get("next")))) {
        return Some(
            if n.starts_with("http://") || n.starts_with("https://") || n.starts_with('/') {
                Next::Url(n)
            } else {
                Next::Cursor(n)
            },
        );
    }
    s(v.get("next_cursor"))
        .or_else(|| s(meta.and_then(|m| m.get("next_cursor"))))
        .or_else(|| {
            // A bare `cursor` only counts when the server says more pages exist.
            (has_more == Some(true))
                .then(|| s(v.get("cursor")).or_else(|| s(meta.and_then(|m| m.get("cursor")))))
                .flatten()
        })
        .map(Next::Cursor)
}

enum Next {
    Cursor(String),
    Url(String),
}

/// GET every page of a platform list endpoint.
pub(super) async fn collect_pages(
    transport: &Transport,
    path: &str,
    query: Vec<(&str, String)>,
) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let mut next_query: Option<Vec<(String, String)>> = None;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_LIST_PAGES {
        let owned: Vec<(String, String)>;
        let mut call = Call::get(path);
        if let Some(q) = &next_query {
            owned = q.clone();
            call.query = owned.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        } else {
            call.query = query.clone();
            if let Some(c) = &cursor {
                call = call.query("cursor", c.clone());
            }
        }
        let v = transport.json(&call).await?;
        let items = list_items(&v)
            .ok_or_else(|| unexpected(&call, "list response has no `data` array".into()))?;
        let empty = items.is_empty();
        out.extend(items.iter().cloned());
        let Some(next) = next_cursor(&v) else {
            return Ok(out);
        };
        if empty {
            return Ok(out);
        }
        match next {
            Next::Cursor(c) => {
                if !seen.insert(c.clone()) {
                    return Ok(out);
                }
                cursor = Some(c);
                next_query = None;
            }
            Next::Url(u) => {
                if !seen.insert(u.clone()) {
                    return Ok(out);
                }
                let parsed = reqwest::Url::parse(&u)
                    .or_else(|_| reqwest::Url::parse(&format!("http://localhost{u}")))
                    .map_err(|e| unexpected(&call, format!("invalid next-page URL ({e})")))?;
                if parsed.path() != path {
                    return Err(unexpected(
                        &call,
                        "next-page URL points to another endpoint".into(),
                    ));
                }
                next_query = Some(parsed.query_pairs().into_owned().collect());
            }
        }
    }
    Ok(out)
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
    fn cursors() {
        use serde_json::json;
        let c = |v: Value| match next_cursor(&v) {
            Some(Next::Cursor(c)) => Some(format!("c:{c}")),
            Some(Next::Url(u)) => Some(format!("u:{u}")),
            None => None,
        };
        assert_eq!(
            c(json!({"data": [], "next_cursor": "a"})),
            Some("c:a".into())
        );
        assert_eq!(
            c(json!({"data": [], "next": "/x?cursor=b"})),
            Some("u:/x?cursor=b".into())
        );
        assert_eq!(
            c(json!({"data": [], "meta": {"has_more": true, "cursor": "d"}})),
            Some("c:d".into())
        );
        assert_eq!(
            c(json!({"data": [], "meta": {"has_more": false, "cursor": "d"}})),
            None
        );
        assert_eq!(c(json!({"data": [], "cursor": "d"})), None);
        assert_eq!(c(json!({"data": [], "next": null})), None);
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
