//! Descriptor values → Rust tokens (the `static` literal a generated crate embeds).
//!
//! Works on the runtime's descriptor types themselves, so the emitted literal is exactly the value
//! [`crate::descriptor()`] builds.

use airbyte_agent_runtime::*;
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

fn param(p: &ParamDescriptor) -> TokenStream {
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
        config_inject,
    } = p;
    let loc = location(*loc);
    let kind = value_kind(*kind);
    let item_kind = match item_kind {
        Some(k) => {
            let k = value_kind(*k);
            quote!(Some(#k))
        }
        None => quote!(None),
    };
    let enum_values = strs(enum_values);
    let default = opt_str(*default);
    let st = style(*st);
    let config_inject = match config_inject {
        Some(c) => {
            let source = c.source;
            let map = pairs(c.map);
            quote!(Some(ConfigInject { source: #source, map: #map }))
        }
        None => quote!(None),
    };
    quote! {
        ParamDescriptor {
            name: #name,
            location: #loc,
            required: #required,
            kind: #kind,
            item_kind: #item_kind,
            nullable: #nullable,
            enum_values: #enum_values,
            default: #default,
            style: #st,
            description: #description,
            schema: #schema,
            config_inject: #config_inject,
        }
    }
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
            let query = g.query;
            let variables = opt_str(g.variables);
            let default_fields = opt_str(g.default_fields);
            let operation_name = opt_str(g.operation_name);
            let nullable = strs(g.nullable_variables);
            quote!(BodyDescriptor::GraphQl(GraphQlBody {
                query: #query,
                variables: #variables,
                default_fields: #default_fields,
                operation_name: #operation_name,
                nullable_variables: #nullable,
            }))
        }
        _ => unsupported("BodyDescriptor"),
    }
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

/// Tokens of one operation descriptor.
pub fn operation(o: &OperationDescriptor) -> TokenStream {
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
    let kind = action(*kind);
    let m = method(*m);
    let params = params.iter().map(param);
    let b = body(b);
    let ResponseDescriptor {
        record_extractor,
        meta_extractor,
        record_filter,
        record_transform,
        file_url,
        no_content,
    } = response;
    let record_extractor = opt_str(*record_extractor);
    let meta_extractor = pairs(meta_extractor);
    let record_filter = opt_str(*record_filter);
    let record_transform = pairs(record_transform);
    let file_url = opt_str(*file_url);
    let pg = pagination(pg);
    quote! {
        OperationDescriptor {
            entity: #entity,
            action: #action_name,
            kind: #kind,
            method: #m,
            path: #path,
            summary: #summary,
            description: #description,
            params: &[#(#params),*],
            body: #b,
            response: ResponseDescriptor {
                record_extractor: #record_extractor,
                meta_extractor: #meta_extractor,
                record_filter: #record_filter,
                record_transform: #record_transform,
                file_url: #file_url,
                no_content: #no_content,
            },
            pagination: #pg,
            preferred_for_check: #preferred_for_check,
        }
    }
}

fn oauth2(o: &OAuth2Descriptor) -> TokenStream {
    let refresh_url = opt_str(o.refresh_url);
    let authorization_url = opt_str(o.authorization_url);
    let token_url = opt_str(o.token_url);
    let client_auth = match o.client_auth {
        TokenClientAuth::Body => quote!(TokenClientAuth::Body),
        TokenClientAuth::Basic => quote!(TokenClientAuth::Basic),
        TokenClientAuth::None => quote!(TokenClientAuth::None),
        _ => unsupported("TokenClientAuth"),
    };
    let body_format = match o.body_format {
        TokenBodyFormat::Form => quote!(TokenBodyFormat::Form),
        TokenBodyFormat::Json => quote!(TokenBodyFormat::Json),
        _ => unsupported("TokenBodyFormat"),
    };
    let token_extract = strs(o.token_extract);
    let grant = match o.grant {
        TokenGrant::RefreshToken => quote!(TokenGrant::RefreshToken),
        TokenGrant::JwtBearer => quote!(TokenGrant::JwtBearer),
        _ => unsupported("TokenGrant"),
    };
    let scopes = strs(o.scopes);
    quote!(OAuth2Descriptor {
        refresh_url: #refresh_url,
        authorization_url: #authorization_url,
        token_url: #token_url,
        client_auth: #client_auth,
        body_format: #body_format,
        token_extract: #token_extract,
        grant: #grant,
        scopes: #scopes,
    })
}

fn auth_scheme(a: &AuthSchemeDescriptor) -> TokenStream {
    let AuthSchemeDescriptor {
        key,
        title,
        description,
        kind,
        fields,
        mapping,
        additional_headers,
    } = a;
    let kind = match kind {
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
    };
    let fields = fields.iter().map(|f| {
        let AuthField { name, title, description, required } = f;
        quote!(AuthField { name: #name, title: #title, description: #description, required: #required })
    });
    let mapping = pairs(mapping);
    let additional_headers = pairs(additional_headers);
    quote! {
        AuthSchemeDescriptor {
            key: #key,
            title: #title,
            description: #description,
            kind: #kind,
            fields: &[#(#fields),*],
            mapping: #mapping,
            additional_headers: #additional_headers,
        }
    }
}

/// Items of `src/descriptor.rs`: one operations static per entity (feature-gated) and `CONNECTOR`.
pub fn descriptor_items(d: &ConnectorDescriptor, ir: &Connector) -> TokenStream {
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
        entities.push(quote! {
            #[cfg(feature = #feature)]
            EntityDescriptor { name: #name, description: #description, operations: &#stat }
        });
    }
    let ConnectorDescriptor {
        name,
        title,
        version,
        definition_id,
        base_url,
        server_variables,
        auth_schemes,
        entities: _,
        scoping,
        response_error_check,
    } = d;
    let server_variables = server_variables.iter().map(|v| {
        let ServerVariable { name, default, enum_values, description } = v;
        let default = opt_str(*default);
        let enum_values = strs(enum_values);
        quote!(ServerVariable { name: #name, default: #default, enum_values: #enum_values, description: #description })
    });
    let auth_schemes = auth_schemes.iter().map(auth_scheme);
    let scoping = scoping.iter().map(|s| {
        let Scoping { param, config_key } = s;
        quote!(Scoping { param: #param, config_key: #config_key })
    });
    let response_error_check = match response_error_check {
        Some(c) => {
            let field = c.field;
            let on_value = c.on_value;
            let message_field = opt_str(c.message_field);
            quote!(Some(ResponseErrorCheck { field: #field, on_value: #on_value, message_field: #message_field }))
        }
        None => quote!(None),
    };
    quote! {
        #(#statics)*

        /// The whole connector as data: every enabled entity and operation.
        pub static CONNECTOR: ConnectorDescriptor = ConnectorDescriptor {
            name: #name,
            title: #title,
            version: #version,
            definition_id: #definition_id,
            base_url: #base_url,
            server_variables: &[#(#server_variables),*],
            auth_schemes: &[#(#auth_schemes),*],
            entities: &[#(#entities),*],
            scoping: &[#(#scoping),*],
            response_error_check: #response_error_check,
        };
    }
}
