//! [`Workspace`]: connector operations inside one workspace (create, list, delete, look up,
//! OAuth consent, templates).

use std::sync::Arc;

use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use super::listing::{collect_pages, decode_items, decode_one};
use super::types::{ConnectorInfo, CreateOptions, OAuthCallback, OAuthOptions};
use super::{DISCRIMINATORS, Platform};
use crate::Client;
use crate::Credentials;
use crate::airbyte_api::{Call, Transport, Verb, find_connector, unexpected};
use crate::client::HostedClientBuilder;
use crate::descriptor::ConnectorDescriptor;
use crate::error::HostedError;
use crate::error::Result;

/// Connector operations inside one workspace.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub(super) platform: Platform,
    pub(super) name: String,
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

    pub(crate) fn transport(&self) -> &Arc<Transport> {
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
