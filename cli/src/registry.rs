//! The connectors compiled into this binary (one Cargo feature per connector crate).

use airbyte_agent_runtime::ConnectorDescriptor;

/// Every connector enabled at build time, by slug.
#[allow(unused_mut, clippy::vec_init_then_push)]
pub fn connectors() -> Vec<&'static ConnectorDescriptor> {
    let mut out: Vec<&'static ConnectorDescriptor> = Vec::new();
    #[cfg(feature = "stripe")]
    out.push(&airbyte_agent_stripe::descriptor::CONNECTOR);
    #[cfg(feature = "github")]
    out.push(&airbyte_agent_github::descriptor::CONNECTOR);
    #[cfg(feature = "gong")]
    out.push(&airbyte_agent_gong::descriptor::CONNECTOR);
    #[cfg(feature = "pylon")]
    out.push(&airbyte_agent_pylon::descriptor::CONNECTOR);
    #[cfg(feature = "hubspot")]
    out.push(&airbyte_agent_hubspot::descriptor::CONNECTOR);
    #[cfg(feature = "jira")]
    out.push(&airbyte_agent_jira::descriptor::CONNECTOR);
    #[cfg(feature = "salesforce")]
    out.push(&airbyte_agent_salesforce::descriptor::CONNECTOR);
    #[cfg(feature = "slack")]
    out.push(&airbyte_agent_slack::descriptor::CONNECTOR);
    out
}

/// A compiled-in connector by slug (`zendesk-support` and `zendesk_support` both match).
pub fn find(name: &str) -> Option<&'static ConnectorDescriptor> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    connectors()
        .into_iter()
        .find(|d| norm(d.name) == norm(name))
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
