//! Catalogue checks: `cargo xtask package-check` (crates.io metadata plus a `cargo package`
//! dry run of the core, the runtime and every connector crate) and `cargo xtask feature-check` (one
//! connector built with a single entity feature).

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::generate::repo_root;

/// Keys every publishable manifest must set (directly or through the workspace).
const REQUIRED_KEYS: &[&str] = &[
    "description",
    "license",
    "repository",
    "documentation",
    "readme",
    "keywords",
    "categories",
    "rust-version",
];

/// Packages to check: the core, the runtime and every generated connector crate.
fn packages(root: &Path) -> Result<Vec<(String, std::path::PathBuf)>, String> {
    let mut out = vec![
        ("airbyte-agent-core".to_string(), root.join("runtime/core")),
        ("airbyte-agent-runtime".to_string(), root.join("runtime")),
    ];
    let dir = root.join("connectors");
    let rd = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut crates: Vec<_> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    crates.sort();
    for p in crates {
        if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
            out.push((name.to_string(), p.clone()));
        }
    }
    Ok(out)
}

/// Metadata problems of one manifest (a light line-based check of the `[package]` table).
fn metadata_problems(name: &str, manifest: &str) -> Vec<String> {
    let package: Vec<&str> = manifest
        .lines()
        .skip_while(|l| l.trim() != "[package]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .collect();
    let mut problems = Vec::new();
    for key in REQUIRED_KEYS {
        let present = package.iter().any(|l| {
            l.split('=')
                .next()
                .map(|k| k.trim().trim_end_matches(".workspace") == *key)
                .unwrap_or(false)
        });
        if !present {
            problems.push(format!("{name}: missing `{key}`"));
        }
    }
    if let Some(kw) = package
        .iter()
        .find(|l| l.trim_start().starts_with("keywords"))
    {
        let n = kw.matches('"').count() / 2;
        if n > 5 {
            problems.push(format!("{name}: {n} keywords (crates.io allows 5)"));
        }
    }
    problems
}

/// `cargo xtask package-check`.
pub fn package_check() -> ExitCode {
    let started = Instant::now();
    let root = repo_root();
    let pkgs = match packages(&root) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("package-check: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut problems = Vec::new();
    for (name, dir) in &pkgs {
        match std::fs::read_to_string(dir.join("Cargo.toml")) {
            Ok(m) => problems.extend(metadata_problems(name, &m)),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["package", "--no-verify", "--allow-dirty", "--offline"]);
    for (name, _) in &pkgs {
        cmd.args(["-p", name]);
    }
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => problems.push(format!("cargo package failed ({s})")),
        Err(e) => problems.push(format!("cannot run cargo: {e}")),
    }
    for p in &problems {
        eprintln!("package-check: {p}");
    }
    eprintln!(
        "package-check: {} crates, {} problem(s), {} ms",
        pkgs.len(),
        problems.len(),
        started.elapsed().as_millis()
    );
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `cargo xtask feature-check [CRATE FEATURE]`: `cargo check` of one connector with only one
/// entity feature (default `airbyte-agent-stripe` / `customers`).
pub fn feature_check(mut args: impl Iterator<Item = String>) -> ExitCode {
    let krate = args.next().unwrap_or_else(|| "airbyte-agent-stripe".into());
    let feature = args.next().unwrap_or_else(|| "customers".into());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let status = Command::new(cargo)
        .current_dir(repo_root())
        .args([
            "check",
            "-p",
            &krate,
            "--no-default-features",
            "--features",
            &feature,
        ])
        .status();
    let ok = matches!(status, Ok(s) if s.success());
    eprintln!(
        "feature-check: {krate} --no-default-features --features {feature}: {} in {} ms",
        if ok { "ok" } else { "FAILED" },
        started.elapsed().as_millis()
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `cargo xtask import-spec PATH [--name NAME] [--force]`: write `specs/NAME/connector.yaml`
/// (NAME defaults to the spec's connector name) with upstream prose replaced by TODO markers.
pub fn import_spec(args: impl Iterator<Item = String>) -> ExitCode {
    let mut path = None;
    let mut name = None;
    let mut force = false;
    let mut args = args;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--name" => name = args.next(),
            "--force" => force = true,
            _ if path.is_none() => path = Some(std::path::PathBuf::from(a)),
            other => {
                eprintln!("import-spec: unexpected argument `{other}`");
                return ExitCode::from(2);
            }
        }
    }
    let Some(path) = path else {
        eprintln!("usage: cargo xtask import-spec PATH [--name NAME] [--force]");
        return ExitCode::from(2);
    };
    let (text, stats) = match airbyte_agent_codegen::import::import_spec(&path, name.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("import-spec: {e}");
            return ExitCode::FAILURE;
        }
    };
    let name = match name {
        Some(n) => n,
        None => match airbyte_agent_codegen::load_bytes(&path, text.as_bytes()) {
            Ok(l) => l.ir.name,
            Err(e) => {
                eprintln!("import-spec: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        eprintln!("import-spec: invalid connector name `{name}`");
        return ExitCode::from(2);
    }
    let out = repo_root().join("specs").join(&name).join("connector.yaml");
    if out.exists() && !force {
        eprintln!("import-spec: {} exists (use --force)", out.display());
        return ExitCode::FAILURE;
    }
    if let Some(parent) = out.parent()
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        eprintln!("import-spec: {}: {e}", parent.display());
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::write(&out, text) {
        eprintln!("import-spec: {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "import-spec: wrote {} ({} prose fields and {} titles replaced by TODO, {} prose extensions dropped)",
        out.display(),
        stats.prose_replaced,
        stats.titles_replaced,
        stats.extensions_dropped
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::metadata_problems;

    #[test]
    fn metadata_check_spots_missing_keys() {
        let m = "[package]\nname = \"x\"\nlicense.workspace = true\nkeywords = [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]\n[dependencies]\ndescription = 1\n";
        let p = metadata_problems("x", m);
        assert!(p.iter().any(|p| p.contains("`description`")), "{p:?}");
        assert!(!p.iter().any(|p| p.contains("`license`")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("6 keywords")), "{p:?}");
    }
}
