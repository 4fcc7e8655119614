//! The connectors compiled into this binary (one Cargo feature per connector crate).

use airbyte_agent_runtime::ConnectorDescriptor;

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
mod tests {
    //! The CLI must not drift from the catalogue: every directory in `connectors/` needs a
    //! feature in `all-connectors` and a registry line above.

    use std::path::Path;

    /// Slugs of the connector crates in the workspace (`connectors/airbyte-agent-<slug>/`).
    fn catalogue() -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../connectors");
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        let mut slugs: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("Cargo.toml").is_file())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("airbyte-agent-"))
                    .map(str::to_string)
            })
            .collect();
        slugs.sort();
        assert!(
            !slugs.is_empty(),
            "no connector crates in {}",
            dir.display()
        );
        slugs
    }

    fn read(rel: &str) -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
    }

    /// The quoted entries of `all-connectors = [ ... ]` in the CLI manifest.
    fn all_connectors_feature(manifest: &str) -> Vec<String> {
        let start = manifest
            .find("\nall-connectors = [")
            .expect("cli/Cargo.toml has an `all-connectors` feature");
        let rest = &manifest[start..];
        let end = rest.find(']').expect("`all-connectors` list is closed");
        rest[..end]
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_connector_directory_has_a_feature_and_a_registry_line() {
        let manifest = read("Cargo.toml");
        let registry = read("src/registry.rs");
        let all = all_connectors_feature(&manifest);
        let mut missing = Vec::new();
        for slug in catalogue() {
            let krate = format!("airbyte-agent-{slug}");
            if !all.contains(&slug) {
                missing.push(format!("`{slug}` is not in the `all-connectors` feature"));
            }
            if !manifest.contains(&format!("\n{slug} = [\"dep:{krate}\"]")) {
                missing.push(format!("no feature `{slug} = [\"dep:{krate}\"]`"));
            }
            if !manifest.contains(&format!(
                "\n{krate} = {{ path = \"../connectors/{krate}\", optional = true }}"
            )) {
                missing.push(format!("no optional dependency on `{krate}`"));
            }
            let line = format!(
                "    #[cfg(feature = \"{slug}\")]\n    out.push(&{}::descriptor::CONNECTOR);",
                krate.replace('-', "_")
            );
            if !registry.contains(&line) {
                missing.push(format!("no registry line for `{slug}`"));
            }
        }
        assert!(
            missing.is_empty(),
            "the CLI has drifted from connectors/:\n  {}",
            missing.join("\n  ")
        );
    }

    #[test]
    fn all_connectors_feature_lists_only_existing_connectors() {
        let catalogue = catalogue();
        let stale: Vec<String> = all_connectors_feature(&read("Cargo.toml"))
            .into_iter()
            .filter(|f| !catalogue.contains(f))
            .collect();
        assert!(stale.is_empty(), "no connector directory for {stale:?}");
    }

    /// With every connector compiled in, each directory's slug resolves to its descriptor,
    /// in both spellings.
    #[cfg(feature = "all-connectors")]
    #[test]
    fn all_connectors_build_finds_every_slug() {
        let catalogue = catalogue();
        assert_eq!(super::connectors().len(), catalogue.len());
        for slug in &catalogue {
            let d = super::find(slug).unwrap_or_else(|| panic!("`{slug}` not compiled in"));
            assert_eq!(d.name.replace('_', "-"), *slug);
            assert!(super::find(&slug.replace('-', "_")).is_some(), "{slug}");
        }
    }
}
