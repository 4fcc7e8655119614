//! `cargo xtask conformance DIR...`: generate every spec of the folders into one temporary
//! workspace (crate names suffixed with the folder name, since folders share spec names), run one
//! `cargo check --keep-going` over it, and print a row per spec.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::generate::{find_specs, generate_many, repo_root, workspace_toml, write_crate};

#[derive(Debug, Default)]
struct Row {
    label: String,
    package: String,
    generated: bool,
    error: Option<String>,
    loader_warnings: usize,
    compiled: bool,
    rust_warnings: usize,
    rust_errors: usize,
    lines: usize,
}

fn suffix_of(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "specs".into());
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("-{}", clean.trim_matches('-'))
}

/// Entry point.
pub fn main(args: impl Iterator<Item = String>) -> ExitCode {
    let dirs: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if dirs.is_empty() {
        eprintln!("usage: cargo xtask conformance DIR...");
        return ExitCode::from(2);
    }
    let root = repo_root();
    let ws = std::env::var_os("CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("conformance").join("ws"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("conformance").join("target"));
    if ws.exists()
        && let Err(e) = std::fs::remove_dir_all(&ws)
    {
        eprintln!("cannot clean {}: {e}", ws.display());
        return ExitCode::FAILURE;
    }
    let runtime = root.join("runtime").to_string_lossy().into_owned();

    // 1. Generate.
    let gen_start = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut seen_suffix = BTreeMap::new();
    for dir in &dirs {
        let mut suffix = suffix_of(dir);
        let n = seen_suffix.entry(suffix.clone()).or_insert(0usize);
        *n += 1;
        if *n > 1 {
            suffix = format!("{suffix}{n}");
        }
        let specs = match find_specs(dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        for (s, generated) in specs
            .iter()
            .zip(generate_many(&specs, &runtime, &suffix, None))
        {
            let label = format!(
                "{}/{}",
                dir.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default(),
                s.dir_name
            );
            let mut row = Row {
                label,
                ..Row::default()
            };
            match generated.0 {
                Ok(c) => {
                    row.lines = c
                        .files
                        .iter()
                        .filter(|f| f.path.extension().is_some_and(|e| e == "rs"))
                        .map(|f| f.contents.lines().count())
                        .sum();
                    match write_crate(&ws.join(&c.package), &c.files) {
                        Ok(()) => {
                            row.generated = true;
                            row.package = c.package;
                            row.loader_warnings = c.warnings;
                        }
                        Err(e) => row.error = Some(e),
                    }
                }
                Err(e) => row.error = Some(e),
            }
            rows.push(row);
        }
    }
    let gen_ms = gen_start.elapsed().as_millis();
    let members: Vec<String> = rows
        .iter()
        .filter(|r| r.generated)
        .map(|r| r.package.clone())
        .collect();
    if let Err(e) = std::fs::write(ws.join("Cargo.toml"), workspace_toml(&members)) {
        eprintln!("cannot write workspace: {e}");
        return ExitCode::FAILURE;
    }
    let _ = std::fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock"));
    eprintln!(
        "conformance: generated {} crates in {gen_ms} ms into {}",
        members.len(),
        ws.display()
    );

    // 2. Check, once, for every crate.
    let check_start = Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let child = Command::new(cargo)
        .args([
            "check",
            "--workspace",
            "--keep-going",
            "--message-format=json",
            "--quiet",
        ])
        .arg("--manifest-path")
        .arg(ws.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot run cargo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let by_lib: BTreeMap<String, usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.generated)
        .map(|(i, r)| (r.package.replace('-', "_"), i))
        .collect();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let Ok(msg) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let Some(name) = msg.pointer("/target/name").and_then(Value::as_str) else {
                continue;
            };
            let Some(&i) = by_lib.get(name) else { continue };
            match msg.get("reason").and_then(Value::as_str) {
                Some("compiler-message") => match msg
                    .pointer("/message/level")
                    .and_then(Value::as_str)
                {
                    Some("warning") => {
                        let text = msg
                            .pointer("/message/message")
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        if !text.contains("warnings emitted") && !text.contains("warning emitted") {
                            rows[i].rust_warnings += 1;
                        }
                    }
                    Some("error") => {
                        rows[i].rust_errors += 1;
                        if rows[i].error.is_none() {
                            let text = msg
                                .pointer("/message/rendered")
                                .and_then(Value::as_str)
                                .unwrap_or("");
                            rows[i].error =
                                Some(text.lines().take(6).collect::<Vec<_>>().join("\n"));
                        }
                    }
                    _ => {}
                },
                Some("compiler-artifact") => rows[i].compiled = true,
                _ => {}
            }
        }
    }
    let status = child.wait();
    let check_s = check_start.elapsed().as_secs_f64();
    for r in rows.iter_mut() {
        if r.rust_errors > 0 {
            r.compiled = false;
        }
    }

    // 3. Report.
    println!(
        "{:<40} {:>9} {:>8} {:>13} {:>13} {:>7}",
        "spec", "generated", "compiled", "spec-warnings", "rust-warnings", "lines"
    );
    for r in &rows {
        println!(
            "{:<40} {:>9} {:>8} {:>13} {:>13} {:>7}",
            r.label,
            if r.generated { "yes" } else { "NO" },
            if r.compiled { "yes" } else { "NO" },
            r.loader_warnings,
            r.rust_warnings,
            r.lines
        );
        if let Some(e) = &r.error {
            for l in e.lines() {
                println!("    {l}");
            }
        }
    }
    let n = rows.len();
    let g = rows.iter().filter(|r| r.generated).count();
    let c = rows.iter().filter(|r| r.compiled).count();
    let total_lines: usize = rows.iter().map(|r| r.lines).sum();
    eprintln!(
        "conformance: generation {gen_ms} ms, cargo check {check_s:.1} s, {total_lines} generated lines{}",
        match &status {
            Ok(s) if !s.success() => " (cargo check reported failures)",
            _ => "",
        }
    );
    println!("conformance: {g}/{n} generated, {c}/{n} compiled");
    if g == n && c == n {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
