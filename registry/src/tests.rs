//! The registry must not drift from the catalogue: every directory in `connectors/` needs a
//! feature, a dependency and a registry line here, and a forwarding feature in each binary
//! that offers connector features (the CLI and the server).

use std::path::Path;

/// Slugs of the connector crates in the workspace (`connectors/airbyte-agent-<slug>/`).
fn catalogue() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../connectors");
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
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

/// The quoted entries of `all-connectors = [ ... ]` in a manifest.
fn all_connectors_feature(manifest: &str) -> Vec<String> {
    let Some(start) = manifest.find("\nall-connectors = [") else {
        return Vec::new();
    };
    let rest = &manifest[start..];
    let end = rest.find(']').unwrap_or(rest.len());
    rest[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn every_connector_directory_has_a_feature_a_dependency_and_a_registry_line() {
    let manifest = read("Cargo.toml");
    let registry = read("src/lib.rs");
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
        "the registry has drifted from connectors/:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn the_cli_and_the_server_forward_every_connector_feature() {
    let catalogue = catalogue();
    let mut missing = Vec::new();
    for manifest_path in ["../cli/Cargo.toml", "../server/Cargo.toml"] {
        let manifest = read(manifest_path);
        if all_connectors_feature(&manifest) != ["airbyte-agent-registry/all-connectors"] {
            missing.push(format!(
                "{manifest_path}: `all-connectors = [\"airbyte-agent-registry/all-connectors\"]`"
            ));
        }
        for slug in &catalogue {
            let line = format!("\n{slug} = [\"airbyte-agent-registry/{slug}\"]");
            if !manifest.contains(&line) {
                missing.push(format!("{manifest_path}: no feature `{}`", line.trim()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "a binary's connector features have drifted:\n  {}",
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

/// With every connector compiled in, each directory's slug resolves to its descriptor, in both
/// spellings, and by its definition id and title.
#[cfg(feature = "all-connectors")]
#[test]
fn all_connectors_build_finds_every_slug() {
    let catalogue = catalogue();
    assert_eq!(super::connectors().len(), catalogue.len());
    for slug in &catalogue {
        let d = super::find(slug).unwrap_or_else(|| panic!("`{slug}` not compiled in"));
        assert_eq!(d.name.replace('_', "-"), *slug);
        assert!(super::find(&slug.replace('-', "_")).is_some(), "{slug}");
        assert_eq!(super::by_type(d.title).map(|f| f.name), Some(d.name));
        if !d.definition_id.is_empty() {
            let upper = d.definition_id.to_ascii_uppercase();
            assert_eq!(
                super::by_definition_id(&upper).map(|f| f.name),
                Some(d.name)
            );
        }
    }
}

#[test]
fn lookups_miss_cleanly() {
    assert!(super::find("no-such-connector").is_none());
    assert!(super::by_definition_id("").is_none());
    assert!(super::by_type("No Such").is_none());
}
