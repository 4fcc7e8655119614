//! `use` lines of generated modules: only the names a module mentions.

use std::collections::BTreeSet;

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::ident;

/// Every identifier in `tokens` (to import only the names a file uses).
pub(super) fn idents(tokens: &TokenStream, out: &mut BTreeSet<String>) {
    for t in tokens.clone() {
        match t {
            proc_macro2::TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            proc_macro2::TokenTree::Group(g) => idents(&g.stream(), out),
            _ => {}
        }
    }
}

/// `use` lines for the names of `candidates` (under `path`) that `body` mentions.
pub(super) fn uses_of(
    body: &BTreeSet<String>,
    path: TokenStream,
    candidates: &[&str],
) -> TokenStream {
    let used: Vec<Ident> = candidates
        .iter()
        .filter(|c| body.contains(**c))
        .map(|c| ident(c))
        .collect();
    match used.as_slice() {
        [] => quote!(),
        [one] => quote!(use #path::#one;),
        many => quote!(use #path::{#(#many),*};),
    }
}

/// Runtime names generated modules import when they mention them.
pub(super) const RUNTIME_NAMES: &[&str] = &[
    "ByteStream",
    "Client",
    "Page",
    "PageStream",
    "Params",
    "Result",
    "record",
    "serde",
];

/// Imports of a module body: the runtime and JSON names it mentions, and `crate::types::*` when it
/// names a shared type.
pub(super) fn imports(body: &TokenStream, shared: &BTreeSet<&str>) -> TokenStream {
    let mut names = BTreeSet::new();
    idents(body, &mut names);
    let json = uses_of(
        &names,
        quote!(airbyte_agent_runtime::serde_json),
        &["Map", "Value"],
    );
    let runtime = uses_of(&names, quote!(airbyte_agent_runtime), RUNTIME_NAMES);
    let types = shared.iter().any(|t| names.contains(*t)).then(|| {
        quote!(
            use crate::types::*;
        )
    });
    quote!(#json #runtime #types)
}
