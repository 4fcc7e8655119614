//! Hosted mode and Airbyte's platform API, in one place for callers: credentials
//! ([`AirbyteAuthConfig`]), hosted clients ([`HostedClientBuilder`], built with
//! [`Client::hosted`](crate::Client::hosted)), the platform client ([`Platform`],
//! [`Workspace`]: connectors, OAuth, templates, scoped tokens, workflows), the embedded API and
//! the errors specific to them.
//!
//! ```no_run
//! # async fn demo(descriptor: &'static airbyte_agent_runtime::ConnectorDescriptor) -> airbyte_agent_runtime::Result<()> {
//! use airbyte_agent_runtime::{Client, hosted::AirbyteAuthConfig};
//! let client = Client::hosted(descriptor, AirbyteAuthConfig::from_env().workspace_name("acme")).build()?;
//! let page = client.execute("customers", "list", serde_json::json!({"limit": 5})).await?;
//! # Ok(()) }
//! ```

pub use crate::airbyte_api::{
    AGENT_SDK_HEADER_VALUE, AirbyteAuthConfig, DEFAULT_API_BASE, DEFAULT_WORKSPACE, ENV_API_HOST,
    ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_ORGANIZATION_ID, ResolvedAuth, clear_configuration,
    configure, parse_dotenv,
};
pub use crate::client::{ContextStoreSearch, HostedClientBuilder, SearchMeta, SearchOptions};
pub use crate::error::HostedError;
pub use crate::platform::{
    AUTOMATION_FANOUT, AutomationInfo, AutomationOptions, AutomationUpdate, Catalog, ConnectorInfo,
    CreateOptions, CreateSource, Embedded, EmbeddedSource, EmbeddedTemplate, OAuthCallback,
    OAuthOptions, Platform, PlatformBuilder, Region, ScopedSession, ScopedToken, SourceTemplate,
    StreamInfo, StreamSelection, TagFilter, TagMode, TemplateTag, WidgetToken, WorkflowInfo,
    Workspace, WorkspaceInfo, validate_whitelist,
};
