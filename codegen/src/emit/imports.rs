//! `use` lines of generated modules: only the names a module mentions.

use std::collections::BTreeSet;

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::quote;

use super::ident;

/// Every identifier in `tokens` that can name an item (to import only the names a file uses).
/// The bodies of `string_enum!` and `impl_record!` invocations are skipped: their variant and field
/// names (`Issue`, `record`) are not paths, and the macros name what they need through `$crate`.
pub(super) fn idents(tokens: &TokenStream, out: &mut BTreeSet<String>) {
    let mut after_macro = false;
    for t in tokens.clone() {
        match t {
            TokenTree::Ident(i) => {
                after_macro = i == "string_enum" || i == "impl_record";
                out.insert(i.to_string());
            }
            TokenTree::Group(_) if after_macro => after_macro = false,
            TokenTree::Group(g) => idents(&g.stream(), out),
            TokenTree::Punct(p) => after_macro &= p.as_char() == '!',
            TokenTree::Literal(_) => after_macro = false,
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

/// `use` lines for the JSON and runtime names in `names`.
pub(super) fn runtime_imports(names: &BTreeSet<String>) -> TokenStream {
    let json = uses_of(
        names,
        quote!(airbyte_agent_runtime::serde_json),
        &["Map", "Value"],
    );
    let runtime = uses_of(names, quote!(airbyte_agent_runtime), RUNTIME_NAMES);
    quote!(#json #runtime)
}

/// Imports of a module body: the runtime and JSON names it mentions, and `crate::types::*` when it
/// names a shared type.
pub(super) fn imports(body: &TokenStream, shared: &BTreeSet<&str>) -> TokenStream {
    let mut names = BTreeSet::new();
    idents(body, &mut names);
    let runtime = runtime_imports(&names);
    let types = shared.iter().any(|t| names.contains(*t)).then(|| {
        quote!(
            use crate::types::*;
        )
    });
    quote!(#runtime #types)
}
