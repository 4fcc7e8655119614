//! Golden test: the crate generated from the petstore fixture must equal the checked-in copy in
//! `tests/golden/airbyte-agent-petstore` (a workspace member, so it is also compiled and used by
//! `tests/petstore_e2e.rs`). Run with `UPDATE_GOLDEN=1` to overwrite after an intended change.

use std::path::{Path, PathBuf};

use airbyte_agent_codegen::emit::{EmitOptions, emit_crate};

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                rs_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
}

#[test]
fn petstore_crate_matches_golden() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = airbyte_agent_codegen::load(&root.join("tests/fixtures/petstore/connector.yaml"))
        .expect("fixture loads");
    let mut opts = EmitOptions::in_repo(&loaded.ir);
    opts.runtime_path = "../../../../runtime".into();
    let files = emit_crate(&loaded.ir, &opts).expect("fixture emits");
    let dir = root.join("tests/golden/airbyte-agent-petstore");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut problems = Vec::new();
    let expected: Vec<PathBuf> = files.iter().map(|f| dir.join(&f.path)).collect();
    for f in &files {
        let p = dir.join(&f.path);
        let current = std::fs::read_to_string(&p).ok();
        if current.as_deref() != Some(f.contents.as_str()) {
            if update {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, &f.contents).unwrap();
            } else {
                problems.push(format!("differs: {}", f.path.display()));
            }
        }
    }
    let mut present = Vec::new();
    rs_files(&dir.join("src"), &mut present);
    for p in present {
        if !expected.contains(&p) {
            if update {
                std::fs::remove_file(&p).unwrap();
            } else {
                problems.push(format!("extra: {}", p.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "golden crate is stale (UPDATE_GOLDEN=1 to refresh):\n{}",
        problems.join("\n")
    );
}

#[test]
fn emission_is_deterministic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = root.join("tests/fixtures/petstore/connector.yaml");
    let a = airbyte_agent_codegen::load(&spec).unwrap();
    let b = airbyte_agent_codegen::load(&spec).unwrap();
    let fa = emit_crate(&a.ir, &EmitOptions::in_repo(&a.ir)).unwrap();
    let fb = emit_crate(&b.ir, &EmitOptions::in_repo(&b.ir)).unwrap();
    assert_eq!(fa, fb);
}
