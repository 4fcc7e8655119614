//! The generated connectors compiled into a binary (one Cargo feature per connector crate),
//! found by slug, title or definition id. The CLI and the server list the same connectors
//! through this crate, so one build's features decide both.

#![forbid(unsafe_code)]

use airbyte_agent_core::ConnectorDescriptor;

/// Every connector enabled at build time, by slug.
#[allow(unused_mut, clippy::vec_init_then_push)]
pub fn connectors() -> Vec<&'static ConnectorDescriptor> {
    let mut out: Vec<&'static ConnectorDescriptor> = Vec::new();
    #[cfg(feature = "airtable")]
    out.push(&airbyte_agent_airtable::descriptor::CONNECTOR);
    #[cfg(feature = "amazon-ads")]
    out.push(&airbyte_agent_amazon_ads::descriptor::CONNECTOR);
    #[cfg(feature = "asana")]
    out.push(&airbyte_agent_asana::descriptor::CONNECTOR);
    #[cfg(feature = "facebook-marketing")]
    out.push(&airbyte_agent_facebook_marketing::descriptor::CONNECTOR);
    #[cfg(feature = "github")]
    out.push(&airbyte_agent_github::descriptor::CONNECTOR);
    #[cfg(feature = "gong")]
    out.push(&airbyte_agent_gong::descriptor::CONNECTOR);
    #[cfg(feature = "google-drive")]
    out.push(&airbyte_agent_google_drive::descriptor::CONNECTOR);
    #[cfg(feature = "greenhouse")]
    out.push(&airbyte_agent_greenhouse::descriptor::CONNECTOR);
    #[cfg(feature = "hubspot")]
    out.push(&airbyte_agent_hubspot::descriptor::CONNECTOR);
    #[cfg(feature = "intercom")]
    out.push(&airbyte_agent_intercom::descriptor::CONNECTOR);
    #[cfg(feature = "jira")]
    out.push(&airbyte_agent_jira::descriptor::CONNECTOR);
    #[cfg(feature = "klaviyo")]
    out.push(&airbyte_agent_klaviyo::descriptor::CONNECTOR);
    #[cfg(feature = "linear")]
    out.push(&airbyte_agent_linear::descriptor::CONNECTOR);
    #[cfg(feature = "mailchimp")]
    out.push(&airbyte_agent_mailchimp::descriptor::CONNECTOR);
    #[cfg(feature = "notion")]
    out.push(&airbyte_agent_notion::descriptor::CONNECTOR);
    #[cfg(feature = "orb")]
    out.push(&airbyte_agent_orb::descriptor::CONNECTOR);
    #[cfg(feature = "pylon")]
    out.push(&airbyte_agent_pylon::descriptor::CONNECTOR);
    #[cfg(feature = "salesforce")]
    out.push(&airbyte_agent_salesforce::descriptor::CONNECTOR);
    #[cfg(feature = "shopify")]
    out.push(&airbyte_agent_shopify::descriptor::CONNECTOR);
    #[cfg(feature = "slack")]
    out.push(&airbyte_agent_slack::descriptor::CONNECTOR);
    #[cfg(feature = "stripe")]
    out.push(&airbyte_agent_stripe::descriptor::CONNECTOR);
    #[cfg(feature = "zendesk-chat")]
    out.push(&airbyte_agent_zendesk_chat::descriptor::CONNECTOR);
    #[cfg(feature = "zendesk-support")]
    out.push(&airbyte_agent_zendesk_support::descriptor::CONNECTOR);
    out
}

/// A compiled-in connector by slug (`zendesk-support` and `zendesk_support` both match).
pub fn find(name: &str) -> Option<&'static ConnectorDescriptor> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    connectors()
        .into_iter()
        .find(|d| norm(d.name) == norm(name))
}

/// A compiled-in connector by definition id (any case).
pub fn by_definition_id(id: &str) -> Option<&'static ConnectorDescriptor> {
    connectors()
        .into_iter()
        .find(|d| !d.definition_id.is_empty() && d.definition_id.eq_ignore_ascii_case(id))
}

/// A compiled-in connector by type: its title (`Zendesk Support`) or slug (`zendesk-support`),
/// any case, ignoring `-`, `_` and spaces.
pub fn by_type(name: &str) -> Option<&'static ConnectorDescriptor> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_', ' '], "");
    connectors()
        .into_iter()
        .find(|d| norm(d.name) == norm(name) || norm(d.title) == norm(name))
}

/// Slugs of the compiled-in connectors, for messages.
pub fn names() -> String {
    let names: Vec<&str> = connectors().iter().map(|d| d.name).collect();
    if names.is_empty() {
        "(none: build with a connector feature such as `--features stripe`)".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests;
