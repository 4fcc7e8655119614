//! Descriptor values → Rust tokens (the `static` literal a generated crate embeds).
//!
//! Works on the runtime's descriptor types themselves, so the emitted literal is exactly the value
//! [`crate::descriptor()`] builds.

use std::cell::Cell;

use airbyte_agent_core::*;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::Connector;

fn opt_str(v: Option<&str>) -> TokenStream {
    match v {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

fn strs(v: &[&str]) -> TokenStream {
    quote!(&[#(#v),*])
}

fn pairs(v: &[(&str, &str)]) -> TokenStream {
    let items = v.iter().map(|(a, b)| quote!((#a, #b)));
    quote!(&[#(#items),*])
}

fn unsupported(what: &str) -> TokenStream {
    let msg = format!("airbyte-agent-codegen: unsupported {what} variant");
    quote!(compile_error!(#msg))
}

fn method(m: Method) -> TokenStream {
    match m {
        Method::Get => quote!(Method::Get),
        Method::Post => quote!(Method::Post),
        Method::Put => quote!(Method::Put),
        Method::Patch => quote!(Method::Patch),
        Method::Delete => quote!(Method::Delete),
        Method::Head => quote!(Method::Head),
        Method::Options => quote!(Method::Options),
        _ => unsupported("Method"),
    }
}

fn action(k: ActionKind) -> TokenStream {
    match k {
        ActionKind::List => quote!(ActionKind::List),
        ActionKind::Get => quote!(ActionKind::Get),
        ActionKind::Create => quote!(ActionKind::Create),
        ActionKind::Update => quote!(ActionKind::Update),
        ActionKind::Delete => quote!(ActionKind::Delete),
        ActionKind::Search => quote!(ActionKind::Search),
        ActionKind::Download => quote!(ActionKind::Download),
        ActionKind::Other => quote!(ActionKind::Other),
        _ => unsupported("ActionKind"),
    }
}

fn location(l: ParamLocation) -> TokenStream {
    match l {
        ParamLocation::Path => quote!(ParamLocation::Path),
        ParamLocation::Query => quote!(ParamLocation::Query),
        ParamLocation::Header => quote!(ParamLocation::Header),
        ParamLocation::Body => quote!(ParamLocation::Body),
        _ => unsupported("ParamLocation"),
    }
}

fn value_kind(k: ValueKind) -> TokenStream {
    match k {
        ValueKind::String => quote!(ValueKind::String),
        ValueKind::Integer => quote!(ValueKind::Integer),
        ValueKind::Number => quote!(ValueKind::Number),
        ValueKind::Boolean => quote!(ValueKind::Boolean),
        ValueKind::Array => quote!(ValueKind::Array),
        ValueKind::Object => quote!(ValueKind::Object),
        ValueKind::Any => quote!(ValueKind::Any),
        _ => unsupported("ValueKind"),
    }
}

fn style(s: ParamStyle) -> TokenStream {
    match s {
        ParamStyle::Form => quote!(ParamStyle::Form),
        ParamStyle::DeepObject => quote!(ParamStyle::DeepObject),
        _ => unsupported("ParamStyle"),
    }
}

/// Fields of one struct literal: name and value tokens, in declaration order.
type Fields = Vec<(&'static str, TokenStream)>;

/// `Type { changed: value, ..Type::DEFAULT }`: only the fields whose tokens differ from those of
/// the type's `DEFAULT` (both listed by `fields`), so a field the runtime adds with a default
/// never breaks a generated crate; `Type::DEFAULT` alone when nothing differs.
fn literal<T>(ty: &str, value: &T, default: &T, fields: impl Fn(&T) -> Fields) -> TokenStream {
    let ty = format_ident!("{ty}");
    let defaults = fields(default);
    let total = defaults.len();
    let changed: Vec<TokenStream> = fields(value)
        .into_iter()
        .zip(defaults)
        .filter(|((_, v), (_, d))| v.to_string() != d.to_string())
        .map(|((name, v), _)| {
            let name = format_ident!("{name}");
            quote!(#name: #v)
        })
        .collect();
    if changed.len() == total {
        COMPLETE.with(|c| c.set(true));
    }
    if changed.is_empty() {
        quote!(#ty::DEFAULT)
    } else {
        quote!(#ty { #(#changed,)* ..#ty::DEFAULT })
    }
}

thread_local! {
    /// Set by [`literal`] when a literal sets every field: its `..DEFAULT` then only keeps
    /// future fields additive, and clippy's `needless_update` must be allowed in the file.
    static COMPLETE: Cell<bool> = const { Cell::new(false) };
}

fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> TokenStream) -> TokenStream {
    match v {
        Some(x) => {
            let x = f(x);
            quote!(Some(#x))
        }
        None => quote!(None),
    }
}

fn param_fields(p: &ParamDescriptor) -> Fields {
    let ParamDescriptor {
        name,
        location: loc,
        required,
        kind,
        item_kind,
        nullable,
        enum_values,
        default,
        style: st,
        description,
        schema,
        config_inject: inject,
    } = p;
    vec![
        ("name", quote!(#name)),
        ("location", location(*loc)),
        ("required", quote!(#required)),
        ("kind", value_kind(*kind)),
        ("item_kind", opt(item_kind, |k| value_kind(*k))),
        ("nullable", quote!(#nullable)),
        ("enum_values", strs(enum_values)),
        ("default", opt_str(*default)),
        ("style", style(*st)),
        ("description", quote!(#description)),
        ("schema", quote!(#schema)),
        ("config_inject", opt(inject, config_inject)),
    ]
}

fn config_inject(c: &ConfigInject) -> TokenStream {
    literal("ConfigInject", c, &ConfigInject::DEFAULT, |c| {
        let ConfigInject { source, map } = c;
        vec![("source", quote!(#source)), ("map", pairs(map))]
    })
}

fn param(p: &ParamDescriptor) -> TokenStream {
    literal(
        "ParamDescriptor",
        p,
        &ParamDescriptor::DEFAULT,
        param_fields,
    )
}

fn body(b: &BodyDescriptor) -> TokenStream {
    match b {
        BodyDescriptor::None => quote!(BodyDescriptor::None),
        BodyDescriptor::Json => quote!(BodyDescriptor::Json),
        BodyDescriptor::JsonArray => quote!(BodyDescriptor::JsonArray),
        BodyDescriptor::Form => quote!(BodyDescriptor::Form),
        BodyDescriptor::MultipartRelated { file_param } => {
            quote!(BodyDescriptor::MultipartRelated { file_param: #file_param })
        }
        BodyDescriptor::MultipartForm => quote!(BodyDescriptor::MultipartForm),
        BodyDescriptor::GraphQl(g) => {
            let g = literal("GraphQlBody", g, &GraphQlBody::DEFAULT, graphql_fields);
            quote!(BodyDescriptor::GraphQl(#g))
        }
        _ => unsupported("BodyDescriptor"),
    }
}

fn graphql_fields(g: &GraphQlBody) -> Fields {
    let GraphQlBody {
        query,
        variables,
        default_fields,
        operation_name,
        nullable_variables,
    } = g;
    vec![
        ("query", quote!(#query)),
        ("variables", opt_str(*variables)),
        ("default_fields", opt_str(*default_fields)),
        ("operation_name", opt_str(*operation_name)),
        ("nullable_variables", strs(nullable_variables)),
    ]
}

fn pagination(p: &Pagination) -> TokenStream {
    match *p {
        Pagination::None => quote!(Pagination::None),
        Pagination::Cursor { meta, param } => {
            quote!(Pagination::Cursor { meta: #meta, param: #param })
        }
        Pagination::LastRecord {
            field,
            param,
            has_more,
        } => {
            let has_more = opt_str(has_more);
            quote!(Pagination::LastRecord { field: #field, param: #param, has_more: #has_more })
        }
        Pagination::CursorInLink { meta, param } => {
            quote!(Pagination::CursorInLink { meta: #meta, param: #param })
        }
        Pagination::PageNumber { param, next_meta } => {
            let next_meta = opt_str(next_meta);
            quote!(Pagination::PageNumber { param: #param, next_meta: #next_meta })
        }
        Pagination::Offset { param } => quote!(Pagination::Offset { param: #param }),
        Pagination::NextUrl { meta } => quote!(Pagination::NextUrl { meta: #meta }),
        Pagination::Relay {
            cursor_meta,
            has_next_meta,
            param,
        } => quote!(Pagination::Relay {
            cursor_meta: #cursor_meta,
            has_next_meta: #has_next_meta,
            param: #param,
        }),
        _ => unsupported("Pagination"),
    }
}

fn response_fields(r: &ResponseDescriptor) -> Fields {
    let ResponseDescriptor {
        record_extractor,
        meta_extractor,
        record_filter,
        record_transform,
        file_url,
        no_content,
        data_schema,
    } = r;
    vec![
        ("record_extractor", opt_str(*record_extractor)),
        ("meta_extractor", pairs(meta_extractor)),
        ("record_filter", opt_str(*record_filter)),
        ("record_transform", pairs(record_transform)),
        ("file_url", opt_str(*file_url)),
        ("no_content", quote!(#no_content)),
        ("data_schema", opt_str(*data_schema)),
    ]
}

fn operation_fields(o: &OperationDescriptor) -> Fields {
    let OperationDescriptor {
        entity,
        action: action_name,
        kind,
        method: m,
        path,
        summary,
        description,
        params,
        body: b,
        response,
        pagination: pg,
        preferred_for_check,
    } = o;
    let params = params.iter().map(param);
    let response = literal(
        "ResponseDescriptor",
        response,
        &ResponseDescriptor::DEFAULT,
        response_fields,
    );
    vec![
        ("entity", quote!(#entity)),
        ("action", quote!(#action_name)),
        ("kind", action(*kind)),
        ("method", method(*m)),
        ("path", quote!(#path)),
        ("summary", quote!(#summary)),
        ("description", quote!(#description)),
        ("params", quote!(&[#(#params),*])),
        ("body", body(b)),
        ("response", response),
        ("pagination", pagination(pg)),
        ("preferred_for_check", quote!(#preferred_for_check)),
    ]
}

/// Tokens of one operation descriptor.
pub fn operation(o: &OperationDescriptor) -> TokenStream {
    literal(
        "OperationDescriptor",
        o,
        &OperationDescriptor::DEFAULT,
        operation_fields,
    )
}

fn oauth2_fields(o: &OAuth2Descriptor) -> Fields {
    let OAuth2Descriptor {
        refresh_url,
        authorization_url,
        token_url,
        client_auth,
        body_format,
        token_extract,
        grant,
        scopes,
    } = o;
    let client_auth = match client_auth {
        TokenClientAuth::Body => quote!(TokenClientAuth::Body),
        TokenClientAuth::Basic => quote!(TokenClientAuth::Basic),
        TokenClientAuth::None => quote!(TokenClientAuth::None),
        _ => unsupported("TokenClientAuth"),
    };
    let body_format = match body_format {
        TokenBodyFormat::Form => quote!(TokenBodyFormat::Form),
        TokenBodyFormat::Json => quote!(TokenBodyFormat::Json),
        _ => unsupported("TokenBodyFormat"),
    };
    let grant = match grant {
        TokenGrant::RefreshToken => quote!(TokenGrant::RefreshToken),
        TokenGrant::JwtBearer => quote!(TokenGrant::JwtBearer),
        _ => unsupported("TokenGrant"),
    };
    vec![
        ("refresh_url", opt_str(*refresh_url)),
        ("authorization_url", opt_str(*authorization_url)),
        ("token_url", opt_str(*token_url)),
        ("client_auth", client_auth),
        ("body_format", body_format),
        ("token_extract", strs(token_extract)),
        ("grant", grant),
        ("scopes", strs(scopes)),
    ]
}

fn oauth2(o: &OAuth2Descriptor) -> TokenStream {
    literal(
        "OAuth2Descriptor",
        o,
        &OAuth2Descriptor::DEFAULT,
        oauth2_fields,
    )
}

fn auth_kind(kind: &AuthKind) -> TokenStream {
    match kind {
        AuthKind::Bearer => quote!(AuthKind::Bearer),
        AuthKind::Basic => quote!(AuthKind::Basic),
        AuthKind::ApiKeyHeader { header } => quote!(AuthKind::ApiKeyHeader { header: #header }),
        AuthKind::ApiKeyQuery { name } => quote!(AuthKind::ApiKeyQuery { name: #name }),
        AuthKind::OAuth2(o) => {
            let o = oauth2(o);
            quote!(AuthKind::OAuth2(#o))
        }
        AuthKind::OAuth2Header {
            oauth,
            header,
            prefix,
        } => {
            let o = oauth2(oauth);
            quote!(AuthKind::OAuth2Header { oauth: #o, header: #header, prefix: #prefix })
        }
        _ => unsupported("AuthKind"),
    }
}

fn auth_field(f: &AuthField) -> TokenStream {
    literal("AuthField", f, &AuthField::DEFAULT, |f| {
        let AuthField {
            name,
            title,
            description,
            required,
        } = f;
        vec![
            ("name", quote!(#name)),
            ("title", quote!(#title)),
            ("description", quote!(#description)),
            ("required", quote!(#required)),
        ]
    })
}

fn auth_scheme_fields(a: &AuthSchemeDescriptor) -> Fields {
    let AuthSchemeDescriptor {
        key,
        title,
        description,
        kind,
        fields,
        mapping,
        additional_headers,
    } = a;
    let fields = fields.iter().map(auth_field);
    vec![
        ("key", quote!(#key)),
        ("title", quote!(#title)),
        ("description", quote!(#description)),
        ("kind", auth_kind(kind)),
        ("fields", quote!(&[#(#fields),*])),
        ("mapping", pairs(mapping)),
        ("additional_headers", pairs(additional_headers)),
    ]
}

fn auth_scheme(a: &AuthSchemeDescriptor) -> TokenStream {
    literal(
        "AuthSchemeDescriptor",
        a,
        &AuthSchemeDescriptor::DEFAULT,
        auth_scheme_fields,
    )
}

fn server_variable(v: &ServerVariable) -> TokenStream {
    literal("ServerVariable", v, &ServerVariable::DEFAULT, |v| {
        let ServerVariable {
            name,
            default,
            enum_values,
            description,
        } = v;
        vec![
            ("name", quote!(#name)),
            ("default", opt_str(*default)),
            ("enum_values", strs(enum_values)),
            ("description", quote!(#description)),
        ]
    })
}

fn scoping(s: &Scoping) -> TokenStream {
    literal("Scoping", s, &Scoping::DEFAULT, |s| {
        let Scoping { param, config_key } = s;
        vec![
            ("param", quote!(#param)),
            ("config_key", quote!(#config_key)),
        ]
    })
}

fn response_error_check(c: &ResponseErrorCheck) -> TokenStream {
    literal("ResponseErrorCheck", c, &ResponseErrorCheck::DEFAULT, |c| {
        let ResponseErrorCheck {
            field,
            on_value,
            message_field,
        } = c;
        vec![
            ("field", quote!(#field)),
            ("on_value", quote!(#on_value)),
            ("message_field", opt_str(*message_field)),
        ]
    })
}

/// Items of `src/descriptor.rs`: one operations static per entity (feature-gated) and `CONNECTOR`.
pub fn descriptor_items(d: &ConnectorDescriptor, ir: &Connector) -> TokenStream {
    COMPLETE.with(|c| c.set(false));
    let mut statics = Vec::new();
    let mut entities = Vec::new();
    for (e, ie) in d.entities.iter().zip(&ir.entities) {
        let feature = &ie.feature;
        let stat = format_ident!("{}", ie.static_name);
        let n = e.operations.len();
        let ops = e.operations.iter().map(operation);
        let doc = format!("Operations of entity `{}`, in action order.", e.name);
        statics.push(quote! {
            #[doc = #doc]
            #[cfg(feature = #feature)]
            pub static #stat: [OperationDescriptor; #n] = [#(#ops),*];
        });
        let name = e.name;
        let description = e.description;
        // The operations are the static above, not a value of the leaked descriptor.
        let value = (name, description, quote!(&#stat));
        let default = ("", "", quote!(&[]));
        let entity = literal("EntityDescriptor", &value, &default, |(n, d, ops)| {
            vec![
                ("name", quote!(#n)),
                ("description", quote!(#d)),
                ("operations", ops.clone()),
            ]
        });
        entities.push(quote! {
            #[cfg(feature = #feature)]
            #entity
        });
    }
    let connector = literal(
        "ConnectorDescriptor",
        d,
        &ConnectorDescriptor::DEFAULT,
        |c| {
            let ConnectorDescriptor {
                name,
                title,
                version,
                definition_id,
                base_url,
                server_variables,
                auth_schemes,
                entities: listed,
                scoping: scopes,
                response_error_check: check,
                record_schemas,
            } = c;
            let server_variables = server_variables.iter().map(server_variable);
            let auth_schemes = auth_schemes.iter().map(auth_scheme);
            let scopes = scopes.iter().map(scoping);
            // The entity list names the feature-gated statics above.
            let listed = if listed.is_empty() {
                quote!(&[])
            } else {
                quote!(&[#(#entities),*])
            };
            vec![
                ("name", quote!(#name)),
                ("title", quote!(#title)),
                ("version", quote!(#version)),
                ("definition_id", quote!(#definition_id)),
                ("base_url", quote!(#base_url)),
                ("server_variables", quote!(&[#(#server_variables),*])),
                ("auth_schemes", quote!(&[#(#auth_schemes),*])),
                ("entities", listed),
                ("scoping", quote!(&[#(#scopes),*])),
                ("response_error_check", opt(check, response_error_check)),
                ("record_schemas", quote!(#record_schemas)),
            ]
        },
    );
    let allow = COMPLETE
        .with(Cell::get)
        .then(|| quote!(#![allow(clippy::needless_update)]));
    quote! {
        //! The connector as static data, executed by the runtime.
        #allow
        use airbyte_agent_runtime::*;

        #(#statics)*

        /// The whole connector as data: every enabled entity and operation.
        pub static CONNECTOR: ConnectorDescriptor = #connector;
    }
}
