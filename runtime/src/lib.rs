//! Shared runtime for generated Airbyte agent connector crates.

pub mod descriptor;
pub use descriptor::*;
