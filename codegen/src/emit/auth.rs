//! `src/auth.rs`: one typed credentials struct per auth option (an enum over them when there are
//! several) and the replication settings struct.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::ident;
use super::prose::doc;
use super::root::many_args;
use crate::ir::{AuthOption, Connector, ReplicationFieldIr, ReplicationIr, ReplicationType};

pub(super) fn auth_items(ir: &Connector) -> TokenStream {
    let mut items = Vec::new();
    for a in &ir.auth {
        items.push(auth_struct(a));
    }
    if ir.auth.len() > 1 {
        let name = ident(&ir.auth_type);
        let d = format!(
            " Credentials for the {} connector: one variant per auth option.",
            ir.name
        );
        let variants = ir.auth.iter().map(|a| {
            let v = ident(&a.variant);
            let t = ident(&a.type_name);
            let d = format!(" `{}` ({}).", a.key, a.title);
            quote!(#[doc = #d] #v(#t))
        });
        let froms = ir.auth.iter().map(|a| {
            let v = ident(&a.variant);
            let t = ident(&a.type_name);
            quote! {
                impl From<#t> for #name {
                    fn from(value: #t) -> Self { #name::#v(value) }
                }
            }
        });
        let arms = ir.auth.iter().map(|a| {
            let v = ident(&a.variant);
            quote!(#name::#v(c) => c.into_credentials())
        });
        // Every credential field is one 16-byte `SecretString` (optional or not): clippy's
        // `large_enum_variant` (200 bytes between the two largest variants) is computable.
        let mut sizes: Vec<usize> = ir.auth.iter().map(|a| a.fields.len() * 16).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let large = match sizes.as_slice() {
            [first, second, ..] => first - second >= 160,
            _ => false,
        };
        let allow = large.then(|| quote!(#[allow(clippy::large_enum_variant)]));
        items.push(quote! {
            #[doc = #d]
            #[derive(Debug, Clone)]
            #[non_exhaustive]
            #allow
            pub enum #name { #(#variants),* }
            #(#froms)*
            impl #name {
                /// The runtime credentials (scheme key plus fields).
                pub fn into_credentials(self) -> Credentials {
                    match self { #(#arms),* }
                }
            }
            impl From<#name> for Credentials {
                fn from(value: #name) -> Self { value.into_credentials() }
            }
        });
    }
    let replication = ir.replication.as_ref().map(replication_struct);
    let map_import = ir.replication.as_ref().map(|_| {
        quote!(
            use airbyte_agent_runtime::serde_json::{Map, Value};
        )
    });
    quote! {
        //! Typed credentials (and the replication settings hosted creation takes). Secrets are
        //! `SecretString`s: `Debug` output is redacted.
        use airbyte_agent_runtime::{Credentials, SecretString};
        #map_import
        #(#items)*
        #replication
    }
}

/// `<Pascal>ReplicationConfig`: required settings are constructor arguments, optional ones setters.
pub(super) fn replication_struct(r: &ReplicationIr) -> TokenStream {
    let name = ident(&r.type_name);
    let d = doc(
        &format!(
            "{}\n\n{}\n\nSent as `replication_config` when a hosted connector is created; the \
             connector's own calls never read it.",
            r.title, r.description
        ),
        "Replication settings.",
    );
    let field_ty = |f: &ReplicationFieldIr| match f.ty {
        ReplicationType::String => quote!(String),
        ReplicationType::Integer => quote!(i64),
        ReplicationType::Number => quote!(f64),
        ReplicationType::Boolean => quote!(bool),
        ReplicationType::StringList => quote!(Vec<String>),
        _ => quote!(Value),
    };
    let arg_ty = |f: &ReplicationFieldIr| match f.ty {
        ReplicationType::String => quote!(impl Into<String>),
        ReplicationType::Integer => quote!(i64),
        ReplicationType::Number => quote!(f64),
        ReplicationType::Boolean => quote!(bool),
        ReplicationType::StringList => quote!(impl IntoIterator<Item = impl Into<String>>),
        _ => quote!(impl Into<Value>),
    };
    let conv = |f: &ReplicationFieldIr, v: &Ident| match f.ty {
        ReplicationType::String | ReplicationType::Json => quote!(#v.into()),
        ReplicationType::StringList => quote!(#v.into_iter().map(Into::into).collect()),
        _ => quote!(#v),
    };
    let fields = r.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        let mut text = format!("{}\n\n{}", f.title, f.description);
        if let Some(fmt) = &f.format {
            text.push_str(&format!("\n\nFormat: `{fmt}`."));
        }
        if !f.enum_values.is_empty() {
            text.push_str(&format!("\n\nOne of: `{}`.", f.enum_values.join("`, `")));
        }
        if let Some(def) = &f.default {
            text.push_str(&format!("\n\nAirbyte's default: `{def}`."));
        }
        let fd = doc(&text, &format!("`{}`", f.name));
        let t = field_ty(f);
        if f.required {
            quote!(#fd pub #n: #t)
        } else {
            quote!(#fd pub #n: Option<#t>)
        }
    });
    let req: Vec<_> = r.fields.iter().filter(|f| f.required).collect();
    let allow = many_args(req.len());
    let args = req.iter().map(|f| {
        let n = ident(&f.rust_name);
        let t = arg_ty(f);
        quote!(#n: #t)
    });
    let inits = r.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        if f.required {
            match f.ty {
                ReplicationType::String | ReplicationType::Json | ReplicationType::StringList => {
                    let c = conv(f, &n);
                    quote!(#n: #c)
                }
                _ => quote!(#n),
            }
        } else {
            quote!(#n: None)
        }
    });
    let setters = r.fields.iter().filter(|f| !f.required).map(|f| {
        let n = ident(&f.rust_name);
        let d = format!(" Set `{}`.", f.name);
        let t = arg_ty(f);
        let value = ident("value");
        let c = conv(f, &value);
        quote! {
            #[doc = #d]
            pub fn #n(mut self, value: #t) -> Self {
                self.#n = Some(#c);
                self
            }
        }
    });
    let inserts = r.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        let wire = &f.name;
        let value = match f.ty {
            ReplicationType::Json => quote!(v),
            _ => quote!(Value::from(v)),
        };
        if f.required {
            quote! {
                let v = self.#n;
                map.insert(#wire.to_string(), #value);
            }
        } else {
            quote! {
                if let Some(v) = self.#n {
                    map.insert(#wire.to_string(), #value);
                }
            }
        }
    });
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct #name { #(#fields),* }
        impl #name {
            /// Settings from the required fields; optional ones have setters.
            #allow
            pub fn new(#(#args),*) -> Self {
                #name { #(#inits),* }
            }
            #(#setters)*
            /// The JSON object Airbyte's API takes as `replication_config` (unset fields omitted).
            pub fn into_map(self) -> Map<String, Value> {
                let mut map = Map::new();
                #(#inserts)*
                map
            }
        }
        impl From<#name> for Map<String, Value> {
            fn from(value: #name) -> Self { value.into_map() }
        }
    }
}

pub(super) fn auth_struct(a: &AuthOption) -> TokenStream {
    let name = ident(&a.type_name);
    let d = doc(&format!("{}\n\n{}", a.title, a.description), "Credentials.");
    let key = &a.key;
    let fields = a.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        let fd = doc(
            &format!("{}\n\n{}", f.title, f.description),
            &format!("`{}`", f.name),
        );
        if f.required {
            quote!(#fd pub #n: SecretString)
        } else {
            quote!(#fd pub #n: Option<SecretString>)
        }
    });
    let req: Vec<_> = a.fields.iter().filter(|f| f.required).collect();
    let allow = many_args(req.len());
    let args = req.iter().map(|f| {
        let n = ident(&f.rust_name);
        quote!(#n: impl Into<SecretString>)
    });
    let inits = a.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        if f.required {
            quote!(#n: #n.into())
        } else {
            quote!(#n: None)
        }
    });
    let setters = a.fields.iter().filter(|f| !f.required).map(|f| {
        let n = ident(&f.rust_name);
        let d = format!(" Set `{}`.", f.name);
        quote! {
            #[doc = #d]
            pub fn #n(mut self, value: impl Into<SecretString>) -> Self {
                self.#n = Some(value.into());
                self
            }
        }
    });
    let sets = a.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        let wire = &f.name;
        if f.required {
            quote!(.set(#wire, self.#n))
        } else {
            quote!(.set_opt(#wire, self.#n))
        }
    });
    quote! {
        #d
        #[derive(Debug, Clone)]
        pub struct #name { #(#fields),* }
        impl #name {
            /// Credentials from the required fields; optional ones have setters.
            #allow
            pub fn new(#(#args),*) -> Self {
                #name { #(#inits),* }
            }
            #(#setters)*
            /// The runtime credentials (scheme key plus fields).
            pub fn into_credentials(self) -> Credentials {
                Credentials::new(#key) #(#sets)*
            }
        }
        impl From<#name> for Credentials {
            fn from(value: #name) -> Self { value.into_credentials() }
        }
    }
}
