//! `import-spec`: a corpus spec loses its prose but keeps its structure.

use std::path::Path;

use airbyte_agent_codegen::import::{TODO, import_spec};

fn strings_under(v: &serde_json::Value, key: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, c) in m {
                if k == key
                    && let Some(s) = c.as_str()
                {
                    out.push(s.to_string());
                }
                strings_under(c, key, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|c| strings_under(c, key, out)),
        _ => {}
    }
}

#[test]
fn imported_spec_keeps_structure_and_drops_prose() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/airbyte-specs/current/stripe/connector.yaml");
    let original = airbyte_agent_codegen::load(&path).expect("corpus spec loads");
    let (text, stats) = import_spec(&path, Some("stripe-import")).expect("imports");
    assert!(stats.prose_replaced > 50, "{stats:?}");
    assert!(!text.contains("x-airbyte-example-questions"));
    assert!(!text.contains("x-airbyte-ai-hints"));
    let imported = airbyte_agent_codegen::load_bytes(&path, text.as_bytes()).expect("loads");
    assert_eq!(imported.ir.name, "stripe-import");
    let ops = |l: &airbyte_agent_codegen::Loaded| -> Vec<(String, String, usize)> {
        l.ir.entities
            .iter()
            .flat_map(|e| &e.operations)
            .map(|o| (o.entity.clone(), o.action.clone(), o.params.len()))
            .collect()
    };
    assert_eq!(
        ops(&original),
        ops(&imported),
        "same entities, actions, params"
    );
    // No upstream description survives: every one is the TODO marker.
    let tree: serde_json::Value = serde_saphyr::from_str(&text).expect("yaml");
    for key in ["description", "summary"] {
        let mut found = Vec::new();
        strings_under(&tree, key, &mut found);
        let kept: Vec<_> = found.iter().filter(|s| s.as_str() != TODO).collect();
        // A schema *property* named `description` is a name, not prose: only such maps remain.
        assert!(kept.is_empty(), "{key}: {:?}", &kept[..kept.len().min(3)]);
    }
}

#[test]
fn bad_input_is_an_error() {
    let dir = std::env::temp_dir().join(format!("import-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.yaml");
    std::fs::write(&p, "openapi: [unclosed").unwrap();
    assert!(import_spec(&p, None).is_err());
    assert!(import_spec(&dir.join("missing.yaml"), None).is_err());
}
