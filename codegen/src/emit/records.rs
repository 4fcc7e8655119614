//! Record types: one struct (decoded through the runtime's `Record` walk) or open string enum per
//! named type, and `src/types.rs` for the types several entities share.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::ident;
use super::imports::{idents, runtime_imports};
use super::prose::doc;
use crate::ir::Connector;
use crate::ir::types::{RustType, TypeDef, TypeKind};

pub(super) fn ty_tokens(ir: &Connector, t: &RustType) -> TokenStream {
    match t {
        RustType::String => quote!(String),
        RustType::I64 => quote!(i64),
        RustType::F64 => quote!(f64),
        RustType::Bool => quote!(bool),
        RustType::Value => quote!(Value),
        RustType::Object => quote!(Map<String, Value>),
        RustType::Map(inner) => {
            let i = ty_tokens(ir, inner);
            quote!(::std::collections::BTreeMap<String, #i>)
        }
        RustType::Vec(inner) => {
            let i = ty_tokens(ir, inner);
            quote!(Vec<#i>)
        }
        RustType::Named(id) => {
            let n = ident(&ir.types.types[*id].name);
            quote!(#n)
        }
        RustType::Boxed(id) => {
            let n = ident(&ir.types.types[*id].name);
            quote!(Box<#n>)
        }
    }
}

pub(super) fn type_item(ir: &Connector, t: &TypeDef, cfg: &TokenStream) -> TokenStream {
    let name = ident(&t.name);
    match &t.kind {
        TypeKind::Enum(variants) => {
            let d = doc(&t.doc, &format!("Values of `{}`.", t.name));
            let vs = variants.iter().map(|(v, wire)| {
                let v = ident(v);
                let d = format!(" `{wire}`");
                quote!(#[doc = #d] #v => #wire)
            });
            quote! {
                #cfg
                airbyte_agent_runtime::string_enum! {
                    #d
                    pub enum #name { #(#vs),* }
                }
            }
        }
        TypeKind::Struct(fields) => {
            let d = doc(&t.doc, &format!("The `{}` object.", t.name));
            let fs = fields.iter().map(|f| {
                let fname = ident(&f.name);
                let fty = ty_tokens(ir, &f.ty);
                let fd = doc(&f.doc, &format!("`{}`", f.wire));
                quote! {
                    #fd
                    pub #fname: Option<#fty>
                }
            });
            // Decoding (the runtime's `Record` walk), encoding (the fields that are set, under
            // their wire names) and `Debug` come from one macro: a key and an assignment per
            // field.
            let entries = fields.iter().map(|f| {
                let fname = ident(&f.name);
                let wire = &f.wire;
                match &f.ty {
                    // Null items in a list of non-null items are dropped instead of failing
                    // the record.
                    RustType::Vec(inner) if !matches!(**inner, RustType::Value) => {
                        quote!(#fname => #wire skip_nulls)
                    }
                    _ => quote!(#fname => #wire),
                }
            });
            quote! {
                #d
                #cfg
                #[derive(Clone, Default)]
                pub struct #name { #(#fs),* }
                #cfg
                airbyte_agent_runtime::impl_record! { debug #name { #(#entries),* } }
            }
        }
    }
}

/// `src/types.rs`: the types several entities share, one private module per set of entities
/// using them, gated once by those entities' features and re-exported.
pub(super) fn shared_types(
    ir: &Connector,
    types: &[&TypeDef],
    shared: &BTreeSet<&str>,
) -> TokenStream {
    let mut groups: BTreeMap<&BTreeSet<String>, Vec<&TypeDef>> = BTreeMap::new();
    for t in types {
        groups.entry(&t.users).or_default().push(t);
    }
    let all: BTreeSet<String> = ir.entities.iter().map(|e| e.name.clone()).collect();
    let mut ungated = TokenStream::new();
    let mut items = Vec::new();
    for (n, (users, types)) in groups.into_iter().enumerate() {
        let body: TokenStream = types.iter().map(|t| type_item(ir, t, &quote!())).collect();
        // Every entity uses them: no gate.
        if *users == all {
            ungated.extend(body);
            continue;
        }
        let module = format_ident!("used_by_{}", n + 1);
        let features: Vec<&String> = ir
            .entities
            .iter()
            .filter(|e| users.contains(&e.name))
            .map(|e| &e.feature)
            .collect();
        let cfg = quote!(#[cfg(any(#(feature = #features),*))]);
        let names: Vec<String> = users.iter().map(|u| format!("`{u}`")).collect();
        let d = format!(" Types used by {}.", names.join(", "));
        let mut mentioned = BTreeSet::new();
        idents(&body, &mut mentioned);
        let runtime = runtime_imports(&mentioned);
        let others = types
            .iter()
            .map(|t| t.name.as_str())
            .collect::<BTreeSet<_>>();
        let parent = shared
            .iter()
            .any(|t| mentioned.contains(*t) && !others.contains(t))
            .then(|| {
                quote!(
                    use super::*;
                )
            });
        items.push(quote! {
            #cfg
            pub use #module::*;
            #[doc = #d]
            #cfg
            mod #module {
                #parent
                #runtime
                #body
            }
        });
    }
    let mut mentioned = BTreeSet::new();
    idents(&ungated, &mut mentioned);
    let runtime = runtime_imports(&mentioned);
    quote! {
        //! Record types shared by several entities.
        #runtime
        #ungated
        #(#items)*
    }
}
