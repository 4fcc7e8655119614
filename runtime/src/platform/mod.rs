//! Platform operations: workspaces, connectors (create, list, delete), OAuth, source templates,
//! scoped tokens.

mod embedded;
mod listing;
mod types;
mod workflows;
mod workspace;

pub use embedded::{
    Catalog, CreateSource, Embedded, EmbeddedSource, EmbeddedTemplate, ScopedSession, StreamInfo,
    StreamSelection, TagFilter, TagMode, TemplateTag, WidgetToken, validate_whitelist,
};
pub use types::{
    ConnectorInfo, CreateOptions, OAuthCallback, OAuthOptions, Region, ScopedToken, SourceTemplate,
    WorkspaceInfo,
};
pub use workflows::{
    AUTOMATION_FANOUT, AutomationInfo, AutomationOptions, AutomationUpdate, WorkflowInfo,
};
pub use workspace::Workspace;

use listing::{collect_pages, decode_items, decode_one};
use types::de_id;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::airbyte_api::{AirbyteAuthConfig, Call, Transport, Verb, unexpected};
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
