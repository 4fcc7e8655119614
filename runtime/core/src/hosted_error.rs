//! Failures of Airbyte's platform API that are not plain HTTP errors (wrapped in
//! [`Error::Hosted`](crate::Error::Hosted)). Plain data: the error type depends on no mode.

/// Failures specific to Airbyte's hosted API that are not plain HTTP errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostedError {
    /// Client id and/or secret could not be found anywhere; no request was sent.
    #[error(
        "missing Airbyte credentials: {}; pass them in AirbyteAuthConfig, call configure(..), or set AIRBYTE_CLIENT_ID / AIRBYTE_CLIENT_SECRET",
        .missing.join(", ")
    )]
    MissingCredentials {
        /// Names of the missing fields (`client_id`, `client_secret`).
        missing: Vec<&'static str>,
    },
    /// No connector of this definition exists in the workspace.
    #[error(
        "no `{connector}` connector (definition {definition_id}) in workspace `{workspace_name}`; create one first or pass a connector id"
    )]
    ConnectorNotFound {
        /// Connector slug.
        connector: String,
        /// Workspace searched.
        workspace_name: String,
        /// Definition id searched.
        definition_id: String,
    },
    /// Several connectors of this definition exist in the workspace.
    #[error(
        "{} `{connector}` connectors (definition {definition_id}) in workspace `{workspace_name}`: {}; pass a connector id to choose one",
        .ids.len(), .ids.join(", ")
    )]
    AmbiguousConnector {
        /// Connector slug.
        connector: String,
        /// Workspace searched.
        workspace_name: String,
        /// Definition id searched.
        definition_id: String,
        /// Ids of the matching connectors.
        ids: Vec<String>,
    },
    /// No workspace of the organization has exactly this name.
    #[error(
        "no workspace named `{workspace_name}` in this organization; check the name or create the workspace first"
    )]
    WorkspaceNotFound {
        /// Workspace name searched.
        workspace_name: String,
    },
    /// Several workspaces of the organization have exactly this name.
    #[error(
        "{} workspaces named `{workspace_name}` in this organization: {}; rename all but one",
        .ids.len(), .ids.join(", ")
    )]
    AmbiguousWorkspace {
        /// Workspace name searched.
        workspace_name: String,
        /// Ids of the matching workspaces.
        ids: Vec<String>,
    },
    /// The connector has no Airbyte definition id, so its hosted connector cannot be looked up.
    #[error("connector `{connector}` has no Airbyte definition id; pass a connector id")]
    NoDefinitionId {
        /// Connector slug.
        connector: String,
    },
    /// An OAuth callback URL carried neither a secret id nor a connector id.
    #[error("OAuth callback not understood: {0}")]
    OAuthCallback(String),
    /// The platform answered successfully but with a body this client cannot interpret.
    #[error("unexpected Airbyte API response for {endpoint}: {message}")]
    UnexpectedResponse {
        /// `METHOD /path` of the call.
        endpoint: String,
        /// What is wrong.
        message: String,
    },
}
