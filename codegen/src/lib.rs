//! Spec loading, IR and emission for Airbyte agent connector crates.
//!
//! Pipeline: [`spec`] (YAML → JSON tree → typed view) → [`ir`] (validated, named) →
//! [`descriptor()`] (the runtime's static data, leaked) and `emit` (Rust source files).
//!
//! ```no_run
//! let loaded = airbyte_agent_codegen::load(std::path::Path::new("specs/stripe/connector.yaml"))?;
//! let desc = airbyte_agent_codegen::descriptor(&loaded.ir);
//! assert_eq!(desc.name, "stripe");
//! # Ok::<(), airbyte_agent_codegen::SpecError>(())
//! ```

pub mod api;
pub mod descriptor;
pub mod emit;
pub mod import;
pub mod ir;
pub mod record_schema;
pub mod spec;

use std::path::Path;

pub use descriptor::descriptor;
pub use ir::{Connector, Loaded};
pub use spec::{SpecError, Warning};

/// Load a spec file into the IR (plus warnings). Never panics on bad input.
pub fn load(path: &Path) -> Result<Loaded, SpecError> {
    let doc = spec::read_document(path)?;
    load_document(&doc)
}

/// Load spec bytes (YAML or JSON) as if read from `path`.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<Loaded, SpecError> {
    let doc = spec::parse_document(path, bytes)?;
    load_document(&doc)
}

fn load_document(doc: &spec::Document) -> Result<Loaded, SpecError> {
    ir::build(doc).map_err(|mut e| {
        e.file = doc.file.clone();
        e
    })
}
