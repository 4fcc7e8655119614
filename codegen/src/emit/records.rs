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
                let wire = &f.wire;
                let rename = if f.name != f.wire {
                    quote!(rename = #wire,)
                } else {
                    quote!()
                };
                quote! {
                    #fd
                    #[serde(#rename skip_serializing_if = "Option::is_none")]
                    pub #fname: Option<#fty>
                }
            });
            // Decoding goes through the runtime's `Record` walk: a key match and one
            // assignment per field.
            let keys = fields.iter().enumerate().map(|(i, f)| {
                let wire = &f.wire;
                let i = proc_macro2::Literal::usize_unsuffixed(i);
                quote!(#wire => Some(#i))
            });
            let sets = fields.iter().enumerate().map(|(i, f)| {
                let fname = ident(&f.name);
                let i = proc_macro2::Literal::usize_unsuffixed(i);
                match &f.ty {
                    // Null items in a list of non-null items are dropped instead of failing
                    // the record.
                    RustType::Vec(inner) if !matches!(**inner, RustType::Value) => {
                        let it = ty_tokens(ir, inner);
                        quote!(#i => self.#fname = map.next_value::<record::SkipNulls<#it>>()?.0)
                    }
                    _ => quote!(#i => self.#fname = map.next_value()?),
                }
            });
            let type_name = &t.name;
            // `drop` in a match arm keeps it on one line (rustc's `dropping_copy_types` lint
            // accepts that form).
            let skip = quote!(drop(map.next_value::<serde::de::IgnoredAny>()?));
            let set_body = if fields.is_empty() {
                quote! {
                    let _ = index;
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            } else {
                quote! {
                    match index {
                        #(#sets,)*
                        _ => #skip,
                    }
                }
            };
            let key_match = if fields.is_empty() {
                quote!({
                    let _ = key;
                    None
                })
            } else {
                quote!(match key { #(#keys,)* _ => None })
            };
            quote! {
                #d
                #cfg
                #[derive(Debug, Clone, Default, serde::Serialize)]
                #[serde(crate = "airbyte_agent_runtime::serde")]
                pub struct #name { #(#fs),* }
                #cfg
                impl record::Record for #name {
                    const NAME: &'static str = #type_name;
                    fn field_index(key: &str) -> Option<usize> { #key_match }
                    fn set_field<'de, __M: serde::de::MapAccess<'de>>(
                        &mut self,
                        index: usize,
                        map: &mut __M,
                    ) -> Result<(), __M::Error> {
                        #set_body
                        Ok(())
                    }
                }
                #cfg
                impl<'de> serde::Deserialize<'de> for #name {
                    fn deserialize<__D: serde::Deserializer<'de>>(d: __D) -> Result<Self, __D::Error> {
                        record::deserialize(d)
                    }
                }
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
