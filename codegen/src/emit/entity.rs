//! `src/entities/<entity>.rs`: the connector's method for the entity, the entity handle, one
//! request builder per operation, and the record types only this entity uses.

use std::collections::BTreeSet;

use airbyte_agent_core::ParamLocation;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::ident;
use super::imports::imports;
use super::prose::doc;
use super::records::{ty_tokens, type_item};
use super::root::many_args;
use crate::ir::types::{RustType, TypeDef};
use crate::ir::{Connector, Entity, OperationIr, OutputIr, ParamIr};

/// Setter argument type and the expression turning `value` into a JSON value.
pub(super) fn param_conv(ir: &Connector, p: &ParamIr, var: &Ident) -> (TokenStream, TokenStream) {
    match &p.ty {
        RustType::String => (
            quote!(impl Into<String>),
            quote!(Value::String(#var.into())),
        ),
        RustType::I64 => (quote!(i64), quote!(Value::from(#var))),
        RustType::F64 => (quote!(f64), quote!(Value::from(#var))),
        RustType::Bool => (quote!(bool), quote!(Value::Bool(#var))),
        RustType::Value => (quote!(Value), quote!(#var)),
        RustType::Object => (quote!(Map<String, Value>), quote!(Value::Object(#var))),
        RustType::Vec(inner)
            if matches!(
                **inner,
                RustType::String | RustType::I64 | RustType::F64 | RustType::Bool
            ) =>
        {
            let t = ty_tokens(ir, &p.ty);
            (t, quote!(Value::from(#var)))
        }
        other => {
            let t = ty_tokens(ir, other);
            (t, quote!(crate::to_value(#var)))
        }
    }
}

pub(super) fn entity_file(
    ir: &Connector,
    e: &Entity,
    idx_ops: &str,
    local: &[&TypeDef],
    shared: &BTreeSet<&str>,
) -> TokenStream {
    let handle = ident(&e.type_name);
    let stat = format_ident!("{}", idx_ops);
    let conn = format_ident!("{}Connector", ir.pascal);
    let mut methods = Vec::new();
    let mut requests = Vec::new();
    for (i, o) in e.operations.iter().enumerate() {
        let (m, r) = operation_items(ir, o, &stat, i);
        methods.push(m);
        requests.push(r);
    }
    let hd = doc(&e.description, &format!("Entity `{}`.", e.name));
    let mdoc = format!(
        " Entity `{}`: handle, request builders and record types.",
        e.name
    );
    let m = ident(&e.rust_name);
    let types = local.iter().map(|t| type_item(ir, t, &quote!()));
    let body = quote! {
        impl crate::#conn {
            #hd
            pub fn #m(&self) -> #handle {
                #handle { client: self.client.clone() }
            }
        }

        #hd
        #[derive(Debug, Clone)]
        pub struct #handle { client: Client }

        impl #handle {
            #(#methods)*
        }

        #(#requests)*
        #(#types)*
    };
    let imports = imports(&body, shared);
    quote! {
        #![doc = #mdoc]
        #imports
        #body
    }
}

pub(super) fn operation_items(
    ir: &Connector,
    o: &OperationIr,
    stat: &Ident,
    index: usize,
) -> (TokenStream, TokenStream) {
    let req = ident(&o.request_type);
    let mname = ident(&o.rust_name);
    let mut doc_src = o.summary.clone();
    if !o.description.is_empty() && o.description.trim() != o.summary.trim() {
        doc_src = format!("{doc_src}\n\n{}", o.description);
    }
    let mut md = doc(&doc_src, &format!("`{}.{}`", o.entity, o.action));
    let how = format!(
        " `{} {}` (`{}.{}`).",
        o.method.as_str(),
        o.path,
        o.entity,
        o.action
    );
    md = quote!(#md #[doc = ""] #[doc = #how]);
    let var = format_ident!("value");
    let args: Vec<&ParamIr> = o.params.iter().filter(|p| p.is_arg).collect();
    let arg_decls = args.iter().map(|p| {
        let n = ident(&p.rust_name);
        let (t, _) = param_conv(ir, p, &n);
        quote!(#n: #t)
    });
    let arg_inserts = args.iter().map(|p| {
        let n = ident(&p.rust_name);
        let (_, conv) = param_conv(ir, p, &n);
        let wire = &p.name;
        quote!(params.insert(#wire.to_owned(), #conv);)
    });
    let method = if args.is_empty() {
        quote! {
            #md
            pub fn #mname(&self) -> #req {
                #req { client: self.client.clone(), params: Params::new() }
            }
        }
    } else {
        let allow = many_args(1 + args.len());
        quote! {
            #md
            #allow
            pub fn #mname(&self, #(#arg_decls),*) -> #req {
                let mut params = Params::new();
                #(#arg_inserts)*
                #req { client: self.client.clone(), params }
            }
        }
    };
    let setters = o.params.iter().filter(|p| !p.is_arg).map(|p| {
        if p.name == "*" {
            return quote! {
                /// Any body field (the body schema is open): `name` is the wire name.
                pub fn body_field(mut self, name: impl Into<String>, #var: impl Into<Value>) -> Self {
                    self.params.insert(name.into(), #var.into());
                    self
                }
            };
        }
        let n = ident(&p.rust_name);
        let (t, conv) = param_conv(ir, p, &var);
        let wire = &p.name;
        let loc = match p.location {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            _ => "body",
        };
        let d = doc(&p.description, &format!("`{wire}`"));
        let w = format!(" Wire name `{wire}` ({loc}).");
        quote! {
            #d
            #[doc = ""]
            #[doc = #w]
            pub fn #n(mut self, #var: #t) -> Self {
                self.params.insert(#wire.to_owned(), #conv);
                self
            }
        }
    });
    let index = proc_macro2::Literal::usize_unsuffixed(index);
    let op = quote!(&crate::descriptor::#stat[#index]);
    let (output, send_body, pages) = match &o.output {
        OutputIr::Bytes => (
            quote!(ByteStream),
            quote!(self.client.download(#op, self.params)),
            quote!(),
        ),
        OutputIr::Record(t) => {
            let t = ty_tokens(ir, t);
            (
                quote!(#t),
                // The record type comes from `send`'s return type.
                quote!(self.client.call_record(#op, self.params)),
                quote!(),
            )
        }
        OutputIr::Page(t, m) => {
            let t = ty_tokens(ir, t);
            let m = ident(&ir.types.types[*m].name);
            (
                quote!(Page<#t, #m>),
                quote!(self.client.call_list(#op, self.params)),
                quote! {
                    /// Every page, lazily, following the operation's pagination.
                    pub fn pages(self) -> PageStream<#t, #m> {
                        self.client.pages(#op, self.params)
                    }
                },
            )
        }
    };
    let rd = format!(
        " Request builder for `{}.{}`; send it with `.send().await` or `.await`.",
        o.entity, o.action
    );
    let request = quote! {
        #[doc = #rd]
        #[derive(Debug, Clone)]
        #[must_use = "a request does nothing until it is sent"]
        pub struct #req { client: Client, params: Params }

        impl #req {
            #(#setters)*
            /// Send the request.
            pub fn send(self) -> airbyte_agent_runtime::Call<#output> {
                #send_body
            }
            #pages
            /// The parameters collected so far (wire names).
            pub fn params(&self) -> &Params { &self.params }
        }

        impl ::std::future::IntoFuture for #req {
            type Output = Result<#output>;
            type IntoFuture = airbyte_agent_runtime::Call<#output>;
            fn into_future(self) -> Self::IntoFuture { self.send() }
        }
    };
    (method, request)
}
