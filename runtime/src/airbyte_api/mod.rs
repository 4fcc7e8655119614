//! Access to Airbyte's API, shared by hosted mode and the platform client: application
//! credentials and their resolution ([`AirbyteAuthConfig`]), the process-wide application-token
//! caches, the authenticated JSON transport, and the connector lookup.

mod config;
mod connectors;
mod token;
mod transport;

pub use config::{
    AirbyteAuthConfig, DEFAULT_API_BASE, DEFAULT_WORKSPACE, ENV_API_HOST, ENV_CLIENT_ID,
    ENV_CLIENT_SECRET, ENV_ORGANIZATION_ID, ResolvedAuth, clear_configuration, configure,
    parse_dotenv,
};
pub(crate) use connectors::{find_connector, id_text, list_items};
pub use transport::AGENT_SDK_HEADER_VALUE;
pub(crate) use transport::{Call, Transport, Verb, json_response, send_call, unexpected};
