//! The fuzz targets' bodies, shared by the libFuzzer binaries (`fuzz_targets/`) and the stable
//! smoke harness (`src/bin/smoke.rs`). Each must return normally for every input; a panic is a
//! finding.

use std::path::Path;

use airbyte_agent_runtime::__fuzz;
use serde_json::Value;

/// The spec loader on arbitrary bytes (YAML or JSON).
pub fn spec_loader(data: &[u8]) {
    for name in ["fuzz.yaml", "fuzz.json"] {
        if let Ok(loaded) = airbyte_agent_codegen::load_bytes(Path::new(name), data) {
            let _ = format!("{:?}", loaded.warnings);
        }
    }
}

/// Typed page decoding: the direct decoder must agree with the general path, and the response
/// parsers must not panic.
pub fn record_decode(data: &[u8]) {
    if let Err(e) = __fuzz::page_equivalence(data) {
        panic!("decoders disagree: {e}");
    }
    if let Err(e) = __fuzz::record_walk_equivalence(data) {
        panic!("record walk and serde derive disagree: {e}");
    }
    let (status, ct, header) = match data.first() {
        Some(b) => (
            200 + u16::from(*b) * 2,
            [
                "application/json",
                "text/html",
                "",
                "application/vnd.api+json",
                "text/xml",
            ][usize::from(*b) % 5],
            String::from_utf8_lossy(&data[..data.len().min(64)]).to_string(),
        ),
        None => (200, "", String::new()),
    };
    __fuzz::response_bytes(status, ct, &header, data);
}

/// JSONPath and the template languages: first line is the expression/template, the rest a JSON
/// document (or a string when it is not JSON).
pub fn jsonpath_template(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (expr, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let doc: Value = serde_json::from_str(rest).unwrap_or_else(|_| Value::String(rest.to_string()));
    let _ = __fuzz::jsonpath(expr, &doc);
    let config = serde_json::json!({"subdomain": "acme", "region": "eu"});
    __fuzz::templates(expr, &doc, &config);
}
