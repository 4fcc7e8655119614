//! Every generated README's Install snippet names its crate at the version of the crate's own
//! `Cargo.toml` (the crate version, not the spec version beside it).

use std::path::{Path, PathBuf};

/// The `[package]` name and version of a generated `Cargo.toml`.
fn package(manifest: &str) -> Option<(String, String)> {
    let mut in_package = false;
    let (mut name, mut version) = (None, None);
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        let quoted = |key: &str| {
            let rest = line
                .strip_prefix(key)?
                .trim_start()
                .strip_prefix('=')?
                .trim();
            Some(rest.trim_matches('"').to_string())
        };
        name = name.or_else(|| quoted("name"));
        version = version.or_else(|| quoted("version"));
    }
    Some((name?, version?))
}

/// The version the README's Install snippet gives `crate_name` (`name = "x.y.z"`).
fn readme_version(readme: &str, crate_name: &str) -> Option<String> {
    let install = readme.split("## Install").nth(1)?;
    install.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix(crate_name)?
            .trim_start()
            .strip_prefix('=')?;
        Some(rest.trim().trim_matches('"').to_string())
    })
}

fn crate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("Cargo.toml").is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

#[test]
fn readme_install_snippets_name_the_crate_version() {
    let codegen = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = crate_dirs(&codegen.join("../connectors"));
    assert!(dirs.len() >= 20, "connector crates not found: {dirs:?}");
    dirs.extend(crate_dirs(&codegen.join("tests/golden")));
    let mut problems = Vec::new();
    for dir in &dirs {
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        let Some((name, version)) = package(&read("Cargo.toml")) else {
            problems.push(format!("{}: no [package] name and version", dir.display()));
            continue;
        };
        match readme_version(&read("README.md"), &name) {
            Some(v) if v == version => {}
            Some(v) => problems.push(format!(
                "{name}: README installs {v}, Cargo.toml says {version}"
            )),
            None => problems.push(format!("{name}: README has no Install line for the crate")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
