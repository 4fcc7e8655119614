//! Broken specs give a `SpecError` naming the file, the JSON path and the problem; never a panic.

use std::path::Path;

use airbyte_agent_codegen::load_bytes;

const GOOD: &str = r##"
openapi: 3.1.0
info:
  title: T
  version: 1.0.0
  x-airbyte-connector-name: t
  x-airbyte-connector-definition-id: 00000000-0000-0000-0000-000000000000
servers: [{url: "https://t.test"}]
components:
  securitySchemes:
    b: {type: http, scheme: bearer, x-airbyte-auth-config: {type: object, required: [token], properties: {token: {type: string}}, auth_mapping: {token: "${token}"}}}
  schemas:
    Thing: {type: object, properties: {id: {type: string}}}
paths:
  /things:
    get:
      x-airbyte-entity: things
      x-airbyte-action: list
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Thing"}}}}}
"##;

fn err(text: &str) -> airbyte_agent_codegen::SpecError {
    match load_bytes(Path::new("specs/t/connector.yaml"), text.as_bytes()) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn good_spec_loads() {
    let l = load_bytes(Path::new("specs/t/connector.yaml"), GOOD.as_bytes()).unwrap();
    assert_eq!(l.ir.entities.len(), 1);
}

#[test]
fn missing_entity() {
    let e = err(&GOOD.replace("      x-airbyte-entity: things\n", ""));
    assert_eq!(e.file, Path::new("specs/t/connector.yaml"));
    assert_eq!(e.path, "paths./things.get.x-airbyte-entity");
    assert!(e.message.contains("missing"), "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains("specs/t/connector.yaml")
            && shown.contains("paths./things.get.x-airbyte-entity"),
        "{shown}"
    );
}

#[test]
fn bad_ref() {
    let e = err(&GOOD.replace("#/components/schemas/Thing", "#/components/schemas/Nope"));
    assert_eq!(
        e.path,
        "paths./things.get.responses.200.content.application/json.schema.items.$ref"
    );
    assert!(e.message.contains("points at no schema"), "{e}");
}

#[test]
fn wrong_type() {
    let e = err(&GOOD.replace("x-airbyte-entity: things", "x-airbyte-entity: [things]"));
    assert_eq!(e.path, "paths./things.get.x-airbyte-entity");
    assert!(e.message.contains("expected a string, found a list"), "{e}");
    let e = err(&GOOD.replace("scheme: bearer", "scheme: digest"));
    assert_eq!(e.path, "components.securitySchemes.b.scheme");
    assert!(e.message.contains("digest"), "{e}");
}

#[test]
fn malformed_yaml() {
    let e = err("openapi: 3.1.0\ninfo: [unclosed\n");
    assert_eq!(e.file, Path::new("specs/t/connector.yaml"));
    assert!(e.message.contains("malformed YAML"), "{e}");
    let e = err("- just\n- a list\n");
    assert!(e.message.contains("must be a mapping"), "{e}");
}

#[test]
fn unknown_extensions_are_warnings() {
    let text = GOOD.replace(
        "      x-airbyte-action: list\n",
        "      x-airbyte-action: list\n      x-airbyte-brand-new: {a: 1}\n",
    );
    let l = load_bytes(Path::new("t.yaml"), text.as_bytes()).unwrap();
    assert!(
        l.warnings
            .iter()
            .any(|w| w.path == "paths./things.get.x-airbyte-brand-new")
    );
}

/// Fuzz-minded: truncations and byte flips of a real spec never panic.
#[test]
fn mutations_never_panic() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/petstore/connector.yaml");
    let bytes = std::fs::read(fixture).unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut ok = 0;
    for i in 0..300 {
        let mut b = bytes.clone();
        match i % 3 {
            0 => b.truncate((next() as usize) % bytes.len()),
            1 => {
                let at = (next() as usize) % b.len();
                let alphabet = b" :-[]{}\n\"'x0";
                b[at] = alphabet[(next() as usize) % alphabet.len()];
            }
            _ => {
                let at = (next() as usize) % b.len();
                let len = ((next() as usize) % 40).min(b.len() - at);
                b.drain(at..at + len);
            }
        }
        if let Ok(l) = load_bytes(Path::new("mutant.yaml"), &b) {
            let _ = airbyte_agent_codegen::descriptor(&l.ir);
            let _ = airbyte_agent_codegen::emit::emit_crate(
                &l.ir,
                &airbyte_agent_codegen::emit::EmitOptions::in_repo(&l.ir),
            );
            ok += 1;
        }
    }
    assert!(ok > 0, "some mutants stay valid");
}
