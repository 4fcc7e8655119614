//! `cargo xtask layers`: the top-level modules of every hand-written crate import each other
//! without cycles, and the runtime's modules import only the layers below them (the table in
//! `ARCHITECTURE.md`).
//!
//! Edges come from `crate::name` paths, `use crate::{a, b}` groups and `super::name` paths of a
//! crate's files (test modules and `tests.rs` files left out); a name the crate root re-exports
//! (`pub use client::Client`) counts as an edge to the module that defines it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The hand-written crates whose modules must form a DAG.
const CRATES: &[&str] = &[
    "runtime/core/src",
    "runtime/src",
    "codegen/src",
    "cli/src",
    "tests/src",
    "xtask/src",
    "bench/src",
    "server/src",
    "registry/src",
    "mcp/src",
];

/// The runtime's layers, lowest first: a module may import its own layer and those below.
const RUNTIME_LAYERS: &[&[&str]] = &[
    &["download", "token_cache", "transport"],
    &["airbyte_api", "auth"],
    &["modes"],
    &["client"],
    &["check", "pagination", "platform", "tools"],
    &["cassette", "hosted", "rig"],
];

pub fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match check(&root) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Check every crate; `Ok` with a summary, or every problem found.
pub fn check(root: &Path) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    let mut summary = Vec::new();
    for krate in CRATES {
        let src = root.join(krate);
        if !src.is_dir() {
            continue;
        }
        let graph = module_graph(&src).map_err(|e| vec![format!("{krate}: {e}")])?;
        for cycle in cycles(&graph) {
            problems.push(format!(
                "{krate}: import cycle between {}",
                cycle.join(", ")
            ));
        }
        if *krate == "runtime/src" {
            problems.extend(layer_violations(&graph));
        }
        let edges: usize = graph.values().map(BTreeSet::len).sum();
        summary.push(format!("{krate}: {} modules, {edges} edges", graph.len()));
    }
    if problems.is_empty() {
        Ok(format!(
            "no import cycles; runtime layers respected\n{}",
            summary.join("\n")
        ))
    } else {
        Err(problems)
    }
}

type Graph = BTreeMap<String, BTreeSet<String>>;

fn layer_of(module: &str) -> Option<usize> {
    RUNTIME_LAYERS.iter().position(|l| l.contains(&module))
}

fn layer_violations(graph: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for (from, tos) in graph {
        let Some(lf) = layer_of(from) else {
            out.push(format!(
                "runtime/src: module `{from}` is in no layer (add it to RUNTIME_LAYERS and ARCHITECTURE.md)"
            ));
            continue;
        };
        for to in tos {
            if let Some(lt) = layer_of(to)
                && lt > lf
            {
                out.push(format!(
                    "runtime/src: `{from}` (layer {}) imports `{to}` (layer {}): layers import downward only",
                    lf + 1,
                    lt + 1
                ));
            }
        }
    }
    out
}

/// Top-level module → the top-level modules it imports.
fn module_graph(src: &Path) -> Result<Graph, String> {
    let root_file = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("no lib.rs or main.rs in {}", src.display()))?;
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let entries = std::fs::read_dir(src).map_err(|e| e.to_string())?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            let mut files = Vec::new();
            rust_files(&path, &mut files);
            modules.insert(name, files);
        } else if let Some(stem) = name.strip_suffix(".rs")
            && !matches!(stem, "lib" | "main" | "tests")
        {
            modules.insert(stem.to_string(), vec![path]);
        }
    }
    // Names the crate root re-exports, and the module each comes from.
    let root_text = strip_tests(&read(&root_file)?);
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    for (module, names) in pub_uses(&root_text) {
        for n in names {
            reexports.insert(n, module.clone());
        }
    }
    let mut graph = Graph::new();
    for (module, files) in &modules {
        let mut deps = BTreeSet::new();
        for f in files {
            let text = strip_tests(&read(f)?);
            let nested = f.parent() != Some(src) && f.file_name().is_some_and(|n| n != "mod.rs");
            for name in referenced(&text, nested) {
                let target = if modules.contains_key(&name) {
                    Some(name)
                } else {
                    reexports.get(&name).cloned()
                };
                if let Some(t) = target
                    && &t != module
                    && modules.contains_key(&t)
                {
                    deps.insert(t);
                }
            }
        }
        graph.insert(module.clone(), deps);
    }
    Ok(graph)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "tests") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "rs")
            && p.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(p);
        }
    }
}

fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// The text without comments and without `#[cfg(test)] mod name { ... }` blocks.
fn strip_tests(text: &str) -> String {
    let no_comments: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = String::new();
    let mut rest = no_comments.as_str();
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        let is_mod = trimmed.starts_with("mod ") || trimmed.starts_with("pub(crate) mod ");
        match (is_mod, after.find('{')) {
            (true, Some(open)) if !after[..open].contains(';') => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (j, c) in after[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + j + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &after[end..];
            }
            _ => rest = after,
        }
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// First path segments after `crate::` (and, in files nested below a top-level module's own
/// file, `super::` does not leave the module, so only `crate::` counts there).
fn referenced(text: &str, nested: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let prefixes: &[&str] = if nested {
        &["crate::"]
    } else {
        &["crate::", "super::"]
    };
    for prefix in prefixes {
        let mut rest = text;
        while let Some(i) = rest.find(prefix) {
            let before_ok = rest[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !is_ident(c) && c != '$');
            rest = &rest[i + prefix.len()..];
            if !before_ok {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find(';').unwrap_or(group.len());
                for item in group[..end].split([',', '{', '}']) {
                    let seg: String = item.trim().chars().take_while(|c| is_ident(*c)).collect();
                    if !seg.is_empty() && seg != "self" {
                        out.insert(seg);
                    }
                }
            } else {
                let seg: String = rest.chars().take_while(|c| is_ident(*c)).collect();
                if !seg.is_empty() {
                    out.insert(seg);
                }
            }
        }
    }
    out
}

/// `pub use module::{A, B}` / `pub use module::A` lines of a crate root: (module, names).
fn pub_uses(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for stmt in text.split(';') {
        let s = stmt.trim();
        let Some(path) = s
            .strip_prefix("pub use ")
            .or_else(|| s.strip_prefix("pub(crate) use "))
        else {
            continue;
        };
        let path = path
            .trim()
            .trim_start_matches("crate::")
            .trim_start_matches("self::");
        let module: String = path.chars().take_while(|c| is_ident(*c)).collect();
        let tail = &path[module.len()..];
        let names: Vec<String> = tail
            .split([',', '{', '}', ':'])
            .map(|n| n.split(" as ").last().unwrap_or("").trim().to_string())
            .filter(|n| !n.is_empty() && n.chars().all(is_ident))
            .collect();
        out.push((module, names));
    }
    out
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> Graph {
        edges
            .iter()
            .map(|(k, vs)| (k.to_string(), vs.iter().map(|v| v.to_string()).collect()))
            .collect()
    }

    #[test]
    fn finds_cycles_and_only_cycles() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]);
        assert_eq!(cycles(&g), vec![vec!["a", "b", "c"]]);
        let g = graph(&[("a", &["b"]), ("b", &[]), ("d", &["a", "b"])]);
        assert!(cycles(&g).is_empty());
    }

    #[test]
    fn references_and_reexports() {
        let text = "use crate::{client::Client, error::Error};\nfn f() { crate::modes::x(); super::y(); }\n#[cfg(test)]\nmod tests { use crate::platform; }";
        let r = referenced(&strip_tests(text), false);
        assert_eq!(
            r.into_iter().collect::<Vec<_>>(),
            ["client", "error", "modes", "y"]
        );
        let uses =
            pub_uses("pub use client::{Client, ClientBuilder as Builder};\npub use modes::Mode;");
        assert_eq!(
            uses[0],
            ("client".into(), vec!["Client".into(), "Builder".into()])
        );
        assert_eq!(uses[1], ("modes".into(), vec!["Mode".into()]));
    }

    #[test]
    fn upward_imports_are_reported() {
        let g = graph(&[("transport", &["client"]), ("client", &["transport"])]);
        let v = layer_violations(&g);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("`transport` (layer 1) imports `client` (layer 4)"));
    }

    #[test]
    fn this_repository_has_no_cycles_and_respects_the_layers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        if let Err(problems) = check(&root) {
            panic!("{}", problems.join("\n"));
        }
    }
}
