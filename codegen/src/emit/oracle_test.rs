//! `tests/oracle.rs`: every oracle case of the connector through the typed API.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::ident;
use crate::ir::types::RustType;
use crate::ir::{Connector, OutputIr, ParamIr};

/// `tests/oracle.rs`: every oracle case of the connector through the typed API. The file holds
/// only the calls (one match arm per operation); the test kit (`airbyte_agent_tests::oracle::typed`)
/// reads the params, checks that each was used and compares the result.
pub(super) fn oracle_test(ir: &Connector, krate: &str) -> TokenStream {
    let krate = ident(krate);
    let conn = format_ident!("{}Connector", ir.pascal);
    let name = &ir.name;
    let mut arms = Vec::new();
    let mut uses_args = false;
    // The kit's result wrappers this crate uses (`record`, `page`).
    let mut wraps: Vec<Ident> = Vec::new();
    for e in &ir.entities {
        let handle = ident(&e.rust_name);
        for o in &e.operations {
            let (ent, act) = (&o.entity, &o.action);
            let method = ident(&o.rust_name);
            let wrap = match &o.output {
                OutputIr::Bytes => continue,
                OutputIr::Record(_) => ident("record"),
                OutputIr::Page(..) => ident("page"),
            };
            if !wraps.contains(&wrap) {
                wraps.push(wrap.clone());
            }
            // String setters take `impl Into<String>`: name the type; others are inferred.
            let ty_of = |p: &ParamIr| match &p.ty {
                RustType::String => quote!(::<String>),
                _ => quote!(),
            };
            let typed_v = |p: &ParamIr| match &p.ty {
                RustType::String => quote!(v: String),
                _ => quote!(v),
            };
            // The reference also accepts the snake_case form of a wire name (`company_id`).
            let names = |p: &ParamIr| {
                let wire = p.name.as_str();
                let snake = heck::ToSnakeCase::to_snake_case(wire);
                if snake == wire {
                    quote!(&[#wire])
                } else {
                    quote!(&[#wire, #snake])
                }
            };
            let args: Vec<TokenStream> = o
                .params
                .iter()
                .filter(|p| p.is_arg)
                .map(|p| {
                    let (t, n) = (ty_of(p), names(p));
                    quote!(a.arg #t (#n)?)
                })
                .collect();
            let setters: Vec<TokenStream> = o
                .params
                .iter()
                .filter(|p| !p.is_arg && p.name != "*")
                .map(|p| {
                    let (v, n) = (typed_v(p), names(p));
                    let setter = ident(&p.rust_name);
                    quote!(r = a.set(r, #n, |r, #v| r.#setter(v))?;)
                })
                .collect();
            let rest = o.params.iter().any(|p| p.name == "*").then(|| {
                quote! {
                    for (k, v) in a.rest() { r = r.body_field(k, v); }
                }
            });
            uses_args |= !args.is_empty() || !setters.is_empty() || rest.is_some();
            let feature = &e.feature;
            let call = quote!(c.#handle().#method(#(#args),*));
            let body = if setters.is_empty() && rest.is_none() {
                quote!(#wrap(#call))
            } else {
                quote!({
                    let mut r = #call;
                    #(#setters)*
                    #rest
                    #wrap(r)
                })
            };
            arms.push(quote! {
                #[cfg(feature = #feature)]
                (#ent, #act) => #body,
            });
        }
    }
    let a = if uses_args { quote!(a) } else { quote!(_a) };
    quote! {
        //! The typed API against the reference oracle (`../shared/reference/oracle/<name>.json`):
        //! every successful case is built with the generated builders from its params, sent to a
        //! loopback server serving the recorded response, and its request and typed result are
        //! compared with the recording.
        use airbyte_agent_tests::oracle::typed::{Args, Outcome, assert_matches_oracle, #(#wraps),*};
        use #krate::*;

        /// One case through the typed API; `Ok(None)` for operations it has no typed call for.
        fn call(c: &#conn, operation: (&str, &str), #a: &mut Args<'_>) -> Outcome {
            let future = match operation {
                #(#arms)*
                _ => return Ok(None),
            };
            Ok(Some(future))
        }

        #[tokio::test]
        async fn typed_api_matches_oracle() {
            assert_matches_oracle(#name, #conn::descriptor(), #conn::from_client, call).await;
        }
    }
}
