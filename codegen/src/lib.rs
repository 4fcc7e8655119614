//! Spec loading, IR and emission for connector crates.
