//! Semver decisions on the real spec evolutions `../shared/airbyte-specs/previous` → `current`:
//! the API summary of each previous spec is diffed against the current one, as
//! `cargo xtask generate` does against a checked-in crate's `api.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use airbyte_agent_codegen::api::{self, ApiDiff, Level};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/airbyte-specs")
}

fn summary(folder: &str, name: &str) -> serde_json::Value {
    let path = corpus().join(folder).join(name).join("connector.yaml");
    let loaded = airbyte_agent_codegen::load(&path).unwrap_or_else(|e| panic!("{e}"));
    api::summary(&loaded.ir, "0.1.0")
}

fn evolutions() -> BTreeMap<String, ApiDiff> {
    let mut out = BTreeMap::new();
    let dir = corpus().join("previous");
    for e in std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if !corpus()
            .join("current")
            .join(&name)
            .join("connector.yaml")
            .is_file()
        {
            continue;
        }
        let d = api::diff(&summary("previous", &name), &summary("current", &name));
        out.insert(name, d);
    }
    out
}

#[test]
fn previous_to_current_semver_decisions() {
    let all = evolutions();
    let mut by_level: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, d) in &all {
        let next = api::bump("0.1.0", d.level());
        print!("{}", api::report(name, "0.1.0", &next, d));
        by_level
            .entry(d.level().to_string())
            .or_default()
            .push(name);
        // The bump always follows the level.
        match d.level() {
            Level::Breaking => assert_eq!(next, "0.2.0"),
            Level::Additive | Level::Patch => assert_eq!(next, "0.1.1"),
            _ => assert_eq!(next, "0.1.0"),
        }
        // A removed entity or action is always breaking.
        if d.changes.iter().any(|c| c.what.contains("removed")) {
            assert_eq!(d.level(), Level::Breaking, "{name}");
        }
    }
    println!("summary: {by_level:?}");
    assert_eq!(all.len(), 41, "41 evolutions");
    let breaking = by_level.get("breaking").map_or(0, Vec::len);
    let additive = by_level.get("additive").map_or(0, Vec::len);
    assert!(breaking > 0 && additive > 0, "{by_level:?}");
    // Known evolutions of the corpus.
    let greenhouse = &all["greenhouse"];
    assert!(
        greenhouse.changes.iter().any(|c| c.level == Level::Breaking
            && c.what.starts_with("entity `")
            && c.what.ends_with("removed")),
        "greenhouse lost an entity"
    );
    assert_eq!(
        all["stripe"].level(),
        Level::Breaking,
        "stripe renamed its search actions"
    );
    assert_eq!(
        all["notion"].level(),
        Level::Additive,
        "notion only gained things"
    );
    assert_eq!(all["intercom"].level(), Level::Additive);
    // Gong's operations are unchanged, but its OAuth access token became required: the
    // auth struct's constructor gains an argument, which breaks callers.
    assert_eq!(all["gong"].level(), Level::Breaking);
    assert!(
        all["gong"]
            .changes
            .iter()
            .any(|c| c.level == Level::Breaking
                && c.what.contains("access_token")
                && c.what.contains("`optional` → `required`")),
        "{:?}",
        all["gong"]
    );
    assert_eq!(
        all["airtable"].level(),
        Level::Patch,
        "airtable: same API, new spec"
    );
}

#[test]
fn identical_specs_keep_their_version() {
    let s = summary("current", "stripe");
    let d = api::diff(&s, &s);
    assert_eq!(d.level(), Level::None);
    assert_eq!(api::bump("0.1.13", d.level()), "0.1.13");
}
